// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/link_unlink.h>: an object linked on the control side is visible from the audio side's next
// callback; unlinked objects (on the audio side's decision or on request) die on the control thread; nothing
// leaks at shutdown.
#include <courier/patterns/link_unlink.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"
#include "tests/support/overlapping_threads.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::send_status;
using courier::link_unlink;
using courier::test::tracked;
using courier::test::tracking_log;

namespace {

// A voice: built on the control side, played by the audio side until it has rendered `blocks_left` blocks.
struct voice : courier::link_hook<voice>
{
    voice(tracking_log& log, std::uint64_t id, int blocks) noexcept : tag(log, id), blocks_left(blocks) {}
    tracked tag;  // records on which thread the voice dies
    int blocks_left;
};

// One audio block: adopt what the control side sent, render every voice, and let finished voices go.
void render(link_unlink<voice>& voices) noexcept
{
    voices.poll();
    voices.for_each([&](voice& v) {
        if (--v.blocks_left == 0)
            voices.unlink(v);  // the audio side's own decision; sent back, not destroyed
    });
}

std::vector<std::uint64_t> ids_of(link_unlink<voice>& voices)
{
    std::vector<std::uint64_t> ids;
    voices.for_each([&](voice& v) { ids.push_back(v.tag.number()); });
    return ids;
}

}  // namespace

