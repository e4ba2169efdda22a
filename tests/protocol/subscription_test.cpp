// SPDX-License-Identifier: MIT
// Tests for <courier/protocol/subscription.h>: notifications flow until unsubscribe, the unsubscribe is
// Acknowledged, and no notification arrives after the acknowledgement; seeded schedule fuzzing with either
// party as the audio thread; real threads for TSan.
#include <courier/protocol/subscription.h>

#include "tests/protocol/scenario.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using courier::port_table;
using courier::send_status;
using courier::protocol::subscriber_state;
using courier::protocol::subscription;
using courier::protocol::subscription_event;
using courier::test::witnessed;

TEST_CASE("subscription")
{
    SUBCASE("take hands notifications until the acknowledgement, and try_notify is closed after it")
    {
        // [protocol-subscription]
        port_table table(2, 1);
        subscription<float> meters(table, 4);  // 4 notifications out at most
        auto& gui = meters.subscribing();
        auto& engine = meters.publishing();

        CHECK(gui.try_subscribe().result == send_status::sent);
        engine.poll(8);                                   // audio: learns of the subscriber
        CHECK(engine.try_notify(0.25f) == send_status::sent);
        CHECK(gui.try_unsubscribe() == send_status::sent);
        engine.poll(8);                                   // audio: answers with the acknowledgement
        CHECK(engine.try_notify(0.5f) == send_status::closed);  // nothing can follow the ack

        std::vector<subscription_event> seen;
        gui.drain([&](std::uint64_t, subscription_event e, float*) { seen.push_back(e); }, 8);
        CHECK(seen == std::vector{subscription_event::notification, subscription_event::ack});
        // [protocol-subscription]
        CHECK(gui.state() == subscriber_state::idle);
        CHECK(gui.id() == 1);
        CHECK_FALSE(engine.subscribed());
        CHECK(engine.collect() == 0);
        CHECK(engine.in_flight() == 0);
        CHECK(engine.stats().sent == 2);  // the notification and the acknowledgement
    }

    SUBCASE("try_subscribe and try_unsubscribe answer closed in the wrong state")
    {
        port_table table(2, 1);
        subscription<int> s(table, 2);
        CHECK(s.subscribing().try_unsubscribe() == send_status::closed);
        CHECK(s.subscribing().try_subscribe().id == 1);
        CHECK(s.subscribing().state() == subscriber_state::subscribed);
        CHECK(s.subscribing().try_subscribe().result == send_status::closed);
        CHECK(s.subscribing().try_unsubscribe() == send_status::sent);
        CHECK(s.subscribing().state() == subscriber_state::unsubscribing);
        CHECK(s.subscribing().try_unsubscribe() == send_status::closed);
    }

    SUBCASE("take ends a live subscription with publisher_gone when the publisher has closed")
    {
        port_table table(2, 1);
        subscription<int> s(table, 2);
        (void)s.subscribing().try_subscribe();
        s.publishing().poll(8);
        (void)s.publishing().try_notify(7);
        (void)s.publishing().close();
        std::vector<subscription_event> seen;
        s.subscribing().drain([&](std::uint64_t, subscription_event e, int*) { seen.push_back(e); }, 8);
        CHECK(seen == std::vector{subscription_event::notification, subscription_event::publisher_gone});
        CHECK(s.subscribing().close() == 0);
    }
}

