// SPDX-License-Identifier: MIT
// courier-synth's soak mode: the faults it injects from the main loop, the final drain and the figures
// tests/soak/soak.sh checks (docs/testing.md "Soak").
#include "demos/synth/soak.h"

#include <courier/audio/driver_error.h>
#include <courier/patterns/port.h>
#include "demos/synth/synth_and_stream.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

namespace courier::synth {

namespace {

std::chrono::steady_clock::duration seconds_of(double s)
{
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

void figure(const char* name, std::uint64_t value)
{
    std::printf("soak: %s %llu\n", name, static_cast<unsigned long long>(value));
}

void lane_figures(const std::string& name, const lane_stats& s)
{
    std::printf("soak: lane %s sent %llu received %llu refused %llu queued %llu high_water %llu capacity %zu\n",
                name.c_str(), static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.received),
                static_cast<unsigned long long>(s.refused), static_cast<unsigned long long>(s.depth()),
                static_cast<unsigned long long>(s.high_water), s.capacity);
}

}  // namespace

bool parse_soak_option(const std::string& arg, const std::function<std::string()>& value,
                       const std::function<double(const std::string&, const std::string&, double, double)>& number,
                       soak_options& o)
{
    if (arg == "--soak")
        o.seconds = number(arg, value(), 1.0, 86400.0);
    else if (arg == "--soak-swap-every")
        o.swap_every = number(arg, value(), 0.0, 3600.0);
    else if (arg == "--soak-pause-every")
        o.pause_every = number(arg, value(), 0.0, 3600.0);
    else if (arg == "--soak-pause-for")
        o.pause_for = number(arg, value(), 0.01, 60.0);
    else if (arg == "--soak-stall-every")
        o.stall_every = number(arg, value(), 0.0, 3600.0);
    else if (arg == "--soak-stall-for")
        o.stall_for = number(arg, value(), 0.01, 10.0);
    else if (arg == "--soak-watchdog")
        o.watchdog = number(arg, value(), 0.5, 3600.0);
    else if (arg == "--stream-stall-every")
        o.stream_stall_every = static_cast<std::size_t>(number(arg, value(), 0.0, 1.0e9));
    else if (arg == "--stream-stall")
        o.stream_stall = number(arg, value(), 0.0, 60.0);
    else
        return false;
    return true;
}

soak_controller::soak_controller(const soak_options& options, const synth_settings& synth_)
    : settings(options), synth(synth_)
{
    counters.control = std::this_thread::get_id();
}

soak_controller::~soak_controller()
{
    const std::uint64_t made = counters.made.load(std::memory_order_relaxed);  // every graph is gone: counters
    figure("graphs_made", made);
    figure("graphs_destroyed_on_control", counters.destroyed_on_control.load(std::memory_order_relaxed));
    figure("graphs_destroyed_elsewhere", counters.destroyed_elsewhere.load(std::memory_order_relaxed));
    if (lost)
    {
        // Everything the run made is gone by now (the engine, its graphs and lanes, the driver): the teardown
        // after the server died, timed from the watchdog's verdict.
        figure("teardown_done", 1);
        std::printf("soak: teardown_seconds %.3f\n", std::chrono::duration<double>(clock::now() - lost_at).count());
    }
    std::fflush(stdout);
}

std::unique_ptr<audio::audio_graph> soak_controller::wrap(std::unique_ptr<audio::audio_graph> graph)
{
    return std::make_unique<soak_graph>(std::move(graph), counters);
}

void soak_controller::configure_stream(audio::disk_streamer_config& config)
{
    config.stall_every = settings.stream_stall_every;
    config.stall =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(settings.stream_stall));
    stream_buffers = config.buffers;
}

void soak_controller::attach(audio::engine& e, audio::portaudio_driver* d, chatter* c, audio::disk_streamer* s)
{
    engine = &e;
    device = d;
    control = c;
    stream = s;
}

