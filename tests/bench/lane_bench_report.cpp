// SPDX-License-Identifier: MIT
// Prints lane_bench's table, legend and summary, and writes its CSV files (docs/performance.md).
#include "tests/bench/lane_bench_report.h"

#include "tests/bench/bench_csv.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <optional>
#include <stdexcept>

namespace courier::bench {
namespace {

std::string number(std::optional<double> value, int decimals)
{
    if (!value)
        return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, *value);
    return text;
}

struct row
{
    std::string name;
    std::string cells[8];
};

/// The table's cells; the CSV gets more decimals than the screen.
std::vector<row> make_rows(const std::vector<contender>& contenders, bool for_csv)
{
    const int ns_decimals = for_csv ? 3 : 1;
    const int mps_decimals = for_csv ? 3 : 2;
    const int ratio_decimals = for_csv ? 4 : 2;

    const contender& raw = contenders.front();
    double best_mps = 0;
    for (const auto& c : contenders)
        if (c.mps)
            best_mps = std::max(best_mps, *c.mps);

    std::vector<row> rows;
    for (const auto& c : contenders)
    {
        const auto& l = c.latency;
        const auto ns = [&](double latency_summary::*member) {
            return number(l ? std::optional((*l).*member) : std::nullopt, ns_decimals);
        };
        std::optional<double> rtt_ratio;
        if (l && raw.latency)
            rtt_ratio = l->p50_ns / raw.latency->p50_ns;
        std::optional<double> mps_ratio;
        if (c.mps && best_mps > 0)
            mps_ratio = *c.mps / best_mps;
        rows.push_back({c.name,
                        {ns(&latency_summary::mean_ns), ns(&latency_summary::p50_ns), ns(&latency_summary::p99_ns),
                         ns(&latency_summary::p999_ns), number(c.mps, mps_decimals),
                         number(c.best_mps, mps_decimals), number(rtt_ratio, ratio_decimals),
                         number(mps_ratio, ratio_decimals)}});
    }
    return rows;
}

constexpr const char* column_names[] = {"contender",      "rtt_mean_ns",      "rtt_p50_ns",
                                        "rtt_p99_ns",     "rtt_p999_ns",      "throughput_mps",
                                        "best_run_mps",   "rtt_ratio_to_raw", "throughput_ratio_to_best"};

}  // namespace

void print_table(const std::vector<contender>& contenders)
{
    constexpr int name_width = 38;
    std::printf("%-*s", name_width, column_names[0]);
    for (std::size_t i = 1; i < std::size(column_names); ++i)
        std::printf(" %*s", static_cast<int>(std::strlen(column_names[i])), column_names[i]);
    std::printf("\n");
    for (const auto& r : make_rows(contenders, false))
    {
        std::printf("%-*s", name_width, r.name.c_str());
        for (std::size_t i = 0; i < std::size(r.cells); ++i)
            std::printf(" %*s", static_cast<int>(std::strlen(column_names[i + 1])), r.cells[i].c_str());
        std::printf("\n");
    }
}

void print_legend(const std::vector<contender>& contenders)
{
    std::printf("rtt_*: median over the runs of each run's statistic, in ns per round trip (two queues, one each "
                "way)\n");
    std::printf("throughput_mps: median run, million messages per second; best_run_mps: the fastest run. Rows "
                "without a parenthesis are the plain loop: one message per try_push and per try_pop call. "
                "'(drain)' receives with courier's drain(); '(batch N)' moves up to N messages per call on both "
                "sides with one index publication (try_send_many/try_receive_many, boost's array push/pop, "
                "AbstractFifo blocks)\n");
    std::printf("rtt_ratio_to_raw: rtt_p50 / raw_atomic_pingpong rtt_p50; throughput_ratio_to_best: "
                "throughput / the best in the column\n");
    std::printf("raw_atomic_pingpong: two atomics on separate cache lines, no queue; it has no throughput "
                "(n/a)\n");
    std::printf("ref:minimal_ring: a hand-written reference ring written for this benchmark, not a library\n");
    std::printf("peers: the library rows (moodycamel, atomic_queue, boost, JUCE, mutex+deque); courier::lane is "
                "the plain-loop row, compared with the peers' plain-loop rows, and its batch row with theirs\n");
    for (const auto& c : contenders)
        if (!c.skipped.empty())
            std::printf("%s: skipped (%s)\n", c.name.c_str(), c.skipped.c_str());
}

