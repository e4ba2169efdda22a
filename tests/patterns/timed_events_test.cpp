// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/timed_events.h>: sample-accurate to the frame, late events at frame 0 and counted, FIFO for
// equal times, future events carried across blocks, a full buffer counted and nothing dropped.
#include <courier/patterns/timed_events.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

// Sets the output level from its frame on.
struct step
{
    float level;
};

// Identifies an event, so tests can see which ones arrived where.
struct tagged
{
    int id;
};

// Collects (block start + offset, id) of every event of a block, in the order the sub-blocks hand them out.
struct delivery
{
    std::uint64_t frame;
    int id;
};

template <std::size_t N>
std::size_t run_block(courier::timed_event_receiver<tagged>& audio, std::uint64_t start, std::uint32_t frames,
                      std::array<delivery, N>& seen, std::size_t count)
{
    for (const auto& sub : audio.begin_block(start, frames))
        for (const auto& e : sub.events)
            seen[count++] = delivery{start + sub.offset, e.event.id};
    return count;
}

}  // namespace

TEST_CASE("timed_events")
{
    SUBCASE("begin_block splits the block so that an event takes effect at exactly its frame")
    {
        // [timed-events-step]
        courier::timed_events<step> events(16, 64);
        auto sequencer = events.sender();  // control thread
        auto audio = events.receiver();     // audio thread
        REQUIRE(sequencer.try_send({300, step{1.0f}}));  // block 2 (of 128 frames), frame 44

        std::array<float, 512> out{};
        float level = 0.0f;
        for (std::uint64_t start = 0; start < out.size(); start += 128)  // four callbacks
        {
            for (const auto& sub : audio.begin_block(start, 128))
            {
                for (const auto& e : sub.events)
                    level = e.event.level;  // takes effect before frame sub.offset is rendered
                std::fill_n(out.data() + start + sub.offset, sub.frames, level);
            }
        }
        CHECK(std::count(out.begin(), out.end(), 0.0f) == 300);  // frames 0 to 299
        CHECK(out[299] == 0.0f);
        CHECK(out[300] == 1.0f);
        CHECK(out[511] == 1.0f);
        // [timed-events-step]
    }

    SUBCASE("begin_block puts events on the first and the last frame of a block and at block boundaries")
    {
        courier::timed_events<step> events(16, 16);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        const std::array<std::uint64_t, 5> times{0, 63, 64, 127, 128};
        for (std::size_t i = 0; i < times.size(); ++i)
            REQUIRE(sequencer.try_send({times[i], step{static_cast<float>(i + 1)}}));

        std::array<float, 192> out{};
        float level = 0.0f;
        for (std::uint64_t start = 0; start < out.size(); start += 64)
            for (const auto& sub : audio.begin_block(start, 64))
            {
                for (const auto& e : sub.events)
                    level = e.event.level;
                std::fill_n(out.data() + start + sub.offset, sub.frames, level);
            }
        CHECK(out[0] == 1.0f);
        CHECK(out[62] == 1.0f);
        CHECK(out[63] == 2.0f);
        CHECK(out[64] == 3.0f);
        CHECK(out[126] == 3.0f);
        CHECK(out[127] == 4.0f);
        CHECK(out[128] == 5.0f);
        CHECK(out[191] == 5.0f);
        CHECK(events.stats().late == 0);
    }

    SUBCASE("the sub-blocks cover the block exactly, in ascending order, each with the events at its offset")
    {
        courier::timed_events<tagged> events(16, 16);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        REQUIRE(sequencer.try_send({1010, tagged{1}}));
        REQUIRE(sequencer.try_send({1000, tagged{2}}));  // at frame 0
        REQUIRE(sequencer.try_send({1031, tagged{3}}));  // the last frame

        const auto block = audio.begin_block(1000, 32);
        CHECK(block.start() == 1000);
        CHECK(block.frames() == 32);
        CHECK(block.events().size() == 3);
        std::array<courier::timed_block<tagged>::sub_block, 8> subs{};
        std::size_t n = 0;
        for (auto it = block.begin(); it != block.end(); ++it)
            subs[n++] = *it;
        REQUIRE(n == 3);
        CHECK(subs[0].offset == 0);
        CHECK(subs[0].frames == 10);
        CHECK(subs[0].events.size() == 1);
        CHECK(subs[0].events[0].event.id == 2);
        CHECK(subs[1].offset == 10);
        CHECK(subs[1].frames == 21);
        CHECK(subs[1].events[0].event.id == 1);
        CHECK(subs[2].offset == 31);
        CHECK(subs[2].frames == 1);
        CHECK(subs[2].events[0].event.id == 3);

        // A block with no events is one sub-block of its full length.
        const auto quiet = audio.begin_block(1032, 32);
        auto it = quiet.begin();
        CHECK(it->offset == 0);
        CHECK(it->frames == 32);
        CHECK(it->events.empty());
        it++;
        CHECK(it == quiet.end());
    }

    SUBCASE("events with the same time take effect in the order they were sent")
    {
        courier::timed_events<tagged> events(16, 16);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        REQUIRE(sequencer.try_send({20, tagged{1}}));
        REQUIRE(sequencer.try_send({10, tagged{2}}));
        REQUIRE(sequencer.try_send({20, tagged{3}}));
        REQUIRE(sequencer.try_send({10, tagged{4}}));

        std::array<delivery, 8> seen{};
        CHECK(run_block(audio, 0, 64, seen, 0) == 4);
        CHECK(seen[0].frame == 10);
        CHECK(seen[0].id == 2);
        CHECK(seen[1].id == 4);  // same frame: in the order sent
        CHECK(seen[2].frame == 20);
        CHECK(seen[2].id == 1);
        CHECK(seen[3].id == 3);
    }

    SUBCASE("a large batch sent newest first, with repeated times, merges behind held events in time and send order")
    {
        // 300 events for frames 299 down to 0, three per frame (ids tell the order sent), after 3 events already
        // held for frames 150: the held ones were sent first, so they lead frame 150.
        courier::timed_events<tagged> events(1024, 1024);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        for (int id = 0; id < 3; ++id)
            REQUIRE(sequencer.try_send({1000 + 150, tagged{id}}));
        std::array<delivery, 1> none{};
        CHECK(run_block(audio, 0, 64, none, 0) == 0);  // now held in the buffer, due later
        int id = 3;
        for (int frame = 99; frame >= 0; --frame)
            for (int copy = 0; copy < 3; ++copy)
                REQUIRE(sequencer.try_send({1000 + 100 + static_cast<std::uint64_t>(frame), tagged{id++}}));

        std::array<delivery, 400> seen{};
        const std::size_t got = run_block(audio, 1000, 256, seen, 0);
        REQUIRE(got == 303);
        bool in_time_order = true;
        bool equal_times_in_send_order = true;
        for (std::size_t i = 1; i < got; ++i)
        {
            in_time_order = in_time_order && seen[i - 1].frame <= seen[i].frame;
            if (seen[i - 1].frame == seen[i].frame)
                equal_times_in_send_order = equal_times_in_send_order && seen[i - 1].id < seen[i].id;
        }
        CHECK(in_time_order);
        CHECK(equal_times_in_send_order);
        CHECK(seen[0].frame == 1100);
        CHECK(seen[150].frame == 1150);
        CHECK(seen[150].id == 0);  // the held events lead their frame
        CHECK(seen[153].frame == 1150);
        CHECK(seen[153].id > 3);
    }

    SUBCASE("an event whose time has passed takes effect at frame 0 of the next block and is counted as late")
    {
        courier::timed_events<tagged> events(16, 16);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        std::array<delivery, 8> seen{};
        CHECK(run_block(audio, 0, 128, seen, 0) == 0);

        REQUIRE(sequencer.try_send({50, tagged{1}}));   // frame 50 is already rendered
        REQUIRE(sequencer.try_send({130, tagged{2}}));  // on time
        CHECK(run_block(audio, 128, 128, seen, 0) == 2);
        CHECK(seen[0].frame == 128);  // frame 0 of this block
        CHECK(seen[0].id == 1);
        CHECK(seen[1].frame == 130);
        CHECK(audio.begin_block(256, 128).events().empty());
        CHECK(events.stats().late == 1);
    }

    SUBCASE("events for later blocks are kept in the buffer and delivered in their own block")
    {
        courier::timed_events<tagged> events(16, 16);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        REQUIRE(sequencer.try_send({1000, tagged{1}}));
        REQUIRE(sequencer.try_send({200, tagged{2}}));

        std::array<delivery, 8> seen{};
        std::size_t n = 0;
        for (std::uint64_t start = 0; start < 1024; start += 64)
        {
            n = run_block(audio, start, 64, seen, n);
            if (start == 0)
                CHECK(audio.scheduled() == 2);
            if (start == 256)
                CHECK(audio.scheduled() == 1);  // the one at 200 was dropped once its block had passed
        }
        REQUIRE(n == 2);
        CHECK(seen[0].frame == 200);
        CHECK(seen[0].id == 2);
        CHECK(seen[1].frame == 1000);
        CHECK(seen[1].id == 1);
        CHECK(events.stats().late == 0);
        (void)audio.begin_block(1024, 64);
        CHECK(audio.scheduled() == 0);
        CHECK(events.stats().scheduled == 0);
    }

    SUBCASE("an event that finds the buffer full waits in order, is counted, and still lands on its frame")
    {
        courier::timed_events<tagged> events(8, 2);  // the audio side holds 2 events
        auto sequencer = events.sender();
        auto audio = events.receiver();
        REQUIRE(sequencer.try_send({10, tagged{1}}));
        REQUIRE(sequencer.try_send({20, tagged{2}}));
        REQUIRE(sequencer.try_send({30, tagged{3}}));  // no room on the audio side yet

        std::array<delivery, 8> seen{};
        std::size_t n = run_block(audio, 0, 16, seen, 0);
        CHECK(events.stats().buffer_full == 1);
        n = run_block(audio, 16, 16, seen, n);  // event 1 is done: 3 moves in
        REQUIRE(n == 3);
        CHECK(seen[1].frame == 20);
        CHECK(seen[2].frame == 30);
        CHECK(seen[2].id == 3);
        CHECK(events.stats().buffer_full == 1);
        CHECK(events.stats().late == 0);
    }

    SUBCASE("a full buffer counts every block an event waits, and one that waits past its time is late")
    {
        courier::timed_events<tagged> events(8, 1);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        REQUIRE(sequencer.try_send({100, tagged{1}}));
        REQUIRE(sequencer.try_send({40, tagged{2}}));   // earlier, but sent later: waits behind event 1
        REQUIRE(sequencer.try_send({100, tagged{3}}));  // waits in the lane, behind event 2

        std::array<delivery, 8> seen{};
        std::size_t n = 0;
        for (std::uint64_t start = 0; start < 128; start += 32)
            n = run_block(audio, start, 32, seen, n);  // blocks at 0, 32, 64, 96; event 1 is due in the last
        CHECK(events.stats().buffer_full == 4);
        n = run_block(audio, 128, 32, seen, n);  // event 2 goes in, 88 frames late
        n = run_block(audio, 160, 32, seen, n);  // event 3, 60 frames late
        REQUIRE(n == 3);
        CHECK(seen[0].frame == 100);
        CHECK(seen[1].frame == 128);
        CHECK(seen[1].id == 2);
        CHECK(seen[2].frame == 160);
        CHECK(seen[2].id == 3);
        CHECK(events.stats().late == 2);
        CHECK(events.stats().buffer_full == 5);
    }

    SUBCASE("try_send returns false and counts a refusal when the lane is full")
    {
        courier::timed_events<tagged> events(2, 4);
        auto sequencer = events.sender();
        REQUIRE(sequencer.try_send({1, tagged{1}}));
        REQUIRE(sequencer.try_send({2, tagged{2}}));
        CHECK_FALSE(sequencer.try_send({3, tagged{3}}));
        CHECK(sequencer.stats().refused == 1);  // the lane's own counters
        CHECK(events.stats().lane.refused == 1);
    }

    SUBCASE("events scheduled before a forward jump of the stream are late at the new position")
    {
        courier::timed_events<tagged> events(8, 8);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        REQUIRE(sequencer.try_send({500, tagged{1}}));
        std::array<delivery, 8> seen{};
        CHECK(run_block(audio, 0, 64, seen, 0) == 0);
        CHECK(run_block(audio, 10'000, 64, seen, 0) == 1);  // the host skipped ahead
        CHECK(seen[0].frame == 10'000);
        CHECK(events.stats().late == 1);
    }

    SUBCASE("ends made empty and then assigned work like the originals")
    {
        courier::timed_events<tagged> events(4, 4);
        courier::timed_events<tagged>::sender_type sequencer;
        courier::timed_event_receiver<tagged> audio;
        sequencer = events.sender();
        audio = events.receiver();
        REQUIRE(sequencer.try_send({3, tagged{7}}));
        std::array<delivery, 4> seen{};
        CHECK(run_block(audio, 0, 8, seen, 0) == 1);
        CHECK(seen[0].frame == 3);
    }

    SUBCASE("the constructor throws for a capacity of 0, and each end is handed out once")
    {
        CHECK_THROWS_AS(courier::timed_events<tagged>(0, 4), std::invalid_argument);
        CHECK_THROWS_AS(courier::timed_events<tagged>(4, 0), std::invalid_argument);
        courier::timed_events<tagged> events(4, 4);
        CHECK(events.buffer_capacity() == 4);
        (void)events.sender();
        (void)events.receiver();
        CHECK_THROWS_AS((void)events.sender(), std::logic_error);
        CHECK_THROWS_AS((void)events.receiver(), std::logic_error);
    }

    SUBCASE("try_send, begin_block and walking the sub-blocks neither allocate nor free")
    {
        courier::timed_events<tagged> events(16, 4);
        auto sequencer = events.sender();
        auto audio = events.receiver();
        std::array<delivery, 16> seen{};
        const courier::test::allocation_counter allocations;
        for (int i = 0; i < 8; ++i)
            CHECK(sequencer.try_send({static_cast<std::uint64_t>(i * 5), tagged{i}}));
        std::size_t n = 0;
        for (std::uint64_t start = 0; start < 64; start += 16)
            n = run_block(audio, start, 16, seen, n);
        CHECK(n == 8);
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("timed_events: events sent against a running audio clock land once each, on time or counted late" *
          doctest::test_suite("stress"))
{
    struct stamped
    {
        std::uint32_t sequence;
        std::uint64_t asked_time;  // the time the sender asked for (the queued copy's may be clamped)
    };
    constexpr std::uint32_t block = 64;
    const auto count = static_cast<std::uint32_t>(courier::test::stress_count(200'000));
    courier::timed_events<stamped> events(64, 128);
    auto sequencer = events.sender();
    auto audio_end = events.receiver();
    std::atomic<std::uint64_t> clock{0};  // the start of the block the audio side is rendering

    std::thread control([&] {
        std::uint64_t spread = 1;
        for (std::uint32_t i = 0; i < count; ++i)
        {
            spread = spread * 6364136223846793005u + 1442695040888963407u;  // a cheap pseudo-random walk
            // From one block in the past to four ahead of the audio side's position, so some are late.
            const std::uint64_t now = clock.load(std::memory_order_relaxed);  // a number only
            const std::uint64_t ahead = (spread >> 33) % (5 * block);
            const std::uint64_t time = now + ahead >= block ? now + ahead - block : 0;
            while (!sequencer.try_send({time, stamped{i, time}}))
                std::this_thread::yield();
        }
    });

    std::vector<int> deliveries(count, 0);
    std::uint64_t wrong_frame = 0;  // on-time events not on their frame, or late ones not on frame 0
    std::uint64_t late_seen = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t delivered = 0;
    std::uint64_t start = 0;
    while (delivered < count)
    {
        std::uint64_t last_frame = 0;
        for (const auto& sub : audio_end.begin_block(start, block))
            for (const auto& e : sub.events)
            {
                const std::uint64_t frame = start + sub.offset;
                if (e.event.sequence < count)
                    ++deliveries[e.event.sequence];
                if (frame != e.event.asked_time && !(e.event.asked_time < start && sub.offset == 0))
                    ++wrong_frame;
                if (e.event.asked_time < start)
                    ++late_seen;
                if (frame < last_frame)
                    ++out_of_order;
                last_frame = frame;
                ++delivered;
            }
        start += block;
        clock.store(start, std::memory_order_relaxed);
    }
    control.join();

    std::uint64_t not_once = 0;
    for (const int d : deliveries)
        if (d != 1)
            ++not_once;
    CHECK(not_once == 0);
    CHECK(wrong_frame == 0);
    CHECK(out_of_order == 0);
    CHECK(delivered == count);
    CHECK(events.stats().late == late_seen);
    CHECK(events.stats().lane.sent == count);
}
