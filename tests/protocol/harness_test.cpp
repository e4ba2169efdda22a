// SPDX-License-Identifier: MIT
// Tests for the deterministic harness (core/testing/): a seed replays its interleaving exactly, the clock is
// Simulated, the properties fail when they should, and deliberately broken protocols are caught with the seed
// that replays the failure.
#include <courier/testing/fuzz.h>
#include <courier/testing/properties.h>
#include <courier/testing/scheduler.h>
#include <courier/protocol/request_reply.h>
#include <courier/protocol/subscription.h>

#include "tests/protocol/scenario.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using courier::port_table;
using courier::protocol::duplex;
using courier::protocol::envelope;
using courier::protocol::detail::reply_kind;
using courier::send_status;
using courier::protocol::detail::subscription_kind;
using courier::testing::scheduler;
using courier::testing::side;
using courier::testing::step_context;

namespace {

// The order in which the sides ran, as a string of 'c' and 'a', for `steps` steps of each side.
std::string trace_of(std::uint64_t seed, int steps)
{
    std::string trace;
    int control_left = steps;
    int audio_left = steps;
    scheduler s(seed);
    const auto result = s.run([&](step_context&) { trace += 'c'; return --control_left > 0; },
                              [&](step_context&) { trace += 'a'; return --audio_left > 0; });
    return result.finished ? trace : std::string("unfinished");
}

}  // namespace

TEST_CASE("scheduler")
{
    SUBCASE("run replays the same interleaving when given the same seed")
    {
        // [harness-replay]
        const std::string first = trace_of(42, 50);
        CHECK(first == trace_of(42, 50));  // a failure at seed 42 replays exactly
        int different = 0;
        for (std::uint64_t seed = 1; seed <= 20; ++seed)
            different += trace_of(seed, 50) != first ? 1 : 0;
        CHECK(different >= 15);  // and other seeds explore other interleavings
        // [harness-replay]
        CHECK(first.size() == 100);
    }

    SUBCASE("run gives each side its own thread and advances the simulated clock once per audio step")
    {
        std::thread::id control_thread;
        std::thread::id audio_thread;
        std::uint64_t last_frames = 0;
        bool clock_ok = true;
        scheduler s(7, {.max_steps = 1000, .sample_rate = 48000.0, .block_frames = 128});
        int audio_steps = 0;
        const auto result = s.run(
            [&](step_context& c) {
                control_thread = std::this_thread::get_id();
                return c.who == side::control && c.step < 30;
            },
            [&](step_context& c) {
                audio_thread = std::this_thread::get_id();
                clock_ok = clock_ok && c.clock.frames() == last_frames && c.who == side::audio;
                last_frames = c.clock.frames() + c.clock.block_frames();
                return ++audio_steps < 10;
            });
        CHECK(result.finished);
        CHECK(clock_ok);
        CHECK(result.audio_steps == 10);
        CHECK(result.steps == result.audio_steps + result.control_steps);
        CHECK(s.audio_clock().frames() == 1280);
        CHECK(s.audio_clock().blocks() == 10);
        CHECK(s.audio_clock().seconds() == doctest::Approx(1280.0 / 48000.0));
        CHECK(s.seed() == 7);
        CHECK(control_thread != audio_thread);
        CHECK(control_thread != std::this_thread::get_id());
    }

    SUBCASE("run reports a step that throws and a run that never finishes")
    {
        scheduler thrower(1);
        const auto thrown = thrower.run([](step_context&) -> bool { throw std::runtime_error("boom"); },
                                        [](step_context&) { return false; });
        CHECK_FALSE(thrown.finished);
        CHECK(thrown.error.find("boom") != std::string::npos);
        scheduler endless(1, {.max_steps = 100, .sample_rate = 48000.0, .block_frames = 64});
        const auto stuck = endless.run([](step_context&) { return true; }, [](step_context&) { return true; });
        CHECK_FALSE(stuck.finished);
        CHECK(stuck.steps == 100);
        CHECK(stuck.error.find("max_steps") != std::string::npos);
    }
}

