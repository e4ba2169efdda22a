// SPDX-License-Identifier: MIT
// The engine end to end: control-to-audio latency in frames (offline driver or JACK), callback durations under
// 0, 10k and 100k control messages a second, and the synth's work without any threads (docs/performance.md).
#include <courier/audio/engine.h>
#include <courier/audio/offline_driver.h>
#include <courier/audio/portaudio_driver.h>
#include "demos/synth/synth_graph.h"
#include "tests/bench/bench_csv.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>

namespace {

using clock_type = std::chrono::steady_clock;

/// Pins the calling thread to `cpu` if the system allows it (the jitter runs put the audio thread on CPU 1 and
/// the control thread on CPU 0, as the lane benchmark does). Returns whether it worked.
bool pin_to(int cpu) noexcept
{
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(static_cast<std::size_t>(cpu), &only);
    return pthread_setaffinity_np(pthread_self(), sizeof only, &only) == 0;
}
using courier::audio::engine_event;
namespace synth = courier::synth;

std::int64_t now_ns() noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

struct options
{
    bool quick = false;
    std::string driver = "offline";
    std::string out_dir = "bench-results";
};

std::FILE* open_csv(const options& opts, const std::string& name)
{
    return courier::bench::open_csv(opts.out_dir + "/" + name);
}

double percentile(std::vector<double> values, double fraction)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(values.size())));
    return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

/// The synth with a probe: apply() stamps the time each tagged event takes effect (the start of the callback
/// that applies it, since the engine applies immediate messages at frame 0). The probe itself reads the clock
/// in the callback, which is fine for a benchmark and nothing a product should do.
class probe_graph final : public courier::audio::audio_graph
{
public:
    explicit probe_graph(std::vector<std::atomic<std::int64_t>>& stamps_) : stamps(stamps_) {}

    void prepare(double sample_rate, std::size_t max_frames) override { inner.prepare(sample_rate, max_frames); }

    void apply(const engine_event& event) noexcept override
    {
        if (event.tag != 0 && event.tag < stamps.size())
            stamps[event.tag].store(now_ns(), std::memory_order_release);  // pairs with the control side's load
        inner.apply(event);
    }

    void render(float* const* out, std::size_t channels, std::size_t offset, std::size_t frames) noexcept override
    {
        inner.render(out, channels, offset, frames);
    }

    [[nodiscard]] std::span<const std::string_view> processors() const noexcept override
    {
        return inner.processors();
    }

    [[nodiscard]] std::uint32_t activity() const noexcept override { return inner.activity(); }

private:
    synth::synth_graph inner;
    std::vector<std::atomic<std::int64_t>>& stamps;
};

/// Wraps an audio_callback and records how long each process() takes, into memory reserved beforehand.
class timed_callback final : public courier::audio::audio_callback
{
public:
    timed_callback(courier::audio::audio_callback& inner_, std::size_t max_samples)
        : inner(inner_), durations(max_samples), starts(max_samples)
    {
    }

    void prepare(const courier::audio::stream_config& actual) override { inner.prepare(actual); }

    /// The audio thread pins itself to `cpu` in its first process() call (a syscall there: benchmark only).
    void pin_audio_thread_to(int cpu) noexcept { pin_cpu = cpu; }

    void process(const float* const* in, float* const* out, std::size_t frames) noexcept override
    {
        if (pin_cpu >= 0)
        {
            pin_to(pin_cpu);
            pin_cpu = -1;
        }
        const std::int64_t t0 = now_ns();
        inner.process(in, out, frames);
        const std::int64_t t1 = now_ns();
        const std::size_t i = count.load(std::memory_order_relaxed);  // only this thread stores it
        if (recording.load(std::memory_order_relaxed) && i < durations.size())
        {
            durations[i] = static_cast<double>(t1 - t0);
            starts[i] = t0;
            count.store(i + 1, std::memory_order_release);  // pairs with samples()'s acquire load
        }
    }

    void start_recording() noexcept { recording.store(true, std::memory_order_relaxed); }

    /// The durations recorded so far, in ns (call after the stream stopped, or accept a snapshot).
    std::vector<double> samples() const
    {
        return {durations.begin(), durations.begin() + static_cast<std::ptrdiff_t>(count.load(std::memory_order_acquire))};
    }

    /// When each recorded process() call began (steady_clock, ns).
    std::vector<std::int64_t> start_times() const
    {
        return {starts.begin(), starts.begin() + static_cast<std::ptrdiff_t>(count.load(std::memory_order_acquire))};
    }

private:
    courier::audio::audio_callback& inner;
    std::vector<double> durations;
    std::vector<std::int64_t> starts;
    std::atomic<std::size_t> count{0};
    std::atomic<bool> recording{false};
    int pin_cpu = -1;  // set before the stream starts, then read and cleared by the audio thread only
};

