// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/delivery.h>: audio_poll's shared budget, timer_poll's ticks, worker_loop's wake-ups and stop.
#include <courier/patterns/delivery.h>

#include <courier/command_lane.h>
#include <courier/lane.h>
#include <courier/mailbox.h>
#include <courier/experimental/priority_lanes.h>
#include <courier/patterns/state_commands.h>
#include <courier/experimental/transaction.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using courier::audio_poll;
using courier::drain_source;
using courier::lane;
using courier::timer_poll;
using courier::worker_loop;

namespace {

// Spins until `done()` or until `limit` has passed, and returns done(): a deadline to fail on, not a sleep.
template <class Done>
bool within(std::chrono::seconds limit, Done done)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done())
    {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::yield();
    }
    return true;
}

void send_many(courier::lane_sender<int>& to, int count)
{
    for (int i = 0; i < count; ++i)
        REQUIRE(to.try_send(i));
}

}  // namespace

TEST_CASE("audio_poll")
{
    lane<int> from_gui(64), from_midi(64), from_osc(64);
    auto gui = from_gui.sender();
    auto midi = from_midi.sender();
    auto osc = from_osc.sender();
    int gain_changes = 0;
    int notes = 0;
    int packets = 0;

    SUBCASE("audio_poll handles at most budget messages over all its sources, and shares the budget")
    {
        // [delivery-audio-poll]
        // Setup: each source pairs a receiving end with what the audio side does with a message.
        drain_source gui_source(from_gui.receiver(), [&](int&&) { ++gain_changes; });
        drain_source midi_source(from_midi.receiver(), [&](int&&) { ++notes; });
        send_many(gui, 50);  // a slider dragged fast
        send_many(midi, 3);  // three notes

        // Audio, at the start of each block: 16 messages at most, whatever has arrived.
        CHECK(audio_poll(16, gui_source, midi_source) == 16);
        CHECK(notes == 3);  // the slider's flood cannot hold the notes back
        CHECK(gain_changes == 13);
        // [delivery-audio-poll]
    }

    SUBCASE("audio_poll gives each flooded source budget / sources messages")
    {
        send_many(gui, 40);
        send_many(midi, 40);
        send_many(osc, 40);
        drain_source a(from_gui.receiver(), [&](int&&) { ++gain_changes; });
        drain_source b(from_midi.receiver(), [&](int&&) { ++notes; });
        drain_source c(from_osc.receiver(), [&](int&&) { ++packets; });
        CHECK(audio_poll(12, a, b, c) == 12);
        CHECK(gain_changes == 4);
        CHECK(notes == 4);
        CHECK(packets == 4);
    }

    SUBCASE("audio_poll gives the budget a quiet source leaves to the busy ones")
    {
        send_many(gui, 40);
        send_many(osc, 2);
        drain_source a(from_gui.receiver(), [&](int&&) { ++gain_changes; });
        drain_source b(from_midi.receiver(), [&](int&&) { ++notes; });
        drain_source c(from_osc.receiver(), [&](int&&) { ++packets; });
        CHECK(audio_poll(12, a, b, c) == 12);
        CHECK(gain_changes == 10);
        CHECK(notes == 0);
        CHECK(packets == 2);
        CHECK(audio_poll(12, a, b, c) == 12);
        CHECK(audio_poll(12, a, b, c) == 12);
        CHECK(audio_poll(12, a, b, c) == 6);
        CHECK(audio_poll(12, a, b, c) == 0);
        CHECK(a.receiver().stats().received == 40);
    }

    SUBCASE("audio_poll drains a mailbox, a command lane and priority lanes, neither allocating nor freeing")
    {
        courier::mailbox<int> box(2, 16);
        auto producer = box.add_producer();
        courier::command_lane<void(int&), 16> commands(16);
        auto command_tx = commands.sender();
        auto command_rx = commands.receiver();
        courier::priority_lanes<int> lanes(16, 16, 1);
        auto urgent = lanes.urgent_sender();
        int state = 0;
        drain_source inbox(box.receiver(), [&](int&& v) { state += v; });
        drain_source prioritised(lanes.receiver(), [&](int&& v, courier::priority) { state += v; });
        auto run_commands = [&](std::size_t max) { return command_rx.poll(state, max); };

        const courier::test::allocation_counter allocations;
        for (int block = 0; block < 10; ++block)
        {
            REQUIRE(producer.try_send(1));
            REQUIRE(command_tx.try_send([](int& s) { s += 10; }));
            REQUIRE(urgent.try_send(100));
            CHECK(audio_poll(8, inbox, run_commands, prioritised) == 3);
        }
        CHECK(allocations.count() == 0);
        CHECK(state == 10 * 111);
    }

    SUBCASE("audio_poll takes state commands through a lambda around poll and a transaction end through drain_source")
    {
        struct level
        {
            int value = 0;
        };
        struct add
        {
            int n;
            void apply(level& l) const noexcept { l.value += n; }
        };
        courier::state_commands<level, add> commands(16);
        auto command_tx = commands.sender();
        auto command_rx = commands.receiver();
        courier::transaction<int> groups(4, 8);
        auto group_tx = groups.sender();
        level state;
        auto apply_commands = [&](std::size_t max) { return command_rx.poll(state, max); };
        drain_source grouped(groups.receiver(), [&](const courier::transaction_view<int>& group) {
            for (const int v : group)
                state.value += v;
        });
        for (int i = 0; i < 10; ++i)
            REQUIRE(command_tx.try_send(add{1}));
        REQUIRE(group_tx.try_send({100, 100}) == courier::send_status::sent);
        REQUIRE(group_tx.try_send({1000}) == courier::send_status::sent);

        // Shares of 3: three commands and both transactions, then one more command with what is left.
        CHECK(audio_poll(6, apply_commands, grouped) == 6);
        CHECK(state.value == 4 + 200 + 1000);
        CHECK(audio_poll(16, apply_commands, grouped) == 6);  // the other six commands; nothing else waits
        CHECK(state.value == 10 + 200 + 1000);
        CHECK(commands.stats().received == 10);
        CHECK(groups.stats().applied == 2);
    }

    SUBCASE("audio_poll with a budget below the number of sources serves them in order")
    {
        send_many(gui, 5);
        send_many(midi, 5);
        drain_source a(from_gui.receiver(), [&](int&&) { ++gain_changes; });
        drain_source b(from_midi.receiver(), [&](int&&) { ++notes; });
        CHECK(audio_poll(1, a, b) == 1);
        CHECK(gain_changes == 1);
        CHECK(notes == 0);
    }

#if COURIER_CHECKS
    SUBCASE("a source that handles more than it was asked is a contract violation")
    {
        const courier::test::violation_recorder violations;
        auto greedy = [](std::size_t max) { return max + 1; };
        (void)audio_poll(4, greedy);
        CHECK(violations.count() >= 1);
    }
#endif
}

