// SPDX-License-Identifier: MIT
// patcher: publishes the graph swaps of a score's `patch` lines when they fall due (demos/synth/README.md,
// "Graph swaps").
#pragma once

#include <courier/audio/disk_streamer.h>
#include <courier/audio/engine.h>
#include "demos/synth/score.h"
#include "demos/synth/synth_graph.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace courier::synth {

/// The score's `patch` lines. Each builds a new graph on the control side, with the settings the score has set
/// by its time, and publishes it; the audio side adopts it in O(1) at its next block (swap_and_retire), and the
/// old graph travels back to die in engine.collect_graphs(), on the control thread.
class patcher
{
public:
    /// Orders the patches of `s` by frame at `sample_rate`, each with `base` updated by the score's gain, cutoff
    /// and waveform events up to it. With `stream_` (null without --stream) each new graph mixes it in.
    /// Thread: setup (control). Real-time: no (allocates).
    patcher(const score& s, const synth_settings& base, double sample_rate, audio::disk_streamer* stream_);

    /// Publishes every patch due before `frame` (a refused one is retried at the next call).
    /// Thread: control. Real-time: no (allocates the new graph).
    void publish_due(audio::engine& engine, std::uint64_t frame);

private:
    struct pending
    {
        std::uint64_t frame;
        std::size_t line;
        synth_settings settings;
    };

    static synth_settings settings_at(const score& s, synth_settings settings, const score_patch& p);
    [[nodiscard]] std::unique_ptr<audio::audio_graph> build(const synth_settings& settings) const;

    audio::disk_streamer* stream;
    std::vector<pending> due;
    std::size_t next = 0;
};

}  // namespace courier::synth