TEST_CASE("seeded_random")
{
    SUBCASE("next gives the same sequence for the same seed, and below and chance stay in range")
    {
        courier::testing::seeded_random a(5);
        courier::testing::seeded_random b(5);
        courier::testing::seeded_random c(6);
        bool same = true;
        bool in_range = true;
        int heads = 0;
        for (int i = 0; i < 1000; ++i)
        {
            same = same && a.next() == b.next();
            in_range = in_range && c.below(7) < 7;
            heads += c.chance(50) ? 1 : 0;
        }
        CHECK(same);
        CHECK(in_range);
        CHECK(heads > 400);
        CHECK(heads < 600);
    }
}

TEST_CASE("property checks")
{
    SUBCASE("terminal_tracker reports a second terminal, a message after the terminal and a missing one")
    {
        courier::testing::property_log log;
        courier::testing::terminal_tracker t(log);
        t.started(1);
        t.started(2);
        t.non_terminal(1, "progress");
        t.terminal(1, "final");
        CHECK(log.ok());
        t.non_terminal(1, "progress");  // after the terminal
        t.terminal(1, "final");         // a second terminal
        t.all_settled();                // 2 never settled
        CHECK(log.failures() == 3);
        CHECK(log.first_failure() == "progress after the terminal of id 1");
        CHECK(t.count() == 2);
    }

    SUBCASE("pool_witness reports a message that died away from its source or was never destroyed")
    {
        courier::testing::property_log log;
        courier::testing::pool_witness w;
        {
            courier::testing::pool_witness::token here(w);
            courier::testing::pool_witness::token moved(std::move(here));
            std::thread([&] { courier::testing::pool_witness::token there(std::move(moved)); }).join();
        }
        CHECK(w.made_count() == 1);
        CHECK(w.died_count() == 1);
        CHECK(w.died_away_count() == 1);
        w.check(log, "messages");
        CHECK_FALSE(log.ok());
        w.begin_teardown();
        { courier::testing::pool_witness::token late(w); }
        CHECK(w.died_at_teardown_count() == 1);
    }

    SUBCASE("fuzz_seed_count reads COURIER_FUZZ_SEEDS")
    {
        const char* old = std::getenv("COURIER_FUZZ_SEEDS");
        const std::string saved = old != nullptr ? old : "";
        ::setenv("COURIER_FUZZ_SEEDS", "37", 1);
        CHECK(courier::testing::fuzz_seed_count(5) == 37);
        ::unsetenv("COURIER_FUZZ_SEEDS");
        CHECK(courier::testing::fuzz_seed_count(5) == 5);
        if (old != nullptr)
            ::setenv("COURIER_FUZZ_SEEDS", saved.c_str(), 1);
    }
}

namespace {

// A deliberately broken publisher: on an unsubscribe it sends the acknowledgement at once but forgets the
// subscriber only at its next poll, so a notification sent in between arrives after the ack (the hand-rolled
// `alive` flag bug). The subscriber side checks the subscription property (no notification after the acknowledgement) with the harness's terminal_tracker.
std::string broken_subscription_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    port_table table(2, 1);
    duplex<std::monostate, int, subscription_kind> link(table, 1, 4, 2);
    courier::testing::terminal_tracker tracker(run.log);
    std::uint64_t subscribed = 0;
    bool acked = false;
    auto subscriber = [&](step_context& c) {
        auto& me = link.a();
        if (subscribed == 0 && me.try_signal(1, subscription_kind::subscribe) == send_status::sent)
        {
            subscribed = 1;
            tracker.started(1);
        }
        else if (subscribed == 1 && c.random.chance(30) &&
                 me.try_signal(1, subscription_kind::unsubscribe) == send_status::sent)
            subscribed = 2;
        me.drain([&](envelope<int, subscription_kind, std::monostate>&& m) {
            if (m.kind == subscription_kind::ack)
            {
                tracker.terminal(m.id, "ack");
                acked = true;
            }
            else
                tracker.non_terminal(m.id, "notification");
        }, 4);
        return !(acked && c.random.chance(20));  // linger a little after the ack, to see late notifications
    };
    std::uint64_t current = 0;
    bool forget_at_next_poll = false;
    auto publisher = [&](step_context& c) {
        auto& me = link.b();
        me.collect();
        if (c.random.chance(50))
        {
            if (forget_at_next_poll)
                current = 0;  // too late: the ack has already gone out
            forget_at_next_poll = false;
            me.drain([&](envelope<std::monostate, subscription_kind, int>&& m) {
                if (m.kind == subscription_kind::subscribe)
                    current = m.id;
                else if (m.kind == subscription_kind::unsubscribe)
                {
                    (void)me.try_signal(m.id, subscription_kind::ack);
                    forget_at_next_poll = true;  // the bug: `current = 0` belongs here
                }
            }, 4);
        }
        if (current != 0)
            (void)me.try_post(current, subscription_kind::notify, 1);
        return !acked;
    };
    const std::string failure = run.run(subscriber, publisher);
    return failure;
}