TEST_CASE("timer_poll")
{
    SUBCASE("tick handles at most the budget per tick and counts the ticks that used it all")
    {
        // [delivery-timer-poll]
        lane<int> meters(256);
        auto from_audio = meters.sender();
        std::vector<int> drawn;
        drawn.reserve(256);
        timer_poll gui_timer(32, drain_source(meters.receiver(), [&](int&& level) { drawn.push_back(level); }));

        send_many(from_audio, 80);     // a burst from the audio side
        CHECK(gui_timer.tick() == 32);  // called from a juce::Timer: bounded GUI work per tick
        CHECK(gui_timer.tick() == 32);
        CHECK(gui_timer.tick() == 16);
        CHECK(gui_timer.stats().busy == 2);  // the GUI can show that it fell behind
        // [delivery-timer-poll]
        CHECK(gui_timer.stats().rounds == 3);
        CHECK(gui_timer.stats().handled == 80);
        CHECK(drawn.size() == 80);
        CHECK(gui_timer.budget() == 32);
        CHECK(gui_timer.tick() == 0);
    }

    SUBCASE("timer_poll shares each tick's budget among its sources")
    {
        lane<int> a(64), b(64);
        auto to_a = a.sender();
        auto to_b = b.sender();
        send_many(to_a, 30);
        send_many(to_b, 30);
        int from_a = 0;
        int from_b = 0;
        timer_poll poll(10, drain_source(a.receiver(), [&](int&&) { ++from_a; }),
                        drain_source(b.receiver(), [&](int&&) { ++from_b; }));
        CHECK(poll.tick() == 10);
        CHECK(from_a == 5);
        CHECK(from_b == 5);
    }

    SUBCASE("timer_poll refuses a budget of 0")
    {
        auto nothing = [](std::size_t) -> std::size_t { return 0; };
        CHECK_THROWS_AS(timer_poll(0, nothing), std::invalid_argument);
    }
}

