// SPDX-License-Identifier: MIT
// Tests for <courier/experimental/send.h>: every send is received exactly once or its failure is reported to the
// sender (no silent loss); seeded schedule fuzzing with either party as the audio thread; real threads for TSan.
#include <courier/experimental/send.h>

#include "tests/protocol/scenario.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

using courier::port_table;
using courier::send_status;
using courier::protocol::send_link;
using courier::test::witnessed;

TEST_CASE("send_link")
{
    SUBCASE("try_send reports sent, then no_credit when every credit is out, and receive hands messages in order")
    {
        // [protocol-send]
        port_table table(2, 1);
        send_link<float> link(table, 2);  // 2 credits: at most 2 messages out of the sender's pool
        auto& audio = link.sender();
        auto& gui = link.receiver();

        CHECK(audio.try_send(0.5f) == send_status::sent);
        CHECK(audio.try_send(0.7f) == send_status::sent);
        CHECK(audio.try_send(0.9f) == send_status::no_credit);  // reported and counted, never silent
        CHECK(audio.stats().no_credit == 1);

        float sum = 0.0f;
        gui.drain([&](std::uint64_t, float& peak) { sum += peak; }, 8);  // messages go home after each call
        CHECK(sum == doctest::Approx(1.2));
        CHECK(audio.try_send(0.9f) == send_status::sent);  // the credits came back
        // [protocol-send]
        CHECK(audio.collect() == 0);
        CHECK(audio.in_flight() == 1);
        CHECK(audio.credits() == 2);
    }

    SUBCASE("try_send reports full when the receiver's queue is smaller than the credits")
    {
        port_table table(2, 1);
        send_link<int> link(table, 8, 2);
        int sent = 0;
        send_status last = send_status::sent;
        while (last == send_status::sent && sent < 9)
            if ((last = link.sender().try_send(sent)) == send_status::sent)
                ++sent;
        CHECK(last == send_status::full);
        CHECK(sent >= 2);
        CHECK(sent < 8);
        CHECK(link.sender().stats().full == 1);
        CHECK(link.sender().in_flight() == static_cast<std::size_t>(sent));  // the refused one died at once
    }

    SUBCASE("try_send reports gone after the receiver closes, and close counts what it dropped")
    {
        port_table table(2, 1);
        send_link<int> link(table, 4);
        CHECK(link.sender().try_send(1) == send_status::sent);
        CHECK(link.receiver().close() == 1);
        CHECK(link.sender().try_send(2) == send_status::gone);
        CHECK(link.sender().stats().gone == 1);
        CHECK(link.sender().stats().sent == 1);
    }
}

