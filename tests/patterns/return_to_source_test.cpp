// SPDX-License-Identifier: MIT
// Tests for allocate in the source and return to source, pool variant (<courier/object_pool.h> used as the
// Pattern): the receiver never allocates, a lane as large as the pool never refuses, and each message is freed
// exactly once, in its source context, including at shutdown. The refcount variant is in shared_message_test.
#include <courier/lane.h>
#include <courier/object_pool.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

using courier::lane;
using courier::object_pool;
using courier::pool_ptr;
using courier::test::tracked;
using courier::test::tracking_log;

namespace {

// A message the GUI sends to the audio side: a small sample to play, made in the GUI's own pool.
struct sample_message
{
    sample_message(tracking_log& log, std::uint64_t id) noexcept : tag(log, id) { frames.fill(static_cast<float>(id)); }
    tracked tag;  // records on which thread the message dies
    std::array<float, 64> frames{};
};

// The audio side's part: take one message, play it, drop it. Returns the heap calls made doing so.
std::size_t play_and_drop(courier::lane_receiver<pool_ptr<sample_message>>& from_gui, float& played)
{
    const courier::test::allocation_counter allocations;
    if (auto message = from_gui.try_receive())
        played = (**message).frames[0];  // dropped here: travels back to the GUI's pool, not destroyed
    return allocations.count();
}

}  // namespace

TEST_CASE("return_to_source")
{
    SUBCASE("a message from the GUI's pool is read and dropped on the audio thread without allocating, and dies on the GUI thread")
    {
        // [return-to-source-pool]
        tracking_log log;                            // home: this thread, the GUI, the pool's source
        object_pool<sample_message> pool(4);         // the sender's own pool
        lane<pool_ptr<sample_message>> to_audio(4);  // as large as the pool: sending cannot fail
        auto tx = to_audio.sender();
        auto rx = to_audio.receiver();
        REQUIRE(tx.try_send(pool.try_make(log, 7u)));
        float played = 0.0f;
        std::thread audio([&] { CHECK(play_and_drop(rx, played) == 0); });  // no heap call on the receiver
        audio.join();
        CHECK(played == 7.0f);
        CHECK(log.live == 1);                        // back in the return lane, not destroyed
        CHECK(pool.collect() == 1);                  // ✗ dies here, in its source context
        CHECK(log.destroyed_away_from_home == 0);
        // [return-to-source-pool]
    }

    SUBCASE("a lane as large as the pool never refuses a handle: a full loop shows as an empty try_make instead")
    {
        tracking_log log;
        object_pool<sample_message> pool(4);
        lane<pool_ptr<sample_message>> to_audio(pool.capacity());
        auto tx = to_audio.sender();
        auto rx = to_audio.receiver();
        for (std::uint64_t i = 0; i < 10; ++i)  // the receiver is stalled: nothing comes back
        {
            auto message = pool.try_make(log, i);
            if (message)
                CHECK(tx.try_send(std::move(message)));
        }
        CHECK(to_audio.stats().refused == 0);
        CHECK(to_audio.stats().sent == 4);
        CHECK(pool.stats().refused == 6);  // the sender learns at the source, before building anything
        while (rx.try_receive())
        {
        }
        CHECK(pool.try_make(log, 10u));
    }

    SUBCASE("a pool owned by the audio thread sends messages to the GUI, and they die back on the audio thread")
    {
        tracking_log log;
        object_pool<sample_message> pool(2);
        lane<pool_ptr<sample_message>> to_gui(2);
        auto tx = to_gui.sender();
        auto rx = to_gui.receiver();
        std::atomic<bool> gui_done{false};
        std::size_t audio_heap_calls = 1;
        std::size_t collected = 0;
        std::thread audio([&] {
            log.home = std::this_thread::get_id();  // the audio thread is the source here
            const courier::test::allocation_counter allocations;
            (void)tx.try_send(pool.try_make(log, 1u));  // a refusal would return the handle to the pool here
            while (!gui_done.load(std::memory_order_acquire))  // pairs with the release store below
                std::this_thread::yield();
            collected = pool.collect();  // ✗ the message dies here, on the audio thread that made it
            audio_heap_calls = allocations.count();
        });
        while (!rx.try_receive().has_value())  // the GUI reads the message and drops it at once
            std::this_thread::yield();
        gui_done.store(true, std::memory_order_release);
        audio.join();
        CHECK(collected == 1);
        CHECK(audio_heap_calls == 0);
        CHECK(log.live == 0);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("at shutdown, messages still queued or on their way back die once each, on the source")
    {
        tracking_log log;
        {
            object_pool<sample_message> pool(8);          // declared first: destroyed after the lane
            lane<pool_ptr<sample_message>> to_audio(8);
            auto tx = to_audio.sender();
            auto rx = to_audio.receiver();
            for (std::uint64_t i = 0; i < 6; ++i)
                REQUIRE(tx.try_send(pool.try_make(log, i)));
            std::thread audio([&] { CHECK(rx.drain([](pool_ptr<sample_message>&&) {}, 2) == 2); });
            audio.join();  // two dropped on the audio side (in the return lane), four still queued
            CHECK(log.live == 6);
        }  // ✗ ~lane drops the four on this (source) thread: they die at once; ~object_pool collects the two
        CHECK(log.live == 0);
        CHECK(log.destroyed == 6);
        CHECK(log.destroyed_away_from_home == 0);
    }
}

TEST_CASE("return_to_source: messages from the GUI's pool cross to the audio thread and back, each freed once on the GUI thread" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(200'000);
    tracking_log log;  // home: this thread, the GUI, the pool's source
    std::atomic<std::size_t> audio_heap_calls{1};
    std::atomic<bool> stop{false};
    std::uint64_t made = 0;
    {
        object_pool<sample_message> pool(16);
        lane<pool_ptr<sample_message>> to_audio(16);  // as large as the pool: try_send never fails
        auto tx = to_audio.sender();
        auto rx = to_audio.receiver();
        std::thread audio([&] {
            const courier::test::allocation_counter allocations;
            pool_ptr<sample_message> playing;  // the audio side holds one message a while
            while (!stop.load(std::memory_order_acquire))  // pairs with the release store below
            {
                rx.drain([&](pool_ptr<sample_message>&& m) { playing = std::move(m); }, 4);  // the old one goes back
                std::this_thread::yield();  // stands for the wait until the next callback
            }
            audio_heap_calls.store(allocations.count());
            playing.reset();  // after the count: in flight until the very end, then back through the lane
        });
        bool never_refused = true;
        while (made < count)
        {
            auto message = pool.try_make(log, made);  // collects returned messages when it runs out
            if (!message)
            {
                std::this_thread::yield();  // all 16 out: the pool's size is the backpressure
                continue;
            }
            never_refused = never_refused && tx.try_send(std::move(message));
            ++made;
        }
        stop.store(true, std::memory_order_release);
        audio.join();
        CHECK(never_refused);
    }  // shutdown with messages in flight: queued ones die in ~lane, returned ones in ~object_pool, here
    CHECK(audio_heap_calls.load() == 0);
    CHECK(log.live == 0);
    CHECK(log.destroyed == static_cast<int>(made));
    CHECK(log.destroyed_away_from_home == 0);
}
