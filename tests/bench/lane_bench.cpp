// SPDX-License-Identifier: MIT
// Measures courier::lane's round-trip latency and one-way throughput against its peers in one run, and writes
// the table as CSV too (docs/patterns/lane.md; run with --help for the options).
#include "core/cache_line.h"
#include "core/lane.h"
#include "core/ring_storage.h"

#include <readerwriterqueue/readerwriterqueue.h>

#if COURIER_BENCH_HAVE_BOOST
#include <boost/lockfree/spsc_queue.hpp>
#endif
#if COURIER_BENCH_HAVE_JUCE
#include "tests/bench/juce_fifo.h"
#endif

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

// Every queue gets the same capacity, so throughput compares the queues and not their slack.
constexpr std::size_t queue_capacity = 1024;

std::int64_t now_ns() noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// ---------------------------------------------------------------------------------------------------------
// Options

struct options
{
    std::uint64_t round_trips = 200'000;
    std::uint64_t warmup_round_trips = 10'000;
    std::uint64_t messages = 20'000'000;
    std::uint64_t runs = 5;
    std::string csv_path = "bench-results/lane_bench.csv";
};

void print_help(std::FILE* out)
{
    std::fprintf(out,
                 "usage: courier_lane_bench [--quick] [--runs N] [--round-trips N] [--messages N] [--csv PATH]\n"
                 "\n"
                 "Compares courier::lane<std::uint64_t> with a raw atomic ping-pong, moodycamel::ReaderWriterQueue,\n"
                 "boost::lockfree::spsc_queue, juce::AbstractFifo with a buffer and std::mutex + std::deque\n"
                 "(capacity %zu each), on two threads pinned to two CPUs.\n"
                 "  round-trip latency: one queue each way; the timing thread sends, waits for the echo, and\n"
                 "                      timestamps every round trip (steady_clock); mean, p50, p99, p99.9 in ns.\n"
                 "  throughput:         the producer sends as fast as it can, the consumer takes everything;\n"
                 "                      million messages per second.\n"
                 "Each measurement is repeated, contenders interleaved; the table gives the median of the runs\n"
                 "(and the best run's throughput, since throughput is bimodal on some machines).\n"
                 "\n"
                 "  --quick           10x fewer round trips and messages (20000 and 2000000)\n"
                 "  --runs N          repetitions of every measurement (default 5)\n"
                 "  --round-trips N   timed round trips per latency run (default 200000)\n"
                 "  --messages N      messages per throughput run (default 20000000)\n"
                 "  --csv PATH        where to write the table as CSV (default bench-results/lane_bench.csv;\n"
                 "                    the directory is created); the round-trip histogram (20 ns bins, last\n"
                 "                    run) goes next to it as <name>_rtt_histogram.csv\n"
                 "  --help            this text\n",
                 queue_capacity);
}

std::optional<std::uint64_t> parse_count(std::string_view text)
{
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value == 0)
        return std::nullopt;
    return value;
}

/// Fills `out` from the command line. Returns 0 to go on, or the exit code to stop with.
int parse_options(int argc, char** argv, options& out)
{
    bool quick = false;
    std::optional<std::uint64_t> round_trips;
    std::optional<std::uint64_t> messages;
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        // Options that take a value read the next argument; a missing or malformed one is an error.
        const auto value = [&]() -> std::optional<std::string_view> {
            if (i + 1 >= argc)
                return std::nullopt;
            return std::string_view(argv[++i]);
        };
        const auto count = [&]() -> std::optional<std::uint64_t> {
            const auto text = value();
            return text ? parse_count(*text) : std::nullopt;
        };

        if (arg == "--help" || arg == "-h")
        {
            print_help(stdout);
            return -1;
        }
        if (arg == "--quick")
        {
            quick = true;
            continue;
        }
        std::optional<std::uint64_t> number;
        if (arg == "--csv")
        {
            const auto path = value();
            if (path && !path->empty())
            {
                out.csv_path = std::string(*path);
                continue;
            }
        }
        else if (arg == "--runs" && (number = count()))
        {
            out.runs = *number;
            continue;
        }
        else if (arg == "--round-trips" && (number = count()))
        {
            round_trips = number;
            continue;
        }
        else if (arg == "--messages" && (number = count()))
        {
            messages = number;
            continue;
        }
        std::fprintf(stderr, "courier_lane_bench: bad or incomplete option '%.*s'\n\n", static_cast<int>(arg.size()),
                     arg.data());
        print_help(stderr);
        return 2;
    }

    // --quick scales the defaults; explicit counts win whatever their position on the line.
    if (quick)
    {
        out.round_trips /= 10;
        out.warmup_round_trips /= 10;
        out.messages /= 10;
    }
    if (round_trips)
        out.round_trips = *round_trips;
    if (messages)
        out.messages = *messages;
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Threads