TEST_CASE("duplex")
{
    SUBCASE("try_post and try_signal reach the peer in order, and close makes the peer's sends gone")
    {
        enum class kind : std::uint8_t { data, marker };
        port_table table(2, 1);
        courier::protocol::duplex<int, std::monostate, kind> link(table, 2, 1, 1);
        auto& a = link.a();
        auto& b = link.b();
        CHECK(a.is_open());
        CHECK(a.peer_open());
        CHECK(a.credits() == 2);
        CHECK(a.try_post(7, kind::data, 70) == send_status::sent);
        CHECK(a.try_signal(8, kind::marker) == send_status::sent);
        CHECK(a.in_flight() == 1);  // the marker has no body
        std::vector<std::uint64_t> ids;
        b.drain(
            [&](courier::protocol::envelope<int, kind, std::monostate>&& m) {
                ids.push_back(m.kind == kind::data ? static_cast<std::uint64_t>(*m.body) : m.id);
            },
            8);
        CHECK(ids == std::vector<std::uint64_t>{70, 8});
        CHECK(a.collect() == 0);  // one thread: the body died at once when the envelope did
        CHECK(b.close() == 0);
        CHECK_FALSE(b.is_open());
        CHECK_FALSE(a.peer_open());
        CHECK(a.try_signal(9, kind::marker) == send_status::gone);
        CHECK(a.try_post(9, kind::data, 90) == send_status::gone);
        CHECK(a.stats().sent == 2);
        CHECK(a.stats().gone == 2);
        link.reset_thread_roles();
    }
    SUBCASE("every message carries the channel its answers go to, and try_post_to answers through it")
    {
        enum class kind : std::uint8_t { question, answer };
        using courier::protocol::envelope;
        port_table table(2, 1);
        courier::protocol::duplex<int, int, kind> link(table, 2, 2, 1);
        auto& a = link.a();
        auto& b = link.b();
        CHECK(a.try_post(5, kind::question, 50) == send_status::sent);

        std::size_t answered = 0;
        b.drain(
            [&](envelope<int, kind, int>&& m) {
                CHECK(m.reply_to);  // names a port: a's inbox
                CHECK(m.reply_to.is_open());
                CHECK(b.try_post_to(m.reply_to, m.id, kind::answer, *m.body + 1) == send_status::sent);
                ++answered;
            },
            8);
        CHECK(answered == 1);
        std::uint64_t id = 0;
        int value = 0;
        a.drain(
            [&](envelope<int, kind, int>&& m) {
                CHECK(m.kind == kind::answer);
                id = m.id;
                value = *m.body;
            },
            8);
        CHECK(id == 5);
        CHECK(value == 51);

        // try_post_to goes where it is told, not to the peer: a channel to nowhere is refused and counted.
        CHECK(b.try_post_to({}, 6, kind::answer, 1) == send_status::gone);
        CHECK(b.stats().gone == 1);

        // An answer to a party that has gone is refused and counted, not lost silently.
        CHECK(a.try_post(7, kind::question, 70) == send_status::sent);
        courier::protocol::party<int, int, kind>::answer_channel saved;
        b.drain([&](envelope<int, kind, int>&& m) { saved = m.reply_to; }, 8);
        CHECK(a.close() == 0);
        CHECK(b.try_signal_to(saved, 7, kind::answer) == send_status::gone);
        CHECK(b.stats().gone == 2);
        CHECK(b.stats().sent == 1);
        link.reset_thread_roles();
    }
}

namespace {

// The sender tries `total` sends; each is received exactly once, in order, or reported refused; a receiver that
// closes early reports how many it dropped. sent == received + dropped, and in-flight never exceeds the credits.
std::string send_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    courier::testing::pool_witness messages;
    {
        courier::testing::seeded_random setup(seed);
        const std::size_t credits = 1 + setup.below(4);
        const std::size_t queue = setup.chance(50) ? 1 + setup.below(credits) : 0;
        const std::uint64_t total = 4 + setup.below(40);
        const std::uint64_t receiver_stops_at = setup.chance(25) ? setup.below(60) : UINT64_MAX;
        port_table table(2, 1);
        send_link<witnessed> link(table, credits, queue);
        std::uint64_t attempts = 0;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        std::uint64_t dropped = 0;
        std::uint64_t last_value = 0;
        bool gone = false;
        bool receiver_stopped = false;
        bool receiver_closed = false;
        bool sender_done = false;

        auto sender = [&](courier::testing::step_context& c) {
            auto& me = link.sender();
            if (receiver_stopped && !receiver_closed && run.on_control(true))
                dropped = link.receiver().close(), receiver_closed = true;
            if (attempts < total && !gone && c.random.chance(70))
            {
                ++attempts;
                const send_status o = me.try_send(messages, attempts);
                if (o == send_status::sent)
                    ++sent;
                gone = o == send_status::gone;
            }
            run.log.expect(me.in_flight() <= me.credits(), "more messages out than credits");
            me.collect();
            // Stay until every message came home, so each dies here, on its source.
            if ((attempts == total || gone) && (!receiver_stopped || receiver_closed) && me.in_flight() == 0)
            {
                sender_done = true;
                return false;
            }
            return true;
        };
        auto receiver = [&](courier::testing::step_context& c) {
            auto& me = link.receiver();
            if (c.step >= receiver_stops_at || (sender_done && received == sent))
            {
                receiver_stopped = true;
                if (run.on_control(false))
                    dropped = me.close(), receiver_closed = true;
                return false;
            }
            me.drain(
                [&](std::uint64_t, witnessed& m) {
                    run.log.expect(m.value > last_value, "a message out of order or twice");
                    last_value = m.value;
                    ++received;
                },
                1 + c.random.below(3));
            return true;
        };
        const std::string failure = run.run(sender, receiver);
        if (!failure.empty())
            return failure;
        run.log.expect(sent == received + dropped, "silent loss: sent " + std::to_string(sent) + ", received " +
                                                       std::to_string(received) + ", dropped " +
                                                       std::to_string(dropped));
        const auto s = link.sender().stats();
        run.log.expect(s.sent + s.full + s.no_credit + s.gone == attempts, "a send neither sent nor refused");
        messages.begin_teardown();
    }
    messages.check(run.log, "messages");
    return run.log.first_failure();
}

}  // namespace

