// SPDX-License-Identifier: MIT
// lane_bench's round-trip latency measurement: one queue each way, every round trip timestamped, summarised as
// mean, percentiles and a histogram (docs/performance.md).
#pragma once

#include "tests/bench/lane_bench_options.h"
#include "tests/bench/lane_bench_threads.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace courier::bench {

inline constexpr std::size_t histogram_bins = 150;  // 20 ns each: 0 to 3 us, the last bin holds everything above
inline constexpr std::int64_t histogram_bin_ns = 20;

/// One latency run's statistics, in ns per round trip.
struct latency_summary
{
    double mean_ns = 0;
    double p50_ns = 0;
    double p99_ns = 0;
    double p999_ns = 0;
    std::vector<std::uint64_t> histogram;  // round trips per 20 ns bin
};

/// Statistics of the gaps between consecutive timestamps: stamp i+1 is taken right after round trip i ends.
/// Thread: main. Real-time: no (allocates, sorts).
latency_summary summarize(const std::vector<std::int64_t>& stamps);

/// Times `round_trips` calls of `ping(i)` on one thread (after untimed warm-up calls) while the other thread
/// calls `echo()` as often. `ping` returns whether the echo came back unchanged.
/// Thread: main. Real-time: no (starts threads).
template <class Ping, class Echo>
latency_summary measure_round_trips(thread_pair& threads, const options& opts, Ping ping, Echo echo)
{
    const std::uint64_t total = opts.warmup_round_trips + opts.round_trips;
    std::vector<std::int64_t> stamps(opts.round_trips + 1);  // zero-filled now, so no page faults while timing
    std::uint64_t wrong = 0;
    threads.run(
        [&] {
            for (std::uint64_t i = 0; i < opts.warmup_round_trips; ++i)
                if (!ping(i))
                    ++wrong;
            stamps[0] = now_ns();
            for (std::uint64_t i = 0; i < opts.round_trips; ++i)
            {
                if (!ping(opts.warmup_round_trips + i))
                    ++wrong;
                stamps[i + 1] = now_ns();
            }
        },
        [&] {
            for (std::uint64_t i = 0; i < total; ++i)
                echo();
        });
    require_in_order(wrong, "round trip");
    return summarize(stamps);
}

/// The physical limit: one atomic each way on its own cache line, no queue at all.
/// Thread: main. Real-time: no (starts threads).
latency_summary raw_atomic_round_trips(thread_pair& threads, const options& opts);

/// Round trips over two queues of one kind, one in each direction.
/// Thread: main. Real-time: no (starts threads).
template <class Queue>
latency_summary queue_round_trips(thread_pair& threads, const options& opts)
{
    const auto there = std::make_unique<Queue>(queue_capacity);
    const auto back = std::make_unique<Queue>(queue_capacity);
    return measure_round_trips(
        threads, opts,
        [&](std::uint64_t i) {
            while (!there->try_push(i))
            {
            }
            std::uint64_t echoed = 0;
            while (!back->try_pop(echoed))
            {
            }
            return echoed == i;
        },
        [&] {
            std::uint64_t value = 0;
            while (!there->try_pop(value))
            {
            }
            while (!back->try_push(value))
            {
            }
        });
}

}  // namespace courier::bench
