// SPDX-License-Identifier: MIT
// Tests for <courier/mailbox.h>: round-robin fairness, budgets, late producers, and many producers under stress.
#include <courier/mailbox.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::mailbox;

namespace {
struct tagged
{
    std::uint32_t producer;
    std::uint64_t sequence;
};
}  // namespace

TEST_CASE("mailbox")
{
    SUBCASE("sender_type and receiver_type let a processor hold the ends as members")
    {
        struct processor
        {
            mailbox<int>::sender_type from_gui;
            mailbox<int>::receiver_type on_audio;
        };
        mailbox<int> box(1, 2);
        processor p{box.add_producer(), box.receiver()};
        REQUIRE(p.from_gui.try_send(7));
        int got = 0;
        CHECK(p.on_audio.drain([&](int v) { got = v; }, 4) == 1);
        CHECK(got == 7);
    }

    SUBCASE("drain takes one message from each producer in turn, so a flood cannot starve a trickle")
    {
        // [mailbox-fair-drain]
        mailbox<tagged> box(3, 1024);
        auto rx = box.receiver();
        auto flood = box.add_producer();
        auto trickle = box.add_producer();
        for (std::uint64_t i = 0; i < 1000; ++i)
            REQUIRE(flood.try_send(tagged{0, i}));
        for (std::uint64_t i = 0; i < 5; ++i)
            REQUIRE(trickle.try_send(tagged{1, i}));

        std::array<int, 2> served{};
        CHECK(rx.drain([&](tagged&& m) { ++served[m.producer]; }, 10) == 10);
        CHECK(served[0] == 5);
        CHECK(served[1] == 5);
        // [mailbox-fair-drain]
    }

    SUBCASE("drain never handles more than its budget")
    {
        mailbox<int> box(2, 64);
        auto rx = box.receiver();
        auto a = box.add_producer();
        for (int i = 0; i < 50; ++i)
            REQUIRE(a.try_send(i));
        int handled = 0;
        CHECK(rx.drain([&](int) { ++handled; }, 7) == 7);
        CHECK(handled == 7);
        CHECK(rx.drain([&](int) { ++handled; }, 1000) == 43);
        CHECK(rx.drain([&](int) { ++handled; }, 1000) == 0);
    }

    SUBCASE("drain resumes after the lane it served last, so no lane is always first")
    {
        mailbox<tagged> box(3, 16);
        auto rx = box.receiver();
        std::vector<courier::lane_sender<tagged>> senders;
        for (std::uint32_t p = 0; p < 3; ++p)
        {
            senders.push_back(box.add_producer());
            for (std::uint64_t i = 0; i < 4; ++i)
                REQUIRE(senders.back().try_send(tagged{p, i}));
        }
        std::vector<std::uint32_t> order;
        order.reserve(12);
        for (int call = 0; call < 6; ++call)
            rx.drain([&](tagged&& m) { order.push_back(m.producer); }, 2);
        CHECK(order == std::vector<std::uint32_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2});
    }

    SUBCASE("each producer's messages stay in order")
    {
        mailbox<tagged> box(2, 64);
        auto rx = box.receiver();
        auto a = box.add_producer();
        auto b = box.add_producer();
        for (std::uint64_t i = 0; i < 20; ++i)
        {
            REQUIRE(a.try_send(tagged{0, i}));
            REQUIRE(b.try_send(tagged{1, i}));
        }
        std::array<std::uint64_t, 2> next{};
        bool in_order = true;
        rx.drain([&](tagged&& m) { in_order = in_order && m.sequence == next[m.producer]++; }, 100);
        CHECK(in_order);
        CHECK(next == std::array<std::uint64_t, 2>{20, 20});
    }

    SUBCASE("add_producer throws once every lane is taken, and a full lane refuses only its own producer")
    {
        mailbox<int> box(2, 1);
        auto a = box.add_producer();
        auto b = box.add_producer();
        CHECK_THROWS_AS((void)box.add_producer(), std::length_error);
        CHECK(box.producer_count() == 2);
        REQUIRE(a.try_send(1));
        CHECK_FALSE(a.try_send(2));
        CHECK(b.try_send(3));
        CHECK(box.stats(0).refused == 1);
        CHECK(box.stats(1).refused == 0);
    }

    SUBCASE("drain with no producers returns 0, and receiver throws when taken twice")
    {
        mailbox<int> box(1, 1);
        auto rx = box.receiver();
        CHECK(rx.drain([](int) {}, 10) == 0);
        CHECK_THROWS_AS((void)box.receiver(), std::logic_error);
        CHECK_THROWS_AS(mailbox<int>(0, 1), std::invalid_argument);
    }

    SUBCASE("drain neither allocates nor frees")
    {
        mailbox<int> box(4, 64);
        auto rx = box.receiver();
        auto a = box.add_producer();
        auto b = box.add_producer();
        const courier::test::allocation_counter allocations;
        for (int i = 0; i < 30; ++i)
            REQUIRE((i % 2 == 0 ? a : b).try_send(i));
        int sum = 0;
        CHECK(rx.drain([&](int v) { sum += v; }, 100) == 30);
        CHECK(sum == 435);
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("mailbox: four producer threads, one consumer, nothing lost, duplicated or reordered" *
          doctest::test_suite("stress"))
{
    constexpr std::uint32_t producers = 4;
    constexpr std::uint64_t per_producer = courier::test::stress_count(1'000'000);
    mailbox<tagged> box(producers + 1, 128);
    auto rx = box.receiver();

    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < producers; ++p)
    {
        // Registered here on the control thread, then moved to the producer: registration is setup.
        threads.emplace_back([tx = box.add_producer(), p]() mutable {
            for (std::uint64_t i = 0; i < per_producer; ++i)
                while (!tx.try_send(tagged{p, i}))
                    std::this_thread::yield();
        });
    }

    std::array<std::uint64_t, producers> next{};
    std::uint64_t received = 0;
    std::uint64_t out_of_order = 0;
    std::size_t largest_drain = 0;
    while (received < producers * per_producer)
    {
        const std::size_t n = rx.drain(
            [&](tagged&& m) {
                if (m.sequence != next[m.producer])
                    ++out_of_order;
                next[m.producer] = m.sequence + 1;
            },
            64);
        largest_drain = std::max(largest_drain, n);
        received += n;
    }
    for (auto& t : threads)
        t.join();
    CHECK(out_of_order == 0);
    CHECK(largest_drain <= 64);
    for (std::uint32_t p = 0; p < producers; ++p)
        CHECK(next[p] == per_producer);
    CHECK(rx.drain([](tagged&&) {}, 100) == 0);
}