// A deliberately broken worker: on a cancel it always answers `cancelled`, even for a request whose result it
// already sent, so when the cancel loses the race the requester gets two terminals.
std::string broken_future_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    port_table table(2, 1);
    duplex<int, int, reply_kind> link(table, 4, 5, 4);
    courier::testing::terminal_tracker tracker(run.log);
    std::uint64_t asked = 0;
    std::uint64_t settled = 0;
    auto requester = [&](step_context& c) {
        auto& me = link.a();
        if (asked < 4 && me.try_post(asked + 1, reply_kind::request, 0) == send_status::sent)
            tracker.started(++asked);
        if (asked > 0 && c.random.chance(30))
            (void)me.try_signal(1 + c.random.below(asked), reply_kind::cancel);
        me.drain([&](envelope<int, reply_kind, int>&& m) {
            tracker.terminal(m.id, m.kind == reply_kind::reply ? "result" : "cancelled");
            ++settled;
        }, 4);
        me.collect();
        return settled < 4 || c.random.chance(50);
    };
    std::vector<std::uint64_t> open;
    auto worker = [&](step_context& c) {
        auto& me = link.b();
        me.collect();
        me.drain([&](envelope<int, reply_kind, int>&& m) {
            if (m.kind == reply_kind::request)
                open.push_back(m.id);
            else  // the bug: no check that the request is still pending
            {
                std::erase(open, m.id);
                (void)me.try_signal(m.id, reply_kind::cancelled);
            }
        }, 4);
        if (!open.empty() && c.random.chance(50))
        {
            (void)me.try_post(open.front(), reply_kind::reply, 1);
            open.erase(open.begin());
        }
        return settled < 4;
    };
    return run.run(requester, worker);
}

}  // namespace

TEST_CASE("fuzz: the harness catches broken protocols and names the seed that replays the failure")
{
    SUBCASE("fuzz fails a subscription that sends a notification after the acknowledgement")
    {
        // [harness-broken]
        const auto report = courier::testing::run_seeds("broken subscription (expected to fail)", 1, 2000,
                                                        broken_subscription_scenario);
        REQUIRE(report.failed);  // the harness is able to fail
        CHECK(report.failure.find("notification after the terminal") != std::string::npos);
        CHECK(broken_subscription_scenario(report.failed_seed) == report.failure);  // and replays it
        // [harness-broken]
    }

    SUBCASE("fuzz fails a future that delivers both the result and the cancel")
    {
        const auto report =
            courier::testing::run_seeds("broken future (expected to fail)", 1, 2000, broken_future_scenario);
        REQUIRE(report.failed);
        CHECK(report.failure.find("second terminal") != std::string::npos);
        CHECK(broken_future_scenario(report.failed_seed) == report.failure);
    }

    SUBCASE("run_seeds runs every seed of a scenario that holds, and fuzz replays only COURIER_FUZZ_SEED")
    {
        const auto report =
            courier::testing::run_seeds("always fine", 1, 25, [](std::uint64_t) { return std::string(); });
        CHECK_FALSE(report.failed);
        CHECK(report.runs == 25);
        const char* old = std::getenv("COURIER_FUZZ_SEED");
        const std::string saved = old != nullptr ? old : "";
        ::setenv("COURIER_FUZZ_SEED", "9", 1);
        std::uint64_t replayed = 0;
        const auto one = courier::testing::fuzz("replay", 25, [&](std::uint64_t seed) {
            replayed = seed;
            return std::string();
        });
        CHECK(one.runs == 1);  // COURIER_FUZZ_SEED replays that seed only
        CHECK(replayed == 9);
        ::unsetenv("COURIER_FUZZ_SEED");
        if (old != nullptr)
            ::setenv("COURIER_FUZZ_SEED", saved.c_str(), 1);
    }
}
