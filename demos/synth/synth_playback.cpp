// SPDX-License-Identifier: MIT
// courier-synth live on a device or rendered offline, the main thread acting as the control side between
// (demos/synth/README.md, "How it runs").
#include "demos/synth/synth_playback.h"

#include <courier/audio/driver_error.h>
#include <courier/audio/offline_driver.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace courier::synth {

namespace {

double decibels(float peak)
{
    return peak > 0.0F ? 20.0 * std::log10(static_cast<double>(peak)) : -INFINITY;
}

}  // namespace

void play_on_device(const playback& p, audio::portaudio_driver& device)
{
    const audio::stream_info info = device.info();
    std::printf("courier-synth: playing %zu events (%.2f s) on %s / %s at %.0f Hz, %zu frames a block\n", p.events,
                p.seconds, info.host_api.c_str(), info.device.c_str(), p.actual.sample_rate, p.actual.block_size);
    device.start();
    double next_report = 1.0;
    while (p.engine.stats().frames < p.total_frames)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        p.monitor.poll();
        // This loop wakes every 10 ms: publish what falls due before the next wake-up and block.
        p.patches.publish_due(p.engine, p.engine.stats().frames + p.actual.block_size +
                                            static_cast<std::uint64_t>(0.012 * p.actual.sample_rate));
        const double now = static_cast<double>(p.engine.stats().frames) / p.actual.sample_rate;
        if (now >= next_report)
        {
            std::printf("  %5.1f s  peak %6.1f dBFS\n", now, decibels(p.monitor.loudest));
            std::fflush(stdout);
            p.monitor.loudest = 0.0F;
            next_report += 1.0;
        }
    }
    device.stop();
    std::printf("courier-synth: done, %llu xruns reported by PortAudio\n",
                static_cast<unsigned long long>(device.xruns()));
}

int render_offline(const playback& p, const synth_options& o, const std::string& why_offline)
{
    std::printf("courier-synth: no audio device (%s)\n", why_offline.c_str());
    std::printf("courier-synth: rendering %zu events (%.2f s) offline to %s at %.0f Hz, %zu frames a block\n",
                p.events, p.seconds, o.output.c_str(), p.actual.sample_rate, p.actual.block_size);
    audio::offline_driver offline(p.actual);
    try
    {
        // Between blocks, outside the callback, the main thread takes the control side's turn: it reads the
        // meters and scope as a GUI would, publishes a patch due in the next block (the audio side adopts it
        // at that block's start, so offline a patch lands on its block exactly), and waits until the disk
        // worker has the next block's frames, so a streamed file never underruns offline and the render is
        // the same every run.
        auto between_blocks = [&] {
            p.monitor.poll();
            p.patches.publish_due(p.engine, p.engine.stats().frames + p.actual.block_size);
            while (p.stream != nullptr && p.stream->frames_ready() < p.actual.block_size)
                std::this_thread::yield();
        };
        offline.render_to_file(p.engine, p.total_frames, o.output,
                               o.pcm24 ? audio::wav_format::pcm24 : audio::wav_format::float32, {}, between_blocks);
        p.monitor.poll();
        std::printf("courier-synth: wrote %s (%zu frames, 2 channels, %s)\n", o.output.c_str(), p.total_frames,
                    o.pcm24 ? "24-bit PCM" : "32-bit float");
    }
    catch (const audio::driver_error& e)
    {
        std::fprintf(stderr, "courier-synth: %s\n", e.what());
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}

}  // namespace courier::synth
