// SPDX-License-Identifier: MIT
// The audio side's cost of one timed_events::begin_block that takes 256 to 4,096 new events arriving in time
// order, newest first or shuffled; run natively it times them, and scripts/bench runs it under callgrind to count
// instructions per event (docs/performance.md).
#include <courier/patterns/timed_events.h>

#include "tests/bench/bench_csv.h"
#include "tests/bench/bench_main.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct note
{
    float level = 0;
};

using receiver = courier::timed_event_receiver<note>;

constexpr std::uint32_t block_frames = 256;  // 5.3 ms at 48 kHz

}  // namespace

// The measured function: C linkage and never inlined, so callgrind's --toggle-collect can count exactly one
// begin_block and nothing of the filling.
extern "C" __attribute__((noinline)) std::size_t courier_bench_begin_block(receiver& rx) noexcept
{
    return rx.begin_block(0, block_frames).events().size();
}

namespace {

/// The times of `count` events, all after the first block (so all stay scheduled), in the order they are sent.
std::vector<std::uint64_t> arrival_times(std::string_view order, std::size_t count)
{
    std::vector<std::uint64_t> times(count);
    for (std::size_t i = 0; i < count; ++i)
        times[i] = block_frames + i;  // one per frame, from the second block on
    if (order == "reversed")
        std::reverse(times.begin(), times.end());
    else if (order == "random")
        std::shuffle(times.begin(), times.end(), std::mt19937_64(42));
    else if (order != "in_order")
        throw std::runtime_error("unknown order " + std::string(order) + " (in_order, reversed, random)");
    return times;
}

/// One begin_block taking `times.size()` new events, in ns.
double time_one(const std::vector<std::uint64_t>& times)
{
    courier::timed_events<note> events(times.size(), times.size());
    auto tx = events.sender();
    auto rx = events.receiver();
    for (const std::uint64_t t : times)
        if (!tx.try_send({t, note{1.0F}}))
            throw std::runtime_error("lane full while filling");
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t due = courier_bench_begin_block(rx);
    const auto t1 = std::chrono::steady_clock::now();
    if (due != 0 || rx.scheduled() != times.size())
        throw std::runtime_error("begin_block did not schedule every event");
    return std::chrono::duration<double, std::nano>(t1 - t0).count();
}

int run(int argc, char** argv)
{
    courier::bench::bench_args args{51, "bench-results/timed_events_bench.csv"};
    auto& [repeats, csv_path] = args;
    std::string only_order;
    std::size_t only_count = 0;
    const auto own = [&](std::string_view arg, auto&& next) {
        const char* value = arg == "--order" || arg == "--events" ? next() : nullptr;
        if (value == nullptr)
            return false;
        if (arg == "--order")
            only_order = value;
        else
            only_count = std::stoul(value);
        return true;
    };
    if (const char* unknown = courier::bench::parse_bench_args(argc, argv, args, 5, own))
    {
        std::fprintf(stderr,
                     "usage: courier_timed_events_bench [--quick] [--repeat N] [--order in_order|reversed|random]\n"
                     "                                  [--events N] [--csv PATH]\n"
                     "Sends N events (256, 1024, 4096 by default) for times after the first block, in the given\n"
                     "order, then times the one begin_block(0, %u) that takes them all (median of %zu).\n"
                     "Under callgrind, count only that call with\n"
                     "  --collect-atstart=no --toggle-collect=courier_bench_begin_block\n",
                     block_frames, repeats);
        return std::string_view(unknown) == "--help" ? 0 : 2;
    }
    std::vector<std::string> orders = {"in_order", "reversed", "random"};
    if (!only_order.empty())
        orders = {only_order};
    std::vector<std::size_t> counts = {256, 1024, 4096};
    if (only_count != 0)
        counts = {only_count};

    const double period_ns = block_frames / 48000.0 * 1e9;
    std::FILE* csv = courier::bench::open_csv(csv_path);
    std::fprintf(csv, "order,events,repeats,ns_median,ns_max,ns_per_event_median,share_of_256_frame_period\n");
    std::printf("one begin_block taking N new events, %zu repeats (timed natively; instructions: scripts/bench)\n",
                repeats);
    std::printf("%-9s %6s %12s %12s %12s %14s\n", "order", "events", "us median", "us max", "ns/event", "of a period");
    for (const auto& order : orders)
        for (const std::size_t count : counts)
        {
            const auto times = arrival_times(order, count);
            std::vector<double> ns;
            for (std::size_t r = 0; r < repeats; ++r)
                ns.push_back(time_one(times));
            std::sort(ns.begin(), ns.end());
            const double median = ns[ns.size() / 2];
            const double share = median / period_ns;
            std::printf("%-9s %6zu %12.1f %12.1f %12.1f %13.2f%%\n", order.c_str(), count, median / 1e3,
                        ns.back() / 1e3, median / static_cast<double>(count), share * 100);
            std::fprintf(csv, "%s,%zu,%zu,%.1f,%.1f,%.2f,%.5f\n", order.c_str(), count, repeats, median, ns.back(),
                         median / static_cast<double>(count), share);
        }
    const bool failed = std::ferror(csv) != 0;
    if (std::fclose(csv) != 0 || failed)
        throw std::runtime_error("cannot write " + csv_path);
    std::printf("a 256-frame period at 48 kHz is %.0f us; goal: 4,096 reversed events under 10%% of it\n",
                period_ns / 1e3);
    std::printf("csv: %s\n", csv_path.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    return courier::bench::guarded_main("courier_timed_events_bench", run, argc, argv);
}