/// Releases two threads together, so neither starts its clock while the other is still being scheduled.
/// Spins rather than blocks: a futex wake-up would add its own latency to the first messages.
class start_line
{
public:
    void arrive_and_wait() noexcept
    {
        arrived.fetch_add(1, std::memory_order_acq_rel);  // pairs with the other thread's load below
        while (arrived.load(std::memory_order_acquire) < 2)
        {
        }
    }

private:
    std::atomic<int> arrived{0};
};

/// Runs one measurement's two halves on two fresh threads, each pinned to its own CPU when the system allows,
/// and remembers whether every pin worked so the report can say so.
class thread_pair
{
public:
    thread_pair()
    {
        cpu_set_t allowed;
        CPU_ZERO(&allowed);
        if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
            return;
        std::vector<int> cpus;
        for (std::size_t cpu = 0; cpu < static_cast<std::size_t>(CPU_SETSIZE) && cpus.size() < 2; ++cpu)
            if (CPU_ISSET(cpu, &allowed))
                cpus.push_back(static_cast<int>(cpu));
        if (!cpus.empty())
            first_cpu = cpus[0];
        if (cpus.size() > 1)
            second_cpu = cpus[1];
    }

    template <class First, class Second>
    void run(First&& first, Second&& second)
    {
        start_line line;
        std::thread a([&] {
            pin(first_cpu);
            line.arrive_and_wait();
            first();
        });
        std::thread b([&] {
            pin(second_cpu);
            line.arrive_and_wait();
            second();
        });
        a.join();
        b.join();
    }

