// SPDX-License-Identifier: MIT
// Tests for <courier/closure.h> and <courier/command_lane.h>: in-place storage, move-only callables, order, stress.
#include <courier/closure.h>
#include <courier/command_lane.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <thread>
#include <type_traits>

using courier::closure;
using courier::command_lane;

namespace {
// A callable too large for a 16-byte slot: constructing closure<void(), 16> from it must not compile. The
// requires-expression below only checks the declaration, so the static_assert in the constructor body, which
// gives the readable message, is checked by tests/compile_fail instead.
struct big_callable
{
    std::array<char, 64> bytes{};
    void operator()() const {}
};
}  // namespace

TEST_CASE("closure")
{
    SUBCASE("operator() runs the stored callable with its arguments and returns its result")
    {
        int base = 10;
        closure<int(int), 32> add([base](int x) { return base + x; });
        CHECK(add(5) == 15);
    }

    SUBCASE("a move-only callable is stored and moved without copying")
    {
        // [closure-move-only]
        auto owned = std::make_unique<int>(41);
        closure<int()> c([p = std::move(owned)] { return *p + 1; });
        closure<int()> moved = std::move(c);
        CHECK_FALSE(static_cast<bool>(c));
        CHECK(moved() == 42);
        CHECK_FALSE(std::is_copy_constructible_v<closure<int()>>);
        // [closure-move-only]
    }

    SUBCASE("constructing, moving and calling a closure neither allocates nor frees")
    {
        std::array<int, 4> captured{1, 2, 3, 4};
        const courier::test::allocation_counter allocations;
        closure<int(), 32> c([captured] { return captured[0] + captured[3]; });
        closure<int(), 32> d(std::move(c));
        CHECK(d() == 5);
        c = std::move(d);
        CHECK(c() == 5);
        CHECK(allocations.count() == 0);
    }

    SUBCASE("reset destroys the captures on the calling thread, exactly once")
    {
        courier::test::tracking_log log;
        closure<void()> c([t = courier::test::tracked(log, 1)] {});
        closure<void()> d(std::move(c));
        CHECK(log.live == 1);
        d.reset();
        CHECK(log.live == 0);
        CHECK(log.destroyed == 1);
        CHECK_FALSE(static_cast<bool>(d));
    }

    SUBCASE("move assignment destroys what the target held before")
    {
        courier::test::tracking_log log;
        closure<void()> a([t = courier::test::tracked(log, 1)] {});
        closure<void()> b([t = courier::test::tracked(log, 2)] {});
        a = std::move(b);
        CHECK(log.destroyed == 1);
        CHECK(log.live == 1);
    }

    SUBCASE("the slot size is part of the type, and a callable's fit is decided at compile time")
    {
        CHECK(closure<void(), 16>::capacity == 16);
        CHECK(std::is_constructible_v<closure<void(), 64>, big_callable>);
        CHECK(sizeof(closure<void(), 16>) <= 32);
    }
}

TEST_CASE("command_lane")
{
    SUBCASE("sender_type and receiver_type let a processor hold the ends as members")
    {
        using lane_type = command_lane<void(int&), 16>;
        struct processor
        {
            lane_type::sender_type to_audio;
            lane_type::receiver_type on_audio;
        };
        lane_type commands(2);
        processor p{commands.sender(), commands.receiver()};
        REQUIRE(p.to_audio.try_send([](int& x) { x += 3; }));
        int x = 0;
        CHECK(p.on_audio.poll(x) == 1);
        CHECK(x == 3);
    }

    struct engine_state
    {
        float gain = 0;
        int notes = 0;
    };

    SUBCASE("poll runs commands in the order they were sent, passing the receiver's state")
    {
        // [command-lane-run-pending]
        command_lane<void(engine_state&), 32> commands(8);
        auto tx = commands.sender();
        auto rx = commands.receiver();
        REQUIRE(tx.try_send([](engine_state& s) { s.gain = 0.5f; }));
        REQUIRE(tx.try_send([](engine_state& s) { s.gain *= 2; }));
        REQUIRE(tx.try_send([](engine_state& s) { ++s.notes; }));
        engine_state state;
        CHECK(rx.poll(state, 2) == 2);
        CHECK(state.gain == 1.0f);
        CHECK(state.notes == 0);
        CHECK(rx.poll(state, 10) == 1);
        CHECK(state.notes == 1);
        // [command-lane-run-pending]
    }

    SUBCASE("poll without a budget runs every command queued when it starts")
    {
        command_lane<void(engine_state&), 32> commands(4);
        auto tx = commands.sender();
        auto rx = commands.receiver();
        for (int i = 0; i < 4; ++i)
            REQUIRE(tx.try_send([](engine_state& s) { ++s.notes; }));
        engine_state state;
        CHECK(rx.poll(state) == 4);
        CHECK(state.notes == 4);
        CHECK(rx.poll(state) == 0);
    }

    SUBCASE("try_send refuses a command when full and leaves the callable untouched")
    {
        command_lane<void(), 32> commands(1);
        auto tx = commands.sender();
        auto rx = commands.receiver();
        int runs = 0;
        REQUIRE(tx.try_send([&] { ++runs; }));
        auto owned = std::make_unique<int>(5);
        auto second = [&runs, p = std::move(owned)] { runs += *p; };
        CHECK_FALSE(tx.try_send(std::move(second)));
        CHECK(commands.stats().refused == 1);
        rx.poll(10);
        REQUIRE(tx.try_send(std::move(second)));  // still holds its unique_ptr, so it can be sent again
        rx.poll(10);
        CHECK(runs == 6);
        CHECK(tx.stats().sent == 2);
    }

    SUBCASE("sending and running commands neither allocate nor free")
    {
        command_lane<void(int&), 32> commands(16);
        auto tx = commands.sender();
        auto rx = commands.receiver();
        int total = 0;
        const courier::test::allocation_counter allocations;
        for (int i = 1; i <= 10; ++i)
            REQUIRE(tx.try_send([i](int& t) { t += i; }));
        CHECK(rx.poll(total, 100) == 10);
        CHECK(total == 55);
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("command_lane: a control thread sends a million commands that the consumer applies in order" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(1'000'000);
    command_lane<void(std::uint64_t&, std::uint64_t&), 24> commands(256);
    auto tx = commands.sender();
    auto rx = commands.receiver();
    std::thread control([&] {
        for (std::uint64_t i = 0; i < count; ++i)
            while (!tx.try_send([i](std::uint64_t& next, std::uint64_t& errors) {
                if (i != next)
                    ++errors;
                next = i + 1;
            }))
                std::this_thread::yield();
    });
    std::uint64_t next = 0;
    std::uint64_t errors = 0;
    while (next < count)
        rx.poll(next, errors, 64);
    control.join();
    CHECK(errors == 0);
    CHECK(next == count);
}
