// SPDX-License-Identifier: MIT
// courier-synth's closing report: the engine's statistics and the messages that went through each pattern
// (demos/synth/README.md).
#pragma once

#include <courier/audio/disk_streamer.h>
#include <courier/audio/engine.h>
#include "demos/synth/chatter.h"

#include <cstdint>

namespace courier::synth {

/// Prints the engine's statistics, then the messages through each pattern: the timed lane, the mailbox (when
/// `control` is not null: the --control-rate thread ran), each processor port, the graph swaps, the meters and
/// scope buffers (`meters_read` and `scope_read` are what the main thread took).
/// Thread: control (main), after the stream stopped. Real-time: no (prints).
void print_statistics(audio::engine& engine, std::uint64_t meters_read, std::uint64_t scope_read,
                      const chatter* control);

/// Prints the disk streamer's line of the report (blocks read and played, underruns).
/// Thread: control (main), after the streamer stopped. Real-time: no (prints).
void print_stream_statistics(const audio::disk_streamer_stats& d);

/// Prints the --control-rate thread's line of the report (sent each way, refused).
/// Thread: control (main), after the control thread was joined. Real-time: no (prints).
void print_control_statistics(const chatter& control);

}  // namespace courier::synth
