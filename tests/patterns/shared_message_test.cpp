// SPDX-License-Identifier: MIT
// Tests for <courier/experimental/shared_message.h> (return to source, refcount variant): a message shared by several
// holders returns to its source pool when the last reference drops, and dies there exactly once, including at
// shutdown; only the source and one holder thread may copy or drop references.
#include <courier/experimental/shared_message.h>

#include <courier/lane.h>

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
#include <stdexcept>
#include <thread>

using courier::shared_message;
using courier::shared_message_pool;
using courier::test::tracked;
using courier::test::tracking_log;

namespace {

// A sample the GUI loads once and several voices on the audio thread play at the same time.
struct sample
{
    sample(tracking_log& log, std::uint64_t id) noexcept : tag(log, id) { frames.fill(static_cast<float>(id)); }
    tracked tag;  // records on which thread the sample dies
    std::array<float, 32> frames{};
};

}  // namespace

TEST_CASE("shared_message")
{
    SUBCASE("the last reference dropped on the audio thread sends the message back, and it dies on the source in collect")
    {
        // [shared-message]
        tracking_log log;  // home: this thread, the GUI, the pool's source
        shared_message_pool<sample> samples(8);
        std::thread audio([kick = samples.try_make(log, 1u)]() mutable {
            std::array<shared_message<sample>, 3> voices{kick, kick, std::move(kick)};  // 3 voices, 3 references
            for (auto& voice : voices)
                voice.reset();  // the last drop sends it back; nothing is freed here
        });
        audio.join();
        CHECK(log.live == 1);
        CHECK(samples.collect() == 1);  // ✗ dies here, on the source
        CHECK(log.destroyed_away_from_home == 0);
        // [shared-message]
    }

    SUBCASE("the last reference dropped on the source destroys the message at once")
    {
        tracking_log log;
        shared_message_pool<sample> samples(2);
        auto a = samples.try_make(log, 1u);
        auto b = a;
        a.reset();
        CHECK(log.live == 1);
        b.reset();
        CHECK(log.live == 0);
        CHECK(samples.in_use() == 0);
    }

    SUBCASE("use_count counts the references, and get and operator-> read the shared message")
    {
        tracking_log log;
        shared_message_pool<sample> samples(2);
        shared_message<sample> empty;
        CHECK(empty.use_count() == 0);
        CHECK(empty.get() == nullptr);
        CHECK_FALSE(empty);
        auto a = samples.try_make(log, 5u);
        REQUIRE(a);
        CHECK(a.use_count() == 1);
        {
            const auto b = a;
            CHECK(a.use_count() == 2);
            CHECK(b->frames[0] == 5.0f);
            CHECK(b.get() == a.get());
            CHECK((*b).tag.number() == 5);
        }
        CHECK(a.use_count() == 1);
        auto moved = std::move(a);
        CHECK(moved.use_count() == 1);
        CHECK_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from references are empty
    }

    SUBCASE("copy and move assignment drop the old reference and take the new one")
    {
        tracking_log log;
        shared_message_pool<sample> samples(4);
        auto a = samples.try_make(log, 1u);
        auto b = samples.try_make(log, 2u);
        auto c = a;
        c = b;  // a's message loses a reference, b's gains one
        CHECK(a.use_count() == 1);
        CHECK(b.use_count() == 2);
        c = std::move(a);  // b's message loses c's reference; a's moves over
        CHECK(b.use_count() == 1);
        CHECK(c.use_count() == 1);
        CHECK(c->tag.number() == 1);
        auto& alias = c;
        c = alias;  // self-assignment changes nothing
        CHECK(c.use_count() == 1);
        CHECK(log.live == 2);
    }

    SUBCASE("copying and dropping references on the holder thread neither allocates nor frees")
    {
        tracking_log log;
        shared_message_pool<sample> samples(4);
        auto first = samples.try_make(log, 1u);
        std::size_t heap_calls = 1;
        std::thread audio([&, held = std::move(first)]() mutable {
            const courier::test::allocation_counter allocations;
            for (int round = 0; round < 100; ++round)
            {
                shared_message<sample> copy = held;
                shared_message<sample> other;
                other = copy;
            }
            held.reset();
            heap_calls = allocations.count();
        });
        audio.join();
        CHECK(heap_calls == 0);
        CHECK(samples.collect() == 1);
    }

    SUBCASE("try_make returns an empty reference when every slot is in use, and counts it")
    {
        tracking_log log;
        shared_message_pool<sample> samples(1);
        auto a = samples.try_make(log, 1u);
        CHECK_FALSE(samples.try_make(log, 2u));
        CHECK(samples.exhausted() == 1);
        CHECK(samples.capacity() == 1);
        CHECK(samples.in_use() == 1);
        a.reset();
        CHECK(samples.try_make(log, 3u));
    }

    SUBCASE("two holder threads dropping at the same time are reported even when neither drop is the last")
    {
        const courier::test::violation_recorder violations;
        tracking_log log;
        shared_message_pool<sample> samples(2);
        auto a = samples.try_make(log, 1u);  // this thread is the source
        auto b = a;
        auto c = a;
        courier::test::run_overlapping([&] { b.reset(); },   // the holder thread
                                       [&] { c.reset(); });  // a second one at the same time: a violation
        CHECK(violations.count() == 1);
        CHECK(a.use_count() == 1);
    }

    SUBCASE("a copy by a second holder thread at the same time is reported")
    {
        const courier::test::violation_recorder violations;
        tracking_log log;
        shared_message_pool<sample> samples(2);
        auto a = samples.try_make(log, 1u);
        courier::test::run_overlapping([&] { const shared_message<sample> copy = a; },
                                       [&] { const shared_message<sample> copy = a; });
        CHECK(violations.count() == 2);  // the second thread's copy, and its drop, both while the first is inside
        CHECK(a.use_count() == 1);
    }

    SUBCASE("another thread becomes the holder after the first, with or without reset_thread_roles")
    {
        const courier::test::violation_recorder violations;
        tracking_log log;
        shared_message_pool<sample> samples(2);
        auto a = samples.try_make(log, 1u);
        auto b = a;
        auto c = a;
        a.reset();
        courier::test::run_on_two_live_threads([&] { b.reset(); },
                                               [&] {
                                                   samples.reset_thread_roles();
                                                   c.reset();  // the last reference: goes back
                                               });
        CHECK(violations.count() == 0);
        CHECK(samples.collect() == 1);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("the pool's destructor destroys messages that came back, on the destroying thread")
    {
        tracking_log log;
        {
            shared_message_pool<sample> samples(2);
            auto a = samples.try_make(log, 1u);
            std::thread audio([held = std::move(a)]() mutable { held.reset(); });
            audio.join();
            CHECK(log.live == 1);
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("capacity 0 is refused")
    {
        CHECK_THROWS_AS(shared_message_pool<sample>(0), std::invalid_argument);
    }
}

TEST_CASE("shared_message: samples shared by voices on the audio thread each die once on the GUI thread, shutdown included" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(100'000);
    constexpr std::size_t voice_count = 6;
    tracking_log log;  // home: this thread, the GUI, the pool's source
    std::atomic<std::size_t> audio_heap_calls{1};
    std::atomic<bool> stop{false};
    std::uint64_t made = 0;
    {
        shared_message_pool<sample> samples(24);                 // declared first: destroyed last
        courier::lane<shared_message<sample>> to_audio(8);
        std::array<shared_message<sample>, voice_count> voices;  // the audio side's holders
        auto tx = to_audio.sender();
        auto rx = to_audio.receiver();

        std::thread audio([&] {
            const courier::test::allocation_counter allocations;
            std::size_t next_voice = 0;
            while (!stop.load(std::memory_order_acquire))  // pairs with the release store below
            {
                // Each new sample starts on two voices; the voices it replaces drop their references.
                rx.drain(
                    [&](shared_message<sample>&& s) {
                        voices[next_voice] = s;
                        voices[(next_voice + 1) % voice_count] = std::move(s);
                        next_voice = (next_voice + 2) % voice_count;
                    },
                    2);
                std::this_thread::yield();  // stands for the wait until the next callback
            }
            audio_heap_calls.store(allocations.count());
        });

        shared_message<sample> shown;  // the GUI keeps the last sample it made, for display
        while (made < count)
        {
            samples.collect();  // ✗ samples whose last reference dropped on the audio thread die here
            auto fresh = samples.try_make(log, made);
            if (!fresh)
            {
                std::this_thread::yield();  // every slot is referenced: backpressure
                continue;
            }
            ++made;
            if (made % 3 == 0)
                shown = fresh;  // sometimes the GUI drops last (at once, here), sometimes the audio side does
            while (!tx.try_send(std::move(fresh)))
                std::this_thread::yield();
        }
        stop.store(true, std::memory_order_release);
        audio.join();
        CHECK(samples.in_use() <= samples.capacity());
    }  // shutdown on this (source) thread: voices, then queued messages, die at once; ~pool collects the rest
    CHECK(audio_heap_calls.load() == 0);
    CHECK(log.live == 0);
    CHECK(log.destroyed == static_cast<int>(made));
    CHECK(log.destroyed_away_from_home == 0);
}
