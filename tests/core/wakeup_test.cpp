// SPDX-License-Identifier: MIT
// Tests for <courier/wakeup.h>: a signal is never lost, from the audio side or from a control thread.
#include <courier/wakeup.h>

#include <courier/lane.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using namespace std::chrono_literals;
using courier::wakeup;

TEST_CASE("wakeup")
{
    SUBCASE("wait_for returns true at once when a signal is already pending, and consumes it")
    {
        // [wakeup-signal-coalesces]
        wakeup w(1ms);
        w.signal();
        w.signal();  // coalesces with the first
        const auto start = std::chrono::steady_clock::now();
        CHECK(w.wait_for(1h));
        CHECK(std::chrono::steady_clock::now() - start < 1h);
        CHECK_FALSE(w.wait_for(0ms));
        // [wakeup-signal-coalesces]
    }

    SUBCASE("wait_for returns false when no signal comes before the timeout")
    {
        wakeup w(1ms);
        CHECK_FALSE(w.wait_for(3ms));
    }

    SUBCASE("wait returns once signal_and_wake was called")
    {
        // [wakeup-signal-and-wake]
        wakeup w(std::chrono::hours(1));  // no polling to help: only the wake can end the wait
        w.signal_and_wake();
        w.wait();
        CHECK_FALSE(w.wait_for(0ms));
        // [wakeup-signal-and-wake]
    }

    SUBCASE("signal neither allocates nor frees")
    {
        wakeup w;
        const courier::test::allocation_counter allocations;
        for (int i = 0; i < 10; ++i)
            w.signal();
        CHECK(allocations.count() == 0);
        CHECK(w.poll_interval() == 1ms);
    }
}

// The signaller waits for each item to be acknowledged before sending the next, so every signal has to reach
// the worker: a lost one would leave the worker in wait_for until its one-hour timeout, and the item unacked.
TEST_CASE("wakeup: every signal from a wait-free signaller reaches the waiting worker" * doctest::test_suite("stress"))
{
    const int rounds = static_cast<int>(courier::test::stress_count(2000));
    wakeup w(200us);
    std::atomic<int> item{0};
    std::atomic<int> acked{0};
    std::atomic<int> timeouts{0};

    std::thread worker([&] {
        while (acked.load(std::memory_order_relaxed) < rounds)
        {
            if (!w.wait_for(1h))
            {
                timeouts.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            // Acquire/release pair with the signaller's item store and ack load.
            acked.store(item.load(std::memory_order_acquire), std::memory_order_release);
        }
    });

    for (int i = 1; i <= rounds; ++i)
    {
        item.store(i, std::memory_order_release);
        w.signal();  // audio-style: no syscall
        while (acked.load(std::memory_order_acquire) != i)
            std::this_thread::yield();
    }
    worker.join();
    CHECK(timeouts.load() == 0);
    CHECK(acked.load() == rounds);
}

TEST_CASE("wakeup: a worker drains a lane on every wake-up and sees every message" * doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(200'000);
    courier::lane<std::uint64_t> work(64);
    auto tx = work.sender();
    auto rx = work.receiver();
    wakeup w(100us);

    std::thread worker([&] {
        std::uint64_t next = 0;
        bool in_order = true;
        while (next < count)
        {
            w.wait();
            rx.drain([&](std::uint64_t v) { in_order = in_order && v == next++; }, count);
        }
        CHECK(in_order);
    });

    for (std::uint64_t i = 0; i < count; ++i)
    {
        while (!tx.try_send(i))
            std::this_thread::yield();
        if (i % 2 == 0)
            w.signal();
        else
            w.signal_and_wake();
    }
    worker.join();
    CHECK(work.stats().received == count);
}