#if COURIER_CHECKS
TEST_CASE("mailbox: reset_thread_role hands every lane's consumer end to a new thread" * doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    mailbox<int> box(2, 4);
    auto rx = box.receiver();
    auto a = box.add_producer();
    auto b = box.add_producer();
    REQUIRE(a.try_send(1));
    REQUIRE(b.try_send(2));
    int sum = 0;
    courier::test::run_on_two_live_threads([&] { rx.drain([&](int v) { sum += v; }, 1); },
                                           [&] {
                                               rx.reset_thread_role();
                                               rx.drain([&](int v) { sum += v; }, 10);
                                           });
    CHECK(violations.count() == 0);
    CHECK(sum == 3);
}
#endif

TEST_CASE("mailbox: a producer added while the consumer drains is picked up" * doctest::test_suite("stress"))
{
    mailbox<int> box(2, 64);
    auto rx = box.receiver();
    auto first = box.add_producer();
    REQUIRE(first.try_send(1));
    std::atomic<bool> stop{false};
    std::atomic<int> sum{0};
    std::thread consumer([&] {
        // Acquire pairs with the release store below, so the final drain sees everything sent before it.
        while (!stop.load(std::memory_order_acquire))
            rx.drain([&](int v) { sum.fetch_add(v, std::memory_order_relaxed); }, 16);
        rx.drain([&](int v) { sum.fetch_add(v, std::memory_order_relaxed); }, 1000);
    });
    auto second = box.add_producer();
    for (int i = 0; i < 50; ++i)
        while (!second.try_send(2))
            std::this_thread::yield();
    stop.store(true, std::memory_order_release);
    consumer.join();
    CHECK(sum.load() == 101);
}
