// SPDX-License-Identifier: MIT
// A benchmark's main(): runs it, turns an exception into a message and exit status 1, and reads the options the
// small benchmarks share (docs/performance.md).
#pragma once

#include <cstddef>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

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

/// What the small benchmarks' command lines have in common.
struct bench_args
{
    std::size_t repeats;   ///< --repeat N; --quick sets the benchmark's quick count
    std::string csv_path;  ///< --csv PATH
};

/// Reads `argv` into `args`: --quick (repeats = `quick_repeats`), --repeat N and --csv PATH, the last one given
/// winning. Any other argument goes to `own(arg, next)`, which returns whether it took it; `next()` consumes the
/// argument after it and returns it, or nullptr when there is none. Returns the first argument nobody took
/// ("--help" is one: the caller prints its usage), or nullptr when all were taken.
/// Thread: main. Real-time: no (allocates; std::stoul throws on a malformed count).
template <class Own>
const char* parse_bench_args(int argc, char** argv, bench_args& args, std::size_t quick_repeats, Own&& own)
{
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        const auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (arg == "--quick")
            args.repeats = quick_repeats;
        else if (arg == "--repeat" && i + 1 < argc)
            args.repeats = std::stoul(argv[++i]);
        else if (arg == "--csv" && i + 1 < argc)
            args.csv_path = argv[++i];
        else if (!own(arg, next))
            return argv[i];
    }
    return nullptr;
}

/// parse_bench_args for a benchmark with no options of its own.
/// Thread: main. Real-time: no (allocates).
inline const char* parse_bench_args(int argc, char** argv, bench_args& args, std::size_t quick_repeats)
{
    return parse_bench_args(argc, argv, args, quick_repeats, [](std::string_view, auto&&) { return false; });
}

}  // namespace courier::bench
