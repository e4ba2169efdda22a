// SPDX-License-Identifier: MIT
// courier-protocols: the GUI side subscribes to the engine's meters, asks for a parameter snapshot, runs a long
// operation with progress, cancels a measurement in the middle and unsubscribes, printing every message with
// its correlation id (docs/patterns/protocol_*.md). The engine is a std::thread calling a real-time callback.
#include <courier/protocol/request_reply.h>
#include <courier/protocol/subscription.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <thread>

namespace cp = courier::protocol;
using namespace std::chrono_literals;

namespace {

struct meter { float peak_db; std::uint64_t block; };
struct snapshot { float gain; float cutoff_hz; };
struct bounce { std::uint32_t blocks; };     // "render this many blocks"
struct measure { std::uint32_t blocks; };    // "measure the input for this many blocks"

// Everything the two threads share, wired at setup.
struct links
{
    courier::port_table table{8, 1};
    cp::subscription<meter> meters{table, 4};
    cp::request_reply<int, snapshot> parameters{table, 2};
    cp::request_reply<bounce, float> bounces{table, 1, 4};  // 4 progress replies out
    cp::request_reply<measure, float> measurements{table, 2};
};

// The engine's state: written by the audio thread only.
struct engine
{
    float gain = 0.8f;
    float cutoff_hz = 1200.0f;
    std::uint64_t block = 0;
    std::uint64_t bounce_id = 0;
    std::uint32_t bounce_left = 0;
    std::uint32_t bounce_total = 0;
    std::uint64_t measure_id[2] = {0, 0};
    std::uint32_t measure_left[2] = {0, 0};
};

// One audio callback: no allocation, no lock, no waiting (RTSan checks it in the realtime build).
void process(links& l, engine& e) noexcept COURIER_REALTIME
{
    ++e.block;
    auto& meters = l.meters.publishing();
    meters.poll(4);
    meters.collect();
    if (e.block % 8 == 0 && meters.subscribed())
        (void)meters.try_notify(-6.0f - static_cast<float>(e.block % 5), e.block);  // a refusal is counted

    l.parameters.server().poll([&](std::uint64_t, int&) { return snapshot{e.gain, e.cutoff_hz}; }, 2);
    l.parameters.server().collect();

    auto& bounces = l.bounces.server();
    bounces.drain(
        [&](std::uint64_t id, const bounce& b) {
            e.bounce_id = id;
            e.bounce_left = e.bounce_total = b.blocks;
        },
        1);
    bounces.collect();
    if (e.bounce_id != 0)
    {
        --e.bounce_left;
        const float done = 1.0f - static_cast<float>(e.bounce_left) / static_cast<float>(e.bounce_total);
        if (e.bounce_left == 0)
        {
            (void)bounces.try_finish(e.bounce_id, 1.0f);
            e.bounce_id = 0;
        }
        else if (e.bounce_left % 10 == 0)
            (void)bounces.try_progress(e.bounce_id, done);  // no_credit just skips one update
    }

    auto& measurements = l.measurements.server();
    measurements.drain(
        [&](std::uint64_t id, const measure& m) {
            const int slot = e.measure_id[0] == 0 ? 0 : 1;
            e.measure_id[slot] = id;
            e.measure_left[slot] = m.blocks;
        },
        2);
    measurements.collect();
    for (int slot = 0; slot < 2; ++slot)
    {
        if (e.measure_id[slot] == 0)
            continue;
        if (measurements.pending(e.measure_id[slot]) == nullptr)  // cancelled: the cancel won
            e.measure_id[slot] = 0;
        else if (--e.measure_left[slot] == 0)
        {
            (void)measurements.try_finish(e.measure_id[slot], -12.5f);
            e.measure_id[slot] = 0;
        }
    }
}

// Polls `step` every millisecond until it returns true, for at most 10 s.
template <class Step>
bool until(Step&& step)
{
    for (int i = 0; i < 10000; ++i)
    {
        if (step())
            return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

}  // namespace

int main()
{
    links l;
    engine e;
    std::atomic<bool> running{true};
    std::thread audio([&] {
        while (running.load(std::memory_order_acquire))  // pairs with the release store at shutdown
        {
            process(l, e);
            std::this_thread::sleep_for(1ms);  // the device period, roughly
        }
    });

    int steps = 0;
    auto step = [&](bool ok, const char* what) {
        std::printf("%s %s\n", ok ? "--" : "FAILED:", what);
        steps += ok ? 1 : 0;
    };

    // 1. Subscribe to the meters and print three notifications.
    auto& meters = l.meters.subscribing();
    const auto sub = meters.try_subscribe();
    std::printf("subscribe       id=%llu -> %s\n", static_cast<unsigned long long>(sub.id),
                courier::to_string(sub.result));
    int notes = 0;
    auto print_meters = [&](std::uint64_t id, cp::subscription_event ev, meter* m) {
        if (ev == cp::subscription_event::notification)
        {
            ++notes;
            std::printf("  meter         id=%llu peak=%.1f dB (block %llu)\n", static_cast<unsigned long long>(id),
                        static_cast<double>(m->peak_db), static_cast<unsigned long long>(m->block));
        }
        else
            std::printf("  %-13s id=%llu\n", ev == cp::subscription_event::ack ? "ack" : "publisher_gone",
                        static_cast<unsigned long long>(id));
    };
    step(until([&] { meters.drain(print_meters, 8); return notes >= 3; }), "meter notifications arrive");

    // 2. Ask for a parameter snapshot (request/reply).
    auto& parameters = l.parameters.client();
    const auto ask = parameters.try_request(0);
    std::printf("request         id=%llu (parameter snapshot) -> %s\n", static_cast<unsigned long long>(ask.id),
                courier::to_string(ask.result));
    bool answered = false;
    step(until([&] {
             parameters.drain(
                 [&](std::uint64_t id, cp::reply_status s, snapshot* r) {
                     answered = id == ask.id && s == cp::reply_status::answered;
                     if (answered)
                         std::printf("  reply         id=%llu gain=%.2f cutoff=%.0f Hz\n",
                                     static_cast<unsigned long long>(id), static_cast<double>(r->gain),
                                     static_cast<double>(r->cutoff_hz));
                 },
                 4);
             parameters.collect();
             return answered;
         }),
         "the snapshot reply matches its request");

    // 3. A long operation with progress (request/reply with progress replies).
    auto& bounces = l.bounces.client();
    const auto job = bounces.try_request(bounce{60});
    std::printf("start           id=%llu (bounce 60 blocks) -> %s\n", static_cast<unsigned long long>(job.id),
                courier::to_string(job.result));
    int progress = 0;
    bool finished = false;
    step(until([&] {
             bounces.drain(
                 [&](std::uint64_t id, cp::reply_status s, float* r) {
                     const bool last = s != cp::reply_status::progress;
                     progress += last ? 0 : 1;
                     finished = finished || (id == job.id && s == cp::reply_status::answered);
                     std::printf("  %-13s id=%llu %.0f%%\n", last ? "final" : "progress",
                                 static_cast<unsigned long long>(id), r != nullptr ? 100.0 * *r : 0.0);
                 },
                 8);
             bounces.collect();
             return finished;
         }) && progress > 0,
         "progress replies, then one final reply");

    // 4. Two measurements (request_reply with cancel); cancel the second in the middle.
    auto& measurements = l.measurements.client();
    const auto keep = measurements.try_request(measure{150});
    const auto drop = measurements.try_request(measure{2000});
    std::printf("request         id=%llu (measure 150 blocks) -> %s\n", static_cast<unsigned long long>(keep.id),
                courier::to_string(keep.result));
    std::printf("request         id=%llu (measure 2000 blocks) -> %s\n", static_cast<unsigned long long>(drop.id),
                courier::to_string(drop.result));
    std::this_thread::sleep_for(20ms);  // the second one is running now (it needs 2000 blocks)
    std::printf("cancel          id=%llu -> %s\n", static_cast<unsigned long long>(drop.id),
                courier::to_string(measurements.try_cancel(drop.id)));
    int result_for_keep = 0;
    int cancelled_for_drop = 0;
    int other = 0;
    step(until([&] {
             measurements.drain(
                 [&](std::uint64_t id, cp::reply_status s, float* r) {
                     if (id == keep.id && s == cp::reply_status::answered)
                     {
                         ++result_for_keep;
                         std::printf("  result        id=%llu %.1f dB\n", static_cast<unsigned long long>(id),
                                     static_cast<double>(*r));
                     }
                     else if (id == drop.id && s == cp::reply_status::cancelled)
                     {
                         ++cancelled_for_drop;
                         std::printf("  cancelled     id=%llu\n", static_cast<unsigned long long>(id));
                     }
                     else
                         ++other;
                 },
                 4);
             measurements.collect();
             return measurements.outstanding() == 0;
         }) && result_for_keep == 1 && cancelled_for_drop == 1 && other == 0,
         "one result and one cancellation, each exactly once");

    // 5. Unsubscribe; after the acknowledgement no notification may arrive.
    std::printf("unsubscribe     id=%llu -> %s\n", static_cast<unsigned long long>(sub.id),
                courier::to_string(meters.try_unsubscribe()));
    step(until([&] {
             meters.drain(print_meters, 8);
             return meters.state() == cp::subscriber_state::idle;
         }),
         "the unsubscribe is acknowledged");
    const int notes_at_ack = notes;
    std::this_thread::sleep_for(50ms);  // the engine keeps running for ~50 more blocks
    meters.drain(print_meters, 64);
    step(notes == notes_at_ack, "no notification after the acknowledgement");

    running.store(false, std::memory_order_release);
    audio.join();  // the audio thread has stopped; the links close below, on this thread
    const auto refused = l.meters.publishing().stats();
    std::printf("meter notifications: %llu sent, %llu refused (no credit %llu, full %llu)\n",
                static_cast<unsigned long long>(refused.sent),
                static_cast<unsigned long long>(refused.no_credit + refused.full),
                static_cast<unsigned long long>(refused.no_credit), static_cast<unsigned long long>(refused.full));
    step(refused.gone == 0, "no message met a closed receiver");
    if (steps != 7)
    {
        std::printf("FAILED: %d of 7 steps\n", steps);
        return 1;
    }
    std::printf("all 7 steps done\n");
    return 0;
}
