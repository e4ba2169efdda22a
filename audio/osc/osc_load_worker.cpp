// SPDX-License-Identifier: MIT
// The OSC endpoint's /load disk worker of osc_load_worker.h: reads the file with libsndfile on its own thread
// (docs/osc.md, "/load").
#include "osc_load_worker.h"

#include <sndfile.h>

#include <algorithm>
#include <chrono>
#include <system_error>
#include <vector>

namespace courier::osc {

const char* load_error_name(load_error e) noexcept COURIER_REALTIME
{
    switch (e)
    {
    case load_error::none: return "none";
    case load_error::cannot_open: return "cannot_open";
    case load_error::too_long: return "too_long";
    case load_error::read_error: return "read_error";
    }
    return "unknown";
}

std::optional<std::size_t> sample_count(std::uint64_t frames, int channels) noexcept COURIER_REALTIME
{
    constexpr std::uint64_t most = static_cast<std::uint64_t>(PTRDIFF_MAX) / sizeof(float);  // a vector<float>
    if (channels <= 0 || frames > most / static_cast<std::uint64_t>(channels))
        return std::nullopt;
    return static_cast<std::size_t>(frames * static_cast<std::uint64_t>(channels));
}

load_worker::load_worker(protocol::request_reply<load_request, load_reply>::server_type& s, const std::atomic<bool>& stop)
    : server(&s), stop_requested(&stop)
{
}

void load_worker::wake()
{
    worker_wake.signal_and_wake();
}

void load_worker::run() noexcept
{
    while (!stop_requested->load(std::memory_order_relaxed))  // a flag; stop() joins after setting it
    {
        (void)worker_wake.wait_for(std::chrono::milliseconds(50));
        std::uint64_t id = 0;
        std::filesystem::path path;
        std::uint64_t max_frames = 0;
        bool copied = true;
        // The request is held until the final reply (it goes home then): copy what the load needs (the worker may
        // allocate). drain() is noexcept, so the handler catches its own exception (a bad_alloc copying the path):
        // one escaping it would call std::terminate and take the process, audio and all, with it.
        (void)server->drain(
            [&](std::uint64_t started, const load_request& r) noexcept {
                id = started;
                max_frames = r.max_frames;
                try
                {
                    path = r.path;
                }
                catch (...)
                {
                    copied = false;
                }
            },
            1);
        if (id != 0 && !copied)  // could not allocate: the same final reply as a sound too large to hold
            (void)server->try_finish(id, load_reply{0.0F, load_error::too_long, 0, 0, 0.0});
        else if (id != 0)
            run_load(id, path, max_frames);
        (void)server->collect();  // ✗ replies the network thread has read die here, on the worker
    }
}

void load_worker::run_load(std::uint64_t id, const std::filesystem::path& path, std::uint64_t max_frames) noexcept
{
    auto finish = [&](load_reply r) { (void)server->try_finish(id, r); };  // room for it was reserved at start
    SF_INFO info{};
    SNDFILE* file = nullptr;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec))
        file = sf_open(path.c_str(), SFM_READ, &info);
    if (file == nullptr)
    {
        finish(load_reply{0.0F, load_error::cannot_open, 0, 0, 0.0});
        return;
    }
    const auto frames = static_cast<std::uint64_t>(std::max<sf_count_t>(info.frames, 0));
    // max_frames is the endpoint's configuration, and a file's header may claim any length: frames x channels
    // is refused as too long when it does not fit one buffer, never wrapped.
    const std::optional<std::size_t> sample_total = sample_count(frames, info.channels);
    if (frames > max_frames || !sample_total)
    {
        sf_close(file);
        finish(load_reply{0.0F, load_error::too_long, 0, 0, 0.0});
        return;
    }
    try
    {
        const auto channels = static_cast<std::uint64_t>(info.channels);
        std::vector<float> samples(*sample_total);  // the loaded sound
        const std::uint64_t chunk = 16384;
        std::uint64_t done = 0;
        std::uint64_t next_tenth = 1;
        while (done < frames && !stop_requested->load(std::memory_order_relaxed))
        {
            const std::uint64_t want = std::min(chunk, frames - done);
            const sf_count_t got = sf_readf_float(file, samples.data() + done * channels, static_cast<sf_count_t>(want));
            if (got <= 0)
                break;
            done += static_cast<std::uint64_t>(got);
            for (; next_tenth <= 10 && done * 10 >= frames * next_tenth; ++next_tenth)
            {
                (void)server->collect();
                load_reply progress;
                progress.fraction = static_cast<float>(next_tenth) / 10.0F;
                if (server->try_progress(id, progress) != courier::send_status::sent)
                    ++progress_dropped;  // progress is droppable: the client is behind; the final is not
            }
        }
        sf_close(file);
        if (done < frames)
        {
            finish(load_reply{0.0F, load_error::read_error, 0, 0, 0.0});
            return;
        }
        finish(load_reply{1.0F, load_error::none, frames, info.channels, static_cast<double>(info.samplerate)});
    }  // ✗ the samples die here, on the worker: no graph plays them yet (docs/osc.md, "/load")
    catch (...)
    {
        finish(load_reply{0.0F, load_error::too_long, 0, 0, 0.0});  // could not allocate
    }
}

}  // namespace courier::osc
