// SPDX-License-Identifier: MIT
// Tests for <courier/lane.h>: FIFO order, full and empty, counters, destruction sites, role guard, stress.
#include <courier/lane.h>
#include <courier/rwq_storage.h>
#include <courier/ring_storage.h>

#include "tests/core/lane_storage_policies.h"
#include "tests/support/allocation_counter.h"
#include "tests/support/overlapping_threads.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using courier::lane;
using courier::test::tracked;
using courier::test::tracking_log;

TEST_CASE("lane")
{
    SUBCASE("try_receive returns messages in the order try_send accepted them")
    {
        // [lane-send-receive]
        lane<int> l(8);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 5; ++i)
            REQUIRE(tx.try_send(i));
        for (int i = 0; i < 5; ++i)
            CHECK(rx.try_receive() == i);
        // [lane-send-receive]
    }

    SUBCASE("try_receive returns nothing when the lane is empty")
    {
        lane<int> l(4);
        auto rx = l.receiver();
        CHECK_FALSE(rx.try_receive().has_value());
    }

    SUBCASE("try_send returns false and leaves the message untouched when the lane is full")
    {
        // [lane-full]
        lane<std::unique_ptr<int>> l(2);
        auto tx = l.sender();
        REQUIRE(tx.try_send(std::make_unique<int>(1)));
        REQUIRE(tx.try_send(std::make_unique<int>(2)));
        auto third = std::make_unique<int>(3);
        CHECK_FALSE(tx.try_send(std::move(third)));
        REQUIRE(third != nullptr);
        CHECK(*third == 3);
        CHECK(l.stats().refused == 1);
        // [lane-full]
    }

    SUBCASE("capacity is exact, whatever the storage rounds up to")
    {
        for (std::size_t capacity : {1u, 2u, 3u, 7u, 100u, 1000u})
        {
            lane<int> l(capacity);
            auto tx = l.sender();
            std::size_t accepted = 0;
            while (tx.try_send(1))
                ++accepted;
            CHECK(accepted == capacity);
            CHECK(l.capacity() == capacity);
        }
    }

    SUBCASE("a lane of capacity 1 alternates between full and empty")
    {
        lane<int> l(1);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 100; ++i)
        {
            REQUIRE(tx.try_send(i));
            REQUIRE_FALSE(tx.try_send(-1));
            REQUIRE(rx.try_receive() == i);
            REQUIRE_FALSE(rx.try_receive().has_value());
        }
        CHECK(l.stats().refused == 100);
        CHECK(l.stats().high_water == 1);
    }

    SUBCASE("order survives many wrap-arounds of the storage")
    {
        lane<int> l(5);
        auto tx = l.sender();
        auto rx = l.receiver();
        int next_in = 0;
        int next_out = 0;
        for (int round = 0; round < 1000; ++round)
        {
            while (tx.try_send(next_in))
                ++next_in;
            for (int k = 0; k < 3; ++k)
                REQUIRE(rx.try_receive() == next_out++);
        }
        while (auto m = rx.try_receive())
            REQUIRE(*m == next_out++);
        CHECK(next_out == next_in);
    }

    SUBCASE("drain handles at most max_count messages and returns how many")
    {
        lane<int> l(16);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 10; ++i)
            REQUIRE(tx.try_send(i));
        std::vector<int> seen;
        seen.reserve(16);
        CHECK(rx.drain([&](int v) { seen.push_back(v); }, 4) == 4);
        CHECK(seen == std::vector<int>{0, 1, 2, 3});
        CHECK(rx.drain([&](int v) { seen.push_back(v); }, 100) == 6);
        CHECK(seen.size() == 10);
        CHECK(rx.drain([&](int v) { seen.push_back(v); }, 100) == 0);
    }

    SUBCASE("drain_in_place hands each message in its slot, oldest first, and frees the slot after the call")
    {
        lane<int> l(16);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 5; ++i)
            REQUIRE(tx.try_send(i));
        std::vector<int> seen;
        std::vector<std::uint64_t> depth_during;
        seen.reserve(16);
        depth_during.reserve(16);
        CHECK(rx.drain_in_place(
                  [&](int& v) {
                      seen.push_back(v);
                      depth_during.push_back(l.stats().depth());  // still in the lane while it runs
                  },
                  3) == 3);
        CHECK(seen == std::vector<int>{0, 1, 2});
        CHECK(depth_during == std::vector<std::uint64_t>{5, 4, 3});
        CHECK(l.stats().depth() == 2);
        CHECK(rx.drain_in_place([&](int& v) { seen.push_back(v); }, 100) == 2);
        CHECK(seen == std::vector<int>{0, 1, 2, 3, 4});
        CHECK(rx.drain_in_place([&](int& v) { seen.push_back(v); }, 100) == 0);
    }

    SUBCASE("try_emplace constructs in place from arguments")
    {
        lane<std::pair<int, double>> l(2);
        auto tx = l.sender();
        auto rx = l.receiver();
        REQUIRE(tx.try_emplace(7, 0.5));
        const auto m = rx.try_receive();
        REQUIRE(m.has_value());
        CHECK(m->first == 7);
        CHECK(m->second == 0.5);
    }

    SUBCASE("try_send copies a const message")
    {
        lane<int> l(1);
        auto tx = l.sender();
        const int value = 42;
        CHECK(tx.try_send(value));
        CHECK(l.receiver().try_receive() == 42);
    }

    SUBCASE("stats count sent, received, refused and the high-water mark")
    {
        lane<int> l(4);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 6; ++i)
            (void)tx.try_send(i);  // two are refused
        (void)rx.try_receive();
        (void)tx.try_send(9);
        const auto s = tx.stats();
        CHECK(s.capacity == 4);
        CHECK(s.sent == 5);
        CHECK(s.received == 1);
        CHECK(s.refused == 2);
        CHECK(s.high_water == 4);
        CHECK(s.depth() == 4);
        CHECK(rx.stats().sent == 5);
    }

    SUBCASE("the high-water mark is capacity once a send was refused, even before the consumer looks")
    {
        lane<int> l(8);
        auto tx = l.sender();
        for (int i = 0; i < 9; ++i)
            (void)tx.try_send(i);
        CHECK(l.stats().refused == 1);
        CHECK(l.stats().high_water == 8);
    }

    SUBCASE("the high-water mark is never a stale bound, and at most capacity / 16 below the truth")
    {
        lane<int> l(64);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 1000; ++i)
        {
            REQUIRE(tx.try_send(i));
            REQUIRE(tx.try_send(i));
            REQUIRE(rx.try_receive().has_value());
            REQUIRE(rx.try_receive().has_value());
            REQUIRE_FALSE(rx.try_receive().has_value());
        }
        // The producer's cached view of the consumer reached 64 often; each of its looks (every 4 sends) saw the
        // true depth instead, which never passed 2.
        CHECK(l.stats().high_water <= 2);
        CHECK(l.stats().high_water + 4 >= 2);
    }

    SUBCASE("try_send, try_receive and drain neither allocate nor free")
    {
        lane<std::unique_ptr<int>> l(4);
        auto tx = l.sender();
        auto rx = l.receiver();
        auto item = std::make_unique<int>(7);
        auto spare = std::make_unique<int>(8);
        const courier::test::allocation_counter allocations;
        CHECK(tx.try_send(std::move(item)));
        item = std::move(rx.try_receive().value());  // take the pointer back, so nothing is freed
        CHECK(tx.try_send(std::move(spare)));
        CHECK(rx.drain([&](std::unique_ptr<int>&& p) { spare = std::move(p); }, 4) == 1);
        CHECK_FALSE(rx.try_receive().has_value());
        (void)l.stats();
        CHECK(allocations.count() == 0);
    }

    SUBCASE("messages still queued die exactly once, in the destructor, on the destroying thread")
    {
        tracking_log log;
        {
            lane<tracked> l(8);
            auto tx = l.sender();
            auto rx = l.receiver();
            for (std::uint64_t i = 0; i < 5; ++i)
                REQUIRE(tx.try_send(tracked(log, i)));
            { auto first = rx.try_receive(); }  // dies here, once
            CHECK(log.destroyed == 1);
            CHECK(log.live == 4);
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 5);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("sender and receiver throw when taken twice, and capacity 0 is refused")
    {
        lane<int> l(1);
        (void)l.sender();
        (void)l.receiver();
        CHECK_THROWS_AS((void)l.sender(), std::logic_error);
        CHECK_THROWS_AS((void)l.receiver(), std::logic_error);
        CHECK_THROWS_AS(lane<int>(0), std::invalid_argument);
    }

    SUBCASE("moved endpoints keep working and the moved-from ones are empty")
    {
        lane<int> l(2);
        courier::lane_sender<int> tx;
        CHECK_FALSE(static_cast<bool>(tx));
        tx = l.sender();
        auto tx2 = std::move(tx);
        CHECK_FALSE(static_cast<bool>(tx));
        CHECK(static_cast<bool>(tx2));
        courier::lane_receiver<int> rx;
        rx = l.receiver();
        REQUIRE(tx2.try_send(5));
        CHECK(rx.try_receive() == 5);
    }
}

