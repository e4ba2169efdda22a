// SPDX-License-Identifier: MIT
// Tests for <courier/protocol/request_reply.h>: exactly one reply_status per request, by a reply or by
// Server_gone; seeded schedule fuzzing with either party as the audio thread; real threads for TSan.
#include <courier/protocol/request_reply.h>

#include "tests/protocol/scenario.h"
#include "tests/support/allocation_counter.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <utility>
#include <vector>

using courier::port_table;
using courier::send_status;
using courier::protocol::reply_status;
using courier::protocol::request_reply;
using courier::test::witnessed;

TEST_CASE("request_reply")
{
    SUBCASE("poll answers each request once, and drain hands the reply to its id")
    {
        // [protocol-request-reply]
        port_table table(4, 1);
        request_reply<int, int> link(table, 4);  // at most 4 requests unanswered
        auto& gui = link.client();               // control thread
        auto& engine = link.server();            // audio thread

        const auto ticket = gui.try_request(21);
        REQUIRE(ticket.result == send_status::sent);

        engine.poll([](std::uint64_t, int& question) { return question * 2; }, 8);  // in the callback

        int answer = 0;
        gui.drain([&](std::uint64_t id, reply_status status, int* reply) {
            if (id == ticket.id && status == reply_status::answered)
                answer = *reply;
        }, 8);
        CHECK(answer == 42);
        CHECK(gui.outstanding() == 0);
        // [protocol-request-reply]
        CHECK(gui.stats().sent == 1);
        CHECK(engine.stats().sent == 1);
        CHECK(gui.collect() == 0);  // same thread: the request died at once when served
        CHECK(engine.collect() == 0);
    }

    SUBCASE("try_request answers no_credit when credits requests are unanswered")
    {
        port_table table(4, 1);
        request_reply<int, int> link(table, 2);
        CHECK(link.client().try_request(1).result == send_status::sent);
        CHECK(link.client().try_request(2).result == send_status::sent);
        const auto refused = link.client().try_request(3);
        CHECK(refused.result == send_status::no_credit);
        CHECK(refused.id == 0);
        CHECK(link.client().outstanding() == 2);
    }

    SUBCASE("drain settles every unanswered request as server_gone when the server has closed")
    {
        port_table table(4, 1);
        request_reply<int, int> link(table, 4);
        const auto first = link.client().try_request(1);
        const auto second = link.client().try_request(2);
        link.server().poll([](std::uint64_t, int& q) { return q; }, 1);  // answers the first only
        CHECK(link.server().close() == 1);                               // the second dies unanswered
        std::vector<std::pair<std::uint64_t, reply_status>> seen;
        link.client().drain([&](std::uint64_t id, reply_status s, int*) { seen.emplace_back(id, s); }, 8);
        REQUIRE(seen.size() == 2);
        CHECK(seen[0] == std::pair{first.id, reply_status::answered});
        CHECK(seen[1] == std::pair{second.id, reply_status::server_gone});
        CHECK(link.client().try_request(3).result == send_status::gone);
        CHECK(link.client().stats().gone == 1);
    }

    SUBCASE("poll counts a reply refused as gone when the client has closed")
    {
        port_table table(4, 1);
        request_reply<int, int> link(table, 4);
        (void)link.client().try_request(1);
        (void)link.client().close();
        CHECK(link.server().poll([](std::uint64_t, int& q) { return q; }, 8) == 1);
        CHECK(link.server().stats().gone == 1);
    }
}