courier::audio::stream_config stream(std::size_t block)
{
    courier::audio::stream_config config;
    config.sample_rate = 48000.0;
    config.block_size = block;
    config.output_channels = 2;
    return config;
}

/// Eight held notes, so every callback renders eight voices.
void hold_chord(courier::audio::engine_sender& sender)
{
    for (std::uint32_t note = 48; note < 56; ++note)
        if (!sender.try_send(synth::make_note_on(note, 0.5F)))
            throw std::runtime_error("mailbox full while sending the chord");
}

// ---------------------------------------------------------------------------------------------------------
// Latency to effect

int latency(const options& opts)
{
    const std::size_t block = 256;
    const std::size_t events = opts.quick ? 20 : 400;
    std::vector<std::atomic<std::int64_t>> applied(events + 1);
    std::vector<std::int64_t> sent(events + 1, 0);

    auto graph = std::make_unique<probe_graph>(applied);
    courier::audio::engine engine(std::move(graph));
    auto sender = engine.add_producer();
    timed_callback timed(engine, events * 60 + 1000);  // room for 15 ms per event at 256 frames
    timed.start_recording();

    std::unique_ptr<courier::audio::offline_driver> offline;
    std::unique_ptr<courier::audio::portaudio_driver> device;
    double rate = 48000.0;
    std::string where;
    if (opts.driver == "offline")
    {
        offline = std::make_unique<courier::audio::offline_driver>(stream(block));
        offline->start(timed, courier::audio::pacing::real_time);
        where = "offline driver, paced in real time";
    }
    else if (opts.driver == "jack")
    {
        if (std::getenv("COURIER_JACK_SERVER") == nullptr)
            throw std::runtime_error("--driver jack runs under tests/support/with_jack_dummy.sh");
        device = std::make_unique<courier::audio::portaudio_driver>();
        courier::audio::device_request request;
        request.host_api = "jack";
        request.config = stream(block);
        device->open(request, timed);
        rate = device->info().config.sample_rate;
        device->start();
        where = "PortAudio on a JACK dummy server (" + device->info().host_api + ")";
    }
    else
        throw std::runtime_error("unknown driver " + opts.driver);

    // Sends at random moments, so the sends fall uniformly over the callback period.
    std::mt19937 random(12345);
    std::uniform_int_distribution<int> pause_us(2000, 9000);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the stream settles
    std::uint64_t refused = 0;
    for (std::uint32_t tag = 1; tag <= events; ++tag)
    {
        std::this_thread::sleep_for(std::chrono::microseconds(pause_us(random)));
        engine_event e = synth::make_gain(0.5F);
        e.tag = tag;
        sent[tag] = now_ns();
        while (!sender.try_send(e))
            ++refused;
    }
    // Every event must take effect; wait up to a second for the last.
    const std::int64_t deadline = now_ns() + 1'000'000'000;
    while (applied[events].load(std::memory_order_acquire) == 0 && now_ns() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (offline)
        offline->stop();
    if (device)
        device->close();

    // Latency in frames of wall-clock time, and the callbacks that began after the send without applying it:
    // courier's own share. The rest is the wait for the next callback, which the driver's period sets.
    const auto starts = timed.start_times();
    std::vector<double> frames;
    std::size_t most_missed = 0;
    for (std::size_t tag = 1; tag <= events; ++tag)
    {
        const std::int64_t at = applied[tag].load(std::memory_order_acquire);
        if (at == 0)
            throw std::runtime_error("event " + std::to_string(tag) + " never took effect");
        frames.push_back(static_cast<double>(at - sent[tag]) * 1e-9 * rate);
        const auto first = std::upper_bound(starts.begin(), starts.end(), sent[tag]);
        const auto applying = std::upper_bound(starts.begin(), starts.end(), at) - 1;  // began at or before `at`
        if (applying > first)
            most_missed = std::max(most_missed, static_cast<std::size_t>(applying - first));
    }
    const double p50 = percentile(frames, 0.5);
    const double p99 = percentile(frames, 0.99);
    const double max = percentile(frames, 1.0);
    std::printf("latency to effect: %s, %zu frames per block at %.0f Hz, %zu events\n", where.c_str(), block, rate,
                events);
    std::printf("%-8s %10s %10s %10s %12s %16s\n", "driver", "p50 fr", "p99 fr", "max fr", "max blocks",
                "callbacks missed");
    std::printf("%-8s %10.1f %10.1f %10.1f %12.2f %16zu\n", opts.driver.c_str(), p50, p99, max,
                max / static_cast<double>(block), most_missed);
    std::printf("frames from try_send to the start of the callback that applies the event (it takes effect at\n"
                "frame 0 of that block); the device's own output latency comes on top. callbacks missed: the\n"
                "most callbacks that began after a send without applying it (0 = always the next callback).\n"
                "Refused sends: %llu\n",
                static_cast<unsigned long long>(refused));

    std::FILE* csv = open_csv(opts, "engine_latency_" + opts.driver + ".csv");
    std::fprintf(csv, "driver,block,rate,events,p50_frames,p99_frames,max_frames,max_blocks,callbacks_missed\n");
    std::fprintf(csv, "%s,%zu,%.0f,%zu,%.2f,%.2f,%.2f,%.4f,%zu\n", opts.driver.c_str(), block, rate, events, p50,
                 p99, max, max / static_cast<double>(block), most_missed);
    std::fclose(csv);
    csv = open_csv(opts, "engine_latency_" + opts.driver + "_samples.csv");
    std::fprintf(csv, "event,frames\n");
    for (std::size_t i = 0; i < frames.size(); ++i)
        std::fprintf(csv, "%zu,%.2f\n", i + 1, frames[i]);
    std::fclose(csv);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Jitter under load

struct jitter_row
{
    std::uint64_t rate = 0;
    std::uint64_t sent = 0;
    std::uint64_t refused = 0;
    std::uint64_t applied = 0;
    std::vector<double> us;
};

/// One segment of `seconds` at `messages_per_second`, appended to `row`.
void jitter_run(jitter_row& row, std::uint64_t messages_per_second, double seconds)
{
    const std::size_t block = 128;
    courier::audio::engine_config config;
    config.mailbox_capacity = 4096;
    config.message_budget = 1024;
    courier::audio::engine engine(std::make_unique<synth::synth_graph>(), config);
    auto sender = engine.add_producer();
    hold_chord(sender);
    const auto callbacks = static_cast<std::size_t>(seconds * 48000.0 / static_cast<double>(block)) + 1000;
    timed_callback timed(engine, callbacks);
    timed.pin_audio_thread_to(1);
    courier::audio::offline_driver driver(stream(block));
    driver.start(timed, courier::audio::pacing::real_time);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the chord is applied, caches warm
    timed.start_recording();
    const std::uint64_t sent_before = row.sent;

    row.rate = messages_per_second;
    // Bursts every millisecond: rate / 1000 parameter changes, alternating gain and cutoff.
    const auto started = clock_type::now();
    const auto until = started + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
    auto next = started;
    std::uint64_t owed = 0;
    while (clock_type::now() < until)
    {
        next += std::chrono::milliseconds(1);
        owed += messages_per_second;
        for (; owed >= 1000; owed -= 1000)
        {
            const engine_event e = (row.sent % 2 == 0) ? synth::make_gain(0.4F + 0.1F * static_cast<float>(row.sent % 3))
                                                       : synth::make_cutoff(2000.0F + static_cast<float>(row.sent % 7) * 100.0F);
            if (sender.try_send(e))
                ++row.sent;
            else
                ++row.refused;
        }
        std::this_thread::sleep_until(next);
    }
    // The last burst reaches the audio side within a callback or two; wait for it (a second at most).
    const auto patience = clock_type::now() + std::chrono::seconds(1);
    while (engine.stats().immediate_applied - 8 < row.sent - sent_before && clock_type::now() < patience)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    driver.stop();
    for (const double d : timed.samples())
        row.us.push_back(d * 1e-3);
    row.applied += engine.stats().immediate_applied - 8;  // the chord's eight note-ons are not traffic
    if (engine.stats().immediate_applied - 8 != row.sent - sent_before)
        throw std::runtime_error("the engine applied a different number of messages than were accepted");
}

int jitter(const options& opts)
{
    // Ten segments of one second per traffic level, taken in rotation, so a burst of load elsewhere on the
    // machine lands on every level instead of spoiling one.
    const double segment = opts.quick ? 0.25 : 1.0;
    const int segments = opts.quick ? 2 : 10;
    const double seconds = segment * segments;
    std::vector<jitter_row> rows(3);
    cpu_set_t allowed;  // restored afterwards: threads started later inherit this thread's mask
    CPU_ZERO(&allowed);
    const bool saved = sched_getaffinity(0, sizeof allowed, &allowed) == 0;
    const bool pinned = pin_to(0);
    for (int s = 0; s < segments; ++s)
        for (std::size_t level = 0; level < rows.size(); ++level)
            jitter_run(rows[level], level == 0 ? 0 : level == 1 ? 10'000 : 100'000, segment);
    if (saved)
        pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
    std::printf("threads: %s\n", pinned ? "control pinned to CPU 0, audio to CPU 1" : "not pinned");

    std::printf("callback duration (engine + synth, 8 voices, 128 frames at 48 kHz, offline driver paced in real "
                "time), %.1f s per row in %d segments taken in rotation\n", seconds, segments);
    const double period_us = 128.0 / 48000.0 * 1e6;
    std::printf("%10s %9s %9s %9s %9s %9s %10s %12s %10s %9s\n", "msgs/s", "callbacks", "p50 us", "p99 us",
                "p99.9 us", "max us", "p99.9 vs 0", "added/period", "applied", "refused");
    std::FILE* csv = open_csv(opts, "engine_jitter.csv");
    std::fprintf(csv, "messages_per_second,callbacks,p50_us,p99_us,p999_us,max_us,p999_growth,"
                      "p999_added_percent_of_period,applied,refused\n");
    const double base = percentile(rows.front().us, 0.999);
    for (const auto& r : rows)
    {
        const double p999 = percentile(r.us, 0.999);
        const double added = (p999 - base) / period_us * 100.0;
        std::printf("%10llu %9zu %9.2f %9.2f %9.2f %9.2f %9.2fx %11.2f%% %10llu %9llu\n",
                    static_cast<unsigned long long>(r.rate), r.us.size(), percentile(r.us, 0.5),
                    percentile(r.us, 0.99), p999, percentile(r.us, 1.0), p999 / base, added,
                    static_cast<unsigned long long>(r.applied), static_cast<unsigned long long>(r.refused));
        std::fprintf(csv, "%llu,%zu,%.3f,%.3f,%.3f,%.3f,%.4f,%.4f,%llu,%llu\n", static_cast<unsigned long long>(r.rate),
                     r.us.size(), percentile(r.us, 0.5), percentile(r.us, 0.99), p999, percentile(r.us, 1.0),
                     p999 / base, added, static_cast<unsigned long long>(r.applied),
                     static_cast<unsigned long long>(r.refused));
    }
    std::fclose(csv);

    // Histogram, 1 us bins up to 200 us (the last bin holds the rest), one column per traffic level.
    csv = open_csv(opts, "engine_jitter_histogram.csv");
    std::fprintf(csv, "bin_start_us,0_per_s,10k_per_s,100k_per_s\n");
    constexpr std::size_t bins = 200;
    std::vector<std::vector<std::uint64_t>> counts(rows.size(), std::vector<std::uint64_t>(bins, 0));
    for (std::size_t r = 0; r < rows.size(); ++r)
        for (const double d : rows[r].us)
            ++counts[r][std::min<std::size_t>(static_cast<std::size_t>(std::max(d, 0.0)), bins - 1)];
    for (std::size_t b = 0; b < bins; ++b)
        std::fprintf(csv, "%zu,%llu,%llu,%llu\n", b, static_cast<unsigned long long>(counts[0][b]),
                     static_cast<unsigned long long>(counts[1][b]), static_cast<unsigned long long>(counts[2][b]));
    std::fclose(csv);
    std::printf("p99.9 vs 0: that row's p99.9 divided by the p99.9 with no control traffic; added/period: the\n"
                "p99.9's growth as a share of the callback's period (%.0f us)\n", period_us);
    return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Single-threaded baseline (the COST question)

int baseline(const options& opts)
{
    const std::size_t block = 128;
    const std::size_t blocks = opts.quick ? 200 : 20000;
    std::vector<float> left(block), right(block);
    float* out[] = {left.data(), right.data()};
    std::printf("the same synth work (8 voices, %zu frames per block, %zu blocks), ns per block\n", block, blocks);
    std::printf("%14s %12s %12s %12s %10s %10s\n", "events/block", "direct", "engine 1thr", "engine 2thr",
                "1thr/dir", "2thr/dir");
    std::FILE* csv = open_csv(opts, "engine_baseline.csv");
    std::fprintf(csv, "events_per_block,direct_ns,engine_one_thread_ns,engine_two_threads_ns,one_thread_ratio,"
                      "two_threads_ratio\n");
    for (const std::size_t per_block : {std::size_t{0}, std::size_t{4}, std::size_t{64}})
    {
        const auto event_at = [](std::size_t i) {
            return i % 2 == 0 ? synth::make_gain(0.5F) : synth::make_cutoff(3000.0F);
        };
        // Direct: no thread, no queue; the events are applied by a plain call.
        synth::synth_graph direct;
        direct.prepare(48000.0, block);
        for (std::uint32_t note = 48; note < 56; ++note)
            direct.apply(synth::make_note_on(note, 0.5F));
        auto t0 = clock_type::now();
        for (std::size_t b = 0; b < blocks; ++b)
        {
            for (std::size_t i = 0; i < per_block; ++i)
                direct.apply(event_at(i));
            direct.render(out, 2, 0, block);
        }
        const double direct_ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() /
                                 static_cast<double>(blocks);

        // The engine on one thread: the same events through its mailbox, process() called in a loop.
        courier::audio::engine one(std::make_unique<synth::synth_graph>());
        one.prepare(stream(block));
        auto sender = one.add_producer();
        hold_chord(sender);
        t0 = clock_type::now();
        for (std::size_t b = 0; b < blocks; ++b)
        {
            for (std::size_t i = 0; i < per_block; ++i)
                if (!sender.try_send(event_at(i)))
                    throw std::runtime_error("mailbox full");
            one.process(nullptr, out, block);
        }
        const double one_ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() /
                              static_cast<double>(blocks);

        // The engine on its own thread (offline driver, flat out) with a control thread keeping pace: the mean
        // process() duration, so thread start and pacing are not counted.
        courier::audio::engine_config config;
        config.mailbox_capacity = 4096;
        courier::audio::engine two(std::make_unique<synth::synth_graph>(), config);
        auto sender2 = two.add_producer();
        hold_chord(sender2);
        timed_callback timed(two, blocks + 16);
        courier::audio::offline_driver driver(stream(block));
        timed.start_recording();
        driver.start(timed, courier::audio::pacing::as_fast_as_possible);
        std::uint64_t sent = 0;
        while (driver.frames_processed() < blocks * block)
        {
            const std::uint64_t owed = driver.frames_processed() / block * per_block;
            for (; sent < owed; ++sent)
                if (!sender2.try_send(event_at(sent)))
                    break;
            std::this_thread::yield();
        }
        driver.stop();
        const auto samples = timed.samples();
        double total = 0;
        for (const double d : samples)
            total += d;
        const double two_ns = total / static_cast<double>(samples.size());

        std::printf("%14zu %12.0f %12.0f %12.0f %9.2fx %9.2fx\n", per_block, direct_ns, one_ns, two_ns,
                    one_ns / direct_ns, two_ns / direct_ns);
        std::fprintf(csv, "%zu,%.1f,%.1f,%.1f,%.4f,%.4f\n", per_block, direct_ns, one_ns, two_ns, one_ns / direct_ns,
                     two_ns / direct_ns);
    }
    std::fclose(csv);
    std::printf("direct: synth_graph::apply + render called in a loop; engine 1thr: the same events through the\n"
                "engine's mailbox and process() on the same thread; engine 2thr: mean process() duration with the\n"
                "engine on the offline driver's thread and the events sent from another thread\n");
    return 0;
}

void usage(std::FILE* out)
{
    std::fprintf(out, "usage: courier_engine_bench [latency|jitter|baseline|all] [--quick] [--driver offline|jack] "
                      "[--out DIR]\n"
                      "  latency   frames from try_send to the callback applying the event (--driver jack: run\n"
                      "            under tests/support/with_jack_dummy.sh)\n"
                      "  jitter    callback durations with 0, 10k and 100k control messages per second\n"
                      "  baseline  the synth's work without threads, through the engine on one thread, and on two\n"
                      "  all       (default) the three, on the offline driver\n"
                      "CSV files go to DIR (default bench-results).\n");
}

}  // namespace

int main(int argc, char** argv)
{
    options opts;
    std::string what = "all";
    for (int i = 1; i < argc; ++i)
    {
        const std::string_view arg = argv[i];
        if (arg == "--quick")
            opts.quick = true;
        else if (arg == "--driver" && i + 1 < argc)
            opts.driver = argv[++i];
        else if (arg == "--out" && i + 1 < argc)
            opts.out_dir = argv[++i];
        else if (arg == "latency" || arg == "jitter" || arg == "baseline" || arg == "all")
            what = arg;
        else
        {
            usage(arg == "--help" ? stdout : stderr);
            return arg == "--help" ? 0 : 2;
        }
    }
    try
    {
        int status = 0;
        if (what == "latency" || what == "all")
            status |= latency(opts);
        if (what == "jitter" || what == "all")
            status |= jitter(opts);
        if (what == "baseline" || what == "all")
            status |= baseline(opts);
        return status;
    }
    catch (const std::exception& error)
    {
        std::fprintf(stderr, "courier_engine_bench: %s\n", error.what());
        return 1;
    }
}