TEST_CASE("worker_loop")
{
    lane<int> jobs(1024);
    auto to_worker = jobs.sender();
    std::vector<int> done;
    done.reserve(1024);

    SUBCASE("stop handles every message queued before it, even with no signal at all")
    {
        // [delivery-worker-stop]
        worker_loop worker(64, 1h, drain_source(jobs.receiver(), [&](int&& job) { done.push_back(job); }));
        worker.start();
        send_many(to_worker, 500);  // no signal: with an hour's poll interval only stop() wakes it

        CHECK(worker.stop());  // the final drain found every source empty
        CHECK(worker.stats().handled == 500);
        CHECK(worker.stats().rounds == 1);  // stop()'s own wake-up: all of it by the final drain
        CHECK(done.size() == 500);
        // [delivery-worker-stop]
        CHECK(worker.stats().busy == 7);  // 500 = 7 full passes of 64 and a short one
        CHECK(worker.stop());  // a second stop answers the same
        CHECK(worker.stats().handled == 500);
    }

    SUBCASE("stop returns false when a source never runs dry")
    {
        auto endless = [](std::size_t max) { return max; };
        worker_loop worker(4, 1h, endless);
        worker.start();
        CHECK_FALSE(worker.stop(3));
        CHECK(worker.stats().handled == 12);
        CHECK(worker.stats().busy == 3);
    }

    SUBCASE("signal_and_wake wakes a worker at once, whatever its poll interval")
    {
        worker_loop worker(64, 1h, drain_source(jobs.receiver(), [&](int&& job) { done.push_back(job); }));
        worker.start();
        REQUIRE(to_worker.try_send(7));
        worker.signal_and_wake();
        CHECK(within(10s, [&] { return worker.stats().handled == 1; }));
        CHECK(worker.stats().rounds == 1);
        CHECK(worker.stop());
        CHECK(worker.stats().handled == 1);  // the final drain found nothing more
        CHECK(worker.stats().rounds == 2);   // stop()'s wake-up
        CHECK(done == std::vector<int>{7});
    }

    SUBCASE("signal from a wait-free sender reaches the worker within the poll interval")
    {
        worker_loop worker(64, 200us, drain_source(jobs.receiver(), [&](int&& job) { done.push_back(job); }));
        worker.start();
        send_many(to_worker, 3);
        const courier::test::allocation_counter allocations;
        worker.signal();  // the audio side's call: sets a flag, nothing more
        CHECK(allocations.count() == 0);
        CHECK(within(10s, [&] { return worker.stats().handled == 3; }));
        (void)worker.stop();
        CHECK(done.size() == 3);
    }

    SUBCASE("the destructor stops a running worker and drains what was queued")
    {
        {
            worker_loop worker(64, 1h, drain_source(jobs.receiver(), [&](int&& job) { done.push_back(job); }));
            worker.start();
            send_many(to_worker, 40);
        }
        CHECK(done.size() == 40);
    }

    SUBCASE("start throws when called twice or after stop, and stop before start stops nothing")
    {
        auto nothing = [](std::size_t) -> std::size_t { return 0; };
        worker_loop idle(64, 1ms, nothing);
        CHECK_FALSE(idle.stop());
        CHECK(idle.stats().handled == 0);
        CHECK(idle.stats().rounds == 0);
        CHECK_THROWS_AS(idle.start(), std::logic_error);

        worker_loop twice(64, 1ms, nothing);
        twice.start();
        CHECK_THROWS_AS(twice.start(), std::logic_error);
        CHECK_THROWS_AS((void)twice.stop(0), std::invalid_argument);
        CHECK(twice.stop());
        CHECK_THROWS_AS(worker_loop(0, 1ms, nothing), std::invalid_argument);
    }
}

