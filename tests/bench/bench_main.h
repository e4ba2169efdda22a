// SPDX-License-Identifier: MIT
// A benchmark's main(): runs it and turns an exception into a message and exit status 1 (docs/performance.md).
#pragma once

#include <cstdio>
#include <exception>

namespace courier::bench {

/// Returns `run(argc, argv)`; when it throws, prints "`name`: reason" to stderr and returns 1.
/// Thread: main. Real-time: no.
template <class Run>
int guarded_main(const char* name, Run&& run, int argc, char** argv) noexcept
{
    try
    {
        return run(argc, argv);
    }
    catch (const std::exception& error)
    {
        std::fprintf(stderr, "%s: %s\n", name, error.what());
        return 1;
    }
}

}  // namespace courier::bench
