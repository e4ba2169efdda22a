// SPDX-License-Identifier: MIT
// courier-synth's run: builds the engine for the options, plays or renders the score, and prints the report
// (demos/synth/README.md, "How it runs").
#pragma once

#include "demos/synth/synth_options.h"

namespace courier::synth {

/// Loads the score, builds the graph and the engine (with its ports named in a registry), opens the device
/// (or falls back to offline), queues the score, starts the disk streamer and the --control-rate thread, runs
/// the OSC, device or offline mode, and prints the statistics. With --print-demo it only prints the demo score.
/// Returns the exit status; throws usage_error, score_error, or std::exception when setup fails.
/// Thread: setup (main). Real-time: no (allocates, starts threads, prints).
[[nodiscard]] int run_synth(const synth_options& o);

}  // namespace courier::synth
