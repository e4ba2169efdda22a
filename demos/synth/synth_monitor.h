// SPDX-License-Identifier: MIT
// synth_monitor: the main thread's turn as a GUI, reading the engine's meters and scope and collecting retired
// graphs (demos/synth/README.md, "How it runs").
#pragma once

#include <courier/audio/engine.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace courier::synth {

/// What a GUI would do, done by courier-synth's main thread: reads the meters (state_observer), takes the scope
/// buffers (buffer_pool), and lets the graphs the audio side retired die here (swap_and_retire). All written by
/// the main thread.
struct synth_monitor
{
    /// Watches `engine`, which must outlive this monitor, with a scope buffer of `scope_frames` frames.
    /// Thread: setup (main). Real-time: no (allocates).
    synth_monitor(audio::engine& engine, std::size_t scope_frames);

    /// Reads the newest meters, drains the scope and collects retired graphs.
    /// Thread: control (main). Real-time: no (frees the retired graphs).
    void poll();

    audio::engine& engine;
    std::uint64_t meters_read = 0;  ///< meter snapshots read
    std::uint64_t scope_read = 0;   ///< scope buffers taken
    float loudest = 0.0F;           ///< the highest peak read since the caller last reset it
    std::vector<float> scope_view;  ///< where a scope buffer is copied (a GUI would draw it)
};

}  // namespace courier::synth
