// SPDX-License-Identifier: MIT
// Tests for core/lane.h's batch calls, try_send_many and try_receive_many, on both storage policies: order, partial
// batches, counters, no allocation, and millions of messages in batches between two threads.
#include <courier/lane.h>
#include <courier/ring_storage.h>
#include <courier/rwq_storage.h>

#include "tests/core/lane_storage_policies.h"
#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

using courier::test::on_moodycamel;
using courier::test::on_ring;

TEST_CASE("lane batch calls")
{
    SUBCASE("try_send_many and try_receive_many keep the order of the span")
    {
        // [lane-batch]
        courier::lane<int> l(16);
        auto tx = l.sender();
        auto rx = l.receiver();
        std::array<int, 5> outgoing{1, 2, 3, 4, 5};
        REQUIRE(tx.try_send_many(std::span(outgoing)) == 5);  // one position store for all five
        std::array<int, 8> incoming{};
        const std::size_t got = rx.try_receive_many(std::span(incoming));  // what is there, up to 8
        CHECK(got == 5);
        // [lane-batch]
        for (std::size_t i = 0; i < got; ++i)
            CHECK(incoming[i] == static_cast<int>(i) + 1);
        CHECK(incoming[5] == 0);  // the rest of the span is untouched
    }
}

TEST_CASE_TEMPLATE("lane batch calls on each storage", Policy, on_ring, on_moodycamel)
{
    using int_lane = courier::lane<int, typename Policy::template storage<int>>;
    using owning_lane = courier::lane<std::unique_ptr<int>, typename Policy::template storage<std::unique_ptr<int>>>;

    SUBCASE("try_send_many sends what fits, leaves the rest untouched and counts each one left as refused")
    {
        owning_lane l(3);
        auto tx = l.sender();
        std::vector<std::unique_ptr<int>> batch;
        for (int i = 0; i < 5; ++i)
            batch.push_back(std::make_unique<int>(i));
        CHECK(tx.try_send_many(std::span(batch)) == 3);
        CHECK(batch[0] == nullptr);  // moved into the lane
        REQUIRE(batch[3] != nullptr);
        CHECK(*batch[3] == 3);
        CHECK(*batch[4] == 4);
        const auto s = l.stats();
        CHECK(s.sent == 3);
        CHECK(s.refused == 2);
        CHECK(s.high_water == 3);  // the lane filled
        CHECK(tx.try_send_many(std::span(batch).subspan(3)) == 0);
        CHECK(l.stats().refused == 4);
    }

    SUBCASE("try_send_many with an empty span sends and refuses nothing")
    {
        int_lane l(2);
        auto tx = l.sender();
        CHECK(tx.try_send_many(std::span<int>()) == 0);
        CHECK(l.stats().sent == 0);
        CHECK(l.stats().refused == 0);
    }

    SUBCASE("try_receive_many takes at most the span's size and leaves the rest queued in order")
    {
        int_lane l(8);
        auto tx = l.sender();
        auto rx = l.receiver();
        for (int i = 0; i < 6; ++i)
            REQUIRE(tx.try_send(i));
        std::array<int, 4> first{};
        CHECK(rx.try_receive_many(std::span(first)) == 4);
        CHECK(first == std::array<int, 4>{0, 1, 2, 3});
        CHECK(rx.try_receive() == 4);
        std::array<int, 4> second{-1, -1, -1, -1};
        CHECK(rx.try_receive_many(std::span(second)) == 1);
        CHECK(second == std::array<int, 4>{5, -1, -1, -1});
        CHECK(rx.try_receive_many(std::span(second)) == 0);
        CHECK(l.stats().received == 6);
    }

    SUBCASE("batches keep their order across many wrap-arounds of the storage")
    {
        int_lane l(5);
        auto tx = l.sender();
        auto rx = l.receiver();
        int next_in = 0;
        int next_out = 0;
        bool in_order = true;
        for (int round = 0; round < 500; ++round)
        {
            std::array<int, 3> outgoing{next_in, next_in + 1, next_in + 2};
            next_in += static_cast<int>(tx.try_send_many(std::span(outgoing)));
            std::array<int, 2> incoming{};
            const std::size_t got = rx.try_receive_many(std::span(incoming));
            for (std::size_t i = 0; i < got; ++i)
                in_order = in_order && incoming[i] == next_out++;
        }
        CHECK(in_order);
        CHECK(next_out > 900);
        CHECK(l.stats().sent == static_cast<std::uint64_t>(next_in));
    }

    SUBCASE("try_send_many and try_receive_many neither allocate nor free, and each message dies on the consumer once")
    {
        owning_lane l(4);
        auto tx = l.sender();
        auto rx = l.receiver();
        std::array<std::unique_ptr<int>, 4> outgoing{std::make_unique<int>(1), std::make_unique<int>(2),
                                                     std::make_unique<int>(3), std::make_unique<int>(4)};
        std::array<std::unique_ptr<int>, 4> incoming{};
        const courier::test::allocation_counter allocations;
        for (int i = 0; i < 10; ++i)
        {
            REQUIRE(tx.try_send_many(std::span(outgoing)) == 4);
            REQUIRE(rx.try_receive_many(std::span(incoming)) == 4);
            std::swap(outgoing, incoming);  // send the same pointers again, so nothing is freed
        }
        CHECK(allocations.count() == 0);
        CHECK(*outgoing[3] == 4);
    }
}

