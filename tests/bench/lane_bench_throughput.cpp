// SPDX-License-Identifier: MIT
// lane_bench's throughput through courier::lane received in batches with drain() (docs/performance.md).
#include "tests/bench/lane_bench_throughput.h"

#include "tests/bench/lane_bench_queues.h"

namespace courier::bench {

double lane_drain_throughput(thread_pair& threads, const options& opts)
{
    const auto queue = std::make_unique<courier_lane_queue>(queue_capacity);
    return one_way_throughput(
        threads, opts, [&] { send_all(*queue, opts); },
        [&](std::uint64_t& wrong) {
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
        },
        "throughput (drain)");
}

}  // namespace courier::bench
