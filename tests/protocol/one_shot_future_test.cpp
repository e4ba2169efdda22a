// SPDX-License-Identifier: MIT
// Tests for <courier/protocol/one_shot_future.h>: whether the result or the cancel wins, exactly one terminal
// Message per request, and every request and result dies on its own source thread; seeded schedule fuzzing with
// either party as the audio thread; real threads for TSan.
#include <courier/protocol/one_shot_future.h>

#include "tests/protocol/scenario.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using courier::port_table;
using courier::protocol::one_shot_future;
using courier::protocol::outcome;
using courier::protocol::settlement;
using courier::test::witnessed;

TEST_CASE("one_shot_future")
{
    SUBCASE("the cancel wins when the worker sees it first, and try_fulfil is then closed")
    {
        // [protocol-future]
        port_table table(2, 1);
        one_shot_future<int, float> analysis(table, 4);
        auto& gui = analysis.requester();
        auto& engine = analysis.worker();

        const auto job = gui.try_request(1024);                   // "measure the next 1024 frames"
        engine.accept([](std::uint64_t, const int&) {}, 8);       // audio: now pending
        CHECK(gui.try_cancel(job.id) == outcome::sent);           // the user changed their mind
        engine.accept([](std::uint64_t, const int&) {}, 8);       // audio: the cancel wins
        CHECK(engine.try_fulfil(job.id, 0.5f) == outcome::closed);  // so no result is made

        std::vector<settlement> seen;
        gui.take([&](std::uint64_t, settlement s, float*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{settlement::cancelled});  // exactly one terminal
        // [protocol-future]
        CHECK(gui.outstanding() == 0);
        CHECK(gui.try_cancel(job.id) == outcome::closed);
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
        one_shot_future<int, int> f(table, 2);
        const auto job = f.requester().try_request(5);
        f.worker().accept([](std::uint64_t, const int&) {}, 8);
        CHECK(f.worker().pending(job.id) != nullptr);
        CHECK(*f.worker().pending(job.id) == 5);
        CHECK(f.worker().pending_count() == 1);
        CHECK(f.worker().try_fulfil(job.id, 25) == outcome::sent);
        CHECK(f.requester().try_cancel(job.id) == outcome::sent);  // crosses the result
        f.worker().accept([](std::uint64_t, const int&) {}, 8);
        CHECK(f.worker().late_cancels() == 1);
        std::vector<settlement> seen;
        f.requester().take(
            [&](std::uint64_t, settlement s, int* r) {
                seen.push_back(r != nullptr && *r == 25 ? s : settlement::worker_gone);
            },
            8);
        CHECK(seen == std::vector{settlement::result});
    }

    SUBCASE("take settles pending requests as worker_gone when the worker has closed")
    {
        port_table table(2, 1);
        one_shot_future<int, int> f(table, 2);
        (void)f.requester().try_request(5);
        (void)f.worker().close();
        std::vector<settlement> seen;
        f.requester().take([&](std::uint64_t, settlement s, int*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{settlement::worker_gone});
        CHECK(f.requester().try_request(6).result == outcome::receiver_gone);
        CHECK(f.requester().close() == 0);
    }

    SUBCASE("a request dies on the requester's thread and a result on the worker's, whoever wins")
    {
        courier::test::tracking_log requests;  // home: this thread, the requester
        port_table table(2, 1);
        one_shot_future<courier::test::tracked, int> f(table, 2);
        const auto a = f.requester().try_request(requests, std::uint64_t{1});
        const auto b = f.requester().try_request(requests, std::uint64_t{2});
        std::thread worker([&] {
            f.worker().accept([](std::uint64_t, const courier::test::tracked&) {}, 8);
            (void)f.worker().try_fulfil(a.id, 1);  // a's request goes home from here
        });
        worker.join();
        CHECK(f.requester().try_cancel(b.id) == outcome::sent);
        std::thread worker_again([&] { f.worker().accept([](std::uint64_t, const courier::test::tracked&) {}, 8); });
        worker_again.join();
        std::size_t settled = f.requester().take([](std::uint64_t, settlement, int*) {}, 8);
        CHECK(settled == 2);
        f.requester().collect();  // both requests die here, on their source
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
        one_shot_future<witnessed, witnessed> link(table, credits);
        courier::testing::terminal_tracker tracker(run.log);
        std::vector<std::uint64_t> pending;
        std::uint64_t asked = 0;
        bool requester_done = false;

        auto requester = [&](courier::testing::step_context& c) {
            auto& me = link.requester();
            if (asked < total && c.random.chance(50))
            {
                const auto t = me.try_request(requests, asked);
                if (t.result == outcome::sent)
                {
                    tracker.started(t.id);
                    pending.push_back(t.id);
                    ++asked;
                }
            }
            if (!pending.empty() && c.random.chance(30))
            {
                const outcome o = me.try_cancel(pending[static_cast<std::size_t>(c.random.below(pending.size()))]);
                run.log.expect(o == outcome::sent || o == outcome::closed,
                               std::string("a cancel refused as ") + to_string(o));
            }
            me.take(
                [&](std::uint64_t id, settlement s, witnessed* r) {
                    tracker.terminal(id, s == settlement::result ? "result" : "cancelled");
                    if (s == settlement::result)
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
            auto& me = link.worker();
            me.collect();
            if (requester_done)
                return false;
            me.accept([&](std::uint64_t id, const witnessed&) { open.push_back(id); }, 1 + c.random.below(3));
            if (!open.empty() && c.random.chance(40))
            {
                const std::size_t pick = static_cast<std::size_t>(c.random.below(open.size()));
                const std::uint64_t id = open[pick];
                open.erase(open.begin() + static_cast<std::ptrdiff_t>(pick));
                const outcome o = me.try_fulfil(id, results, id * 7);
                run.log.expect(o == outcome::sent || o == outcome::closed,
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

TEST_CASE("one_shot_future: seeded schedule fuzzing, one terminal per request whoever wins the race")
{
    const auto report =
        courier::testing::fuzz("one_shot_future", courier::test::protocol_fuzz_seeds(), future_scenario);
    CHECK_MESSAGE(!report.failed, "seed ", report.failed_seed, ": ", report.failure);
}

TEST_CASE("one_shot_future: a requester and a worker racing cancels against results on two threads" *
          doctest::test_suite("stress"))
{
    const std::uint64_t total = courier::test::stress_count(100'000);
    port_table table(2, 1);
    one_shot_future<std::uint64_t, std::uint64_t> link(table, 8);
    std::atomic<bool> stop{false};
    std::thread worker([&] {
        std::vector<std::uint64_t> open;
        open.reserve(8);
        while (!stop.load(std::memory_order_acquire))  // pairs with the requester's release store
        {
            if (link.worker().accept([&](std::uint64_t id, const std::uint64_t&) { open.push_back(id); }, 8) == 0 &&
                open.empty())
                std::this_thread::yield();  // the machine may have fewer cores than spinning threads
            if (!open.empty())
            {
                (void)link.worker().try_fulfil(open.front(), open.front());  // closed if the cancel won
                open.erase(open.begin());
            }
            link.worker().collect();
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
            const auto t = link.requester().try_request(asked);
            if (t.result == outcome::sent)
            {
                ++asked;
                if (t.id % 2 == 0)
                    (void)link.requester().try_cancel(t.id);  // races the worker's result
            }
        }
        const std::size_t got = link.requester().take(
            [&](std::uint64_t id, settlement s, std::uint64_t* r) {
                ++terminals[id];
                if (s == settlement::result && r != nullptr && *r == id)
                    ++results;
            },
            16);
        settled += got;
        if (got == 0)
            std::this_thread::yield();
        link.requester().collect();
    }
    stop.store(true, std::memory_order_release);
    worker.join();
    std::uint64_t not_once = 0;
    for (std::uint64_t id = 1; id <= total; ++id)
        not_once += terminals[id] != 1 ? 1u : 0u;
    CHECK(not_once == 0);
    CHECK(results >= total / 2);  // every odd id is never cancelled
}
