// SPDX-License-Identifier: MIT
// Tests for <courier/protocol/request_reply.h>: whether the result or the cancel wins, exactly one terminal
// message per request, and every request and result dies on its own source thread; seeded schedule fuzzing with
// either party as the audio thread; real threads for TSan.
#include <courier/protocol/request_reply.h>

#include "tests/protocol/scenario.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using courier::port_table;
using courier::protocol::request_reply;
using courier::send_status;
using courier::protocol::reply_status;
using courier::test::witnessed;

TEST_CASE("request_reply: cancel")
{
    SUBCASE("the cancel wins when the worker sees it first, and try_finish is then closed")
    {
        // [protocol-future]
        port_table table(2, 1);
        request_reply<int, float> analysis(table, 4);
        auto& gui = analysis.client();
        auto& engine = analysis.server();

        const auto job = gui.try_request(1024);                   // "measure the next 1024 frames"
        engine.drain([](std::uint64_t, const int&) {}, 8);        // audio: now pending
        CHECK(gui.try_cancel(job.id) == send_status::sent);  // the user changed their mind
        engine.drain([](std::uint64_t, const int&) {}, 8);        // audio: the cancel wins
        CHECK(engine.try_finish(job.id, 0.5f) == send_status::closed);  // so no result is made

        std::vector<reply_status> seen;
        gui.drain([&](std::uint64_t, reply_status s, float*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{reply_status::cancelled});  // exactly one terminal
        // [protocol-future]
        CHECK(gui.outstanding() == 0);
        CHECK(gui.try_cancel(job.id) == send_status::closed);
        CHECK(gui.collect() == 0);
        CHECK(gui.in_flight() == 0);
        CHECK(engine.collect() == 0);
        CHECK(engine.late_cancels() == 0);
        CHECK(gui.stats().sent == 2);
        CHECK(engine.stats().sent == 1);
    }

    SUBCASE("the result wins when it was sent before the cancel arrived, and the late cancel is ignored")
    {
        port_table table(2, 1);
        request_reply<int, int> f(table, 2);
        const auto job = f.client().try_request(5);
        f.server().drain([](std::uint64_t, const int&) {}, 8);
        CHECK(f.server().pending(job.id) != nullptr);
        CHECK(*f.server().pending(job.id) == 5);
        CHECK(f.server().pending_count() == 1);
        CHECK(f.server().try_finish(job.id, 25) == send_status::sent);
        CHECK(f.client().try_cancel(job.id) == send_status::sent);  // crosses the result
        f.server().drain([](std::uint64_t, const int&) {}, 8);
        CHECK(f.server().late_cancels() == 1);
        std::vector<reply_status> seen;
        f.client().drain(
            [&](std::uint64_t, reply_status s, int* r) {
                seen.push_back(r != nullptr && *r == 25 ? s : reply_status::server_gone);
            },
            8);
        CHECK(seen == std::vector{reply_status::answered});
    }

    SUBCASE("drain settles unsettled requests as server_gone when the server has closed")
    {
        port_table table(2, 1);
        request_reply<int, int> f(table, 2);
        (void)f.client().try_request(5);
        (void)f.server().close();
        std::vector<reply_status> seen;
        f.client().drain([&](std::uint64_t, reply_status s, int*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{reply_status::server_gone});
        CHECK(f.client().try_request(6).result == send_status::gone);
        CHECK(f.client().close() == 0);
    }

    SUBCASE("a request dies on the requester's thread and a result on the worker's, whoever wins")
    {
        courier::test::tracking_log requests;  // home: this thread, the requester
        port_table table(2, 1);
        request_reply<courier::test::tracked, int> f(table, 2);
        const auto a = f.client().try_request(requests, std::uint64_t{1});
        const auto b = f.client().try_request(requests, std::uint64_t{2});
        std::thread worker([&] {
            f.server().drain([](std::uint64_t, const courier::test::tracked&) {}, 8);
            (void)f.server().try_finish(a.id, 1);  // a's request goes home from here
        });
        worker.join();
        CHECK(f.client().try_cancel(b.id) == send_status::sent);
        std::thread worker_again([&] { f.server().drain([](std::uint64_t, const courier::test::tracked&) {}, 8); });
        worker_again.join();
        std::size_t settled = f.client().drain([](std::uint64_t, reply_status, int*) {}, 8);
        CHECK(settled == 2);
        f.client().collect();  // both requests die here, on their source
        CHECK(requests.live == 0);
        CHECK(requests.destroyed == 2);
        CHECK(requests.destroyed_away_from_home == 0);
    }
}

namespace {

std::string future_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    courier::testing::pool_witness requests;
    courier::testing::pool_witness results;
    {
        courier::testing::seeded_random setup(seed);
        const std::size_t credits = 1 + setup.below(4);
        const std::uint64_t total = 2 + setup.below(20);
        port_table table(2, 1);
        request_reply<witnessed, witnessed> link(table, credits);
        courier::testing::terminal_tracker tracker(run.log);
        std::vector<std::uint64_t> pending;
        std::uint64_t asked = 0;
        bool requester_done = false;

        auto requester = [&](courier::testing::step_context& c) {
            auto& me = link.client();
            if (asked < total && c.random.chance(50))
            {
                const auto t = me.try_request(requests, asked);
                if (t.result == send_status::sent)
                {
                    tracker.started(t.id);
                    pending.push_back(t.id);
                    ++asked;
                }
            }
            if (!pending.empty() && c.random.chance(30))
            {
                const send_status o = me.try_cancel(pending[static_cast<std::size_t>(c.random.below(pending.size()))]);
                run.log.expect(o == send_status::sent || o == send_status::closed,
                               std::string("a cancel refused as ") + to_string(o));
            }
            me.drain(
                [&](std::uint64_t id, reply_status s, witnessed* r) {
                    tracker.terminal(id, s == reply_status::answered ? "result" : "cancelled");
                    if (s == reply_status::answered)
                        run.log.expect(r != nullptr && r->value == id * 7, "a result for another request");
                    std::erase(pending, id);
                },
                1 + c.random.below(3));
            run.log.expect(me.outstanding() <= credits && me.in_flight() <= credits, "more requests than credits");
            me.collect();
            if (asked == total && me.outstanding() == 0)
            {
                requester_done = true;
                return false;
            }
            return true;
        };
        std::vector<std::uint64_t> open;
        auto worker = [&](courier::testing::step_context& c) {
            auto& me = link.server();
            me.collect();
            if (requester_done)
                return false;
            me.drain([&](std::uint64_t id, const witnessed&) { open.push_back(id); }, 1 + c.random.below(3));
            if (!open.empty() && c.random.chance(40))
            {
                const std::size_t pick = static_cast<std::size_t>(c.random.below(open.size()));
                const std::uint64_t id = open[pick];
                open.erase(open.begin() + static_cast<std::ptrdiff_t>(pick));
                const send_status o = me.try_finish(id, results, id * 7);
                run.log.expect(o == send_status::sent || o == send_status::closed,
                               std::string("a result refused as ") + to_string(o));
            }
            return true;
        };
        const std::string failure = run.run(requester, worker);
        if (!failure.empty())
            return failure;
        tracker.all_settled();
        requests.begin_teardown();
        results.begin_teardown();
    }
    requests.check(run.log, "requests");
    results.check(run.log, "results");
    return run.log.first_failure();
}

}  // namespace

TEST_CASE("request_reply: cancel: seeded schedule fuzzing, one terminal per request whoever wins the race")
{
    const auto report =
        courier::testing::fuzz("request_reply_cancel", courier::test::protocol_fuzz_seeds(), future_scenario);
    CHECK_MESSAGE(!report.failed, "seed ", report.failed_seed, ": ", report.failure);
}

TEST_CASE("request_reply: cancel: a requester and a worker racing cancels against results on two threads" *
          doctest::test_suite("stress"))
{
    const std::uint64_t total = courier::test::stress_count(100'000);
    port_table table(2, 1);
    request_reply<std::uint64_t, std::uint64_t> link(table, 8);
    std::atomic<bool> stop{false};
    std::thread worker([&] {
        std::vector<std::uint64_t> open;
        open.reserve(8);
        while (!stop.load(std::memory_order_acquire))  // pairs with the requester's release store
        {
            if (link.server().drain([&](std::uint64_t id, const std::uint64_t&) { open.push_back(id); }, 8) == 0 &&
                open.empty())
                std::this_thread::yield();  // the machine may have fewer cores than spinning threads
            if (!open.empty())
            {
                (void)link.server().try_finish(open.front(), open.front());  // closed if the cancel won
                open.erase(open.begin());
            }
            link.server().collect();
        }
    });
    std::vector<std::uint8_t> terminals(total + 1, 0);
    std::uint64_t asked = 0;
    std::uint64_t settled = 0;
    std::uint64_t results = 0;
    while (settled < total)
    {
        if (asked < total)
        {
            const auto t = link.client().try_request(asked);
            if (t.result == send_status::sent)
            {
                ++asked;
                if (t.id % 2 == 0)
                    (void)link.client().try_cancel(t.id);  // races the worker's result
            }
        }
        const std::size_t got = link.client().drain(
            [&](std::uint64_t id, reply_status s, std::uint64_t* r) {
                ++terminals[id];
                if (s == reply_status::answered && r != nullptr && *r == id)
                    ++results;
            },
            16);
        settled += got;
        if (got == 0)
            std::this_thread::yield();
        link.client().collect();
    }
    stop.store(true, std::memory_order_release);
    worker.join();
    std::uint64_t not_once = 0;
    for (std::uint64_t id = 1; id <= total; ++id)
        not_once += terminals[id] != 1 ? 1u : 0u;
    CHECK(not_once == 0);
    CHECK(results >= total / 2);  // every odd id is never cancelled
}
