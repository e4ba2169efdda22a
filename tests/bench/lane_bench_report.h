// SPDX-License-Identifier: MIT
// lane_bench's output: the table on screen with its legend and summary lines, and the same table and the
// round-trip histograms as CSV (docs/performance.md).
#pragma once

#include "tests/bench/lane_bench_contender.h"

#include <string>
#include <vector>

namespace courier::bench {

// Every function here expects contenders.front() to be the raw ping-pong: the RTT ratios are taken against it.

/// Prints the table: one row per contender, medians over the runs and the ratios.
/// Thread: main. Real-time: no (prints).
void print_table(const std::vector<contender>& contenders);

/// Prints what the table's columns and rows mean, and which contenders were skipped and why.
/// Thread: main. Real-time: no (prints).
void print_legend(const std::vector<contender>& contenders);

/// The line the lead reads first: courier against the best library peer, for each measurement.
/// With `with_ratios`, first every contender's RTT p50 as a ratio to the raw ping-pong.
/// Thread: main. Real-time: no (prints).
void print_summary(const std::vector<contender>& contenders, const std::string& courier_name, bool with_ratios);

/// Writes the table to `path` as CSV, with more decimals than the screen, creating its directory.
/// Thread: main. Real-time: no (writes a file; throws when it cannot).
void write_csv(const std::vector<contender>& contenders, const std::string& path);

/// The round-trip histogram of every contender's last run, one column each, for the plots.
/// Thread: main. Real-time: no (writes a file; throws when it cannot).
void write_histogram_csv(const std::vector<contender>& contenders, const std::string& path);

}  // namespace courier::bench