namespace {

// One fuzz run: the client sends up to `total` requests and checks each reply_status; the server answers, and in
// a third of the runs goes away at a random step.
std::string request_reply_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    courier::testing::pool_witness requests;
    courier::testing::pool_witness replies;
    bool early = false;
    {
        courier::testing::seeded_random setup(seed);
        const std::size_t credits = 1 + setup.below(4);
        const std::uint64_t total = 4 + setup.below(30);
        const std::uint64_t server_stops_at = setup.chance(33) ? setup.below(40) : UINT64_MAX;
        port_table table(2, 1);
        request_reply<witnessed, witnessed> link(table, credits);
        courier::testing::terminal_tracker tracker(run.log);
        std::vector<std::uint64_t> asked(total + 1, 0);
        std::uint64_t sent = 0;
        bool server_stopped = false;  // set by the server's last step
        bool server_closed = false;
        bool client_done = false;
        bool gone_seen = false;

        auto client = [&](courier::testing::step_context& c) {
            auto& me = link.client();
            if (server_stopped && !server_closed && run.on_control(true))
                server_closed = (link.server().close(), true);
            if (sent < total && !gone_seen && c.random.chance(60))
            {
                const auto t = me.try_request(requests, sent * 10);
                if (t.result == send_status::sent)
                {
                    tracker.started(t.id);
                    asked[t.id] = sent * 10;
                    ++sent;
                }
                else if (t.result == send_status::gone)
                    gone_seen = true;
                else
                    run.log.expect(t.result == send_status::no_credit, "request refused as " +
                                                                     std::string(to_string(t.result)));
            }
            me.drain(
                [&](std::uint64_t id, reply_status s, witnessed* reply) {
                    tracker.terminal(id, "reply");
                    if (s == reply_status::answered)
                        run.log.expect(reply != nullptr && id <= total && reply->value == asked[id] + 1,
                                       "reply " + std::to_string(id) + " does not answer its request");
                },
                1 + c.random.below(3));
            run.log.expect(me.outstanding() <= credits, "more requests unanswered than credits");
            me.collect();
            if ((sent == total || gone_seen) && me.outstanding() == 0)
            {
                if (!server_stopped || server_closed || !run.on_control(true))
                {
                    client_done = true;
                    me.collect();
                    return false;
                }
            }
            return true;
        };
        auto server = [&](courier::testing::step_context& c) {
            auto& me = link.server();
            if (c.step >= server_stops_at || client_done)
            {
                me.collect();
                server_stopped = true;
                if (run.on_control(false))
                    server_closed = (me.close(), true);
                return false;
            }
            me.poll([&](std::uint64_t, witnessed& q) { return witnessed(replies, q.value + 1); },
                     1 + c.random.below(3));
            me.collect();
            return true;
        };
        const std::string failure = run.run(client, server);
        if (!failure.empty())
            return failure;
        tracker.all_settled();
        early = server_stops_at != UINT64_MAX;
        requests.begin_teardown();
        replies.begin_teardown();
    }
    requests.check(run.log, "requests");
    replies.check(run.log, "replies", early ? UINT64_MAX : 0);  // a server gone early cannot collect the last
    return run.log.first_failure();
}

}  // namespace

TEST_CASE("request_reply: seeded schedule fuzzing, one reply_status per request, every message home once")
{
    const auto report = courier::testing::fuzz("request_reply", courier::test::protocol_fuzz_seeds(),
                                               request_reply_scenario);
    CHECK_MESSAGE(!report.failed, "seed ", report.failed_seed, ": ", report.failure);
    CHECK(report.runs >= 1);
}