bool soak_controller::on_wake()
{
    const clock::time_point now = clock::now();
    if (!started)
    {
        started = true;
        start = now;
        next_swap = now + seconds_of(settings.swap_every);
        next_pause = now + seconds_of(settings.pause_every);
        next_stall = now + seconds_of(settings.stall_every);
        last_progress = now;
    }
    // The watchdog: the engine clock stands still although the stream should run (a JACK server killed).
    const std::uint64_t frames = engine->stats().frames;
    if (frames != last_frames || paused)
    {
        last_frames = frames;
        last_progress = now;
    }
    else if (now - last_progress > seconds_of(settings.watchdog))
    {
        stream_lost();
        return false;
    }

    if (draining)
    {
        // The control thread has returned (acquire: its last sends happened before), then every lane empties.
        if (control == nullptr || control->done.load(std::memory_order_acquire))
            if (lanes_empty())
            {
                drained = true;
                drain_seconds = std::chrono::duration<double>(now - drain_from).count();
                return false;
            }
        if (now - drain_from > std::chrono::seconds(10))
        {
            fail("the lanes did not drain within 10 s");
            return false;
        }
        return true;
    }

    pause_or_resume(now);
    if (failed)
        return false;
    if (settings.swap_every > 0.0 && now >= next_swap)
    {
        next_swap += seconds_of(settings.swap_every);
        swap_graph();
    }
    if (settings.stall_every > 0.0 && now >= next_stall)
    {
        next_stall += seconds_of(settings.stall_every);
        ++stalls;
        std::this_thread::sleep_for(seconds_of(settings.stall_for));  // the fault: a main thread that stops polling
    }
    if (!paused && now - start >= seconds_of(settings.seconds))
    {
        draining = true;
        drain_from = now;
        if (control != nullptr)
            control->stop.store(true, std::memory_order_relaxed);  // a flag; done (acquire) is the synchronisation
    }
    return true;
}

void soak_controller::pause_or_resume(clock::time_point now)
{
    if (device == nullptr || settings.pause_every <= 0.0)
        return;
    try
    {
        if (paused && now >= resume_at)
        {
            device->start();  // the audio side continues with whatever the lanes queued meanwhile
            paused = false;
            last_progress = now;
        }
        else if (!paused && now >= next_pause)
        {
            next_pause += seconds_of(settings.pause_every);
            device->stop();  // messages stay queued in the lanes; the senders are refused once they are full
            paused = true;
            resume_at = now + seconds_of(settings.pause_for);
            ++pauses;
        }
    }
    catch (const audio::driver_error& e)
    {
        fail(std::string("the stream could not be ") + (paused ? "restarted: " : "stopped: ") + e.what());
    }
}

void soak_controller::swap_graph()
{
    synth_settings s = synth;
    s.max_voices = swaps % 2 == 0 ? synth.max_voices + 2 : synth.max_voices;  // a different graph each time
    std::unique_ptr<audio::audio_graph> fresh;
    if (stream != nullptr)
        fresh = wrap(std::make_unique<synth_and_stream>(s, *stream));
    else
        fresh = wrap(std::make_unique<synth_graph>(s));
    if (engine->try_publish_graph(fresh))
        ++swaps;
    else
        ++swaps_refused;  // graphs in flight (the stream is paused): ✗ `fresh` dies here, on the main thread
}

bool soak_controller::lanes_empty() const
{
    for (std::size_t i = 0; i < engine->producer_count(); ++i)
        if (engine->mailbox_stats(i).depth() != 0)
            return false;
    for (const std::string& name : engine->processor_names())
    {
        const port<audio::engine_event>& p = engine->processor_port(name);
        for (std::size_t lane = 0; lane < p.connected(); ++lane)
            if (p.stats(lane).depth() != 0)
                return false;
    }
    return engine->timed_stats().lane.depth() == 0;
}

void soak_controller::stream_lost()
{
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", settings.watchdog);
    fail(std::string("the audio stream stopped: no callback for ") + seconds +
         " s (the audio server, e.g. JACK, is gone)");
    lost = true;
    lost_at = clock::now();
    if (device != nullptr && !device->stream_lost())
        std::fprintf(stderr, "courier-synth: soak: the host still reports the stream active: stopping it may block\n");
    if (control != nullptr)
        control->stop.store(true, std::memory_order_relaxed);  // a flag; the run's join is the synchronisation
    // The run then ends as any other: the endpoint stops, the driver abandons the dead stream (PortAudio cannot
    // stop it, see portaudio_driver::stream_lost()), the control thread is joined, the figures are printed
    // (whatever the lanes still hold was queued before the server went: "queued"), and every object dies on
    // the main thread. The destructor prints how long that took.
}

