// SPDX-License-Identifier: MIT
// courier-synth's soak mode (--soak, test-only): graph swaps on a timer, stream pauses, a stalling main thread,
// a watchdog for a vanished audio server, the final drain of every lane, and the figures tests/soak/soak.sh
// checks (docs/testing.md "Soak").
#pragma once

#include <courier/audio/disk_streamer.h>
#include <courier/audio/engine.h>
#include <courier/audio/portaudio_driver.h>
#include "demos/synth/chatter.h"
#include "demos/synth/soak_graph.h"
#include "demos/synth/synth_graph.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace courier::synth {

/// The --soak options. Test hooks: they exist for tests/soak/soak.sh, and do nothing unless --soak is given.
struct soak_options
{
    double seconds = 0.0;              ///< --soak S: run S seconds, then drain every lane and stop (0: off)
    double swap_every = 1.0;           ///< --soak-swap-every S: publish a new graph every S seconds (0: never)
    double pause_every = 0.0;          ///< --soak-pause-every S: stop and restart the stream every S seconds
    double pause_for = 0.5;            ///< --soak-pause-for S: how long the stream stays stopped
    double stall_every = 0.0;          ///< --soak-stall-every S: the main thread stops polling every S seconds
    double stall_for = 0.3;            ///< --soak-stall-for S: for that long (scope and meters back up)
    double watchdog = 3.0;             ///< --soak-watchdog S: no callback for S seconds while running: stop, exit 1
    std::size_t stream_stall_every = 0;///< --stream-stall-every N: the disk worker stalls before every Nth block
    double stream_stall = 0.0;         ///< --stream-stall S: for S seconds

    /// True when --soak was given.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] bool enabled() const noexcept { return seconds > 0.0; }
};

/// Consumes `arg` when it is one of the soak options above, reading its value with `value()` and checking numbers
/// with `number(name, text, low, high)`; returns false for any other argument.
/// Thread: setup. Real-time: no.
bool parse_soak_option(const std::string& arg, const std::function<std::string()>& value,
                       const std::function<double(const std::string&, const std::string&, double, double)>& number,
                       soak_options& options);

/// Runs the soak's faults and checks from the main thread's loop, and prints its figures as `soak: <name> <value>`
/// lines. Declared before the engine, so every graph dies before it.
class soak_controller
{
public:
    /// Thread: setup (main, which becomes the thread every graph must die on). Real-time: no.
    soak_controller(const soak_options& options, const synth_settings& synth);

    /// Prints how many graphs were made and on which thread each died (the engine, with the last graph, is gone).
    /// Thread: setup (main). Real-time: no (prints).
    ~soak_controller();

    soak_controller(const soak_controller&) = delete;
    soak_controller& operator=(const soak_controller&) = delete;

    /// `graph`, wrapped so that its events and its death are counted.
    /// Thread: control (main). Real-time: no (allocates).
    [[nodiscard]] std::unique_ptr<audio::audio_graph> wrap(std::unique_ptr<audio::audio_graph> graph);

    /// Gives the disk streamer's configuration the --stream-stall hook, and notes its buffer count.
    /// Thread: setup (main). Real-time: no.
    void configure_stream(audio::disk_streamer_config& config);

    /// The parts the run loop drives; each must outlive the run. `device` is null on the offline driver,
    /// `stream` without --stream, `control` without --control-rate.
    /// Thread: setup (main). Real-time: no.
    void attach(audio::engine& engine, audio::portaudio_driver* device, chatter* control,
                audio::disk_streamer* stream);

    /// One turn of the main loop (every 10 ms): swaps, pauses, stalls, the watchdog, then the drain. Returns
    /// false when the run should end (drained, or failed: see status()). When the watchdog fires (no callback
    /// for --soak-watchdog seconds while the stream should run: the JACK server died), it prints a clear error
    /// and returns false: the run then tears everything down as usual on this thread (the driver abandons the
    /// stream PortAudio can no longer stop), prints the figures, and exits with status 1.
    /// Thread: control (main). Real-time: no (allocates graphs, sleeps, starts and stops the stream).
    [[nodiscard]] bool on_wake();

    /// Once the stream has stopped: waits (up to 5 s) until every buffer of the disk loop is back with the
    /// worker and filled, and prints how many are.
    /// Thread: control (main). Real-time: no (sleeps).
    void check_stream_buffers();

    /// Prints the run's figures, one `soak: <name> <value>` line each.
    /// Thread: control (main). Real-time: no (prints).
    void print_report() const;

    /// EXIT_SUCCESS, or EXIT_FAILURE when the watchdog fired, the stream failed or the lanes did not drain.
    /// Thread: control (main). Real-time: no.
    [[nodiscard]] int status() const noexcept { return failed ? 1 : 0; }

private:
    using clock = std::chrono::steady_clock;
    void swap_graph();
    void pause_or_resume(clock::time_point now);
    [[nodiscard]] bool lanes_empty() const;
    void fail(const std::string& why);
    void stream_lost();

    soak_options settings;
    synth_settings synth;
    soak_graph_counters counters;
    audio::disk_streamer* stream = nullptr;
    std::size_t stream_buffers = 0;
    audio::engine* engine = nullptr;
    audio::portaudio_driver* device = nullptr;
    chatter* control = nullptr;

    // The main thread's own.
    bool started = false;
    bool draining = false;
    bool drained = false;
    bool paused = false;
    bool failed = false;
    bool lost = false;  // the watchdog fired: the audio server is gone
    clock::time_point lost_at;
    clock::time_point start, next_swap, next_pause, resume_at, next_stall, drain_from, last_progress;
    std::uint64_t last_frames = 0;
    std::uint64_t swaps = 0;
    std::uint64_t swaps_refused = 0;
    std::uint64_t pauses = 0;
    std::uint64_t stalls = 0;
    std::uint64_t buffers_home = 0;
    double drain_seconds = 0.0;
};

}  // namespace courier::synth