TEST_CASE("request_reply: a client and a server on two threads" * doctest::test_suite("stress"))
{
    const std::uint64_t total = courier::test::stress_count(100'000);
    port_table table(2, 1);
    request_reply<std::uint64_t, std::uint64_t> link(table, 8);
    std::atomic<bool> stop{false};
    std::thread server([&] {
        while (!stop.load(std::memory_order_acquire))  // pairs with the client's release store
        {
            if (link.server().poll([](std::uint64_t id, std::uint64_t& q) { return q + id; }, 16) == 0)
                std::this_thread::yield();  // the machine may have fewer cores than spinning threads
            link.server().collect();
        }
    });
    std::vector<std::uint8_t> settled(total + 1, 0);
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::uint64_t wrong = 0;
    while (received < total)
    {
        if (sent < total && link.client().try_request(sent * 3).result == send_status::sent)
            ++sent;
        const std::size_t got = link.client().drain(
            [&](std::uint64_t id, reply_status s, std::uint64_t* r) {
                if (s != reply_status::answered || r == nullptr || *r != (id - 1) * 3 + id || settled[id]++ != 0)
                    ++wrong;
            },
            16);
        received += got;
        if (got == 0)
            std::this_thread::yield();
        link.client().collect();
    }
    stop.store(true, std::memory_order_release);
    server.join();
    CHECK(wrong == 0);
    CHECK(link.client().outstanding() == 0);
}

namespace {

struct voice_query
{
    int voice;
};

struct voice_report
{
    int voice;
    float level;
};

}  // namespace

// The control side asks the audio side about its state ("what is voice 3 doing?"); the audio side answers at its
// next callback with poll, each request exactly once, in order.
TEST_CASE("request_reply: a state query answered once per callback")
{
    port_table table(2, 1);
    request_reply<voice_query, voice_report> query(table, 2);
    auto& gui = query.client();
    auto& audio = query.server();
    const auto answer = [](std::uint64_t, const voice_query& q) {
        return voice_report{q.voice, 0.1f * static_cast<float>(q.voice)};
    };
    std::vector<std::pair<std::uint64_t, int>> replies;
    const auto take = [&](std::uint64_t id, reply_status s, voice_report* r) {
        REQUIRE(s == reply_status::answered);
        replies.emplace_back(id, r->voice);
    };

    SUBCASE("each request is answered once, at the next callback, in order")
    {
        const auto first = gui.try_request(voice_query{3});
        const auto second = gui.try_request(voice_query{5});
        REQUIRE(first.result == send_status::sent);
        REQUIRE(second.result == send_status::sent);
        CHECK(gui.drain(take, 8) == 0);  // nothing before the callback
        CHECK(audio.poll(answer, 8) == 2);
        CHECK(audio.poll(answer, 8) == 0);  // answered once: the next callback finds nothing
        CHECK(gui.drain(take, 8) == 2);
        REQUIRE(replies.size() == 2);
        CHECK(replies[0] == std::pair<std::uint64_t, int>{first.id, 3});
        CHECK(replies[1] == std::pair<std::uint64_t, int>{second.id, 5});
        CHECK(gui.outstanding() == 0);
    }

    SUBCASE("a request beyond the credits is refused at once and counted, and allowed again after a reply")
    {
        REQUIRE(gui.try_request(voice_query{1}).result == send_status::sent);
        REQUIRE(gui.try_request(voice_query{2}).result == send_status::sent);
        CHECK(gui.try_request(voice_query{3}).result == send_status::no_credit);
        CHECK(gui.stats().no_credit == 1);
        // Answered but not yet taken: still outstanding, still refused.
        CHECK(audio.poll(answer, 8) == 2);
        CHECK(gui.try_request(voice_query{3}).result == send_status::no_credit);
        CHECK(gui.stats().no_credit == 2);
        CHECK(gui.drain(take, 1) == 1);
        const auto third = gui.try_request(voice_query{3});
        CHECK(third.result == send_status::sent);
        CHECK(third.id == 3);
        CHECK(gui.stats().sent == 3);
    }

    SUBCASE("asking, answering and taking the replies neither allocate nor free")
    {
        replies.reserve(8);  // the test's own log, not the protocol
        const courier::test::allocation_counter allocations;
        for (int round = 0; round < 4; ++round)
        {
            CHECK(gui.try_request(voice_query{round}).result == send_status::sent);
            CHECK(audio.poll(answer, 8) == 1);
            CHECK(gui.drain(take, 8) == 1);
            gui.collect();
            audio.collect();
        }
        CHECK(gui.outstanding() == 0);
        CHECK(allocations.count() == 0);
    }
}

// A stream restart: the server's old thread stops, setup hands the server to a new thread, and a thread with the
// old thread's id (the system recycles ids; modelled here deterministically by the old thread itself, now in the
// client's role) drops a reply before the new server thread's first call. The reply must travel home to the
// server's pool and die on the new server thread, not in place on a thread that only looks like the old source.
TEST_CASE("request_reply: reset_thread_role hands the server to a new thread, and an old thread's id no longer "
          "passes for it")
{
    courier::test::tracking_log replies;  // home: this thread, the new server thread
    port_table table(2, 1);
    request_reply<int, courier::test::tracked> link(table, 2);
    REQUIRE(link.client().try_request(7).result == send_status::sent);
    std::latch answered(1);
    std::latch handed_over(1);
    std::latch dropped(1);
    int seen = 0;
    std::thread old_server([&] {
        link.server().poll([&](std::uint64_t, int& q) { return courier::test::tracked(replies, std::uint64_t(q)); },
                           8);  // the reply is made here: this thread is the server pool's source
        answered.count_down();
        handed_over.wait();  // the stream stopped; setup handed the server to a new thread
        // Same id, another role: the client's. The reply it drops must go home through the return lane.
        link.client().drain([&](std::uint64_t, reply_status s, courier::test::tracked* r) {
            seen += s == reply_status::answered && r != nullptr && r->number() == 7 ? 1 : 0;
        }, 8);
        dropped.count_down();
    });
    answered.wait();
    link.server().reset_thread_role();  // the old server thread has stopped serving
    link.client().reset_thread_role();  // and the client's thread will change too
    handed_over.count_down();
    dropped.wait();
    CHECK(seen == 1);
    CHECK(replies.destroyed == 0);          // not destroyed on the old server thread
    CHECK(link.server().collect() == 1);    // it came home, and died here, on the new server thread
    CHECK(replies.destroyed == 1);
    CHECK(replies.destroyed_away_from_home == 0);
    old_server.join();
}