TEST_CASE("send_link: seeded schedule fuzzing, no silent loss")
{
    const auto report = courier::testing::fuzz("send", courier::test::protocol_fuzz_seeds(), send_scenario);
    CHECK_MESSAGE(!report.failed, "seed ", report.failed_seed, ": ", report.failure);
}

TEST_CASE("send_link: a sender and a receiver on two threads" * doctest::test_suite("stress"))
{
    const std::uint64_t total = courier::test::stress_count(200'000);
    port_table table(2, 1);
    send_link<std::uint64_t> link(table, 16, 4);
    std::atomic<std::uint64_t> sent{0};
    std::atomic<bool> done{false};
    std::uint64_t refused = 0;
    std::thread sender([&] {
        for (std::uint64_t i = 1; i <= total; ++i)
        {
            if (link.sender().try_send(i) == send_status::sent)
                sent.store(sent.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            else
            {
                ++refused;
                std::this_thread::yield();  // let the receiver catch up (the machine may have fewer cores)
            }
            link.sender().collect();
        }
        done.store(true, std::memory_order_release);  // pairs with the receiver's acquire load
    });
    std::uint64_t received = 0;
    std::uint64_t last = 0;
    std::uint64_t disorder = 0;
    for (;;)
    {
        const bool finished = done.load(std::memory_order_acquire);
        received += link.receiver().drain([&](std::uint64_t, std::uint64_t& v) {
            disorder += v <= last ? 1u : 0u;
            last = v;
        }, 64);
        if (finished && received == sent.load(std::memory_order_relaxed))
            break;
    }
    sender.join();
    CHECK(disorder == 0);
    CHECK(received > 0);
    CHECK(received + refused == total);
    const auto s = link.sender().stats();
    CHECK(s.sent == received);
    CHECK(s.full + s.no_credit == refused);
}

#if COURIER_CHECKS
TEST_CASE("duplex: close() on a control thread after the party stopped returns queued bodies without a violation" *
          doctest::test_suite("stress"))
{
    // A's inbox holds two of B's bodies. A's thread handles one (its drop sends the body home through pool_b's
    // return lane) and stops; then the control thread closes A's inbox, and the other body goes home the same
    // way, from the control thread: a hand-over of the returning role, which the role guard must accept.
    enum class kind : std::uint8_t { data };
    using courier::protocol::envelope;
    const courier::test::violation_recorder violations;
    port_table table(2, 1);
    courier::protocol::duplex<int, int, kind> link(table, 2, 2, 1);
    auto& a = link.a();
    auto& b = link.b();
    std::latch b_sent(1);
    std::latch closed(1);
    std::size_t came_home = 0;
    std::thread party_b([&] {
        CHECK(b.try_post(1, kind::data, 10) == send_status::sent);
        CHECK(b.try_post(2, kind::data, 20) == send_status::sent);
        b_sent.count_down();
        closed.wait();
        came_home = b.collect();  // ✗ both bodies die here, on their source
    });
    std::thread party_a([&] {
        b_sent.wait();
        CHECK(a.drain([](envelope<int, kind, int>&&) {}, 1) == 1);
    });
    party_a.join();            // party A has stopped
    CHECK(a.close() == 1);     // the queued message dies here; its body goes home from this thread
    closed.count_down();
    party_b.join();
    CHECK(came_home == 2);
    CHECK(violations.count() == 0);
}
#endif
