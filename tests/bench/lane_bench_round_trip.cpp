// SPDX-License-Identifier: MIT
// Summarises lane_bench's round-trip timestamps and measures the raw atomic ping-pong (docs/performance.md).
#include "tests/bench/lane_bench_round_trip.h"

#include <courier/cache_line.h>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace courier::bench {

latency_summary summarize(const std::vector<std::int64_t>& stamps)
{
    std::vector<std::int64_t> gaps(stamps.size() - 1);
    for (std::size_t i = 0; i < gaps.size(); ++i)
        gaps[i] = stamps[i + 1] - stamps[i];
    std::sort(gaps.begin(), gaps.end());

    const auto n = static_cast<double>(gaps.size());
    const auto percentile = [&](double fraction) {
        // Nearest rank: the smallest gap that at least `fraction` of all gaps do not exceed.
        const auto rank = static_cast<std::size_t>(std::ceil(fraction * n));
        return static_cast<double>(gaps[std::clamp<std::size_t>(rank, 1, gaps.size()) - 1]);
    };
    latency_summary s;
    s.histogram.assign(histogram_bins, 0);
    for (const auto gap : gaps)
        ++s.histogram[std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(gap, 0) / histogram_bin_ns),
                                            histogram_bins - 1)];
    s.mean_ns = static_cast<double>(stamps.back() - stamps.front()) / n;
    s.p50_ns = percentile(0.50);
    s.p99_ns = percentile(0.99);
    s.p999_ns = percentile(0.999);
    return s;
}

latency_summary raw_atomic_round_trips(thread_pair& threads, const options& opts)
{
    struct alignas(courier::cache_line_size) cell
    {
        std::atomic<std::uint64_t> value{0};
    };
    const auto ping_cell = std::make_unique<cell>();
    const auto pong_cell = std::make_unique<cell>();
    std::uint64_t expected = 1;  // the echo thread's count, touched by that thread only
    return measure_round_trips(
        threads, opts,
        [&](std::uint64_t i) {
            ping_cell->value.store(i + 1, std::memory_order_release);  // pairs with the echo's acquire load
            while (pong_cell->value.load(std::memory_order_acquire) != i + 1)  // pairs with the echo's store
            {
            }
            return true;
        },
        [&] {
            while (ping_cell->value.load(std::memory_order_acquire) != expected)  // pairs with the ping's store
            {
            }
            pong_cell->value.store(expected, std::memory_order_release);  // pairs with the ping's acquire load
            ++expected;
        });
}

}  // namespace courier::bench
