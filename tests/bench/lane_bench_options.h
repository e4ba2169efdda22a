// SPDX-License-Identifier: MIT
// lane_bench's command-line options and the queue capacity every contender gets (docs/performance.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace courier::bench {

// Every queue gets the same capacity, so throughput compares the queues and not their slack.
inline constexpr std::size_t queue_capacity = 1024;

/// How much lane_bench measures and where it writes the CSV.
struct options
{
    std::uint64_t round_trips = 200'000;
    std::uint64_t warmup_round_trips = 10'000;
    std::uint64_t messages = 20'000'000;
    std::uint64_t runs = 5;
    std::string csv_path = "bench-results/lane_bench.csv";
    std::string instructions_queue;  // --instructions: run only this queue's one-thread loop, for callgrind
};

/// Fills `out` from the command line. Returns 0 to go on, or -1 after printing --help (exit with 0), or the
/// exit code to stop with after printing what was wrong.
/// Thread: main. Real-time: no (prints, allocates).
int parse_options(int argc, char** argv, options& out);

}  // namespace courier::bench