TEST_CASE("link_unlink")
{
    SUBCASE("update links an object that try_link queued, and for_each sees it from then on")
    {
        // [link-unlink-link]
        tracking_log log;
        link_unlink<voice> voices(8, 16);  // at most 8 voices alive; 16 requests queued
        auto linked = voices.try_link(std::make_unique<voice>(log, 1u, 10));  // control: a ticket<link_handle>
        REQUIRE(linked.result == send_status::sent);
        CHECK(ids_of(voices).empty());  // not yet: the audio side links it in its next callback
        voices.poll();  // audio, at the start of the next callback: no allocation
        CHECK(ids_of(voices) == std::vector<std::uint64_t>{1});
        CHECK(voices.find(linked.id) != nullptr);  // the ticket's id is the object's handle
        CHECK(voices.linked_count() == 1);
        // [link-unlink-link]
    }

    SUBCASE("unlink sends an object back, and collect destroys it on the control thread")
    {
        // [link-unlink-unlink]
        tracking_log log;  // home: this thread, the control side
        link_unlink<voice> voices(8, 16);
        REQUIRE(voices.try_link(std::make_unique<voice>(log, 1u, 2)));  // plays for 2 blocks
        std::thread audio([&] {
            render(voices);  // links it; 1 block left
            render(voices);  // finished: unlinked and sent back
        });
        audio.join();
        CHECK(voices.linked_count() == 0);
        CHECK(log.live == 1);  // not destroyed on the audio thread
        CHECK(voices.collect() == 1);  // ✗ dies here, on the control thread
        CHECK(log.live == 0);
        CHECK(log.destroyed_away_from_home == 0);
        // [link-unlink-unlink]
    }

    SUBCASE("try_request_unlink makes the audio side unlink the object in its next update")
    {
        tracking_log log;
        link_unlink<voice> voices(8, 16);
        const auto first = voices.try_link(std::make_unique<voice>(log, 1u, 100));
        const auto second = voices.try_link(std::make_unique<voice>(log, 2u, 100));
        REQUIRE(first);
        REQUIRE(second);
        voices.poll();
        REQUIRE(voices.try_request_unlink(first.id));
        CHECK(voices.find(first.id) != nullptr);  // still linked until the audio side's next update
        voices.poll();
        CHECK(voices.find(first.id) == nullptr);
        CHECK(ids_of(voices) == std::vector<std::uint64_t>{2});
        CHECK(voices.collect() == 1);
        CHECK(log.live == 1);
    }

    SUBCASE("a request to unlink an object linked in the same batch is handled after its link")
    {
        tracking_log log;
        link_unlink<voice> voices(8, 16);
        const auto result = voices.try_link(std::make_unique<voice>(log, 1u, 100));
        REQUIRE(result);
        REQUIRE(voices.try_request_unlink(result.id));  // one lane: the link is handled first
        voices.poll();
        CHECK(voices.linked_count() == 0);
        CHECK(voices.stats().stale_requests == 0);
        CHECK(voices.collect() == 1);
    }

    SUBCASE("try_request_unlink for an object already gone is ignored and counted, even once its slot is reused")
    {
        tracking_log log;
        link_unlink<voice> voices(1, 8);
        const auto old = voices.try_link(std::make_unique<voice>(log, 1u, 1));
        REQUIRE(old);
        render(voices);  // linked and finished in one block: unlinked by the audio side
        REQUIRE(voices.try_request_unlink(old.id));
        voices.poll();
        CHECK(voices.stats().stale_requests == 1);
        CHECK(voices.collect() == 1);

        const auto replacement = voices.try_link(std::make_unique<voice>(log, 2u, 100));  // the same slot
        REQUIRE(replacement);
        CHECK(replacement.id.slot == old.id.slot);
        CHECK(replacement.id != old.id);
        voices.poll();
        REQUIRE(voices.try_request_unlink(old.id));
        voices.poll();
        CHECK(voices.find(replacement.id) != nullptr);  // the stale handle did not remove the new voice
        CHECK(voices.find(old.id) == nullptr);
        CHECK(voices.stats().stale_requests == 2);
    }

    SUBCASE("try_link returns no_credit and leaves the object with the caller when max_objects exist")
    {
        tracking_log log;
        link_unlink<voice> voices(2, 16);
        REQUIRE(voices.try_link(std::make_unique<voice>(log, 1u, 1)));
        REQUIRE(voices.try_link(std::make_unique<voice>(log, 2u, 100)));
        auto third = std::make_unique<voice>(log, 3u, 100);
        CHECK(voices.try_link(std::move(third)).result == send_status::no_credit);
        REQUIRE(third != nullptr);
        CHECK(third->tag.number() == 3);
        CHECK(voices.alive() == 2);

        render(voices);  // voice 1 finishes; it still counts until collected
        CHECK(voices.try_link(std::move(third)).result == send_status::no_credit);
        CHECK(voices.collect() == 1);
        CHECK(voices.try_link(std::move(third)).result == send_status::sent);
        CHECK(third == nullptr);
        CHECK(voices.stats().returns.refused == 2);
    }

    SUBCASE("try_link returns full and leaves the object with the caller when the request lane is full")
    {
        tracking_log log;
        link_unlink<voice> voices(8, 1);
        REQUIRE(voices.try_link(std::make_unique<voice>(log, 1u, 100)));
        auto second = std::make_unique<voice>(log, 2u, 100);
        const auto refused = voices.try_link(std::move(second));
        CHECK(refused.result == send_status::full);
        CHECK_FALSE(refused.id);
        REQUIRE(second != nullptr);
        CHECK_FALSE(second->handle());  // the handle it was about to get is withdrawn
        CHECK(voices.alive() == 1);      // and so is its reservation
        voices.poll();
        CHECK(voices.try_link(std::move(second)));
        CHECK(voices.stats().requests.refused == 1);
    }

    SUBCASE("try_request_unlink returns false when the request lane is full")
    {
        tracking_log log;
        link_unlink<voice> voices(8, 1);
        const auto result = voices.try_link(std::make_unique<voice>(log, 1u, 100));
        REQUIRE(result);
        CHECK_FALSE(voices.try_request_unlink(result.id));
        voices.poll();
        CHECK(voices.try_request_unlink(result.id));
    }

    SUBCASE("for_each visits objects in link order, and visit may unlink the object it is given")
    {
        tracking_log log;
        link_unlink<voice> voices(8, 16);
        for (std::uint64_t i = 0; i < 6; ++i)
            REQUIRE(voices.try_link(std::make_unique<voice>(log, i, 100)));
        voices.poll();
        CHECK(ids_of(voices) == std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5});
        voices.for_each([&](voice& v) {
            if (v.tag.number() % 2 == 0)
                voices.unlink(v);
        });
        CHECK(ids_of(voices) == std::vector<std::uint64_t>{1, 3, 5});
        CHECK(voices.linked_count() == 3);
        CHECK(voices.collect() == 3);
        REQUIRE(voices.try_link(std::make_unique<voice>(log, 6u, 100)));
        voices.poll();
        CHECK(ids_of(voices) == std::vector<std::uint64_t>{1, 3, 5, 6});
    }

    SUBCASE("update handles at most budget requests and returns how many")
    {
        tracking_log log;
        link_unlink<voice> voices(8, 16);
        for (std::uint64_t i = 0; i < 5; ++i)
            REQUIRE(voices.try_link(std::make_unique<voice>(log, i, 100)));
        CHECK(voices.poll(2) == 2);
        CHECK(voices.linked_count() == 2);
        CHECK(voices.poll(10) == 3);
        CHECK(voices.linked_count() == 5);
        CHECK(voices.poll(10) == 0);
    }

    SUBCASE("update, for_each, find and unlink neither allocate nor free")
    {
        tracking_log log;
        link_unlink<voice> voices(8, 16);
        std::vector<courier::link_handle> handles;
        for (std::uint64_t i = 0; i < 8; ++i)
            handles.push_back(voices.try_link(std::make_unique<voice>(log, i, static_cast<int>(i) + 1)).id);
        REQUIRE(voices.try_request_unlink(handles[7]));
        {
            const courier::test::allocation_counter allocations;
            for (int block = 0; block < 8; ++block)
                render(voices);
            CHECK(voices.find(handles[0]) == nullptr);
            CHECK(allocations.count() == 0);
        }
        CHECK(voices.linked_count() == 0);
        CHECK(log.live == 8);  // all unlinked, none destroyed on the "audio" side
        CHECK(voices.collect() == 8);
        CHECK(log.live == 0);
    }

    SUBCASE("the destructor destroys linked, queued and returned objects, each once, on the destroying thread")
    {
        tracking_log log;  // home: this thread, which destroys the link_unlink
        {
            link_unlink<voice> voices(16, 16);
            for (std::uint64_t i = 0; i < 4; ++i)
                REQUIRE(voices.try_link(std::make_unique<voice>(log, i, i == 0 ? 1 : 100)));
            std::thread audio([&] { render(voices); });  // links 4; voice 0 finishes and is sent back
            audio.join();
            for (std::uint64_t i = 4; i < 7; ++i)  // queued, never seen by the audio side
                REQUIRE(voices.try_link(std::make_unique<voice>(log, i, 100)));
            CHECK(voices.linked_count() == 3);
            CHECK(voices.alive() == 7);
            CHECK(log.live == 7);
            voices.reset_thread_roles();  // the audio thread has stopped
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 7);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("stats count links, unlinks, stale requests and refusals")
    {
        tracking_log log;
        link_unlink<voice> voices(2, 4);
        const auto a = voices.try_link(std::make_unique<voice>(log, 1u, 1));
        REQUIRE(a);
        REQUIRE(voices.try_link(std::make_unique<voice>(log, 2u, 100)));
        CHECK(voices.try_link(std::make_unique<voice>(log, 3u, 100)).result == send_status::no_credit);
        render(voices);
        REQUIRE(voices.try_request_unlink(a.id));
        voices.poll();
        const auto s = voices.stats();
        CHECK(s.linked == 2);
        CHECK(s.unlinked == 1);
        CHECK(s.stale_requests == 1);
        CHECK(s.returns.refused == 1);
        CHECK(s.returns.out == 2);
        CHECK(s.requests.sent == 3);
        CHECK(voices.max_objects() == 2);
    }

    SUBCASE("update reports a second audio thread inside it at the same time, and a hand-over passes")
    {
        {
            const courier::test::violation_recorder violations;
            link_unlink<voice> voices(4, 4);
            courier::test::run_overlapping([&] { voices.poll(); }, [&] { voices.poll(); });
            CHECK(violations.count() == 1);
        }
        {
            const courier::test::violation_recorder violations;
            link_unlink<voice> voices(4, 4);
            courier::test::run_on_two_live_threads([&] { voices.poll(); },
                                                   [&] {
                                                       voices.reset_thread_roles();
                                                       voices.poll();
                                                   });
            CHECK(violations.count() == 0);
        }
    }

    SUBCASE("construction refuses 0 objects, 0 requests and more objects than handles can name")
    {
        CHECK_THROWS_AS(link_unlink<voice>(0, 4), std::invalid_argument);
        CHECK_THROWS_AS(link_unlink<voice>(4, 0), std::invalid_argument);
        CHECK_THROWS_AS(link_unlink<voice>(courier::link_handle::no_slot, 4), std::invalid_argument);
    }
}