namespace {

std::string subscription_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    courier::testing::pool_witness notes;
    {
        courier::testing::seeded_random setup(seed);
        const std::size_t credits = 1 + setup.below(4);
        const std::uint64_t cycles = 1 + setup.below(4);
        port_table table(2, 1);
        subscription<witnessed> link(table, credits);
        courier::testing::terminal_tracker tracker(run.log);
        std::uint64_t acks = 0;
        bool subscriber_done = false;

        auto sub = [&](courier::testing::step_context& c) {
            auto& me = link.subscribing();
            if (me.state() == subscriber_state::idle && me.id() < cycles && c.random.chance(40))
            {
                const auto t = me.try_subscribe();
                if (t.result == send_status::sent)
                    tracker.started(t.id);
            }
            else if (me.state() == subscriber_state::subscribed && c.random.chance(15))
                (void)me.try_unsubscribe();
            me.drain(
                [&](std::uint64_t id, subscription_event e, witnessed* n) {
                    if (e == subscription_event::notification)
                    {
                        tracker.non_terminal(id, "notification");
                        run.log.expect(n != nullptr && n->value == id, "a notification of another subscription");
                    }
                    else
                    {
                        tracker.terminal(id, e == subscription_event::ack ? "ack" : "publisher_gone");
                        ++acks;
                    }
                },
                1 + c.random.below(3));
            if (me.id() == cycles && me.state() == subscriber_state::idle)
            {
                subscriber_done = true;
                return false;
            }
            return true;
        };
        auto pub = [&](courier::testing::step_context& c) {
            auto& me = link.publishing();
            me.collect();
            run.log.expect(me.in_flight() <= credits, "more notifications out than credits");
            if (subscriber_done)
                return me.in_flight() != 0;  // stay until every notification came home
            if (c.random.chance(50))
                me.poll(1 + c.random.below(2));
            if (me.subscribed())
            {
                const send_status o = me.try_notify(notes, link.subscribing().id());
                run.log.expect(o == send_status::sent || o == send_status::no_credit,
                               std::string("notification refused as ") + to_string(o));
            }
            return true;
        };
        // The publisher reads the subscriber's id only to label notifications: both ids are the same
        // subscription while the publisher is subscribed (the steps never overlap).
        const std::string failure = run.run(sub, pub);
        if (!failure.empty())
            return failure;
        tracker.all_settled();
        run.log.expect(acks == cycles, "an unsubscribe never acknowledged");
        notes.begin_teardown();
    }
    notes.check(run.log, "notifications");
    return run.log.first_failure();
}

}  // namespace

TEST_CASE("subscription: seeded schedule fuzzing, no notification after the acknowledgement")
{
    const auto report =
        courier::testing::fuzz("subscription", courier::test::protocol_fuzz_seeds(), subscription_scenario);
    CHECK_MESSAGE(!report.failed, "seed ", report.failed_seed, ": ", report.failure);
}

TEST_CASE("subscription: a subscriber and a publisher on two threads" * doctest::test_suite("stress"))
{
    const std::uint64_t cycles = courier::test::stress_count(5'000);
    port_table table(2, 1);
    subscription<std::uint64_t> link(table, 8);
    std::atomic<bool> stop{false};
    std::thread publisher([&] {
        std::uint64_t label = 0;
        while (!stop.load(std::memory_order_acquire))  // pairs with the subscriber's release store
        {
            if (link.publishing().poll(4) == 0)
                std::this_thread::yield();  // the machine may have fewer cores than spinning threads
            (void)link.publishing().try_notify(++label);
            link.publishing().collect();
        }
    });
    std::uint64_t after_ack = 0;
    std::uint64_t notifications = 0;
    std::vector<std::uint8_t> acked(cycles + 1, 0);
    auto& me = link.subscribing();
    while (!(me.id() == cycles && me.state() == subscriber_state::idle))
    {
        if (me.state() == subscriber_state::idle)
            (void)me.try_subscribe();
        else if (me.state() == subscriber_state::subscribed && ++notifications % 3 == 0)
            (void)me.try_unsubscribe();
        if (me.drain(
                [&](std::uint64_t id, subscription_event e, std::uint64_t*) {
                    if (acked[id] != 0)
                        ++after_ack;
                    if (e != subscription_event::notification)
                        acked[id] = 1;
                },
                16) == 0)
            std::this_thread::yield();
    }
    stop.store(true, std::memory_order_release);
    publisher.join();
    CHECK(after_ack == 0);
}
