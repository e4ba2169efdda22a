// SPDX-License-Identifier: MIT
// Tests for <courier/experimental/priority_lanes.h>: urgent overtakes bulk, neither starves the other, budgets, lifetimes.
#include <courier/experimental/priority_lanes.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using courier::priority;
using courier::priority_lanes;
using courier::test::tracked;
using courier::test::tracking_log;

namespace {

// Fills a sender's lane with `count` messages numbered from `first`.
void send_many(courier::lane_sender<int>& to, int first, int count)
{
    for (int i = first; i < first + count; ++i)
        REQUIRE(to.try_send(i));
}

}  // namespace

TEST_CASE("priority_lanes")
{
    std::vector<std::pair<priority, int>> seen;
    seen.reserve(1024);
    auto record = [&seen](int&& m, priority p) { seen.emplace_back(p, m); };

    SUBCASE("drain handles an urgent message before bulk ones that were sent earlier")
    {
        // [priority-overtake]
        priority_lanes<int> lanes(16, 256, 2);  // keep 2 of each call's budget for bulk
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();
        for (int chunk = 0; chunk < 100; ++chunk)
            REQUIRE(bulk.try_send(chunk));  // a wavetable on its way, chunk by chunk
        REQUIRE(urgent.try_send(-1));         // then a note-off

        const auto report = rx.drain(record, 8);
        CHECK(report.urgent == 1);
        CHECK(report.bulk == 7);
        CHECK(seen.front() == std::pair{priority::urgent, -1});
        // [priority-overtake]
    }

    SUBCASE("drain handles budget - bulk_share urgent messages first, however much bulk is queued")
    {
        priority_lanes<int> lanes(64, 512, 3);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();
        send_many(bulk, 1000, 500);
        send_many(urgent, 0, 50);

        const auto report = rx.drain(record, 10);
        CHECK(report.urgent == 7);
        CHECK(report.bulk == 3);
        CHECK(report.total() == 10);
        REQUIRE(seen.size() == 10);
        for (std::size_t i = 0; i < 7; ++i)
            CHECK(seen[i] == std::pair{priority::urgent, static_cast<int>(i)});
        for (std::size_t i = 7; i < 10; ++i)
            CHECK(seen[i].first == priority::bulk);
    }

    SUBCASE("drain handles bulk_share bulk messages per call however much urgent is queued")
    {
        // [priority-bulk-share]
        priority_lanes<int> lanes(64, 64, 2);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();
        send_many(bulk, 0, 10);
        std::size_t bulk_handled = 0;
        for (int block = 0; block < 5; ++block)
        {
            while (urgent.try_send(-1)) {}  // an urgent flood: the lane is full at every call
            bulk_handled += rx.drain(record, 16).bulk;
        }
        CHECK(bulk_handled == 10);  // 2 per call: the backlog moves on despite the flood
        // [priority-bulk-share]
    }

    SUBCASE("drain with bulk_share 0 starves bulk while urgent fills the budget, then serves it")
    {
        priority_lanes<int> lanes(64, 64, 0);
        CHECK(lanes.bulk_share() == 0);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();
        send_many(bulk, 0, 10);
        for (int block = 0; block < 5; ++block)
        {
            while (urgent.try_send(-1)) {}
            CHECK(rx.drain(record, 16).bulk == 0);  // strict priority: bulk waits as long as the flood lasts
        }
        while (rx.drain(record, 16).urgent > 0) {}  // the flood ends; the last call already served bulk
        CHECK(lanes.stats().bulk.received == 10);
    }

    SUBCASE("drain gives budget one lane leaves unused to the other")
    {
        priority_lanes<int> lanes(64, 64, 3);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();

        send_many(urgent, 0, 2);
        send_many(bulk, 100, 20);
        auto report = rx.drain(record, 10);
        CHECK(report.urgent == 2);
        CHECK(report.bulk == 8);  // urgent's unused budget

        priority_lanes<int> flooded(64, 64, 3);
        auto urgent2 = flooded.urgent_sender();
        auto bulk2 = flooded.bulk_sender();
        auto rx2 = flooded.receiver();
        send_many(urgent2, 0, 20);
        send_many(bulk2, 100, 1);
        seen.clear();
        report = rx2.drain(record, 10);  // urgent: 7, then the 2 of bulk's share that bulk left unused
        CHECK(report.urgent == 9);
        CHECK(report.bulk == 1);
        REQUIRE(seen.size() == 10);
        CHECK(seen[7].first == priority::bulk);  // after the first 7 urgent, before the last 2
        CHECK(seen[8].first == priority::urgent);
    }

    SUBCASE("drain with a budget at or below bulk_share gives the whole budget to bulk")
    {
        priority_lanes<int> lanes(8, 8, 4);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();
        send_many(urgent, 0, 4);
        send_many(bulk, 10, 4);
        const auto report = rx.drain(record, 2);
        CHECK(report.urgent == 0);
        CHECK(report.bulk == 2);
    }

    SUBCASE("drain never handles more than its budget, and each lane stays in order")
    {
        priority_lanes<int> lanes(32, 32, 2);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();
        send_many(urgent, 0, 30);
        send_many(bulk, 0, 30);
        int next_urgent = 0;
        int next_bulk = 0;
        bool in_order = true;
        std::size_t calls = 0;
        for (;;)
        {
            const auto report = rx.drain(
                [&](int&& m, priority p) {
                    in_order = in_order && m == (p == priority::urgent ? next_urgent++ : next_bulk++);
                },
                5);
            CHECK(report.total() <= 5);
            if (report.total() == 0)
                break;
            ++calls;
        }
        CHECK(in_order);
        CHECK(next_urgent == 30);
        CHECK(next_bulk == 30);
        CHECK(calls == 12);
    }

    SUBCASE("drain neither allocates nor frees")
    {
        priority_lanes<int> lanes(16, 16, 1);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        auto rx = lanes.receiver();
        int sum = 0;
        const courier::test::allocation_counter allocations;
        for (int i = 0; i < 10; ++i)
        {
            REQUIRE(urgent.try_send(i));
            REQUIRE(bulk.try_send(i));
        }
        CHECK(rx.drain([&](int&& m, priority) { sum += m; }, 32).total() == 20);
        (void)lanes.stats();
        CHECK(allocations.count() == 0);
        CHECK(sum == 90);
    }

    SUBCASE("messages still queued die exactly once, in the destructor, on the destroying thread")
    {
        tracking_log log;
        {
            priority_lanes<tracked> lanes(8, 8, 1);
            auto urgent = lanes.urgent_sender();
            auto bulk = lanes.bulk_sender();
            auto rx = lanes.receiver();
            for (std::uint64_t i = 0; i < 4; ++i)
            {
                REQUIRE(urgent.try_send(tracked(log, i)));
                REQUIRE(bulk.try_send(tracked(log, i)));
            }
            CHECK(rx.drain([](tracked&&, priority) {}, 3).total() == 3);  // each dies right after its call
            CHECK(log.destroyed == 3);
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 8);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("stats count each lane, ends are taken once, and capacity 0 is refused")
    {
        priority_lanes<int> lanes(1, 2, 1);
        auto urgent = lanes.urgent_sender();
        auto bulk = lanes.bulk_sender();
        courier::priority_receiver<int> rx;
        CHECK_FALSE(static_cast<bool>(rx));
        rx = lanes.receiver();
        CHECK(static_cast<bool>(rx));
        REQUIRE(urgent.try_send(1));
        CHECK_FALSE(urgent.try_send(2));
        REQUIRE(bulk.try_send(3));
        const auto s = lanes.stats();
        CHECK(s.urgent.capacity == 1);
        CHECK(s.urgent.refused == 1);
        CHECK(s.bulk.sent == 1);
        CHECK_THROWS_AS((void)lanes.urgent_sender(), std::logic_error);
        CHECK_THROWS_AS((void)lanes.bulk_sender(), std::logic_error);
        CHECK_THROWS_AS((void)lanes.receiver(), std::logic_error);
        CHECK_THROWS_AS(priority_lanes<int>(0, 1, 0), std::invalid_argument);
        CHECK_THROWS_AS(priority_lanes<int>(1, 0, 0), std::invalid_argument);
    }

    SUBCASE("reset_thread_role lets a new consumer thread take over without a violation")
    {
        priority_lanes<int> lanes(4, 4, 1);
        auto urgent = lanes.urgent_sender();
        auto rx = lanes.receiver();
        REQUIRE(urgent.try_send(1));
        std::thread old_consumer([&] { CHECK(rx.drain([](int&&, priority) {}, 1).urgent == 1); });
        old_consumer.join();
        rx.reset_thread_role();  // setup: the old thread has stopped
        REQUIRE(urgent.try_send(2));
        CHECK(rx.drain([](int&&, priority) {}, 1).urgent == 1);
    }
}

// The bulk backlog is queued before the flood starts and nothing else writes the bulk lane, so every call must
// take min(bulk_share, backlog left) bulk messages while a producer thread keeps the urgent lane full.
TEST_CASE("priority_lanes: an urgent flood from another thread cannot starve a bulk backlog" *
          doctest::test_suite("stress"))
{
    const int backlog = static_cast<int>(courier::test::stress_count(40'000));
    constexpr std::size_t budget = 16;
    constexpr std::size_t share = 4;
    priority_lanes<int> lanes(64, static_cast<std::size_t>(backlog), share);
    auto urgent = lanes.urgent_sender();
    auto bulk = lanes.bulk_sender();
    auto rx = lanes.receiver();
    send_many(bulk, 0, backlog);

    std::atomic<bool> done{false};
    std::thread flood([&] {
        int i = 0;
        while (!done.load(std::memory_order_relaxed))  // a stop flag only; no data is read through it
            if (urgent.try_send(i))
                ++i;
    });

    int bulk_left = backlog;
    int next_urgent = 0;
    int next_bulk = 0;
    bool in_order = true;
    int short_calls = 0;  // calls that took less than min(share, bulk_left) bulk messages: must stay 0
    int calls = 0;
    while (bulk_left > 0)
    {
        const auto report = rx.drain(
            [&](int&& m, priority p) {
                in_order = in_order && m == (p == priority::urgent ? next_urgent++ : next_bulk++);
            },
            budget);
        const auto expected_at_least = std::min<std::size_t>(share, static_cast<std::size_t>(bulk_left));
        if (report.bulk < expected_at_least || report.total() > budget)
            ++short_calls;
        bulk_left -= static_cast<int>(report.bulk);
        ++calls;
    }
    done.store(true, std::memory_order_relaxed);
    flood.join();

    CHECK(short_calls == 0);
    CHECK(in_order);
    CHECK(calls <= (backlog + static_cast<int>(share) - 1) / static_cast<int>(share));
    CHECK(next_bulk == backlog);
}

TEST_CASE("priority_lanes: urgent and bulk from two threads arrive complete and in order per lane" *
          doctest::test_suite("stress"))
{
    const int count = static_cast<int>(courier::test::stress_count(300'000));
    priority_lanes<int> lanes(32, 32, 2);
    auto urgent = lanes.urgent_sender();
    auto bulk = lanes.bulk_sender();
    auto rx = lanes.receiver();

    auto produce = [&](courier::lane_sender<int>& to) {
        for (int i = 0; i < count; ++i)
            while (!to.try_send(i))
                std::this_thread::yield();
    };
    std::thread urgent_producer([&] { produce(urgent); });
    std::thread bulk_producer([&] { produce(bulk); });

    int next_urgent = 0;
    int next_bulk = 0;
    bool in_order = true;
    bool within_budget = true;
    while (next_urgent < count || next_bulk < count)
    {
        const auto report = rx.drain(
            [&](int&& m, priority p) {
                in_order = in_order && m == (p == priority::urgent ? next_urgent++ : next_bulk++);
            },
            8);
        within_budget = within_budget && report.total() <= 8;
    }
    urgent_producer.join();
    bulk_producer.join();
    CHECK(in_order);
    CHECK(within_budget);
    const auto s = lanes.stats();
    CHECK(s.urgent.received == static_cast<std::uint64_t>(count));
    CHECK(s.bulk.received == static_cast<std::uint64_t>(count));
}