void print_summary(const std::vector<contender>& contenders, const std::string& courier_name, bool with_ratios)
{
    const contender& raw = contenders.front();
    if (with_ratios && raw.latency)
        for (const auto& c : contenders)
            if (c.latency && &c != &raw)
                std::printf("ratio to raw ping-pong (RTT p50): %-34s %.2fx\n", c.name.c_str(),
                            c.latency->p50_ns / raw.latency->p50_ns);
    const contender* courier = nullptr;
    const contender* fastest_rtt = nullptr;
    const contender* fastest_mps = nullptr;
    for (const auto& c : contenders)
    {
        if (c.name == courier_name)
            courier = &c;
        if (!c.peer)
            continue;
        if (c.latency && (fastest_rtt == nullptr || c.latency->p50_ns < fastest_rtt->latency->p50_ns))
            fastest_rtt = &c;
        if (c.mps && !c.batch && (fastest_mps == nullptr || *c.mps > *fastest_mps->mps))
            fastest_mps = &c;
    }
    if (courier != nullptr && courier->batch)
    {
        // A batch row: throughput only, against the peers' batch rows.
        fastest_mps = nullptr;
        for (const auto& c : contenders)
            if (c.peer && c.batch && c.mps && (fastest_mps == nullptr || *c.mps > *fastest_mps->mps))
                fastest_mps = &c;
        if (courier->mps && fastest_mps != nullptr)
            std::printf("%s vs best peer batch: throughput %.2fx of %s (%.1f vs %.1f M msg/s; below 1 = slower)\n",
                        courier->name.c_str(), *courier->mps / *fastest_mps->mps, fastest_mps->name.c_str(),
                        *courier->mps, *fastest_mps->mps);
        return;
    }
    if (courier == nullptr || !courier->latency || !courier->mps || fastest_rtt == nullptr || fastest_mps == nullptr)
        return;
    std::printf("%s vs best peer: RTT p50 %.2fx of %s (%.0f vs %.0f ns; above 1 = slower); "
                "throughput %.2fx of %s (%.1f vs %.1f M msg/s; below 1 = slower)\n",
                courier->name.c_str(), courier->latency->p50_ns / fastest_rtt->latency->p50_ns,
                fastest_rtt->name.c_str(), courier->latency->p50_ns, fastest_rtt->latency->p50_ns,
                *courier->mps / *fastest_mps->mps, fastest_mps->name.c_str(), *courier->mps, *fastest_mps->mps);
}

void write_csv(const std::vector<contender>& contenders, const std::string& path)
{
    std::FILE* out = open_csv(path);
    for (std::size_t i = 0; i < std::size(column_names); ++i)
        std::fprintf(out, "%s%s", i == 0 ? "" : ",", column_names[i]);
    std::fprintf(out, "\n");
    for (const auto& r : make_rows(contenders, true))
    {
        std::fprintf(out, "%s", r.name.c_str());
        for (const auto& cell : r.cells)
            std::fprintf(out, ",%s", cell.c_str());
        std::fprintf(out, "\n");
    }
    const bool failed = std::ferror(out) != 0;
    if (std::fclose(out) != 0 || failed)
        throw std::runtime_error("cannot write " + path);
}

void write_histogram_csv(const std::vector<contender>& contenders, const std::string& path)
{
    std::FILE* out = open_csv(path);
    std::fprintf(out, "bin_start_ns");
    for (const auto& c : contenders)
        if (c.latency)
            std::fprintf(out, ",%s", c.name.c_str());
    std::fprintf(out, "\n");
    for (std::size_t bin = 0; bin < histogram_bins; ++bin)
    {
        std::fprintf(out, "%lld", static_cast<long long>(static_cast<std::int64_t>(bin) * histogram_bin_ns));
        for (const auto& c : contenders)
            if (c.latency)
                std::fprintf(out, ",%llu", static_cast<unsigned long long>(c.latency->histogram[bin]));
        std::fprintf(out, "\n");
    }
    const bool failed = std::ferror(out) != 0;
    if (std::fclose(out) != 0 || failed)
        throw std::runtime_error("cannot write " + path);
}

}  // namespace courier::bench