// Each round, the audio-like sender queues a burst three times the worker's budget and signals once, then waits
// for the worker to handle all of it. A worker that drained one budget per wake-up, or missed a signal, would
// leave the rest waiting for a signal that never comes, and the deadline would fail the round.
TEST_CASE("worker_loop: one signal after a burst larger than the budget gets the whole burst handled" *
          doctest::test_suite("stress"))
{
    const int rounds = static_cast<int>(courier::test::stress_count(3000));
    constexpr int burst = 3 * 8 + 1;
    lane<int> work(64);
    auto tx = work.sender();
    int next = 0;
    bool in_order = true;
    worker_loop worker(8, 100us, drain_source(work.receiver(), [&](int&& v) { in_order = in_order && v == next++; }));
    worker.start();

    std::atomic<bool> lost{false};  // read after the join
    std::thread audio([&] {
        int value = 0;
        for (int round = 0; round < rounds; ++round)
        {
            for (int i = 0; i < burst; ++i, ++value)
                while (!tx.try_send(value))
                    std::this_thread::yield();  // only until the worker's last pops are visible here
            worker.signal();
            const auto total = static_cast<std::uint64_t>(value);
            if (!within(10s, [&] { return worker.stats().handled == total; }))
            {
                lost.store(true, std::memory_order_relaxed);
                return;
            }
        }
    });
    audio.join();
    const auto handled_before_stop = worker.stats().handled;
    CHECK(worker.stop());

    CHECK_FALSE(lost.load());
    CHECK(in_order);
    CHECK(next == rounds * burst);
    CHECK(worker.stats().handled == handled_before_stop);  // the final drain found nothing left
    CHECK(worker.stats().rounds <= static_cast<std::uint64_t>(rounds) + 1);  // one per signal at most, plus stop's
}

// stop() is called while a sender thread is still sending: everything sent before the call must be handled,
// and whatever was sent after is either handled or still in the lane, never lost.
TEST_CASE("worker_loop: stop during a stream of messages handles everything sent before it" *
          doctest::test_suite("stress"))
{
    const int count = static_cast<int>(courier::test::stress_count(200'000));
    lane<int> work(64);
    auto tx = work.sender();
    int next = 0;
    bool in_order = true;
    worker_loop worker(16, 100us, drain_source(work.receiver(), [&](int&& v) { in_order = in_order && v == next++; }));
    worker.start();

    std::atomic<int> sent{0};
    std::atomic<bool> halt{false};
    std::thread sender([&] {
        for (int i = 0; i < count && !halt.load(std::memory_order_relaxed); ++i)
        {
            while (!tx.try_send(i))
            {
                if (halt.load(std::memory_order_relaxed))
                    return;
                std::this_thread::yield();
            }
            sent.store(i + 1, std::memory_order_release);  // pairs with the acquire load before stop()
            worker.signal();
        }
    });

    CHECK(within(60s, [&] { return sent.load(std::memory_order_relaxed) >= count / 2; }));
    const auto sent_before_stop = sent.load(std::memory_order_acquire);
    const bool drained = worker.stop(std::size_t{1} << 30);
    halt.store(true, std::memory_order_relaxed);
    sender.join();

    const auto lane_stats = work.stats();
    CHECK(drained);
    CHECK(in_order);
    CHECK(worker.stats().handled >= static_cast<std::uint64_t>(sent_before_stop));
    CHECK(worker.stats().handled + lane_stats.depth() == lane_stats.sent);  // the rest is still queued, not lost
    CHECK(lane_stats.sent == static_cast<std::uint64_t>(sent.load()));
}

TEST_CASE("timer_poll: a GUI thread ticking drains everything an audio thread sends" * doctest::test_suite("stress"))
{
    const int count = static_cast<int>(courier::test::stress_count(200'000));
    lane<int> meters(128);
    auto from_audio = meters.sender();
    int next = 0;
    bool in_order = true;
    timer_poll gui_timer(32, drain_source(meters.receiver(), [&](int&& v) { in_order = in_order && v == next++; }));

    std::thread audio([&] {
        for (int i = 0; i < count; ++i)
            while (!from_audio.try_send(i))
                (void)gui_timer.stats();  // any thread may read the counters
    });
    bool within_budget = true;
    while (next < count)
        within_budget = within_budget && gui_timer.tick() <= 32;
    audio.join();

    CHECK(in_order);
    CHECK(within_budget);
    CHECK(gui_timer.stats().handled == static_cast<std::uint64_t>(count));
}