#if COURIER_CHECKS
TEST_CASE("lane: the role guard catches a second producer thread inside the sender at the same time" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    lane<int> l(16);
    auto tx = l.sender();
    // The classic bug: two threads sending through one sender at once.
    courier::test::run_overlapping([&] { (void)tx.try_send(1); }, [&] { (void)tx.try_send(2); });
    CHECK(violations.count() == 1);

    // A hand-over between two live threads, one after the other, is what a host does: no report, no reset.
    courier::test::run_on_two_live_threads([&] { (void)tx.try_send(3); }, [&] { (void)tx.try_send(4); });
    CHECK(violations.count() == 1);
}

TEST_CASE("lane: the role guard catches a second consumer thread inside the receiver at the same time" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    lane<int> l(16);
    auto rx = l.receiver();
    courier::test::run_overlapping([&] { (void)rx.try_receive(); }, [&] { (void)rx.try_receive(); });
    CHECK(violations.count() == 1);
    courier::test::run_on_two_live_threads([&] { (void)rx.try_receive(); }, [&] { (void)rx.try_receive(); });
    CHECK(violations.count() == 1);
}

TEST_CASE("lane: a drain handler blocked inside the receiver makes a second receiving thread a violation" *
          doctest::test_suite("stress"))
{
    // No test hook: the first thread is held inside drain() by its own handler, as a slow handler would be.
    const courier::test::violation_recorder violations;
    lane<int> l(16, "meter feed");
    auto tx = l.sender();
    auto rx = l.receiver();
    REQUIRE(tx.try_send(1));
    std::latch in_handler(1);
    std::latch intruder_done(1);
    std::thread first([&] {
        rx.drain(
            [&](int) {
                in_handler.count_down();
                intruder_done.wait();
            },
            1);
    });
    std::thread second([&] {
        in_handler.wait();
        (void)rx.try_receive();  // the lane is empty by now: the handler's message left before the call
        intruder_done.count_down();
    });
    second.join();
    first.join();
    CHECK(violations.count() == 1);
    const std::string text = violations.last();
    CHECK(text.find("courier::lane<int") != std::string::npos);
    CHECK(text.find("receiver") != std::string::npos);
    CHECK(text.find("\"meter feed\"") != std::string::npos);
}

