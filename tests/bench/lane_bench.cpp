// SPDX-License-Identifier: MIT
// Measures courier::lane's round-trip latency and one-way throughput against its peers in one run, and writes
// the table as CSV too (docs/patterns/lane.md; run with --help for the options).
#include "tests/bench/bench_main.h"
#include "tests/bench/lane_bench_contender.h"
#include "tests/bench/lane_bench_instructions.h"
#include "tests/bench/lane_bench_options.h"
#include "tests/bench/lane_bench_queues.h"
#include "tests/bench/lane_bench_report.h"
#include "tests/bench/lane_bench_round_trip.h"
#include "tests/bench/lane_bench_threads.h"
#include "tests/bench/lane_bench_throughput.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace courier::bench {
namespace {

/// Everything lane_bench compares, in table order. A row without a parenthesis is the plain loop: one message per
/// try_push and per try_pop on both sides, the way every queue's README shows it. Rows marked "(batch N)" move up
/// to N messages per call with one index publication, "(drain)" receives with courier's drain().
std::vector<contender> make_contenders(const std::string& courier_name)
{
    const std::string batch = " (batch " + std::to_string(batch_size) + ")";
    std::vector<contender> contenders;
    // The raw ping-pong comes first: the table's RTT ratios are taken against it.
    contenders.push_back(make_contender("raw_atomic_pingpong", raw_atomic_round_trips, {}, false));
    contenders.push_back(make_contender("ref:minimal_ring (hand-written)", queue_round_trips<minimal_ring>,
                                        queue_throughput<minimal_ring>, false));
    contenders.push_back(make_contender(courier_name, queue_round_trips<courier_lane_queue>,
                                        queue_throughput<courier_lane_queue>, false));
    contenders.push_back(make_contender("courier::lane (drain)", queue_round_trips<courier_lane_drain_queue>,
                                        lane_drain_throughput, false));
    contenders.push_back(make_batch_contender(courier_name + batch, batch_throughput<courier_lane_queue>, false));
    contenders.push_back(make_contender("courier::lane<rwq_storage>", queue_round_trips<courier_rwq_lane_queue>,
                                        queue_throughput<courier_rwq_lane_queue>, false));
    contenders.push_back(make_contender("moodycamel::ReaderWriterQueue", queue_round_trips<moodycamel_queue>,
                                        queue_throughput<moodycamel_queue>, true));
#if COURIER_BENCH_HAVE_ATOMIC_QUEUE
    contenders.push_back(make_contender("atomic_queue (SPSC)", queue_round_trips<atomic_queue_spsc>,
                                        queue_throughput<atomic_queue_spsc>, true));
#else
    contenders.push_back(make_contender("atomic_queue (SPSC)", {}, {}, true,
                                        "atomic_queue headers (libatomic-queue-dev) were not found at build time"));
#endif
#if COURIER_BENCH_HAVE_BOOST
    contenders.push_back(make_contender("boost::lockfree::spsc_queue", queue_round_trips<boost_spsc_queue>,
                                        queue_throughput<boost_spsc_queue>, true));
    contenders.push_back(make_batch_contender("boost::lockfree::spsc_queue" + batch,
                                              batch_throughput<boost_spsc_queue>, true));
#else
    contenders.push_back(make_contender("boost::lockfree::spsc_queue", {}, {}, true,
                                        "Boost headers were not found when this benchmark was built"));
#endif
#if COURIER_BENCH_HAVE_JUCE
    contenders.push_back(make_contender("juce::AbstractFifo+buffer", queue_round_trips<juce_abstract_fifo>,
                                        queue_throughput<juce_abstract_fifo>, true));
    contenders.push_back(make_batch_contender("juce::AbstractFifo+buffer" + batch,
                                              batch_throughput<juce_abstract_fifo>, true));
#else
    contenders.push_back(make_contender("juce::AbstractFifo+buffer", {}, {}, true,
                                        "JUCE (juce-modules-source) was not found when this benchmark was built"));
#endif
    contenders.push_back(make_contender("std::mutex+std::deque", queue_round_trips<mutex_deque_queue>,
                                        queue_throughput<mutex_deque_queue>, true));
    return contenders;
}

int run_bench(int argc, char** argv)
{
    options opts;
    if (const int code = parse_options(argc, argv, opts); code != 0)
        return code < 0 ? 0 : code;
    if (!opts.instructions_queue.empty())
        return run_instruction_loop(opts.instructions_queue, opts.messages);

    thread_pair threads;
    const std::string courier_name = "courier::lane";
    std::vector<contender> contenders = make_contenders(courier_name);

    std::printf("courier lane benchmark: capacity %zu, std::uint64_t messages, %s\n", queue_capacity,
                COURIER_CHECKS ? "COURIER_CHECKS on (role guards cost time)" : "COURIER_CHECKS off (release)");
    std::printf("compiler: %s\n", __VERSION__);
    std::printf("runs: %llu; latency: %llu timed round trips per run after %llu warm-up; throughput: %llu messages "
                "per run\n",
                static_cast<unsigned long long>(opts.runs), static_cast<unsigned long long>(opts.round_trips),
                static_cast<unsigned long long>(opts.warmup_round_trips),
                static_cast<unsigned long long>(opts.messages));
    std::fflush(stdout);

    // Runs are interleaved (every contender once, then again) so a burst of load elsewhere on the machine
    // lands on all contenders instead of spoiling one.
    for (std::uint64_t run = 1; run <= opts.runs; ++run)
    {
        std::fprintf(stderr, "run %llu/%llu:", static_cast<unsigned long long>(run),
                     static_cast<unsigned long long>(opts.runs));
        for (auto& c : contenders)
        {
            run_once(c, threads, opts);
            std::fprintf(stderr, " %s", c.name.c_str());
        }
        std::fprintf(stderr, "\n");
    }
    for (auto& c : contenders)
        finish(c);

    std::printf("threads: %s\n", threads.describe().c_str());
    std::printf("steady_clock read: about %.0f ns, included once in every RTT sample (not subtracted)\n\n",
                clock_read_ns());
    print_table(contenders);
    std::printf("\n");
    print_legend(contenders);
    print_summary(contenders, courier_name, true);
    print_summary(contenders, courier_name + " (batch " + std::to_string(batch_size) + ")", false);

    print_summary(contenders, "courier::lane<rwq_storage>", false);

    write_csv(contenders, opts.csv_path);
    std::string histogram_path = opts.csv_path;
    if (histogram_path.size() > 4 && histogram_path.ends_with(".csv"))
        histogram_path.resize(histogram_path.size() - 4);
    histogram_path += "_rtt_histogram.csv";
    write_histogram_csv(contenders, histogram_path);
    std::printf("csv: %s, %s\n", opts.csv_path.c_str(), histogram_path.c_str());
    return 0;
}

}  // namespace
}  // namespace courier::bench

int main(int argc, char** argv)
{
    return courier::bench::guarded_main("courier_lane_bench", courier::bench::run_bench, argc, argv);
}
