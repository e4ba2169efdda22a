// SPDX-License-Identifier: MIT
// One row of lane_bench's table: a contender's measurements, every run's results and their medians
// (docs/performance.md).
#pragma once

#include "tests/bench/lane_bench_options.h"
#include "tests/bench/lane_bench_round_trip.h"
#include "tests/bench/lane_bench_threads.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace courier::bench {

using latency_fn = std::function<latency_summary(thread_pair&, const options&)>;
using throughput_fn = std::function<double(thread_pair&, const options&)>;

/// A contender, what it measures, and what those measurements gave.
struct contender
{
    std::string name;
    latency_fn round_trips;  // empty: not measured
    throughput_fn throughput;  // empty: not measured
    bool peer = false;  // a library courier is compared with in the summary line
    bool batch = false;  // throughput moves batch_size messages per call (compared with batch rows only)
    std::string skipped;  // why it was not built, if it was not

    std::vector<latency_summary> latency_runs;
    std::vector<double> throughput_runs;

    // Filled after the last run.
    std::optional<latency_summary> latency;
    std::optional<double> mps;       // median run
    std::optional<double> best_mps;  // best run
};

/// A contender with no runs yet.
/// Thread: main. Real-time: no (allocates).
contender make_contender(std::string name, latency_fn round_trips, throughput_fn throughput, bool peer,
                         std::string skipped = {});

/// A contender measured only for throughput in batches (push_many/pop_many), with no runs yet.
/// Thread: main. Real-time: no (allocates).
contender make_batch_contender(std::string name, throughput_fn throughput, bool peer, std::string skipped = {});

/// Runs every measurement of `c` once and appends the results to its runs.
/// Thread: main. Real-time: no (starts threads).
void run_once(contender& c, thread_pair& threads, const options& opts);

/// Fills `c`'s latency, mps and best_mps from its runs: the median of the runs, and the best throughput run.
/// Thread: main. Real-time: no (allocates).
void finish(contender& c);

}  // namespace courier::bench
