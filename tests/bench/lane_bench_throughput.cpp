// SPDX-License-Identifier: MIT
// lane_bench's throughput through courier::lane received in batches with drain() (docs/performance.md).
#include "tests/bench/lane_bench_throughput.h"

#include "tests/bench/lane_bench_queues.h"

namespace courier::bench {

double lane_drain_throughput(thread_pair& threads, const options& opts)
{
    const auto queue = std::make_unique<courier_lane_queue>(queue_capacity);
    std::int64_t started = 0;
    std::int64_t finished = 0;
    std::uint64_t wrong = 0;
    threads.run(
        [&] {
            started = now_ns();
            for (std::uint64_t i = 0; i < opts.messages; ++i)
                while (!queue->try_push(i))
                {
                }
        },
        [&] {
            std::uint64_t next = 0;
            auto& rx = queue->receiver();
            while (next < opts.messages)
                rx.drain(
                    [&](std::uint64_t&& value) {
                        if (value != next)
                            ++wrong;
                        ++next;
                    },
                    queue_capacity);
            finished = now_ns();
        });
    require_in_order(wrong, "throughput (drain)");
    return million_per_second(opts.messages, started, finished);
}

}  // namespace courier::bench
