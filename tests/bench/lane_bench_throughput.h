// SPDX-License-Identifier: MIT
// lane_bench's one-way throughput measurement: the producer sends as fast as it can, the consumer takes
// everything, in million messages per second (docs/performance.md).
#pragma once

#include "tests/bench/lane_bench_options.h"
#include "tests/bench/lane_bench_threads.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace courier::bench {

/// `messages` over the time from `started` to `finished` (both in ns), in million messages per second.
/// Thread: any. Real-time: wait-free.
inline double million_per_second(std::uint64_t messages, std::int64_t started, std::int64_t finished) noexcept
{
    return static_cast<double>(messages) / static_cast<double>(finished - started) * 1e3;
}

/// Times one-way traffic: the producer thread runs `produce()`, which sends 0 to opts.messages - 1, the consumer
/// thread runs `consume(wrong)`, which takes them all and counts in `wrong` those out of order. From the first
/// send to the consumer's end; `what` names the run if any came out of order. Returns M msg/s.
/// Thread: main. Real-time: no (starts threads).
template <class Produce, class Consume>
double one_way_throughput(thread_pair& threads, const options& opts, Produce&& produce, Consume&& consume,
                          const char* what)
{
    std::int64_t started = 0;   // written by the producer thread
    std::int64_t finished = 0;  // written by the consumer thread
    std::uint64_t wrong = 0;    // written by the consumer thread
    threads.run(
        [&] {
            started = now_ns();
            produce();
        },
        [&] {
            consume(wrong);
            finished = now_ns();
        });
    require_in_order(wrong, what);
    return million_per_second(opts.messages, started, finished);
}

/// The plain producer: sends 0 to opts.messages - 1 into `queue`, one per try_push, retrying while it is full.
/// Thread: producer. Real-time: wait-free per call (spins while the queue is full).
template <class Queue>
void send_all(Queue& queue, const options& opts) noexcept
{
    for (std::uint64_t i = 0; i < opts.messages; ++i)
        while (!queue.try_push(i))
        {
        }
}

/// One-way throughput, the consumer taking one message per try_pop call.
/// Thread: main. Real-time: no (starts threads).
template <class Queue>
double queue_throughput(thread_pair& threads, const options& opts)
{
    const auto queue = std::make_unique<Queue>(queue_capacity);
    return one_way_throughput(
        threads, opts, [&] { send_all(*queue, opts); },
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

/// Messages per batch call in the batch rows, on both sides.
inline constexpr std::size_t batch_size = 64;

/// One-way throughput with both sides moving up to batch_size messages per call (`push_many(span)` and
/// `pop_many(span)`, each returning how many it moved), one index publication per call.
/// Thread: main. Real-time: no (starts threads).
template <class Queue>
double batch_throughput(thread_pair& threads, const options& opts)
{
    const auto queue = std::make_unique<Queue>(queue_capacity);
    return one_way_throughput(
        threads, opts,
        [&] {
            std::array<std::uint64_t, batch_size> batch{};
            std::uint64_t next = 0;
            std::size_t filled = 0;  // batch[0, filled) hold next, next + 1, ... still to send
            while (next < opts.messages)
            {
                for (; filled < batch.size() && next + filled < opts.messages; ++filled)
                    batch[filled] = next + filled;
                const std::size_t sent = queue->push_many(std::span(batch).first(filled));
                // Keep what was not taken at the front, as a caller would.
                std::copy(batch.begin() + static_cast<std::ptrdiff_t>(sent),
                          batch.begin() + static_cast<std::ptrdiff_t>(filled), batch.begin());
                filled -= sent;
                next += sent;
            }
        },
        [&](std::uint64_t& wrong) {
            std::array<std::uint64_t, batch_size> batch{};
            std::uint64_t expected = 0;
            while (expected < opts.messages)
            {
                const std::size_t got = queue->pop_many(std::span(batch));
                for (std::size_t i = 0; i < got; ++i)
                    if (batch[i] != expected++)
                        ++wrong;
            }
        },
        "throughput (batch)");
}

/// One-way throughput through courier::lane, the consumer taking whatever is there with drain().
/// Thread: main. Real-time: no (starts threads).
double lane_drain_throughput(thread_pair& threads, const options& opts);

}  // namespace courier::bench
