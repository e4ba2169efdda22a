// SPDX-License-Identifier: MIT
// courier-synth's command line: its options, their parsing and checks, and the score they name
// (demos/synth/README.md).
#pragma once

#include "demos/synth/osc_control.h"
#include "demos/synth/score.h"
#include "demos/synth/soak.h"
#include "demos/synth/synth_graph.h"

#include <cstddef>
#include <stdexcept>
#include <string>

namespace courier::synth {

/// A bad argument (unknown, missing its value, out of range, or without effect in the chosen mode):
/// courier-synth prints it with a pointer to --help and exits with status 2.
struct usage_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

/// Every option of courier-synth, with its default (`courier-synth --help` describes each).
struct synth_options
{
    std::string score_path;  ///< --score FILE; empty: the demo
    bool print_demo = false;
    bool offline = false;
    std::string output = "courier-synth.wav";
    bool pcm24 = false;
    std::string host_api = "default";
    std::string device;
    double sample_rate = 48000.0;
    std::size_t block_size = 256;
    synth_settings synth;  ///< --voices, --waveform, --gain, --cutoff
    double tail = 0.5;
    double control_rate = 0.0;
    std::string stream_path;
    float stream_gain = 0.5F;
    bool stream_loop = false;
    osc_options osc;  ///< --osc-port, --osc-socket, ... (osc_control.h)
    soak_options soak;  ///< --soak, --stream-stall, ... (soak.h; test hooks for tests/soak/soak.sh)
};

/// Parses the command line. `--help` prints the help text and exits the program with status 0; an unknown
/// argument, a missing value, a value out of range, or an option that has no effect in the chosen mode
/// (--duration without OSC, --stream-gain without --stream, ...) throws usage_error saying which.
/// Thread: setup (main). Real-time: no (allocates, may exit).
[[nodiscard]] synth_options parse_arguments(int argc, char** argv);

/// Reads the score the options name: the built-in demo, standard input ("-") or a file. Throws
/// std::runtime_error when the file is missing, a directory or cannot be read (status 1: a file failed), and
/// score_error for a bad line.
/// Thread: setup (main). Real-time: no (allocates, reads files).
[[nodiscard]] score load_score(const synth_options& options);

}  // namespace courier::synth