TEST_SUITE("stress")
{
    TEST_CASE_TEMPLATE("lane: millions of messages cross in batches, none lost, duplicated or reordered", Policy,
                       on_ring, on_moodycamel)
    {
        const std::uint64_t count = courier::test::stress_count(4'000'000);
        courier::lane<std::uint64_t, typename Policy::template storage<std::uint64_t>> l(64);
        auto tx = l.sender();
        auto rx = l.receiver();

        std::thread producer([&] {
            std::array<std::uint64_t, 48> batch{};  // most batches do not fit whole: partial sends are common
            std::uint64_t next = 0;
            while (next < count)
            {
                const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(batch.size(), count - next));
                for (std::size_t i = 0; i < size; ++i)
                    batch[i] = next + i;
                const std::size_t sent = tx.try_send_many(std::span(batch).first(size));
                next += sent;
                if (sent == 0)
                    std::this_thread::yield();
            }
        });

        std::uint64_t expected = 0;
        std::uint64_t out_of_order = 0;
        std::array<std::uint64_t, 40> incoming{};
        while (expected < count)
        {
            const std::size_t got = rx.try_receive_many(std::span(incoming));
            for (std::size_t i = 0; i < got; ++i)
                if (incoming[i] != expected++)
                    ++out_of_order;
        }
        producer.join();
        CHECK(out_of_order == 0);
        CHECK_FALSE(rx.try_receive().has_value());
        const auto s = l.stats();
        CHECK(s.sent == count);
        CHECK(s.received == count);
        CHECK(s.high_water <= 64);
    }

    TEST_CASE("lane: batch and single calls mix between two threads, and owning messages each die once")
    {
        const std::uint64_t count = courier::test::stress_count(300'000);
        std::atomic<std::uint64_t> created{0};
        std::atomic<std::uint64_t> freed{0};
        struct counted
        {
            std::unique_ptr<std::uint64_t> value;
            std::atomic<std::uint64_t>* freed = nullptr;
            counted() = default;
            counted(std::uint64_t v, std::atomic<std::uint64_t>& c, std::atomic<std::uint64_t>& f)
                : value(std::make_unique<std::uint64_t>(v)), freed(&f)
            {
                c.fetch_add(1, std::memory_order_relaxed);
            }
            counted(counted&&) noexcept = default;
            counted& operator=(counted&& other) noexcept
            {
                release();
                value = std::move(other.value);
                freed = other.freed;
                return *this;
            }
            ~counted() { release(); }
            void release() noexcept
            {
                if (value)
                {
                    value.reset();
                    freed->fetch_add(1, std::memory_order_relaxed);
                }
            }
        };
        {
            courier::lane<counted> l(32);
            auto tx = l.sender();
            auto rx = l.receiver();
            std::thread producer([&] {
                std::array<counted, 7> batch;
                std::uint64_t next = 0;
                while (next < count)
                {
                    if (next % 2 == 0)
                    {
                        counted one(next, created, freed);
                        if (tx.try_send(std::move(one)))
                            ++next;
                        continue;
                    }
                    const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(batch.size(), count - next));
                    for (std::size_t i = 0; i < size; ++i)
                        if (!batch[i].value)
                            batch[i] = counted(next + i, created, freed);
                        else
                            *batch[i].value = next + i;
                    next += tx.try_send_many(std::span(batch).first(size));
                }
            });
            std::uint64_t expected = 0;
            bool in_order = true;
            std::array<counted, 5> incoming;
            while (expected < count - 3)  // leave a few queued for the destructor
            {
                if (expected % 3 == 0)
                {
                    if (auto m = rx.try_receive())
                        in_order = in_order && *m->value == expected++;
                    continue;
                }
                const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(incoming.size(), count - 3 - expected));
                const std::size_t got = rx.try_receive_many(std::span(incoming).first(want));
                for (std::size_t i = 0; i < got; ++i)
                {
                    in_order = in_order && *incoming[i].value == expected++;
                    // Freed here, outside the receive: try_receive_many is wait-free only when assigning into
                    // the span frees nothing (the RTSan build checks it).
                    incoming[i].release();
                }
            }
            producer.join();
            CHECK(in_order);
        }
        CHECK(created.load() >= count);
        CHECK(freed.load() == created.load());  // every message freed exactly once, queued ones in ~lane
    }
}
