// SPDX-License-Identifier: MIT
// Tests for <courier/contracts.h> and <courier/role_guard.h>.
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/role_guard.h>

#include "tests/support/overlapping_threads.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <thread>

TEST_CASE("contracts")
{
    SUBCASE("COURIER_EXPECTS reports a false condition to the installed handler and is silent on a true one")
    {
        const courier::test::violation_recorder violations;
        const int zero = 0;
        COURIER_EXPECTS(zero == 0);
        CHECK(violations.count() == 0);
        COURIER_EXPECTS(zero == 1);
        CHECK(violations.count() == 1);
    }

    SUBCASE("set_contract_violation_handler returns the previous handler")
    {
        auto handler = [](const courier::contract_violation&) noexcept {};
        const courier::contract_violation_handler mine = +handler;
        const auto previous = courier::set_contract_violation_handler(mine);
        const bool got_mine_back = courier::set_contract_violation_handler(previous) == mine;
        CHECK(got_mine_back);
    }
}

TEST_CASE("role_guard: a scope reports a second thread inside at the same time, and accepts a hand-over" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    courier::role_guard guard("courier::example", "writer");
    {
        const courier::role_guard::scope outer(guard);
        const courier::role_guard::scope nested(guard);  // the same thread again: holds nothing more
        guard.expect_idle();                             // a setup call on the holding thread: fine
    }
    CHECK(violations.count() == 0);

    // One after the other, on two live threads: a hand-over, as a host makes between blocks.
    courier::test::run_on_two_live_threads([&] { const courier::role_guard::scope s(guard); },
                                           [&] { const courier::role_guard::scope s(guard); });
    CHECK(violations.count() == 0);

    // At the same time: the second thread enters while the first is parked inside.
    courier::test::run_overlapping([&] { const courier::role_guard::scope s(guard); },
                                   [&] { const courier::role_guard::scope s(guard); });
    CHECK(violations.count() == 1);

    // A setup call while a thread is inside overlaps it too.
    courier::test::run_overlapping([&] { const courier::role_guard::scope s(guard); }, [&] { guard.expect_idle(); });
    CHECK(violations.count() == 2);
    guard.expect_idle();  // nobody inside now
    CHECK(violations.count() == 2);
}

TEST_CASE("role_guard: the violation names the object, its role, its given name and both threads" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    courier::lane<float> meters(4, "meter feed");
    auto tx = meters.sender();
    std::ostringstream first_id;
    std::ostringstream second_id;
    courier::test::run_overlapping(
        [&] {
            first_id << std::this_thread::get_id();
            (void)tx.try_send(1.0F);
        },
        [&] {
#if defined(__linux__)
            pthread_setname_np(pthread_self(), "gui timer");
#endif
            second_id << std::this_thread::get_id();
            (void)tx.try_send(2.0F);
        });
    REQUIRE(violations.count() == 1);
    const std::string text = violations.last();
    MESSAGE(text);
    CHECK(text.find("courier::lane<float") != std::string::npos);  // the type
    CHECK(text.find("sender") != std::string::npos);               // the role
    CHECK(text.find("\"meter feed\"") != std::string::npos);       // the name given at setup
    CHECK(text.find("thread " + second_id.str()) != std::string::npos);  // the thread entering
    CHECK(text.find("thread " + first_id.str() + " is inside") != std::string::npos);  // the one holding
#if defined(__linux__)
    CHECK(text.find("\"gui timer\"") != std::string::npos);  // the entering thread's OS name
#endif
}
