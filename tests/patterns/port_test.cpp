// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/port_table.h>, <courier/patterns/channel.h> and <courier/patterns/port.h>: sending through channels, a port's
// budgeted round-robin drain, closing a port with messages queued and channels still held, slot reuse, and
// closing while sender threads keep sending.
#include <courier/patterns/channel.h>
#include <courier/patterns/port.h>
#include <courier/patterns/port_table.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"
#include "tests/support/overlapping_threads.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::channel;
using courier::port;
using courier::port_address;
using courier::port_table;
using courier::send_status;
using courier::test::tracked;
using courier::test::tracking_log;

namespace {

struct note
{
    std::uint32_t from = 0;
    std::uint64_t sequence = 0;
};

}  // namespace

TEST_CASE("port_table")
{
    SUBCASE("the constructor throws when capacity or max_lanes is 0")
    {
        CHECK_THROWS_AS(port_table(0, 4), std::invalid_argument);
        CHECK_THROWS_AS(port_table(4, 0), std::invalid_argument);
    }

    SUBCASE("capacity, max_lanes, open_ports, opened and gone describe the table")
    {
        port_table table(3, 2);
        CHECK(table.capacity() == 3);
        CHECK(table.max_lanes() == 2);
        CHECK(table.open_ports() == 0);
        {
            port<int> a(table, 1, 4);
            port<int> b(table, 2, 4);
            CHECK(table.open_ports() == 2);
            CHECK(table.capacity() == 3);
            CHECK(table.opened() == 2);
            CHECK(table.gone() == 0);
        }
        CHECK(table.open_ports() == 0);
        CHECK(table.opened() == 2);
    }

    SUBCASE("opening a port throws when every slot holds an open port, and a closed slot is reused")
    {
        port_table table(1, 1);
        auto first = std::make_unique<port<int>>(table, 1, 4);
        CHECK_THROWS_AS(port<int>(table, 1, 4), std::length_error);
        const port_address old_address = first->address();
        first.reset();
        port<int> second(table, 1, 4);
        CHECK(second.address().slot() == old_address.slot());
        CHECK(second.address().generation() > old_address.generation());
    }
}

TEST_CASE("port_address")
{
    SUBCASE("is_open is false for an empty address, true while the port is open, false after it closes")
    {
        port_table table(1, 1);
        CHECK_FALSE(port_address{}.is_open());
        CHECK(port_address{}.generation() == 0);
        auto p = std::make_unique<port<int>>(table, 1, 4);
        const port_address a = p->address();
        CHECK(a.is_open());
        CHECK(a.generation() % 2 == 1);
        CHECK(a == p->address());
        p.reset();
        CHECK_FALSE(a.is_open());
        port<int> reuse(table, 1, 4);  // same slot, next lifetime
        CHECK(reuse.address().slot() == a.slot());
        CHECK_FALSE(a.is_open());
        CHECK_FALSE(a == reuse.address());
    }
}