    /// One line for the report: where the threads ran.
    [[nodiscard]] std::string describe() const
    {
        const unsigned failures = failed.load(std::memory_order_relaxed);
        if (failures == 0 && pinned.load(std::memory_order_relaxed) > 0)
            return "pinned to CPUs " + std::to_string(first_cpu) + " and " + std::to_string(second_cpu) +
                   " (pthread_setaffinity_np)";
        std::string why = second_cpu < 0 ? "fewer than 2 CPUs are allowed"
                                         : std::string(std::strerror(last_error.load(std::memory_order_relaxed)));
        return "NOT pinned for " + std::to_string(failures) + " thread starts (" + why +
               "); continued unpinned, so numbers are noisier";
    }

private:
    void pin(int cpu) noexcept
    {
        if (cpu < 0)
        {
            failed.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        cpu_set_t only;
        CPU_ZERO(&only);
        CPU_SET(static_cast<std::size_t>(cpu), &only);
        const int error = pthread_setaffinity_np(pthread_self(), sizeof only, &only);
        if (error == 0)
        {
            pinned.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        failed.fetch_add(1, std::memory_order_relaxed);
        last_error.store(error, std::memory_order_relaxed);
    }

    int first_cpu = -1;
    int second_cpu = -1;
    // Written by the measurement threads, read by the main thread after join(), which orders them.
    std::atomic<unsigned> pinned{0};
    std::atomic<unsigned> failed{0};
    std::atomic<int> last_error{0};
};

// ---------------------------------------------------------------------------------------------------------
// Contenders: each adapter offers try_push and try_pop for one std::uint64_t, without waiting.

template <class Storage>
class courier_lane_queue_on
{
public:
    explicit courier_lane_queue_on(std::size_t capacity) : queue(capacity), tx(queue.sender()), rx(queue.receiver()) {}

    bool try_push(std::uint64_t value) noexcept { return tx.try_send(value); }

    bool try_pop(std::uint64_t& out) noexcept
    {
        if (auto message = rx.try_receive())
        {
            out = *message;
            return true;
        }
        return false;
    }

    /// The receiver itself, for the drain() variant.
    courier::lane_receiver<std::uint64_t, Storage>& receiver() noexcept { return rx; }

private:
    courier::lane<std::uint64_t, Storage> queue;
    courier::lane_sender<std::uint64_t, Storage> tx;
    courier::lane_receiver<std::uint64_t, Storage> rx;
};

// The lane as users get it (its default storage, ring_storage), and on the moodycamel storage policy.
using courier_lane_queue = courier_lane_queue_on<courier::ring_storage<std::uint64_t>>;
using courier_rwq_lane_queue = courier_lane_queue_on<courier::rwq_storage<std::uint64_t>>;
static_assert(std::is_same_v<courier::lane<std::uint64_t>, courier::lane<std::uint64_t, courier::ring_storage<std::uint64_t>>>,
              "courier_lane_queue must measure the lane's default storage");

/// courier::lane received with drain() instead of try_receive(): for latency drain(f, 1), for throughput the
/// batch form an audio callback would use.
class courier_lane_drain_queue : public courier_lane_queue
{
public:
    using courier_lane_queue::courier_lane_queue;

    bool try_pop(std::uint64_t& out) noexcept
    {
        return receiver().drain([&](std::uint64_t&& value) { out = value; }, 1) == 1;
    }
};

class moodycamel_queue
{
public:
    // Note: ReaderWriterQueue rounds its capacity up (to whole blocks), so it may hold more than 1024.
    explicit moodycamel_queue(std::size_t capacity) : queue(capacity) {}
    bool try_push(std::uint64_t value) noexcept { return queue.try_enqueue(value); }
    bool try_pop(std::uint64_t& out) noexcept { return queue.try_dequeue(out); }

private:
    moodycamel::ReaderWriterQueue<std::uint64_t> queue;
};

#if COURIER_BENCH_HAVE_BOOST
class boost_spsc_queue
{
public:
    explicit boost_spsc_queue(std::size_t capacity) : queue(capacity) {}
    bool try_push(std::uint64_t value) noexcept { return queue.push(value); }
    bool try_pop(std::uint64_t& out) noexcept { return queue.pop(out); }

private:
    boost::lockfree::spsc_queue<std::uint64_t> queue;
};
#endif

#if COURIER_BENCH_HAVE_JUCE
using juce_abstract_fifo = courier::bench::juce_fifo;
#endif

/// The baseline every audio programmer is told not to use on the audio thread.
class mutex_deque_queue
{
public:
    explicit mutex_deque_queue(std::size_t capacity) : limit(capacity) {}

    bool try_push(std::uint64_t value)
    {
        const std::lock_guard lock(mutex);
        if (items.size() >= limit)
            return false;
        items.push_back(value);  // the deque allocates a new chunk now and then: part of what is measured
        return true;
    }

    bool try_pop(std::uint64_t& out)
    {
        const std::lock_guard lock(mutex);
        if (items.empty())
            return false;
        out = items.front();
        items.pop_front();
        return true;
    }

private:
    std::mutex mutex;
    std::deque<std::uint64_t> items;
    const std::size_t limit;
};

/// A hand-written reference, not a library: a power-of-two ring with free-running indices, each side keeping
/// a cached copy of the other's index so it touches the other's cache line only when it must. It shows what
/// a queue with nothing else to do costs here.
class minimal_ring
{
public:
    explicit minimal_ring(std::size_t capacity) : slots(std::bit_ceil(capacity)), mask(slots.size() - 1) {}

    bool try_push(std::uint64_t value) noexcept
    {
        const std::size_t write = producer.write.load(std::memory_order_relaxed);  // only we store it
        if (write - producer.known_read == slots.size())
        {
            // Pairs with try_pop's release store: the slots it has handed back are done being read.
            producer.known_read = consumer.read.load(std::memory_order_acquire);
            if (write - producer.known_read == slots.size())
                return false;
        }
        slots[write & mask] = value;
        producer.write.store(write + 1, std::memory_order_release);  // publishes the slot to try_pop
        return true;
    }

    bool try_pop(std::uint64_t& out) noexcept
    {
        const std::size_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        if (read == consumer.known_write)
        {
            consumer.known_write = producer.write.load(std::memory_order_acquire);  // pairs with try_push's release
            if (read == consumer.known_write)
                return false;
        }
        out = slots[read & mask];
        consumer.read.store(read + 1, std::memory_order_release);  // hands the slot back to try_push
        return true;
    }

private:
    std::vector<std::uint64_t> slots;
    const std::size_t mask;

    // Written by the producer thread only.
    struct alignas(courier::cache_line_size) producer_side
    {
        std::atomic<std::size_t> write{0};
        std::size_t known_read = 0;
    } producer;

    // Written by the consumer thread only.
    struct alignas(courier::cache_line_size) consumer_side
    {
        std::atomic<std::size_t> read{0};
        std::size_t known_write = 0;
    } consumer;
};

// ---------------------------------------------------------------------------------------------------------
// Measurements

constexpr std::size_t histogram_bins = 150;  // 20 ns each: 0 to 3 us, the last bin holds everything above
constexpr std::int64_t histogram_bin_ns = 20;

struct latency_summary
{
    double mean_ns = 0;
    double p50_ns = 0;
    double p99_ns = 0;
    double p999_ns = 0;
    std::vector<std::uint64_t> histogram;  // round trips per 20 ns bin
};

/// Statistics of the gaps between consecutive timestamps: stamp i+1 is taken right after round trip i ends.
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

void require_in_order(std::uint64_t wrong, const char* what)
{
    if (wrong != 0)
        throw std::runtime_error(std::string(what) + ": " + std::to_string(wrong) + " messages arrived wrong");
}

/// Times `round_trips` calls of `ping(i)` on one thread (after untimed warm-up calls) while the other thread
/// calls `echo()` as often. `ping` returns whether the echo came back unchanged.
template <class Ping, class Echo>
latency_summary measure_round_trips(thread_pair& threads, const options& opts, Ping ping, Echo echo)
{
    const std::uint64_t total = opts.warmup_round_trips + opts.round_trips;
    std::vector<std::int64_t> stamps(opts.round_trips + 1);  // zero-filled now, so no page faults while timing
    std::uint64_t wrong = 0;
    threads.run(
        [&] {
            for (std::uint64_t i = 0; i < opts.warmup_round_trips; ++i)
                if (!ping(i))
                    ++wrong;
            stamps[0] = now_ns();
            for (std::uint64_t i = 0; i < opts.round_trips; ++i)
            {
                if (!ping(opts.warmup_round_trips + i))
                    ++wrong;
                stamps[i + 1] = now_ns();
            }
        },
        [&] {
            for (std::uint64_t i = 0; i < total; ++i)
                echo();
        });
    require_in_order(wrong, "round trip");
    return summarize(stamps);
}

/// The physical limit: one atomic each way on its own cache line, no queue at all.
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

/// Round trips over two queues of one kind, one in each direction.
template <class Queue>
latency_summary queue_round_trips(thread_pair& threads, const options& opts)
{
    const auto there = std::make_unique<Queue>(queue_capacity);
    const auto back = std::make_unique<Queue>(queue_capacity);
    return measure_round_trips(
        threads, opts,
        [&](std::uint64_t i) {
            while (!there->try_push(i))
            {
            }
            std::uint64_t echoed = 0;
            while (!back->try_pop(echoed))
            {
            }
            return echoed == i;
        },
        [&] {
            std::uint64_t value = 0;
            while (!there->try_pop(value))
            {
            }
            while (!back->try_push(value))
            {
            }
        });
}

double million_per_second(std::uint64_t messages, std::int64_t started, std::int64_t finished)
{
    return static_cast<double>(messages) / static_cast<double>(finished - started) * 1e3;
}

/// One-way throughput, the consumer taking one message per try_pop call.
template <class Queue>
double queue_throughput(thread_pair& threads, const options& opts)
{
    const auto queue = std::make_unique<Queue>(queue_capacity);
    std::int64_t started = 0;   // written by the producer thread
    std::int64_t finished = 0;  // written by the consumer thread
    std::uint64_t wrong = 0;    // written by the consumer thread
    threads.run(
        [&] {
            started = now_ns();
            for (std::uint64_t i = 0; i < opts.messages; ++i)
                while (!queue->try_push(i))
                {
                }
        },
        [&] {
            for (std::uint64_t i = 0; i < opts.messages; ++i)
            {
                std::uint64_t value = 0;
                while (!queue->try_pop(value))
                {
                }
                if (value != i)
                    ++wrong;
            }
            finished = now_ns();
        });
    require_in_order(wrong, "throughput");
    return million_per_second(opts.messages, started, finished);
}

/// One-way throughput through courier::lane, the consumer taking whatever is there with drain().
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

/// The cheapest of many back-to-back steady_clock reads: every latency sample includes one.
double clock_read_ns()
{
    std::int64_t cheapest = INT64_MAX;
    for (int i = 0; i < 10'000; ++i)
    {
        const std::int64_t before = now_ns();
        const std::int64_t after = now_ns();
        cheapest = std::min(cheapest, after - before);
    }
    return static_cast<double>(cheapest);
}

// ---------------------------------------------------------------------------------------------------------
// Report

using latency_fn = std::function<latency_summary(thread_pair&, const options&)>;
using throughput_fn = std::function<double(thread_pair&, const options&)>;

struct contender
{
    std::string name;
    latency_fn round_trips;  // empty: not measured
    throughput_fn throughput;  // empty: not measured
    bool peer = false;  // a library courier is compared with in the summary line
    std::string skipped;  // why it was not built, if it was not

    std::vector<latency_summary> latency_runs;
    std::vector<double> throughput_runs;

    // Filled after the last run.
    std::optional<latency_summary> latency;
    std::optional<double> mps;       // median run
    std::optional<double> best_mps;  // best run
};

contender make_contender(std::string name, latency_fn round_trips, throughput_fn throughput, bool peer,
                         std::string skipped = {})
{
    contender c;
    c.name = std::move(name);
    c.round_trips = std::move(round_trips);
    c.throughput = std::move(throughput);
    c.peer = peer;
    c.skipped = std::move(skipped);
    return c;
}

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

void write_csv(const std::vector<contender>& contenders, const std::string& path)
{
    const std::filesystem::path file(path);
    if (file.has_parent_path())
        std::filesystem::create_directories(file.parent_path());
    std::FILE* out = std::fopen(path.c_str(), "w");
    if (out == nullptr)
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
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

/// The round-trip histogram of every contender's last run, one column each, for the plots.
void write_histogram_csv(const std::vector<contender>& contenders, const std::string& path)
{
    std::FILE* out = std::fopen(path.c_str(), "w");
    if (out == nullptr)
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
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

/// The line the lead reads first: courier against the best library peer, for each measurement.
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
        if (c.mps && (fastest_mps == nullptr || *c.mps > *fastest_mps->mps))
            fastest_mps = &c;
    }
    if (courier == nullptr || !courier->latency || !courier->mps || fastest_rtt == nullptr || fastest_mps == nullptr)
        return;
    std::printf("%s vs best peer: RTT p50 %.2fx of %s (%.0f vs %.0f ns; above 1 = slower); "
                "throughput %.2fx of %s (%.1f vs %.1f M msg/s; below 1 = slower)\n",
                courier->name.c_str(), courier->latency->p50_ns / fastest_rtt->latency->p50_ns,
                fastest_rtt->name.c_str(), courier->latency->p50_ns, fastest_rtt->latency->p50_ns,
                *courier->mps / *fastest_mps->mps, fastest_mps->name.c_str(), *courier->mps, *fastest_mps->mps);
}

int run_bench(const options& opts)
{
    thread_pair threads;
    const std::string courier_name = "courier::lane";

    std::vector<contender> contenders;
    // The raw ping-pong comes first: the table's RTT ratios are taken against it.
    contenders.push_back(make_contender("raw_atomic_pingpong", raw_atomic_round_trips, {}, false));
    contenders.push_back(make_contender("ref:minimal_ring (hand-written)", queue_round_trips<minimal_ring>,
                                        queue_throughput<minimal_ring>, false));
    contenders.push_back(make_contender(courier_name, queue_round_trips<courier_lane_queue>,
                                        queue_throughput<courier_lane_queue>, false));
    contenders.push_back(make_contender("courier::lane (drain)", queue_round_trips<courier_lane_drain_queue>,
                                        lane_drain_throughput, false));
    contenders.push_back(make_contender("courier::lane<rwq_storage>", queue_round_trips<courier_rwq_lane_queue>,
                                        queue_throughput<courier_rwq_lane_queue>, false));
    contenders.push_back(make_contender("moodycamel::ReaderWriterQueue", queue_round_trips<moodycamel_queue>,
                                        queue_throughput<moodycamel_queue>, true));
#if COURIER_BENCH_HAVE_BOOST
    contenders.push_back(make_contender("boost::lockfree::spsc_queue", queue_round_trips<boost_spsc_queue>,
                                        queue_throughput<boost_spsc_queue>, true));
#else
    contenders.push_back(make_contender("boost::lockfree::spsc_queue", {}, {}, true,
                                        "Boost headers were not found when this benchmark was built"));
#endif
#if COURIER_BENCH_HAVE_JUCE
    contenders.push_back(make_contender("juce::AbstractFifo+buffer", queue_round_trips<juce_abstract_fifo>,
                                        queue_throughput<juce_abstract_fifo>, true));
#else
    contenders.push_back(make_contender("juce::AbstractFifo+buffer", {}, {}, true,
                                        "JUCE (juce-modules-source) was not found when this benchmark was built"));
#endif
    contenders.push_back(make_contender("std::mutex+std::deque", queue_round_trips<mutex_deque_queue>,
                                        queue_throughput<mutex_deque_queue>, true));

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
            if (c.round_trips)
                c.latency_runs.push_back(c.round_trips(threads, opts));
            if (c.throughput)
                c.throughput_runs.push_back(c.throughput(threads, opts));
            std::fprintf(stderr, " %s", c.name.c_str());
        }
        std::fprintf(stderr, "\n");
    }
    for (auto& c : contenders)
    {
        if (!c.latency_runs.empty())
            c.latency = median_of(c.latency_runs);
        if (!c.throughput_runs.empty())
        {
            c.mps = median(c.throughput_runs);
            c.best_mps = *std::max_element(c.throughput_runs.begin(), c.throughput_runs.end());
        }
    }

    std::printf("threads: %s\n", threads.describe().c_str());
    std::printf("steady_clock read: about %.0f ns, included once in every RTT sample (not subtracted)\n\n",
                clock_read_ns());
    print_table(contenders);
    std::printf("\n");
    std::printf("rtt_*: median over the runs of each run's statistic, in ns per round trip (two queues, one each "
                "way)\n");
    std::printf("throughput_mps: median run, million messages per second, one message per try_pop call except "
                "'(drain)'; best_run_mps: the fastest run\n");
    std::printf("rtt_ratio_to_raw: rtt_p50 / raw_atomic_pingpong rtt_p50; throughput_ratio_to_best: "
                "throughput / the best in the column\n");
    std::printf("raw_atomic_pingpong: two atomics on separate cache lines, no queue; it has no throughput "
                "(n/a)\n");
    std::printf("ref:minimal_ring: a hand-written reference ring written for this benchmark, not a library\n");
    std::printf("peers: the library rows (moodycamel, boost, JUCE, mutex+deque); courier::lane is the try_receive "
                "row\n");
    for (const auto& c : contenders)
        if (!c.skipped.empty())
            std::printf("%s: skipped (%s)\n", c.name.c_str(), c.skipped.c_str());
    print_summary(contenders, courier_name, true);

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

int main(int argc, char** argv)
{
    options opts;
    if (const int code = parse_options(argc, argv, opts); code != 0)
        return code < 0 ? 0 : code;
    try
    {
        return run_bench(opts);
    }
    catch (const std::exception& error)
    {
        std::fprintf(stderr, "courier_lane_bench: %s\n", error.what());
        return 1;
    }
}
