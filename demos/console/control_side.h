// SPDX-License-Identifier: MIT
// The console demo's control side: a "GUI timer" that sends commands and prints what the audio side reports.
#pragma once

#include "demos/console/toy_engine.h"

#include <courier/lane_stats.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <utility>

namespace demo {

/// Reads `--seconds S` (default 1.5); prints usage and exits on `--help` or a bad argument.
/// Thread: control. Real-time: no (prints, may exit).
double parse_seconds(int argc, char** argv);

/// A second producer: sends a pitch nudge every 250 ms through its own mailbox lane, then returns.
/// Thread: a network-like thread of its own. Real-time: no (sleeps).
void send_nudges(courier::lane_sender<nudge>& sender, double seconds);

/// The control thread's ends of the lanes, and the scripted session it runs.
class control_side
{
public:
    /// Thread: setup. Real-time: no.
    control_side(courier::command_sender<void(voice_state&), 32> to_audio,
                 courier::lane_receiver<audio_event> from_audio,
                 courier::lane_receiver<courier::pool_ptr<scope_buffer>> scope_in);

    /// Ticks every 20 ms for `seconds`: sends the scripted commands and prints what came back.
    /// Thread: control. Real-time: no (sleeps, prints).
    void run_for(double seconds);

    /// Drains what is left once the audio side has stopped, and prints the totals.
    /// Thread: control, after the audio thread has stopped. Real-time: no (prints).
    void finish(std::uint64_t blocks_rendered, std::uint64_t scope_frames_skipped);

    /// Prints one row of counters per lane.
    /// Thread: control. Real-time: no (prints).
    static void print_lane_table(std::initializer_list<std::pair<const char*, courier::lane_stats>> lanes);

private:
    void send_gain(float gain, const char* why);
    void drain_reports();

    courier::command_sender<void(voice_state&), 32> to_audio;
    courier::lane_receiver<audio_event> from_audio;
    courier::lane_receiver<courier::pool_ptr<scope_buffer>> scope_in;
    std::chrono::steady_clock::time_point start;
    std::uint64_t commands_applied = 0;
    std::uint64_t scope_frames = 0;
    float pending_gain = -1.0f;  // a value refused by a full lane, resent on the next tick
};

}  // namespace demo
