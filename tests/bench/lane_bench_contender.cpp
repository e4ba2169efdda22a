// SPDX-License-Identifier: MIT
// Runs a lane_bench contender's measurements and reduces its runs to medians (docs/performance.md).
#include "tests/bench/lane_bench_contender.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace courier::bench {
namespace {

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

latency_summary median_of(const std::vector<latency_summary>& runs)
{
    const auto field = [&](double latency_summary::*member) {
        std::vector<double> values;
        for (const auto& run : runs)
            values.push_back(run.*member);
        return median(std::move(values));
    };
    return {field(&latency_summary::mean_ns), field(&latency_summary::p50_ns), field(&latency_summary::p99_ns),
            field(&latency_summary::p999_ns), runs.back().histogram};
}

}  // namespace

contender make_contender(std::string name, latency_fn round_trips, throughput_fn throughput, bool peer,
                         std::string skipped)
{
    contender c;
    c.name = std::move(name);
    c.round_trips = std::move(round_trips);
    c.throughput = std::move(throughput);
    c.peer = peer;
    c.skipped = std::move(skipped);
    return c;
}

contender make_batch_contender(std::string name, throughput_fn throughput, bool peer, std::string skipped)
{
    contender c = make_contender(std::move(name), {}, std::move(throughput), peer, std::move(skipped));
    c.batch = true;
    return c;
}

void run_once(contender& c, thread_pair& threads, const options& opts)
{
    if (c.round_trips)
        c.latency_runs.push_back(c.round_trips(threads, opts));
    if (c.throughput)
        c.throughput_runs.push_back(c.throughput(threads, opts));
}

void finish(contender& c)
{
    if (!c.latency_runs.empty())
        c.latency = median_of(c.latency_runs);
    if (!c.throughput_runs.empty())
    {
        c.mps = median(c.throughput_runs);
        c.best_mps = *std::max_element(c.throughput_runs.begin(), c.throughput_runs.end());
    }
}

}  // namespace courier::bench