void soak_controller::fail(const std::string& why)
{
    std::fprintf(stderr, "courier-synth: soak: %s\n", why.c_str());
    failed = true;
}

void soak_controller::check_stream_buffers()
{
    if (stream == nullptr || lost)
        return;  // lost: the audio side holds what it held when the server died, and returns nothing more
    // Stream stopped: the audio side returns nothing more, and the worker refills every buffer it holds. Each
    // buffer is then either waiting for the audio side (read and not yet received) or the one it was playing
    // (received and not yet returned): blocks_read - requests counts them all.
    const auto until = clock::now() + std::chrono::seconds(5);
    audio::disk_streamer_stats d = stream->stats();
    while (d.blocks_read - d.requests < stream_buffers && clock::now() < until && !d.finished)
    {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polls a count with a deadline, not a handshake
        d = stream->stats();
    }
    buffers_home = d.blocks_read - d.requests;
}

void soak_controller::print_report() const
{
    const audio::engine_stats s = engine->stats();
    std::printf("\nsoak figures\n");
    figure("failed", failed ? 1 : 0);
    if (lost)
        figure("audio_server_lost", 1);
    if (device != nullptr)
        figure("stream_abandoned", device->abandoned_stream() ? 1 : 0);
    figure("drained", drained ? 1 : 0);
    std::printf("soak: drain_seconds %.3f\n", drain_seconds);
    figure("callbacks", s.callbacks);
    figure("over_budget", s.over_budget);
    std::printf("soak: max_load %.3f\n", s.max_load);
    figure("xruns", device != nullptr ? device->xruns() : 0);
    figure("immediate_applied", s.immediate_applied);
    figure("port_applied", s.port_applied);
    figure("timed_applied", s.timed_applied);
    figure("graph_applied", counters.applied.load(std::memory_order_relaxed));  // the stream has stopped
    figure("late_events", s.late_events);
    figure("swaps", swaps);
    figure("swaps_refused", swaps_refused);
    const swap_and_retire_stats g = engine->graph_stats();
    figure("graph_publish_refused", g.returns.refused);
    figure("graphs_adopted", g.publications.received);
    figure("graphs_returned", g.returns.returned);
    figure("pauses", pauses);
    figure("stalls", stalls);
    figure("scope_sent", s.scope_sent);
    figure("scope_starved", s.scope_starved);
    for (std::size_t i = 0; i < engine->producer_count(); ++i)
        lane_figures("mailbox" + std::to_string(i), engine->mailbox_stats(i));
    for (const std::string& name : engine->processor_names())
    {
        const port<audio::engine_event>& port = engine->processor_port(name);
        for (std::size_t lane = 0; lane < port.connected(); ++lane)
            lane_figures("port/" + name + std::to_string(lane), port.stats(lane));
    }
    lane_figures("timed", engine->timed_stats().lane);
    if (control != nullptr)
    {
        // The control thread has been joined: its counters are final.
        figure("control_sent_mailbox", control->sent);
        figure("control_sent_by_name", control->sent_by_name);
        figure("control_refused", control->refused);
    }
    // So far (the destructor prints the final counts, once the engine and its last graph are gone).
    figure("graphs_made", counters.made.load(std::memory_order_relaxed));
    figure("graphs_destroyed_on_control", counters.destroyed_on_control.load(std::memory_order_relaxed));
    figure("graphs_destroyed_elsewhere", counters.destroyed_elsewhere.load(std::memory_order_relaxed));
    if (stream != nullptr)
    {
        const audio::disk_streamer_stats d = stream->stats();
        figure("stream_blocks_read", d.blocks_read);
        figure("stream_blocks_played", d.blocks_received);
        figure("stream_underruns", d.underruns);
        figure("stream_underrun_frames", d.underrun_frames);
        figure("stream_buffers", stream_buffers);
        figure("stream_buffers_home", buffers_home);
    }
    std::fflush(stdout);
}

}  // namespace courier::synth