TEST_CASE("link_unlink: voices linked and unlinked across real threads die once, on the control thread" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(100'000);
    tracking_log log;  // home: this thread, the control side
    std::atomic<std::size_t> audio_heap_calls{1};
    std::atomic<bool> visible_from_next_callback{false};
    std::atomic<std::uint64_t> links_accepted{0};  // written by control after each accepted try_link
    std::atomic<bool> stop{false};
    {
        link_unlink<voice> voices(32, 48);
        std::thread audio([&] {
            const courier::test::allocation_counter allocations;
            bool visible = true;
            while (!stop.load(std::memory_order_acquire))  // pairs with the release store below
            {
                // Every link accepted before this callback starts must be linked by the end of update().
                const std::uint64_t accepted_before = links_accepted.load(std::memory_order_acquire);
                render(voices);
                visible = visible && voices.stats().linked >= accepted_before;
                std::this_thread::yield();  // stands for the wait until the next callback
            }
            visible_from_next_callback.store(visible);
            audio_heap_calls.store(allocations.count());
        });

        std::vector<courier::link_handle> handles;  // control side: may allocate
        handles.reserve(count);
        std::uint64_t next = 0;
        std::unique_ptr<voice> fresh;
        while (next < count)
        {
            voices.collect();  // ✗ voices the audio side let go die here, on the control thread
            if (fresh == nullptr)
                fresh = std::make_unique<voice>(log, next, static_cast<int>(next % 7) + 1);
            const auto result = voices.try_link(std::move(fresh));
            if (!result)
            {
                std::this_thread::yield();  // at capacity or full: `fresh` is still ours; retry with it
                continue;
            }
            links_accepted.store(links_accepted.load(std::memory_order_relaxed) + 1,
                                 std::memory_order_release);  // pairs with the acquire load in the audio loop
            handles.push_back(result.id);
            ++next;
            if (next % 5 == 0)  // ask for an earlier voice to go; it may be gone already (a stale request)
                (void)voices.try_request_unlink(handles[next / 2]);
        }
        stop.store(true, std::memory_order_release);
        audio.join();
        voices.reset_thread_roles();  // teardown on this thread: voices still linked or in flight die here
        CHECK(voices.stats().linked <= count);
        CHECK(voices.stats().returns.broken == 0);
    }
    CHECK(visible_from_next_callback.load());
    CHECK(audio_heap_calls.load() == 0);
    CHECK(log.live == 0);
    CHECK(log.destroyed == static_cast<int>(count));  // every voice exactly once
    CHECK(log.destroyed_away_from_home == 0);
}
