// SPDX-License-Identifier: MIT
// Tests for <courier/contracts.h> and <courier/role_guard.h>.
#include <courier/contracts.h>
#include <courier/role_guard.h>

#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

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

TEST_CASE("role_guard: check accepts one thread, reports a second live one, and reset hands the role over" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    courier::role_guard guard;
    guard.check();  // this thread owns the role now
    guard.check();
    CHECK(violations.count() == 0);

    std::thread intruder([&] { guard.check(); });  // this thread is alive, so the id cannot be reused
    intruder.join();
    CHECK(violations.count() == 1);

    guard.reset();
    courier::test::run_on_two_live_threads([&] { guard.check(); }, [&] { guard.check(); });
    CHECK(violations.count() == 2);  // the first of the two took the role; the second was reported
}
