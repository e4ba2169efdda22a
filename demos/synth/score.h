// SPDX-License-Identifier: MIT
// The score: a small text format of timestamped synth events, its parser and the built-in demo sequence
// (demos/synth/README.md).
#pragma once

#include <courier/audio/audio_graph.h>

#include <cstdint>
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace courier::synth {

/// A bad score line: what() reads "<source>:<line>: <reason>".
class score_error : public std::runtime_error
{
public:
    /// Names the source, the line and the reason.
    /// Thread: control. Real-time: no (allocates).
    score_error(const std::string& source, std::size_t line_number, const std::string& reason)
        : std::runtime_error(source + ":" + std::to_string(line_number) + ": " + reason), line(line_number)
    {
    }
    std::size_t line;  ///< 1-based line number of the bad line
};

/// One event of a score and the time it takes effect.
struct score_event
{
    double seconds = 0.0;
    audio::engine_event event;
    std::size_t line = 0;  ///< where it was written
};

/// A `patch` line: at `seconds`, a new synth graph with `voices` voices replaces the running one (a graph swap).
struct score_patch
{
    double seconds = 0.0;
    std::size_t voices = 8;
    std::size_t line = 0;  ///< where it was written
};

/// A parsed score: its events in the order written, its graph swaps, and its length (the `end` line, or the last
/// event).
struct score
{
    std::vector<score_event> events;
    std::vector<score_patch> patches;
    double length_seconds = 0.0;

    /// The frame an event at `seconds` lands on at `sample_rate`: seconds × rate, rounded to nearest.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] static std::uint64_t frame_of(double seconds, double sample_rate) noexcept;
};

/// Parses the score format (see demos/synth/README.md): one event per line, `<seconds> <command> <args>`,
/// `#` starts a comment. Throws score_error naming `source` and the line for the first bad line.
/// Thread: control. Real-time: no (allocates).
[[nodiscard]] score parse_score(std::istream& text, const std::string& source);

/// Parses a note: a MIDI number 0..127 or a name like C4, F#3, Bb2 (C4 = 60). Returns -1 when invalid.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] int parse_note(std::string_view text) noexcept;

/// The built-in demo sequence (about 6 seconds), in the score format.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::string_view demo_score_text() noexcept;

}  // namespace courier::synth
