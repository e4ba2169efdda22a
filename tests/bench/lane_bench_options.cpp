// SPDX-License-Identifier: MIT
// Parses lane_bench's command line and prints its --help text (docs/performance.md).
#include "tests/bench/lane_bench_options.h"

#include "tests/bench/lane_bench_instructions.h"

#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>
#include <system_error>

namespace courier::bench {
namespace {

void print_help(std::FILE* out)
{
    std::fprintf(out,
                 "usage: courier_lane_bench [--quick] [--runs N] [--round-trips N] [--messages N] [--csv PATH]\n"
                 "       courier_lane_bench --instructions QUEUE [--messages N]\n"
                 "\n"
                 "Compares courier::lane<std::uint64_t> with a raw atomic ping-pong, moodycamel::ReaderWriterQueue,\n"
                 "boost::lockfree::spsc_queue, juce::AbstractFifo with a buffer and std::mutex + std::deque\n"
                 "(capacity %zu each), on two threads pinned to two CPUs.\n"
                 "  round-trip latency: one queue each way; the timing thread sends, waits for the echo, and\n"
                 "                      timestamps every round trip (steady_clock); mean, p50, p99, p99.9 in ns.\n"
                 "  throughput:         the producer sends as fast as it can, the consumer takes everything;\n"
                 "                      million messages per second.\n"
                 "Each measurement is repeated, contenders interleaved; the table gives the median of the runs\n"
                 "(and the best run's throughput, since throughput is bimodal on some machines).\n"
                 "\n"
                 "  --quick           10x fewer round trips and messages (20000 and 2000000)\n"
                 "  --runs N          repetitions of every measurement (default 5)\n"
                 "  --round-trips N   timed round trips per latency run (default 200000)\n"
                 "  --messages N      messages per throughput run (default 20000000)\n"
                 "  --csv PATH        where to write the table as CSV (default bench-results/lane_bench.csv;\n"
                 "                    the directory is created); the round-trip histogram (20 ns bins, last\n"
                 "                    run) goes next to it as <name>_rtt_histogram.csv\n"
                 "  --instructions Q  time nothing: send and receive --messages values through queue Q on one\n"
                 "                    thread, each through a call that is never inlined, for callgrind:\n"
                 "                    valgrind --tool=callgrind --collect-atstart=no\n"
                 "                    --toggle-collect='*courier_bench_send_one*' (or *courier_bench_receive_one*)\n"
                 "                    counts one side; Q is one of: %s\n"
                 "  --help            this text\n",
                 queue_capacity, instruction_queue_names());
}

std::optional<std::uint64_t> parse_count(std::string_view text)
{
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value == 0)
        return std::nullopt;
    return value;
}

}  // namespace

int parse_options(int argc, char** argv, options& out)
{
    bool quick = false;
    std::optional<std::uint64_t> round_trips;
    std::optional<std::uint64_t> messages;
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        // Options that take a value read the next argument; a missing or malformed one is an error.
        const auto value = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= argc)
                return std::nullopt;
            return std::string_view(argv[++i]);
        };
        const auto count = [&]() -> std::optional<std::uint64_t> {
            const auto text = value();
            return text ? parse_count(*text) : std::nullopt;
        };

        if (arg == "--help" || arg == "-h")
        {
            print_help(stdout);
            return -1;
        }
        if (arg == "--quick")
        {
            quick = true;
            continue;
        }
        std::optional<std::uint64_t> number;
        if (arg == "--csv")
        {
            const auto path = value();
            if (path && !path->empty())
            {
                out.csv_path = std::string(*path);
                continue;
            }
        }
        else if (arg == "--runs" && (number = count()))
        {
            out.runs = *number;
            continue;
        }
        else if (arg == "--round-trips" && (number = count()))
        {
            round_trips = number;
            continue;
        }
        else if (arg == "--instructions")
        {
            const auto queue = value();
            if (queue && !queue->empty())
            {
                out.instructions_queue = std::string(*queue);
                continue;
            }
        }
        else if (arg == "--messages" && (number = count()))
        {
            messages = number;
            continue;
        }
        std::fprintf(stderr, "courier_lane_bench: bad or incomplete option '%.*s'\n\n", static_cast<int>(arg.size()),
                     arg.data());
        print_help(stderr);
        return 2;
    }

    // --quick scales the defaults; explicit counts win whatever their position on the line.
    if (quick)
    {
        out.round_trips /= 10;
        out.warmup_round_trips /= 10;
        out.messages /= 10;
    }
    if (round_trips)
        out.round_trips = *round_trips;
    if (messages)
        out.messages = *messages;
    return 0;
}

}  // namespace courier::bench
