// SPDX-License-Identifier: MIT
// Tests for <courier/experimental/credit_sender.h>: in flight never exceeds the credits, credits come back, refusals differ.
#include <courier/experimental/credit_sender.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::send_status;
using courier::credit_sender;
using courier::test::tracked;
using courier::test::tracking_log;

TEST_CASE("credit_sender")
{
    SUBCASE("receiver_type lets a processor hold the receiving end as a member")
    {
        courier::credit_sender<int> jobs(1);
        struct worker
        {
            courier::credit_sender<int>::receiver_type from_audio;
        };
        worker w{jobs.receiver()};
        REQUIRE(jobs.try_send(4) == send_status::sent);
        auto job = w.from_audio.try_receive();
        REQUIRE(job);
        CHECK(*job == 4);
        w.from_audio.acknowledge();
        CHECK(jobs.try_send(5) == send_status::sent);
    }

    SUBCASE("try_send returns no_credit once every credit is out, until a message comes back")
    {
        // [credit-no-credit]
        credit_sender<int> jobs(2, 8);  // 2 jobs in flight at most, through a lane of 8
        auto worker = jobs.receiver();
        CHECK(jobs.try_send(1) == send_status::sent);
        CHECK(jobs.try_send(2) == send_status::sent);
        CHECK(jobs.try_send(3) == send_status::no_credit);  // fails at once; the lane still has room

        auto job = worker.try_receive();  // the worker finishes job 1 and hands it back
        worker.give_back(std::move(*job));
        CHECK(jobs.reclaim([](int&& done) { CHECK(done == 1); }) == 1);
        CHECK(jobs.try_send(3) == send_status::sent);
        // [credit-no-credit]
        CHECK(jobs.stats().refused_no_credit == 1);
    }

    SUBCASE("try_send returns full and spends no credit when the lane is smaller than the credits")
    {
        // [credit-lane-full]
        credit_sender<int> jobs(4, 2);
        auto worker = jobs.receiver();
        CHECK(jobs.try_send(1) == send_status::sent);
        CHECK(jobs.try_send(2) == send_status::sent);
        CHECK(jobs.try_send(3) == send_status::full);  // credits left, but no room in the lane
        CHECK(jobs.available() == 2);
        (void)worker.try_receive();  // the worker takes job 1 and keeps working on it
        CHECK(jobs.try_send(3) == send_status::sent);
        // [credit-lane-full]
        CHECK(jobs.stats().refused_full == 1);
        CHECK(jobs.stats().refused_no_credit == 0);
    }

    SUBCASE("try_send leaves the message untouched when it refuses it")
    {
        credit_sender<std::unique_ptr<int>> s(1, 1);
        auto r = s.receiver();
        REQUIRE(s.try_send(std::make_unique<int>(1)) == send_status::sent);
        auto kept = std::make_unique<int>(2);
        CHECK(s.try_send(std::move(kept)) == send_status::no_credit);
        REQUIRE(kept != nullptr);
        CHECK(*kept == 2);
        auto first = r.try_receive();
        r.acknowledge();
        CHECK(s.try_send(std::move(kept)) == send_status::sent);
        CHECK(kept == nullptr);
    }

    SUBCASE("acknowledge returns credits that try_send takes back by itself")
    {
        credit_sender<int> s(2, 2);
        auto r = s.receiver();
        REQUIRE(s.try_send(1) == send_status::sent);
        REQUIRE(s.try_send(2) == send_status::sent);
        CHECK(r.drain([&](int&&) {}, 8) == 2);
        CHECK(r.holding() == 2);
        r.acknowledge(2);
        CHECK(r.holding() == 0);
        CHECK(s.in_flight() == 2);  // not taken in yet
        CHECK(s.try_send(3) == send_status::sent);
        CHECK(s.in_flight() == 1);
        CHECK(s.stats().acknowledged == 2);
    }

    SUBCASE("reclaim passes given-back messages to its handler, where they die on the sending thread")
    {
        tracking_log log;  // home: this thread, the sender
        credit_sender<tracked> s(3);
        auto r = s.receiver();
        for (std::uint64_t i = 0; i < 3; ++i)
            REQUIRE(s.try_send(tracked(log, i)) == send_status::sent);
        std::thread receiver([&] {
            r.drain([&](tracked&& m) { r.give_back(std::move(m)); }, 3);  // hands each straight back
        });
        receiver.join();
        CHECK(log.live == 3);  // back in the return lane, not destroyed yet
        std::vector<std::uint64_t> numbers;
        numbers.reserve(3);
        CHECK(s.reclaim([&](tracked&& m) { numbers.push_back(m.number()); }) == 3);
        CHECK(numbers == std::vector<std::uint64_t>{0, 1, 2});
        CHECK(log.live == 0);
        CHECK(log.destroyed_away_from_home == 0);
        CHECK(s.available() == 3);
        CHECK(s.stats().given_back == 3);
    }

    SUBCASE("available, in_flight and credits add up as messages go and come back")
    {
        credit_sender<int> s(5, 5);
        auto r = s.receiver();
        CHECK(s.credits() == 5);
        for (int i = 0; i < 4; ++i)
            REQUIRE(s.try_send(i) == send_status::sent);
        CHECK(s.in_flight() == 4);
        CHECK(s.available() == 1);
        auto a = r.try_receive();
        REQUIRE(r.try_receive().has_value());  // kept by the receiver: acknowledged below
        r.give_back(std::move(*a));
        r.acknowledge();
        CHECK(r.holding() == 0);
        CHECK(s.reclaim([](int&&) {}) == 2);
        CHECK(s.in_flight() == 2);
        CHECK(s.available() + s.in_flight() == s.credits());
        CHECK(s.stats().high_water_in_flight == 4);
        CHECK(r.stats().sent == 4);
    }

    SUBCASE("try_send, try_receive, drain, give_back, acknowledge and reclaim neither allocate nor free")
    {
        credit_sender<std::unique_ptr<int>> s(4, 4);
        auto r = s.receiver();
        auto item = std::make_unique<int>(7);
        const courier::test::allocation_counter allocations;
        for (int round = 0; round < 20; ++round)
        {
            REQUIRE(s.try_send(std::move(item)) == send_status::sent);
            REQUIRE(r.drain([&](std::unique_ptr<int>&& p) { r.give_back(std::move(p)); }, 4) == 1);
            const std::size_t credits_back = s.reclaim([&](std::unique_ptr<int>&& p) { item = std::move(p); });
            REQUIRE(credits_back == (round == 0 ? 1u : 2u));  // from round 1 on, with the last acknowledgement
            REQUIRE(s.try_send(std::move(item)) == send_status::sent);
            item = std::move(r.try_receive().value());  // the receiver keeps the pointer...
            r.acknowledge();                            // ...and returns only the credit
        }
        (void)s.stats();
        CHECK(allocations.count() == 0);
        CHECK(*item == 7);
    }

    SUBCASE("messages still in either lane die once, in the destructor, on the destroying thread")
    {
        tracking_log log;
        {
            credit_sender<tracked> s(4);
            auto r = s.receiver();
            for (std::uint64_t i = 0; i < 3; ++i)
                REQUIRE(s.try_send(tracked(log, i)) == send_status::sent);
            auto m = r.try_receive();
            r.give_back(std::move(*m));  // left in the return lane, never reclaimed
            CHECK(log.live == 3);
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 3);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("receiver throws when taken twice, and zero credits or lane capacity are refused")
    {
        credit_sender<int> s(1);
        (void)s.receiver();
        CHECK_THROWS_AS((void)s.receiver(), std::logic_error);
        CHECK_THROWS_AS(credit_sender<int>(0, 1), std::invalid_argument);
        CHECK_THROWS_AS(credit_sender<int>(1, 0), std::invalid_argument);
        CHECK_THROWS_AS(credit_sender<int>(0), std::invalid_argument);
    }

#if COURIER_CHECKS
    SUBCASE("acknowledging more messages than were received is a contract violation")
    {
        const courier::test::violation_recorder violations;
        credit_sender<int> s(2);
        auto r = s.receiver();
        REQUIRE(s.try_send(1) == send_status::sent);
        (void)r.try_receive();
        r.acknowledge(1);
        CHECK(violations.count() == 0);
        r.acknowledge(1);  // a credit the receiver does not hold: would let the sender overrun
        CHECK(violations.count() == 1);
    }
#endif
}

// The receiver holds every message it can get and returns them only when the lane is empty, so if credits ever
// came back early or twice, it would find itself holding more than `credits` messages. Even-numbered messages
// are given back (they die on the sending thread), odd ones acknowledged (they die on the receiver).
TEST_CASE("credit_sender: in flight never exceeds the credits, and every credit comes back" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(300'000);
    constexpr std::size_t credits = 8;
    tracking_log log;  // home: this thread, the sender
    {
        credit_sender<tracked> s(credits, 32);  // the lane alone would let 32 through
        auto r = s.receiver();
        std::atomic<std::int64_t> outstanding{0};  // sends counted minus returns counted
        std::atomic<std::int64_t> max_outstanding{0};
        std::size_t max_held = 0;
        bool in_order = true;
        bool holding_matches = true;  // the receiver's own count agrees with what it holds

        std::thread receiver([&] {
            std::vector<tracked> held;
            held.reserve(64);
            std::uint64_t next = 0;
            while (next < count)
            {
                while (auto m = r.try_receive())
                {
                    in_order = in_order && m->number() == next++;
                    held.push_back(std::move(*m));
                }
                max_held = std::max(max_held, held.size());
                holding_matches = holding_matches && r.holding() == held.size();
                for (auto& m : held)
                {
                    outstanding.fetch_sub(1, std::memory_order_relaxed);  // before the credit can come back
                    if (m.number() % 2 == 0)
                        r.give_back(std::move(m));
                    else
                        r.acknowledge();
                }
                held.clear();  // acknowledged messages die here, on the receiver
            }
        });

        std::uint64_t no_credit = 0;
        std::uint64_t lane_full = 0;
        std::size_t max_in_flight = 0;
        for (std::uint64_t i = 0; i < count; ++i)
        {
            tracked message(log, i);
            for (;;)
            {
                const auto result = s.try_send(std::move(message));
                if (result == send_status::sent)
                    break;
                if (result == send_status::full)
                    ++lane_full;  // must stay 0: the lane is larger than the credits
                else
                    ++no_credit;
                s.reclaim([](tracked&&) {});  // given-back messages die here, on the sender
                std::this_thread::yield();
            }
            const auto now = outstanding.fetch_add(1, std::memory_order_relaxed) + 1;
            if (now > max_outstanding.load(std::memory_order_relaxed))
                max_outstanding.store(now, std::memory_order_relaxed);
            max_in_flight = std::max(max_in_flight, s.in_flight());
        }
        receiver.join();
        s.reclaim([](tracked&&) {});

        CHECK(in_order);
        CHECK(holding_matches);
        CHECK(max_held <= credits);
        CHECK(max_in_flight <= credits);
        CHECK(max_outstanding.load() <= static_cast<std::int64_t>(credits));
        CHECK(s.in_flight() == 0);
        CHECK(s.available() == credits);
        const auto st = s.stats();
        CHECK(st.sent == count);
        CHECK(st.refused_no_credit == no_credit);
        CHECK(lane_full == 0);
        CHECK(st.refused_full == 0);
        CHECK(st.given_back + st.acknowledged == count);
        CHECK(st.high_water_in_flight <= credits);
        CHECK(log.destroyed_away_from_home == static_cast<int>(st.acknowledged));
    }
    CHECK(log.live == 0);
    CHECK(log.destroyed == static_cast<int>(count));
}