TEST_CASE("lane: one producer thread and one consumer thread raise no role violation" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    lane<int> l(16);
    auto tx = l.sender();
    auto rx = l.receiver();
    courier::test::run_overlapping([&] { (void)tx.try_send(1); }, [&] { (void)rx.try_receive(); });
    CHECK(violations.count() == 0);
}
#endif

// The storage policies every lane guarantee is tested on.
using courier::test::on_moodycamel;
using courier::test::on_ring;

TEST_CASE_TEMPLATE("lane high-water mark on each storage", Policy, on_moodycamel, on_ring)
{
    SUBCASE("the mark is never above the true maximum, and at most capacity / 16 below it")
    {
        lane<int, typename Policy::template storage<int>> l(64);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 5; ++i)
            REQUIRE(tx.try_send(i));
        REQUIRE(rx.try_receive().has_value());
        for (int i = 0; i < 5; ++i)
            REQUIRE(tx.try_send(i));  // 9 queued: the true maximum
        while (rx.try_receive().has_value())
        {
        }
        const auto mark = l.stats().high_water;
        CHECK(mark <= 9);
        CHECK(mark + 64 / 16 >= 9);
    }
}

TEST_SUITE("stress")
{
    TEST_CASE_TEMPLATE("lane: millions of messages cross between two threads, none lost, duplicated or reordered",
                       Policy, on_moodycamel, on_ring)
    {
        const std::uint64_t count = courier::test::stress_count(4'000'000);
        lane<std::uint64_t, typename Policy::template storage<std::uint64_t>> l(64);  // often full, often empty
        auto tx = l.sender();
        auto rx = l.receiver();

        std::thread producer([&] {
            for (std::uint64_t i = 0; i < count; ++i)
                while (!tx.try_send(i))
                    std::this_thread::yield();
        });

        std::uint64_t expected = 0;
        std::uint64_t out_of_order = 0;
        while (expected < count)
        {
            rx.drain(
                [&](std::uint64_t v) {
                    if (v != expected)
                        ++out_of_order;
                    expected = v + 1;
                },
                32);
        }
        producer.join();
        CHECK(out_of_order == 0);
        CHECK_FALSE(rx.try_receive().has_value());
        const auto s = l.stats();
        CHECK(s.sent == count);
        CHECK(s.received == count);
        CHECK(s.high_water <= 64);
    }

    TEST_CASE_TEMPLATE("lane: owning messages cross threads and each dies exactly once", Policy, on_moodycamel,
                       on_ring)
    {
        const std::uint64_t count = courier::test::stress_count(500'000);
        tracking_log log;
        {
            lane<tracked, typename Policy::template storage<tracked>> l(32);
            auto tx = l.sender();
            auto rx = l.receiver();
            std::thread producer([&] {
                for (std::uint64_t i = 0; i < count; ++i)
                {
                    tracked message(log, i);
                    while (!tx.try_send(std::move(message)))  // untouched when refused, so it can be retried
                        std::this_thread::yield();
                }
            });
            std::uint64_t expected = 0;
            bool in_order = true;
            while (expected < count - 10)  // leave some queued for the destructor
                if (auto m = rx.try_receive())
                    in_order = in_order && m->number() == expected++;
            producer.join();
            CHECK(in_order);
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == static_cast<int>(count));
    }
}
