// SPDX-License-Identifier: MIT
// courier-synth from options to report: the engine and its graph, the device or offline fallback, the score,
// the streamer and control thread, then the mode that runs them (demos/synth/README.md, "How it runs").
#include "demos/synth/synth_run.h"

#include <courier/audio/disk_streamer.h>
#include <courier/audio/driver_error.h>
#include <courier/audio/engine.h>
#include <courier/audio/portaudio_driver.h>
#include "demos/synth/chatter.h"
#include "demos/synth/osc_control.h"
#include "demos/synth/patcher.h"
#include "demos/synth/soak.h"
#include "demos/synth/synth_and_stream.h"
#include "demos/synth/synth_monitor.h"
#include "demos/synth/synth_playback.h"
#include "demos/synth/synth_report.h"
#include <courier/patterns/port_registry.h>
#include <courier/patterns/port_table.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

namespace courier::synth {

namespace {

// Opens the device the options name, or returns null and says why in `why_offline` (it stays "--offline" when
// the options ask for no device).
std::unique_ptr<audio::portaudio_driver> open_device(const synth_options& o, audio::engine& engine,
                                                     const audio::stream_config& wanted, std::string& why_offline)
{
    std::unique_ptr<audio::portaudio_driver> portaudio;
    if (!o.offline)
    {
        try
        {
            portaudio = std::make_unique<audio::portaudio_driver>();
            portaudio->open({o.host_api, o.device, wanted}, engine);
        }
        catch (const audio::driver_error& e)
        {
            why_offline = e.what();
            portaudio.reset();
        }
    }
    return portaudio;
}

// Starts the disk worker at the stream's rate and waits until it has the first blocks.
void start_streaming(audio::disk_streamer& stream, const std::string& path, double sample_rate)
{
    if (stream.sample_rate() != sample_rate)
        std::printf("courier-synth: %s is at %.0f Hz: the disk worker resamples it to %.0f Hz\n", path.c_str(),
                    stream.sample_rate(), sample_rate);
    stream.set_output_rate(sample_rate);
    stream.start();
    if (!stream.wait_until_primed(std::chrono::seconds(5)))
        std::printf("courier-synth: the disk worker is slow: the stream may start with an underrun\n");
}

}  // namespace

int run_synth(const synth_options& o)
{
    if (o.soak.enabled() && !o.osc.enabled())
        throw usage_error("--soak needs the OSC endpoint (--osc-port or --osc-socket)");
    const score sheet = load_score(o);
    if (o.print_demo)
    {
        std::fputs(std::string(demo_score_text()).c_str(), stdout);
        return EXIT_SUCCESS;
    }

    audio::engine_config config;
    config.timed_capacity = sheet.events.size() + 16;  // the whole score goes in before the stream starts
    config.timed_buffer = sheet.events.size() + 16;
    config.max_producers = 1;
    config.mailbox_capacity = 4096;
    size_engine_for_osc(o.osc, config);
    // Declared before the engine, so they outlive it: the port table its processor ports live in, the registry
    // that names them ("/synth", "/stream"), and the disk streamer.
    port_table ports(8, 4);
    port_registry<audio::engine_event> names;
    registry_reader<audio::engine_event> control_names = names.add_reader();  // the control thread
    // --soak (test hook): before the graphs, so that every graph dies while it watches.
    std::unique_ptr<soak_controller> soak;
    if (o.soak.enabled())
        soak = std::make_unique<soak_controller>(o.soak, o.synth);
    std::unique_ptr<audio::disk_streamer> stream;
    std::unique_ptr<audio::audio_graph> graph;
    if (o.stream_path.empty())
        graph = std::make_unique<synth_graph>(o.synth);
    else
    {
        audio::disk_streamer_config stream_config;
        stream_config.gain = o.stream_gain;
        stream_config.loop = o.stream_loop;
        if (soak != nullptr)
            soak->configure_stream(stream_config);
        stream = std::make_unique<audio::disk_streamer>(o.stream_path, stream_config);
        graph = std::make_unique<synth_and_stream>(o.synth, *stream);
    }
    if (soak != nullptr)
        graph = soak->wrap(std::move(graph));
    audio::engine engine(std::move(graph), config);
    engine.open_processor_ports(ports);
    engine.register_processors(names);  // every reader is declared above: add() reserves a lane for each
    names.publish();

    audio::stream_config wanted;
    wanted.sample_rate = o.sample_rate;
    wanted.block_size = o.block_size;
    wanted.output_channels = 2;

    // Open the device first: a JACK server imposes its own sample rate, and the score is timed in frames.
    std::string why_offline = "--offline";
    const std::unique_ptr<audio::portaudio_driver> device = open_device(o, engine, wanted, why_offline);
    const audio::stream_config actual = device != nullptr ? device->info().config : wanted;

    auto sequencer = engine.timed_sender();
    for (const score_event& e : sheet.events)
        if (!sequencer.try_send(score::frame_of(e.seconds, actual.sample_rate), e.event))
            throw std::runtime_error("the score did not fit the timed-event lane");  // sized above: cannot happen
    const double seconds = sheet.length_seconds + o.tail;
    const auto total_frames = static_cast<std::size_t>(std::llround(seconds * actual.sample_rate));

    patcher patches(sheet, o.synth, actual.sample_rate, stream.get());
    chatter control;
    std::thread control_thread;
    if (o.control_rate > 0.0)
        control_thread = std::thread([&control, sender = engine.add_producer(), reader = std::move(control_names),
                                      rate = o.control_rate]() mutable {
            control.run(std::move(sender), std::move(reader), rate);
        });

    synth_monitor monitor(engine, config.scope_frames);
    if (stream != nullptr)
        start_streaming(*stream, o.stream_path, actual.sample_rate);

    int status = EXIT_SUCCESS;
    const playback p{engine, actual, sheet.events.size(), seconds, total_frames, patches, monitor, stream.get()};
    if (soak != nullptr)
    {
        soak->attach(engine, device.get(), o.control_rate > 0.0 ? &control : nullptr, stream.get());
        osc_options with_soak = o.osc;
        with_soak.each_wake = [&soak] { return soak->on_wake(); };
        status = run_with_osc(engine, device.get(), actual, std::move(sequencer), with_soak, ports, names);
        soak->check_stream_buffers();
        if (status == EXIT_SUCCESS)
            status = soak->status();
    }
    else if (o.osc.enabled())
        status = run_with_osc(engine, device.get(), actual, std::move(sequencer), o.osc, ports, names);
    else if (device != nullptr)
        play_on_device(p, *device);
    else
        status = render_offline(p, o, why_offline);

    control.stop.store(true, std::memory_order_relaxed);  // a flag; the join below is the synchronisation
    if (control_thread.joinable())
        control_thread.join();
    if (stream != nullptr)
        stream->stop();
    monitor.poll();
    print_statistics(engine, monitor.meters_read, monitor.scope_read, o.control_rate > 0.0 ? &control : nullptr);
    if (stream != nullptr)
        print_stream_statistics(stream->stats());
    if (o.control_rate > 0.0)
        print_control_statistics(control);
    if (soak != nullptr)
        soak->print_report();
    return status;
}

}  // namespace courier::synth
