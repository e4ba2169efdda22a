// SPDX-License-Identifier: MIT
// Tests for <courier/ring_storage.h>, on its own and as a lane's storage: the same guarantees as the default policy.
#include <courier/ring_storage.h>

#include <courier/lane.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <span>

using courier::ring_storage;
using courier::test::tracked;
using courier::test::tracking_log;

template <class T>
using ring_lane = courier::lane<T, ring_storage<T>>;

TEST_CASE("ring_storage")
{
    SUBCASE("try_emplace refuses exactly at capacity, even when the slots are rounded up to a power of two")
    {
        for (std::size_t capacity : {1u, 3u, 5u, 1000u})
        {
            ring_storage<int> ring(capacity);
            std::size_t accepted = 0;
            while (ring.try_emplace(static_cast<int>(accepted)))
                ++accepted;
            CHECK(accepted == capacity);
            CHECK(ring.pushed() == capacity);
            CHECK(ring.high_water() == capacity);  // the refused push saw the ring full
        }
    }

    SUBCASE("front and pop return items in order across many wrap-arounds, and the counts follow")
    {
        ring_storage<int> ring(3);
        int next_in = 0;
        int next_out = 0;
        for (int round = 0; round < 100; ++round)
        {
            while (ring.try_emplace(next_in))
                ++next_in;
            for (int k = 0; k < 2; ++k)
            {
                REQUIRE(ring.front() != nullptr);
                CHECK(*ring.front() == next_out++);
                ring.pop();
            }
        }
        CHECK(ring.pushed() == static_cast<std::uint64_t>(next_in));
        CHECK(ring.popped() == static_cast<std::uint64_t>(next_out));
        CHECK(ring.high_water() == 3);
    }

    SUBCASE("front returns nullptr when empty")
    {
        ring_storage<int> ring(2);
        CHECK(ring.front() == nullptr);
        CHECK(ring.high_water() == 0);
    }

    SUBCASE("high_water is the depth the producer saw every capacity / 16 pushes: never above, at most that below")
    {
        ring_storage<int> ring(64);  // looks every 4 pushes
        CHECK(ring.look_interval() == 4);
        for (int i = 0; i < 4; ++i)
            REQUIRE(ring.try_emplace(i));
        CHECK(ring.high_water() == 0);  // no look yet: 4 stored, at most 4 above the mark
        REQUIRE(ring.try_emplace(4));  // the 5th push looks first and sees 4 stored
        CHECK(ring.high_water() == 4);
        for (int k = 0; k < 4; ++k)
        {
            REQUIRE(ring.front() != nullptr);
            ring.pop();
        }
        for (int i = 0; i < 10; ++i)
            REQUIRE(ring.try_emplace(i));  // looks before the 9th and the 13th push: 4 and 8 stored
        CHECK(ring.high_water() == 8);  // 11 stored now: never above the truth, at most 4 below it
        REQUIRE(ring.try_emplace(10));
        REQUIRE(ring.try_emplace(11));  // the 17th push looks and sees 12 stored
        CHECK(ring.high_water() == 12);
    }

    SUBCASE("the slots are spare beyond capacity, so the ring is a power of two at least two lines larger")
    {
        // Capacity stays exact whatever the slot count; a capacity of 8 ints fills and empties in order many times.
        ring_storage<int> ring(8);
        for (int round = 0; round < 50; ++round)
        {
            for (int i = 0; i < 8; ++i)
                REQUIRE(ring.try_emplace(round * 8 + i));
            CHECK_FALSE(ring.try_emplace(-1));
            for (int i = 0; i < 8; ++i)
            {
                REQUIRE(ring.front() != nullptr);
                CHECK(*ring.front() == round * 8 + i);
                ring.pop();
            }
            CHECK(ring.front() == nullptr);
        }
        CHECK(ring.high_water() == 8);
    }

    SUBCASE("push_many and pop_many move a batch with one position store each, and the producer samples the depth")
    {
        ring_storage<int> ring(4);
        std::array<int, 6> in{1, 2, 3, 4, 5, 6};
        CHECK(ring.push_many(std::span(in)) == 4);
        CHECK(ring.high_water() == 4);  // the 5th item made the producer look: full
        std::array<int, 3> out{};
        CHECK(ring.pop_many(std::span(out)) == 3);
        CHECK(out == std::array<int, 3>{1, 2, 3});
        CHECK(ring.pushed() == 4);
        CHECK(ring.popped() == 3);
    }

    SUBCASE("a lane on ring_storage counts sent, received, refused and the true high-water mark")
    {
        ring_lane<int> l(4);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 6; ++i)
            (void)tx.try_send(i);
        CHECK(rx.try_receive() == 0);
        const auto s = l.stats();
        CHECK(s.sent == 4);
        CHECK(s.received == 1);
        CHECK(s.refused == 2);
        CHECK(s.high_water == 4);
    }

    SUBCASE("sending and receiving through a ring lane neither allocate nor free")
    {
        ring_lane<std::unique_ptr<int>> l(4);
        auto tx = l.sender();
        auto rx = l.receiver();
        auto item = std::make_unique<int>(3);
        const courier::test::allocation_counter allocations;
        for (int i = 0; i < 10; ++i)
        {
            REQUIRE(tx.try_send(std::move(item)));
            item = std::move(rx.try_receive().value());
        }
        CHECK(allocations.count() == 0);
        CHECK(*item == 3);
    }

    SUBCASE("items still stored die exactly once when the ring is destroyed, on the destroying thread")
    {
        tracking_log log;
        {
            ring_lane<tracked> l(8);
            auto tx = l.sender();
            for (std::uint64_t i = 0; i < 5; ++i)
                REQUIRE(tx.try_send(tracked(log, i)));
            auto rx = l.receiver();
            CHECK(rx.drain([](tracked&&) {}, 2) == 2);
            CHECK(log.live == 3);
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 5);
        CHECK(log.destroyed_away_from_home == 0);
    }
}

// The threaded guarantees of a lane on ring_storage are tested with the default storage's, in lane_test.cpp.