TEST_CASE("channel")
{
    SUBCASE("try_send answers sent and the owner drains the messages in the order they were sent")
    {
        // [port-send-drain]
        port_table table(16, 4);               // setup: every port of the program lives in one of 16 slots
        port<note> voice(table, 2, 64);        // a processor's own mailbox: 2 sender lanes of 64
        channel<note> from_gui = voice.connect();  // the GUI thread's lane into it

        REQUIRE(from_gui.try_send(note{0, 1}) == send_status::sent);
        REQUIRE(from_gui.try_send(note{0, 2}) == send_status::sent);

        std::vector<std::uint64_t> seen;
        voice.drain([&](note&& n) { seen.push_back(n.sequence); }, 16);  // on the thread that owns `voice`
        CHECK(seen == std::vector<std::uint64_t>{1, 2});
        // [port-send-drain]
    }

    SUBCASE("try_send answers full, leaves the message untouched and counts the refusal when the lane is full")
    {
        port_table table(1, 1);
        port<std::unique_ptr<int>> p(table, 1, 1);
        const auto tx = p.connect();
        REQUIRE(tx.try_send(std::make_unique<int>(1)) == send_status::sent);
        auto second = std::make_unique<int>(2);
        CHECK(tx.try_send(std::move(second)) == send_status::full);
        REQUIRE(second != nullptr);
        CHECK(*second == 2);
        CHECK(p.stats(0).refused == 1);
        CHECK(table.gone() == 0);
    }

    SUBCASE("try_send answers gone, leaves the message untouched and counts it once the port has closed")
    {
        // [port-gone]
        port_table table(4, 2);
        auto sampler = std::make_unique<port<std::unique_ptr<int>>>(table, 1, 8);
        const channel<std::unique_ptr<int>> to_sampler = sampler->connect();
        sampler.reset();  // the object and its port are gone; the channel value is still held somewhere

        auto message = std::make_unique<int>(7);
        CHECK(to_sampler.try_send(std::move(message)) == send_status::gone);
        CHECK(message != nullptr);  // untouched: still the sender's
        CHECK_FALSE(to_sampler.is_open());
        CHECK(table.gone() == 1);
        // [port-gone]
    }

    SUBCASE("try_send answers gone for an empty channel")
    {
        const channel<int> nowhere;
        CHECK_FALSE(static_cast<bool>(nowhere));
        CHECK_FALSE(nowhere.is_open());
        CHECK(nowhere.try_send(1) == send_status::gone);
    }

    SUBCASE("try_send answers gone when the slot now holds a new port, which receives nothing")
    {
        port_table table(1, 2);
        auto old_port = std::make_unique<port<int>>(table, 2, 4);
        const auto stale = old_port->connect();
        old_port.reset();
        port<int> new_port(table, 2, 4);  // the only slot: the one the stale channel names
        const auto fresh = new_port.connect();
        REQUIRE(new_port.address().slot() == stale.address().slot());

        CHECK(stale.try_send(1) == send_status::gone);
        CHECK(fresh.try_send(2) == send_status::sent);
        std::vector<int> seen;
        new_port.drain([&](int v) { seen.push_back(v); }, 8);
        CHECK(seen == std::vector<int>{2});
        CHECK(table.gone() == 1);
    }

    SUBCASE("lane, address, operator bool and == describe the channel")
    {
        port_table table(1, 2);
        port<int> p(table, 2, 4);
        const auto a = p.connect();
        const auto b = p.connect();
        CHECK(a.lane() == 0);
        CHECK(b.lane() == 1);
        CHECK(a.address() == p.address());
        CHECK(static_cast<bool>(a));
        CHECK(a.is_open());
        const auto copy = a;
        CHECK(copy == a);
        CHECK_FALSE(a == b);
    }

    SUBCASE("try_send, is_open and drain neither allocate nor free")
    {
        port_table table(2, 1);
        port<std::unique_ptr<int>> p(table, 1, 4);
        const auto tx = p.connect();
        auto gone = std::make_unique<port<std::unique_ptr<int>>>(table, 1, 4);
        const auto to_gone = gone->connect();
        gone.reset();
        auto item = std::make_unique<int>(1);
        const courier::test::allocation_counter allocations;
        CHECK(tx.try_send(std::move(item)) == send_status::sent);
        CHECK(p.drain([&](std::unique_ptr<int>&& m) { item = std::move(m); }, 4) == 1);  // take it back: no free
        CHECK(to_gone.try_send(std::move(item)) == send_status::gone);
        CHECK(tx.is_open());
        CHECK_FALSE(to_gone.is_open());
        (void)table.gone();
        (void)p.stats(0);
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("port")
{
    SUBCASE("drain handles at most budget messages, one lane after another, and resumes where it stopped")
    {
        port_table table(1, 2);
        port<note> p(table, 2, 64);
        const auto flood = p.connect();
        const auto trickle = p.connect();
        for (std::uint64_t i = 0; i < 50; ++i)
            REQUIRE(flood.try_send(note{0, i}) == send_status::sent);
        for (std::uint64_t i = 0; i < 3; ++i)
            REQUIRE(trickle.try_send(note{1, i}) == send_status::sent);

        std::array<int, 2> served{};
        std::vector<std::uint32_t> order;
        CHECK(p.drain([&](note&& n) { ++served[n.from]; order.push_back(n.from); }, 4) == 4);
        CHECK(order == std::vector<std::uint32_t>{0, 1, 0, 1});
        CHECK(p.drain([&](note&& n) { ++served[n.from]; }, 4) == 4);
        CHECK(served[1] == 3);  // the trickle is not starved by the flood
        CHECK(served[0] == 5);
    }

    SUBCASE("the constructor throws for 0 lanes or more lanes than the table allows")
    {
        port_table table(2, 2);
        CHECK_THROWS_AS(port<int>(table, 0, 4), std::invalid_argument);
        CHECK_THROWS_AS(port<int>(table, 3, 4), std::invalid_argument);
        CHECK(table.open_ports() == 0);
    }

    SUBCASE("connect throws when every lane is connected, and when the port is closed")
    {
        port_table table(1, 2);
        port<int> p(table, 2, 4);
        (void)p.connect();
        (void)p.connect();
        CHECK_THROWS_AS((void)p.connect(), std::length_error);
        CHECK(p.close() == 0);
        CHECK_THROWS_AS((void)p.connect(), std::logic_error);
    }

    SUBCASE("lane_count, connected and is_open follow the port's life")
    {
        port_table table(1, 4);
        port<int> p(table, 3, 4);
        CHECK(p.is_open());
        CHECK(p.lane_count() == 3);
        CHECK(p.connected() == 0);
        (void)p.connect();
        CHECK(p.connected() == 1);
        (void)p.close();
        CHECK_FALSE(p.is_open());
        CHECK(p.lane_count() == 0);
        CHECK(p.connected() == 0);
        CHECK_FALSE(p.address().is_open());
    }

    SUBCASE("close destroys the messages still queued, on the closing thread, and returns how many")
    {
        // [port-close]
        tracking_log log;  // home: this thread, the control thread that closes the port
        port_table table(4, 2);
        auto voice = std::make_unique<port<tracked>>(table, 2, 16);
        const auto from_gui = voice->connect();
        int queued = 0;
        std::thread gui([&] {  // another thread queues five messages the owner never drains
            for (std::uint64_t i = 0; i < 5; ++i)
                queued += from_gui.try_send(tracked(log, i)) == send_status::sent ? 1 : 0;
        });
        gui.join();
        REQUIRE(queued == 5);
        CHECK(voice->close() == 5);  // ✗ all five die here, on this thread, not returned
        CHECK(log.destroyed == 5);
        CHECK(log.destroyed_away_from_home == 0);
        CHECK(from_gui.try_send(tracked(log, 9)) == send_status::gone);
        // [port-close]
        CHECK(voice->close() == 0);  // closing twice does nothing
        CHECK(log.live == 0);
    }

    SUBCASE("the destructor closes the port: queued messages die there, and channels answer gone")
    {
        tracking_log log;
        port_table table(1, 1);
        auto p = std::make_unique<port<tracked>>(table, 1, 8);
        const auto tx = p->connect();
        REQUIRE(tx.try_send(tracked(log, 1)) == send_status::sent);
        REQUIRE(tx.try_send(tracked(log, 2)) == send_status::sent);
        p.reset();
        CHECK(log.destroyed == 2);
        CHECK(log.live == 0);
        CHECK(tx.try_send(tracked(log, 3)) == send_status::gone);
        CHECK(log.destroyed == 3);  // the refused message died in this scope, on the sender
    }

    SUBCASE("a moved port keeps its slot and channels, and move assignment closes the port it replaces")
    {
        tracking_log log;
        port_table table(2, 1);
        port<tracked> a(table, 1, 8);
        const auto to_a = a.connect();
        REQUIRE(to_a.try_send(tracked(log, 1)) == send_status::sent);
        port<tracked> moved(std::move(a));
        CHECK_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move): a moved-from port is closed
        CHECK(moved.address() == to_a.address());
        REQUIRE(to_a.try_send(tracked(log, 2)) == send_status::sent);
        CHECK(moved.drain([](tracked&&) {}, 8) == 2);

        port<tracked> b(table, 1, 8);
        const auto to_b = b.connect();
        REQUIRE(to_b.try_send(tracked(log, 3)) == send_status::sent);
        b = std::move(moved);  // b's old port closes here, with its one queued message
        CHECK(log.destroyed == 3);
        CHECK(to_b.try_send(tracked(log, 4)) == send_status::gone);
        CHECK(to_a.try_send(tracked(log, 5)) == send_status::sent);
        CHECK(b.drain([](tracked&&) {}, 8) == 1);
        CHECK(log.live == 0);
    }

    SUBCASE("drain on a closed port handles nothing and reports a contract violation")
    {
        const courier::test::violation_recorder violations;
        port_table table(1, 1);
        port<int> p(table, 1, 4);
        (void)p.close();
        CHECK(p.drain([](int) {}, 4) == 0);
        CHECK(violations.count() == COURIER_CHECKS);
    }
}

#if COURIER_CHECKS
TEST_CASE("channel: the role guard catches two threads sending through copies of one channel at the same time" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    port_table table(1, 2);
    port<int> p(table, 2, 16);
    const auto tx = p.connect();
    const auto copy = tx;  // a copy is the same lane: still one producer at a time
    courier::test::run_overlapping([&] { (void)tx.try_send(1); }, [&] { (void)copy.try_send(2); });
    CHECK(violations.count() == 1);
}
#endif

TEST_CASE("port: the port closes and its slot is reused while sender threads keep sending" *
          doctest::test_suite("stress"))
{
    // Three sender threads hammer one port that an owner thread drains. The control thread (this one) stops
    // the owner, closes the port while the senders are still sending, and opens a new port in the same slot.
    // Every message is accounted for exactly once: drained by the owner, refused and dropped by its sender, or
    // destroyed in close() on this thread. The new port receives nothing through the old channels.
    constexpr std::uint32_t senders = 3;
    const std::uint64_t before_close = courier::test::stress_count(300'000);
    tracking_log log;  // home: this thread, which closes the port
    port_table table(1, senders + 1);  // one slot, so the new port must reuse it
    auto first = std::make_unique<port<tracked>>(table, senders, 64);
    std::vector<channel<tracked>> channels;
    for (std::uint32_t s = 0; s < senders; ++s)
        channels.push_back(first->connect());

    struct sender_counts
    {
        std::uint64_t sent = 0, full = 0, gone = 0;
    };
    std::array<sender_counts, senders> counts{};
    std::atomic<bool> stop_sending{false};
    std::atomic<std::uint64_t> drained{0};
    std::atomic<bool> stop_owner{false};
    std::atomic<int> out_of_order{0};

    std::vector<std::thread> threads;
    for (std::uint32_t s = 0; s < senders; ++s)
        threads.emplace_back([&, s] {
            std::uint64_t sequence = 0;
            while (!stop_sending.load(std::memory_order_acquire))  // pairs with the release store below
            {
                switch (channels[s].try_send(tracked(log, (std::uint64_t{s} << 48) | sequence)))
                {
                case send_status::sent: ++counts[s].sent; ++sequence; break;
                case send_status::full: ++counts[s].full; std::this_thread::yield(); break;
                default: ++counts[s].gone; break;  // refused messages die here, on the sender
                }
            }
        });
    std::thread owner([&] {
        std::array<std::uint64_t, senders> next{};
        while (!stop_owner.load(std::memory_order_acquire))  // pairs with the release store below
        {
            const auto handled = first->drain(
                [&](tracked&& m) {
                    const auto from = static_cast<std::uint32_t>(m.number() >> 48);
                    const std::uint64_t sequence = m.number() & ((std::uint64_t{1} << 48) - 1);
                    if (sequence != next[from])
                        out_of_order.fetch_add(1, std::memory_order_relaxed);
                    next[from] = sequence + 1;
                },
                32);
            drained.fetch_add(handled, std::memory_order_relaxed);
        }
    });

    while (drained.load(std::memory_order_relaxed) < before_close)
        std::this_thread::yield();
    stop_owner.store(true, std::memory_order_release);
    owner.join();  // the owner has stopped draining: the port may close now
    const std::size_t leftover = first->close();  // the senders are still sending
    const port_address old_address = first->address();

    port<tracked> second(table, 1, 64);  // the same slot, next generation
    REQUIRE(second.address().slot() == old_address.slot());
    const auto fresh = second.connect();
    // Keep the stale senders going against the reused slot until they have been refused many times.
    while (table.gone() < 1000 * senders)
        std::this_thread::yield();
    REQUIRE(fresh.try_send(tracked(log, 42)) == send_status::sent);
    stop_sending.store(true, std::memory_order_release);
    for (auto& t : threads)
        t.join();

    std::vector<std::uint64_t> on_second;
    second.drain([&](tracked&& m) { on_second.push_back(m.number()); }, 1000);
    CHECK(on_second == std::vector<std::uint64_t>{42});

    std::uint64_t sent = 0, gone = 0;
    for (const auto& c : counts)
    {
        sent += c.sent;
        gone += c.gone;
    }
    CHECK(out_of_order.load() == 0);
    CHECK(sent == drained.load() + leftover);  // nothing lost, nothing duplicated
    CHECK(gone == table.gone());
    CHECK(gone >= 1000 * senders);
    CHECK(log.destroyed - log.destroyed_away_from_home == static_cast<int>(leftover) + 1);  // close() and `42`
    first.reset();
    CHECK(log.live == 0);
}

TEST_CASE("port: a stale channel and a live one share a lane's gate while the live port closes again and again" *
          doctest::test_suite("stress"))
{
    // One slot, one lane: every port opened here uses the gate that a stale channel (to the first port) keeps
    // hammering from another thread. In each round a fresh sender thread sends through the live port's channel
    // while this thread closes the port under it. The stale sender must never make the closer think the live
    // sender has left (ASan and TSan see the lanes freed under a push if it does), and every message the live
    // sender got `sent` for dies in close(), counted once.
    const int rounds = static_cast<int>(courier::test::stress_count(1'000));
    port_table table(1, 1);
    auto first = std::make_unique<port<int>>(table, 1, 4);
    const auto stale = first->connect();
    (void)first->close();

    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> stale_refusals{0};
    std::thread hammer([&] {
        std::uint64_t refused = 0;
        while (!stop.load(std::memory_order_relaxed))  // a flag only; join orders the rest
        {
            refused += stale.try_send(-1) == send_status::gone ? 1u : 0u;
            std::this_thread::yield();  // hammer, but let the closer see the count at 0 now and then
        }
        stale_refusals.store(refused, std::memory_order_relaxed);
    });

    std::uint64_t sent_total = 0, destroyed_total = 0;
    int mismatches = 0;
    for (int round = 0; round < rounds; ++round)
    {
        port<int> live(table, 1, 1024);
        const auto to_live = live.connect();
        std::atomic<bool> started{false};
        std::uint64_t sent = 0;
        std::thread sender([&] {
            for (;;)
            {
                const auto r = to_live.try_send(int{round});
                if (r == send_status::sent)
                    ++sent;
                started.store(true, std::memory_order_release);  // pairs with the acquire load below
                if (r == send_status::gone)
                    break;
            }
        });
        while (!started.load(std::memory_order_acquire))
            std::this_thread::yield();
        const std::size_t destroyed = live.close();  // the sender is still sending
        sender.join();
        sent_total += sent;
        destroyed_total += destroyed;
        mismatches += sent == destroyed ? 0 : 1;
    }
    stop.store(true, std::memory_order_relaxed);
    hammer.join();
    CHECK(mismatches == 0);
    CHECK(sent_total == destroyed_total);
    CHECK(stale_refusals.load() > 0);
}
