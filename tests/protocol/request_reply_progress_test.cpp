// SPDX-License-Identifier: MIT
// Tests for <courier/protocol/request_reply.h> with progress replies: progress on a held request, then the final
// reply (or cancelled) exactly once and last; seeded schedule fuzzing with either party as the audio thread;
// real threads for TSan.
#include <courier/protocol/request_reply.h>

#include "tests/protocol/scenario.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using courier::port_table;
using courier::protocol::request_reply;
using courier::protocol::reply_status;
using courier::send_status;
using courier::test::witnessed;

TEST_CASE("request_reply: progress")
{
    SUBCASE("drain hands progress replies, then the final reply last, and try_finish refuses a second")
    {
        // [protocol-progress]
        port_table table(2, 1);
        request_reply<int, float> render(table, 2, 4);  // 2 operations at once, 4 progress replies out
        auto& gui = render.client();
        auto& worker = render.server();

        const auto job = gui.try_request(3);  // "render 3 bars"
        worker.drain([](std::uint64_t, const int&) {}, 8);  // held until try_finish
        CHECK(worker.try_progress(job.id, 0.5f) == send_status::sent);
        CHECK(worker.try_finish(job.id, 1.0f) == send_status::sent);
        CHECK(worker.try_finish(job.id, 1.0f) == send_status::closed);    // exactly once
        CHECK(worker.try_progress(job.id, 2.0f) == send_status::closed);  // nothing after the final

        std::vector<reply_status> seen;
        gui.drain([&](std::uint64_t, reply_status s, float*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{reply_status::progress, reply_status::answered});
        // [protocol-progress]
        CHECK(gui.outstanding() == 0);
        CHECK(gui.collect() == 0);
        CHECK(worker.collect() == 0);
        CHECK(gui.stats().sent == 1);
        CHECK(worker.stats().sent == 2);
    }

    SUBCASE("try_progress answers no_credit when only the room reserved for final replies is left")
    {
        port_table table(2, 1);
        request_reply<int, int> link(table, 1, 2);
        const auto job = link.client().try_request(0);
        link.server().drain([](std::uint64_t, const int&) {}, 8);
        CHECK(link.server().pending(job.id) != nullptr);
        CHECK(link.server().pending_count() == 1);
        CHECK(link.server().try_progress(job.id, 1) == send_status::sent);
        CHECK(link.server().try_progress(job.id, 2) == send_status::sent);
        CHECK(link.server().try_progress(job.id, 3) == send_status::no_credit);
        CHECK(link.server().try_finish(job.id, 4) == send_status::sent);  // the final always has room
        link.client().drain([](std::uint64_t, reply_status, int*) {}, 8);
        CHECK(link.client().try_request(1).result == send_status::sent);
        CHECK(link.client().try_request(2).result == send_status::no_credit);
    }

    SUBCASE("drain ends a running operation with server_gone when the server has closed")
    {
        port_table table(2, 1);
        request_reply<int, int> link(table, 2, 2);
        const auto job = link.client().try_request(0);
        link.server().drain([](std::uint64_t, const int&) {}, 8);
        (void)link.server().try_progress(job.id, 1);
        (void)link.server().close();
        std::vector<reply_status> seen;
        link.client().drain([&](std::uint64_t, reply_status s, int*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{reply_status::progress, reply_status::server_gone});
        CHECK(link.client().close() == 0);
    }

    SUBCASE("without progress credits try_progress answers no_credit, and the reply still comes")
    {
        port_table table(2, 1);
        request_reply<int, int> link(table, 2);  // one reply per request
        const auto job = link.client().try_request(0);
        link.server().drain([](std::uint64_t, const int&) {}, 8);
        CHECK(link.server().try_progress(job.id, 1) == send_status::no_credit);
        CHECK(link.server().stats().no_credit == 1);
        CHECK(link.server().try_finish(job.id, 2) == send_status::sent);
        std::vector<reply_status> seen;
        link.client().drain([&](std::uint64_t, reply_status s, int*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{reply_status::answered});
    }

    SUBCASE("progress on a request answered by poll is closed: it is never held")
    {
        port_table table(2, 1);
        request_reply<int, int> link(table, 1, 2);
        const auto job = link.client().try_request(3);
        link.server().poll([](std::uint64_t, int& q) { return q; }, 8);
        CHECK(link.server().try_progress(job.id, 1) == send_status::closed);
    }

    SUBCASE("a cancel ends a request after its progress: progress first, then cancelled, nothing after")
    {
        port_table table(2, 1);
        request_reply<int, int> link(table, 1, 2);
        const auto job = link.client().try_request(0);
        link.server().drain([](std::uint64_t, const int&) {}, 8);
        CHECK(link.server().try_progress(job.id, 1) == send_status::sent);
        CHECK(link.client().try_cancel(job.id) == send_status::sent);
        link.server().drain([](std::uint64_t, const int&) {}, 8);  // the cancel wins: the request is not held
        CHECK(link.server().try_progress(job.id, 2) == send_status::closed);
        CHECK(link.server().try_finish(job.id, 3) == send_status::closed);
        std::vector<reply_status> seen;
        link.client().drain([&](std::uint64_t, reply_status s, int*) { seen.push_back(s); }, 8);
        CHECK(seen == std::vector{reply_status::progress, reply_status::cancelled});
        CHECK(link.client().outstanding() == 0);
    }
}

namespace {

std::string progress_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    courier::testing::pool_witness requests;
    courier::testing::pool_witness replies;
    {
        courier::testing::seeded_random setup(seed);
        const std::size_t credits = 1 + setup.below(3);
        const std::size_t progress_credits = 1 + setup.below(4);
        const std::uint64_t total = 2 + setup.below(10);
        port_table table(2, 1);
        request_reply<witnessed, witnessed> link(table, credits, progress_credits);
        courier::testing::terminal_tracker tracker(run.log);
        std::vector<std::uint64_t> progress_seen(total + 1, 0);
        std::vector<std::uint64_t> running;  // the server's held requests, in start order
        std::vector<std::uint64_t> live;     // the client's unsettled requests
        std::vector<bool> cancel_sent(total + 1, false);
        std::uint64_t started = 0;
        bool client_done = false;

        auto client = [&](courier::testing::step_context& c) {
            auto& me = link.client();
            if (started < total && c.random.chance(50))
            {
                const auto t = me.try_request(requests, started);
                if (t.result == send_status::sent)
                {
                    tracker.started(t.id);
                    live.push_back(t.id);
                    ++started;
                }
            }
            if (!live.empty() && c.random.chance(10))  // a cancel may race progress and the final reply
            {
                const std::uint64_t id = live[static_cast<std::size_t>(c.random.below(live.size()))];
                const send_status o = me.try_cancel(id);
                run.log.expect(o == send_status::sent || (o == send_status::closed && cancel_sent[id]),
                               "a cancel refused");
                cancel_sent[id] = true;
            }
            me.drain(
                [&](std::uint64_t id, reply_status s, witnessed* r) {
                    if (s == reply_status::progress)
                    {
                        tracker.non_terminal(id, "progress");
                        run.log.expect(r != nullptr && r->value == ++progress_seen[id], "progress out of order");
                    }
                    else
                    {
                        tracker.terminal(id, s == reply_status::answered ? "final reply" : "cancelled");
                        run.log.expect(s == reply_status::answered ? r != nullptr && r->value == 1000
                                                                   : s == reply_status::cancelled && cancel_sent[id]
                                                                         && r == nullptr,
                                       "a terminal that is neither the final reply nor a cancel that was sent");
                        std::erase(live, id);
                    }
                },
                1 + c.random.below(4));
            run.log.expect(me.outstanding() <= credits, "more operations than credits");
            me.collect();
            if (started == total && me.outstanding() == 0)
            {
                client_done = true;
                return false;
            }
            return true;
        };
        std::vector<std::uint64_t> progress_sent(total + 1, 0);
        auto server = [&](courier::testing::step_context& c) {
            auto& me = link.server();
            me.collect();
            run.log.expect(me.pending_count() <= credits, "more requests held than credits");
            if (client_done)
                return false;
            me.drain([&](std::uint64_t id, const witnessed&) { running.push_back(id); }, 1 + c.random.below(2));
            std::erase_if(running, [&](std::uint64_t id) { return me.pending(id) == nullptr; });  // cancelled
            if (!running.empty())
            {
                const std::size_t pick = static_cast<std::size_t>(c.random.below(running.size()));
                const std::uint64_t id = running[pick];
                if (c.random.chance(25))
                {
                    run.log.expect(me.try_finish(id, replies, std::uint64_t{1000}) == send_status::sent,
                                   "a final reply refused");
                    running.erase(running.begin() + static_cast<std::ptrdiff_t>(pick));
                }
                else if (me.try_progress(id, replies, progress_sent[id] + 1) == send_status::sent)
                    ++progress_sent[id];
            }
            return true;
        };
        const std::string failure = run.run(client, server);
        if (!failure.empty())
            return failure;
        tracker.all_settled();
        run.log.expect(progress_sent == progress_seen, "a progress reply lost");
        requests.begin_teardown();
        replies.begin_teardown();
    }
    requests.check(run.log, "requests");
    replies.check(run.log, "replies");
    return run.log.first_failure();
}

}  // namespace

TEST_CASE("request_reply: progress, seeded schedule fuzzing, the terminal last and exactly once")
{
    const auto report =
        courier::testing::fuzz("request_reply progress", courier::test::protocol_fuzz_seeds(), progress_scenario);
    CHECK_MESSAGE(!report.failed, "seed ", report.failed_seed, ": ", report.failure);
}

TEST_CASE("request_reply: progress, a client and a server on two threads" * doctest::test_suite("stress"))
{
    const std::uint64_t total = courier::test::stress_count(50'000);
    port_table table(2, 1);
    request_reply<int, std::uint64_t> link(table, 4, 8);
    std::atomic<bool> stop{false};
    std::thread server([&] {
        std::vector<std::uint64_t> running;
        running.reserve(4);
        std::uint64_t round = 0;
        while (!stop.load(std::memory_order_acquire))  // pairs with the client's release store
        {
            if (link.server().drain([&](std::uint64_t id, const int&) { running.push_back(id); }, 4) == 0
                && running.empty())
                std::this_thread::yield();  // the machine may have fewer cores than spinning threads
            for (std::size_t i = 0; i < running.size();)
            {
                if (++round % 4 == 0)
                {
                    (void)link.server().try_finish(running[i], std::uint64_t{0});
                    running[i] = running.back();
                    running.pop_back();
                }
                else
                    (void)link.server().try_progress(running[i++], round);
            }
            link.server().collect();
        }
    });
    std::vector<std::uint8_t> finals(total + 1, 0);
    std::uint64_t started = 0;
    std::uint64_t ended = 0;
    std::uint64_t wrong = 0;
    while (ended < total)
    {
        if (started < total && link.client().try_request(0).result == send_status::sent)
            ++started;
        const std::size_t got = link.client().drain(
            [&](std::uint64_t id, reply_status s, std::uint64_t*) {
                if (s == reply_status::server_gone || finals[id] != 0)
                    ++wrong;  // a server_gone, or anything after the final
                if (s == reply_status::answered)
                {
                    finals[id] = 1;
                    ++ended;
                }
            },
            16);
        if (got == 0)
            std::this_thread::yield();
        link.client().collect();
    }
    stop.store(true, std::memory_order_release);
    server.join();
    CHECK(wrong == 0);
    CHECK(link.client().outstanding() == 0);
}
