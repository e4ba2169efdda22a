// SPDX-License-Identifier: MIT
// courier-synth: a polyphonic synthesizer driven by a score, played through PortAudio or rendered offline to a
// WAV file, printing the engine's statistics at the end (demos/synth/README.md).
#include "demos/synth/score.h"
#include "demos/synth/synth_options.h"
#include "demos/synth/synth_run.h"

#include <cstdio>
#include <cstdlib>
#include <exception>

// Exit status: 0 on success, 1 when audio or a file fails, 2 for a bad argument or a bad score line.
int main(int argc, char** argv)
{
    try
    {
        return courier::synth::run_synth(courier::synth::parse_arguments(argc, argv));
    }
    catch (const courier::synth::usage_error& e)
    {
        std::fprintf(stderr, "courier-synth: %s\nTry 'courier-synth --help'.\n", e.what());
        return 2;
    }
    catch (const courier::synth::score_error& e)
    {
        std::fprintf(stderr, "courier-synth: bad score line: %s\n", e.what());
        return 2;
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "courier-synth: %s\n", e.what());
        return EXIT_FAILURE;
    }
}
