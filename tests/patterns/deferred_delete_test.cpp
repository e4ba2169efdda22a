// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/deferred_delete.h>: retired objects die on the control thread, exactly once, and the
// return lane can never be full for a reserved object.
#include <courier/patterns/deferred_delete.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"
#include "tests/support/overlapping_threads.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::deferred_delete;
using courier::test::tracked;
using courier::test::tracking_log;

TEST_CASE("deferred_delete")
{
    SUBCASE("retire sends an object back without destroying it, and collect destroys it on the control thread")
    {
        // [deferred-delete-round-trip]
        tracking_log log;  // home: this thread, the control side
        deferred_delete<tracked> graveyard(4);
        REQUIRE(graveyard.try_reserve());  // before the object becomes the audio side's
        auto object = std::make_unique<tracked>(log, 1u);
        std::thread audio([&, owned = std::move(object)]() mutable {
            graveyard.retire(std::move(owned));  // never frees: the object travels back
        });
        audio.join();
        CHECK(log.live == 1);
        CHECK(graveyard.collect() == 1);  // ✗ dies here, on the control thread
        CHECK(log.live == 0);
        CHECK(log.destroyed_away_from_home == 0);
        CHECK(graveyard.stats().out == 0);  // the reservation came back with it
        // [deferred-delete-round-trip]
    }

    SUBCASE("try_reserve returns false when capacity reservations are out, and collect gives them back")
    {
        deferred_delete<int> graveyard(2);
        REQUIRE(graveyard.try_reserve());
        REQUIRE(graveyard.try_reserve());
        CHECK_FALSE(graveyard.try_reserve());
        CHECK(graveyard.stats().refused == 1);
        CHECK(graveyard.stats().out == 2);
        graveyard.retire(std::make_unique<int>(1));
        CHECK(graveyard.stats().out == 2);  // retired but not yet collected: still out
        CHECK(graveyard.collect() == 1);
        CHECK(graveyard.stats().out == 1);
        CHECK(graveyard.try_reserve());
    }

    SUBCASE("cancel_reservation gives a reservation back when a hand-off fails")
    {
        deferred_delete<int> graveyard(1);
        REQUIRE(graveyard.try_reserve());
        graveyard.cancel_reservation();
        CHECK(graveyard.stats().out == 0);
        CHECK(graveyard.try_reserve());
    }

    SUBCASE("collect calls before_destroy on each object, oldest first, before destroying it")
    {
        tracking_log log;
        deferred_delete<tracked> graveyard(4);
        for (std::uint64_t i = 0; i < 3; ++i)
        {
            REQUIRE(graveyard.try_reserve());
            graveyard.retire(std::make_unique<tracked>(log, i));
        }
        std::vector<std::uint64_t> seen;
        std::vector<int> live_when_seen;
        CHECK(graveyard.collect([&](tracked& t) {
            seen.push_back(t.number());
            live_when_seen.push_back(log.live.load());
        }) == 3);
        CHECK(seen == std::vector<std::uint64_t>{0, 1, 2});
        CHECK(live_when_seen == std::vector<int>{3, 2, 1});  // each is still alive when its callback runs
        CHECK(log.live == 0);
    }

    SUBCASE("retire neither allocates nor frees")
    {
        tracking_log log;
        deferred_delete<tracked> graveyard(8);
        std::vector<std::unique_ptr<tracked>> objects;
        for (std::uint64_t i = 0; i < 8; ++i)
        {
            REQUIRE(graveyard.try_reserve());
            objects.push_back(std::make_unique<tracked>(log, i));
        }
        {
            const courier::test::allocation_counter allocations;
            for (auto& object : objects)
                graveyard.retire(std::move(object));
            graveyard.retire(nullptr);  // an empty pointer is ignored
            CHECK(allocations.count() == 0);
        }
        CHECK(log.live == 8);
        CHECK(graveyard.collect() == 8);
        CHECK(log.live == 0);
    }

    SUBCASE("retire reports a violation and leaks rather than frees when an object had no reservation")
    {
        const courier::test::violation_recorder violations;
        tracking_log log;
        deferred_delete<tracked> graveyard(1);
        graveyard.retire(std::make_unique<tracked>(log, 1u));  // fills the lane: nobody reserved for it
        auto extra = std::make_unique<tracked>(log, 2u);
        tracked* raw = extra.get();
        {
            const courier::test::allocation_counter allocations;
            graveyard.retire(std::move(extra));
            CHECK(allocations.count() == 0);  // not freed, even now
        }
        CHECK(violations.count() == 1);
        CHECK(graveyard.stats().broken == 1);
        CHECK(extra == nullptr);
        CHECK(log.live == 2);
        delete raw;  // the test cleans up the leak
        CHECK(graveyard.collect() == 1);
        CHECK(violations.count() == 2);  // collect found more objects than reservations
        CHECK(log.live == 0);
    }

    SUBCASE("the destructor destroys the objects still waiting, each once, on the destroying thread")
    {
        tracking_log log;
        {
            deferred_delete<tracked> graveyard(3);
            for (std::uint64_t i = 0; i < 3; ++i)
            {
                REQUIRE(graveyard.try_reserve());
                auto object = std::make_unique<tracked>(log, i);
                std::thread audio([&, owned = std::move(object)]() mutable { graveyard.retire(std::move(owned)); });
                audio.join();
            }
            CHECK(log.live == 3);
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 3);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("stats count reservations, refusals, the high-water mark and retirements")
    {
        deferred_delete<int> graveyard(2);
        REQUIRE(graveyard.try_reserve());
        REQUIRE(graveyard.try_reserve());
        CHECK_FALSE(graveyard.try_reserve());
        graveyard.retire(std::make_unique<int>(1));
        graveyard.retire(std::make_unique<int>(2));
        CHECK(graveyard.collect() == 2);
        const auto s = graveyard.stats();
        CHECK(s.capacity == 2);
        CHECK(graveyard.capacity() == 2);
        CHECK(s.out == 0);
        CHECK(s.high_water == 2);
        CHECK(s.taken == 2);
        CHECK(s.refused == 1);
        CHECK(s.returned == 2);
        CHECK(s.broken == 0);
    }

    SUBCASE("try_reserve reports a second control thread inside it at the same time, and a hand-over passes")
    {
        {
            const courier::test::violation_recorder violations;
            deferred_delete<int> graveyard(4);
            courier::test::run_overlapping([&] { (void)graveyard.try_reserve(); },
                                           [&] { (void)graveyard.try_reserve(); });
            CHECK(violations.count() == 1);
        }
        {
            const courier::test::violation_recorder violations;
            deferred_delete<int> graveyard(4);
            courier::test::run_on_two_live_threads([&] { (void)graveyard.try_reserve(); },
                                                   [&] {
                                                       graveyard.reset_thread_roles();
                                                       (void)graveyard.try_reserve();
                                                   });
            CHECK(violations.count() == 0);
            CHECK(graveyard.stats().out == 2);
        }
    }

    SUBCASE("capacity 0 is refused")
    {
        CHECK_THROWS_AS(deferred_delete<int>(0), std::invalid_argument);
    }
}

TEST_CASE("deferred_delete: objects retired by an audio thread all die once, on the control thread" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(100'000);
    constexpr std::size_t capacity = 16;
    tracking_log log;  // home: this thread, the control side
    std::atomic<std::size_t> audio_heap_calls{1};
    {
        deferred_delete<tracked> graveyard(capacity);
        courier::lane<std::unique_ptr<tracked>> to_audio_lane(capacity);
        auto to_audio = to_audio_lane.sender();
        auto from_control = to_audio_lane.receiver();

        std::thread audio([&] {
            const courier::test::allocation_counter allocations;
            std::uint64_t retired = 0;
            std::unique_ptr<tracked> held;  // the audio side keeps one object a while, then lets it go
            while (retired < count)
            {
                if (auto fresh = from_control.try_receive())
                {
                    if (held != nullptr)
                    {
                        graveyard.retire(std::move(held));
                        ++retired;
                    }
                    held = std::move(*fresh);
                    if (held->number() + 1 == count)
                    {
                        graveyard.retire(std::move(held));
                        ++retired;
                    }
                }
                else
                {
                    std::this_thread::yield();  // stands for the wait until the next callback
                }
            }
            audio_heap_calls.store(allocations.count());
        });

        for (std::uint64_t i = 0; i < count; ++i)
        {
            while (!graveyard.try_reserve())
            {
                graveyard.collect();  // ✗ retired objects die here, on the control thread
                std::this_thread::yield();
            }
            auto object = std::make_unique<tracked>(log, i);
            // Cannot fail: the lane holds `capacity` and each object in it holds a reservation.
            REQUIRE(to_audio.try_send(std::move(object)));
        }
        audio.join();
        graveyard.collect();
        CHECK(graveyard.stats().out == 0);
        CHECK(graveyard.stats().broken == 0);
        CHECK(graveyard.stats().returned == count);  // and each destroyed by collect: the log below
    }
    CHECK(audio_heap_calls.load() == 0);
    CHECK(log.live == 0);
    CHECK(log.destroyed == static_cast<int>(count));
    CHECK(log.destroyed_away_from_home == 0);
}
