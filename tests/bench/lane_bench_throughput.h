// SPDX-License-Identifier: MIT
// lane_bench's one-way throughput measurement: the producer sends as fast as it can, the consumer takes
// everything, in million messages per second (docs/performance.md).
#pragma once

#include "tests/bench/lane_bench_options.h"
#include "tests/bench/lane_bench_threads.h"

#include <cstdint>
#include <memory>

namespace courier::bench {

/// `messages` over the time from `started` to `finished` (both in ns), in million messages per second.
/// Thread: any. Real-time: wait-free.
inline double million_per_second(std::uint64_t messages, std::int64_t started, std::int64_t finished) noexcept
{
    return static_cast<double>(messages) / static_cast<double>(finished - started) * 1e3;
}

/// Times one-way traffic: the producer thread sends 0 to opts.messages - 1 into `queue` (retrying while full), the
/// consumer thread runs `consume(wrong)`, which takes them all and counts in `wrong` those out of order. From
/// the first send to the consumer's end; `what` names the run if any came out of order. Returns M msg/s.
/// Thread: main. Real-time: no (starts threads).
template <class Queue, class Consume>
double one_way_throughput(thread_pair& threads, const options& opts, Queue& queue, Consume&& consume,
                          const char* what)
{
    std::int64_t started = 0;   // written by the producer thread
    std::int64_t finished = 0;  // written by the consumer thread
    std::uint64_t wrong = 0;    // written by the consumer thread
    threads.run(
        [&] {
            started = now_ns();
            for (std::uint64_t i = 0; i < opts.messages; ++i)
                while (!queue.try_push(i))
                {
                }
        },
        [&] {
            consume(wrong);
            finished = now_ns();
        });
    require_in_order(wrong, what);
    return million_per_second(opts.messages, started, finished);
}

/// One-way throughput, the consumer taking one message per try_pop call.
/// Thread: main. Real-time: no (starts threads).
template <class Queue>
double queue_throughput(thread_pair& threads, const options& opts)
{
    const auto queue = std::make_unique<Queue>(queue_capacity);
    return one_way_throughput(
        threads, opts, *queue,
        [&](std::uint64_t& wrong) {
            for (std::uint64_t i = 0; i < opts.messages; ++i)
            {
                std::uint64_t value = 0;
                while (!queue->try_pop(value))
                {
                }
                if (value != i)
                    ++wrong;
            }
        },
        "throughput");
}

/// One-way throughput through courier::lane, the consumer taking whatever is there with drain().
/// Thread: main. Real-time: no (starts threads).
double lane_drain_throughput(thread_pair& threads, const options& opts);

}  // namespace courier::bench
