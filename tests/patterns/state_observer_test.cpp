// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/state_observer.h>: the latest-value cell (no torn reads, newest never lost, monotonic),
// and the publisher's own copy, to which the reader converges after every write (settings from the GUI).
#include <courier/patterns/state_observer.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

// What a meter bridge shows: published by the audio side once per block.
struct meters
{
    float peak_left = 0.0f;
    float peak_right = 0.0f;
    std::uint64_t playhead = 0;  // in frames
};

// A value whose words are all equal when it was written whole: any torn read shows as unequal words.
struct wide_value
{
    std::array<std::uint64_t, 32> words{};
};

wide_value make_wide(std::uint64_t n) noexcept
{
    wide_value v;
    v.words.fill(n);
    return v;
}

// A channel strip's settings: written by the GUI, used by the audio callback.
struct channel
{
    float gain = 1.0f;
    float pan = 0.0f;
    bool mute = false;
    std::uint64_t edits = 0;  // how many edits produced this value (the stress test checks consistency with it)

    friend bool operator==(const channel&, const channel&) = default;
};

bool is_whole(const wide_value& v) noexcept
{
    for (const std::uint64_t w : v.words)
        if (w != v.words[0])
            return false;
    return true;
}

}  // namespace

TEST_CASE("state_observer")
{
    SUBCASE("poll returns false and value is the initial value before anything is published")
    {
        courier::state_observer<meters> cell(meters{0.0f, 0.0f, 42});
        auto reader = cell.reader();
        CHECK_FALSE(reader.poll());
        CHECK(reader.value().playhead == 42);
        CHECK(reader.sequence() == 0);
        CHECK(cell.published() == 0);
    }

    SUBCASE("poll takes the newest value and skips the stale ones a slow reader missed")
    {
        // [state-observer-latest]
        courier::state_observer<meters> cell;
        auto on_audio = cell.publisher();
        auto on_gui = cell.reader();
        for (std::uint64_t block = 1; block <= 3; ++block)  // three callbacks, no GUI tick in between
            on_audio.publish(meters{0.5f, 0.25f, block * 64});

        CHECK(on_gui.poll());  // a newer value has come
        CHECK(on_gui.value().playhead == 192);  // the newest; blocks 1 and 2 were stale
        CHECK(on_gui.sequence() == 3);
        CHECK_FALSE(on_gui.poll());  // nothing new since
        CHECK(on_gui.value().playhead == 192);  // still readable
        // [state-observer-latest]
    }

    SUBCASE("publish never fails, however long the reader stays away")
    {
        courier::state_observer<wide_value> cell;
        auto publisher = cell.publisher();
        auto reader = cell.reader();
        for (std::uint64_t n = 1; n <= 10'000; ++n)
            publisher.publish(make_wide(n));
        CHECK(cell.published() == 10'000);
        REQUIRE(reader.poll());
        CHECK(reader.value().words[0] == 10'000);
        CHECK(is_whole(reader.value()));
    }

    SUBCASE("value stays unchanged between polls while the publisher keeps writing, modify included")
    {
        courier::state_observer<wide_value> cell;
        auto publisher = cell.publisher();
        auto reader = cell.reader();
        publisher.publish(make_wide(1));
        REQUIRE(reader.poll());
        const wide_value& held = reader.value();
        for (std::uint64_t n = 2; n <= 10; ++n)
            publisher.publish(make_wide(n));  // cycles through the two other slots only
        for (int i = 0; i < 10; ++i)
            publisher.modify([](wide_value& v) {  // changes a copy in its own slot, never the reader's
                for (auto& w : v.words)
                    ++w;
            });
        CHECK(is_whole(publisher.value()));
        CHECK(publisher.value().words[0] == 20);
        CHECK(held.words[0] == 1);
        CHECK(is_whole(held));
        REQUIRE(reader.poll());
        CHECK(reader.value().words[0] == 20);  // the newest, made by the last modify
    }

    SUBCASE("ends made empty and then assigned work like the originals")
    {
        courier::state_observer<int> cell(5);
        courier::state_publisher<int> publisher;
        courier::state_reader<int> reader;
        publisher = cell.publisher();
        reader = cell.reader();
        publisher.publish(6);
        CHECK(reader.poll());
        CHECK(reader.value() == 6);
    }

    SUBCASE("publisher and reader throw when taken twice")
    {
        courier::state_observer<int> cell;
        (void)cell.publisher();
        (void)cell.reader();
        CHECK_THROWS_AS((void)cell.publisher(), std::logic_error);
        CHECK_THROWS_AS((void)cell.reader(), std::logic_error);
    }

    SUBCASE("publish and poll neither allocate nor free")
    {
        courier::state_observer<meters> cell;
        auto publisher = cell.publisher();
        auto reader = cell.reader();
        const courier::test::allocation_counter allocations;
        publisher.publish(meters{1.0f, 1.0f, 1});
        CHECK(reader.poll());
        CHECK(reader.value().playhead == 1);
        (void)cell.published();
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("state_observer: settings the GUI owns, read locally and adopted by the audio side")
{
    SUBCASE("value answers from the publisher's copy and the reader converges to it after every write")
    {
        // [state-observer-settings]
        courier::state_observer<channel> strip;  // GUI publishes, audio reads
        auto gui = strip.publisher();
        auto audio = strip.reader();
        for (int step = 1; step <= 20; ++step)
        {
            gui.modify([&](channel& c) { c.gain = 0.05f * static_cast<float>(step); });  // never refused
            CHECK(gui.value().gain == 0.05f * static_cast<float>(step));  // no round trip
            CHECK_FALSE(gui.synced());

            CHECK(audio.poll());                 // the next callback
            CHECK(audio.value() == gui.value());  // converged
            CHECK(gui.synced());
        }
        // [state-observer-settings]
    }

    SUBCASE("many writes before the next callback: none is refused or kept back, and the newest wins")
    {
        courier::state_observer<channel> strip;
        auto gui = strip.publisher();
        auto audio = strip.reader();
        for (std::uint64_t n = 1; n <= 5; ++n)
            gui.modify([n](channel& c) { c.edits = n; });  // each edit starts from the one before
        gui.publish(channel{0.2f, 0.0f, true, gui.value().edits + 1});
        CHECK(gui.value().edits == 6);
        CHECK_FALSE(gui.synced());
        CHECK(audio.poll());
        CHECK(audio.value() == gui.value());
        CHECK(audio.sequence() == 6);
        CHECK(strip.published() == 6);
        CHECK(gui.synced());
        CHECK_FALSE(audio.poll());  // nothing pending: the newest has been taken
    }

    SUBCASE("both copies start at the initial value")
    {
        courier::state_observer<channel> strip(channel{0.7f, -1.0f, true, 0});
        auto gui = strip.publisher();
        auto audio = strip.reader();
        CHECK(gui.value() == audio.value());
        CHECK(gui.synced());
        gui.modify([](channel& c) { c.pan = 1.0f; });
        CHECK(audio.poll());
        CHECK(audio.value() == channel{0.7f, 1.0f, true, 0});
    }

    SUBCASE("publish, modify, value, synced and poll neither allocate nor free")
    {
        courier::state_observer<channel> strip;
        auto gui = strip.publisher();
        auto audio = strip.reader();
        const courier::test::allocation_counter allocations;
        gui.publish(channel{0.1f, 0.0f, false, 1});
        gui.modify([](channel& c) { c.mute = true; });
        CHECK_FALSE(gui.synced());
        (void)audio.poll();
        CHECK(audio.value() == gui.value());
        CHECK(gui.synced());
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("state_observer: with both sides running, the audio side sees whole settings and ends equal to the copy" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(500'000);
    courier::state_observer<channel> strip;
    auto gui = strip.publisher();
    auto audio_end = strip.reader();
    std::atomic<bool> stop{false};
    std::uint64_t torn = 0;  // a value whose fields do not belong to one write
    std::uint64_t backwards = 0;

    std::thread audio([&] {
        std::uint64_t last = 0;
        while (!stop.load(std::memory_order_acquire))  // pairs with the release store below
        {
            if (!audio_end.poll())
            {
                std::this_thread::yield();
                continue;
            }
            const channel& c = audio_end.value();
            if (c.gain != static_cast<float>(c.edits % 1000) || c.mute != (c.edits % 2 == 1))
                ++torn;
            if (c.edits < last)
                ++backwards;
            last = c.edits;
        }
        (void)audio_end.poll();  // the last callback
    });

    std::uint64_t torn_copy = 0;  // the GUI's own copy, read while the audio side reads the same slot
    for (std::uint64_t n = 1; n <= count; ++n)
    {
        gui.modify([n](channel& c) {
            c.edits = n;
            c.gain = static_cast<float>(n % 1000);
            c.mute = n % 2 == 1;
        });
        if (gui.value().edits != n)
            ++torn_copy;
    }
    while (!gui.synced())  // the audio side converges without further writes
        std::this_thread::yield();
    stop.store(true, std::memory_order_release);
    audio.join();

    CHECK(torn == 0);
    CHECK(torn_copy == 0);
    CHECK(backwards == 0);
    CHECK(audio_end.value() == gui.value());
    CHECK(gui.value().edits == count);
    CHECK(strip.published() == count);
}

TEST_CASE("state_observer: a reader racing the publisher never sees a torn value, and ends on the last one" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(2'000'000);
    courier::state_observer<wide_value> cell;
    auto publisher = cell.publisher();
    auto reader = cell.reader();
    std::atomic<bool> done{false};

    std::thread audio([&] {
        for (std::uint64_t n = 1; n <= count; ++n)
            publisher.publish(make_wide(n));
        done.store(true, std::memory_order_release);  // pairs with the reader's acquire load
    });

    std::uint64_t torn = 0;
    std::uint64_t backwards = 0;  // a value older than one already seen
    std::uint64_t mislabelled = 0;  // a sequence number that does not match the value it came with
    std::uint64_t fresh_values = 0;
    std::uint64_t last = 0;
    bool finished = false;
    while (!finished)
    {
        finished = done.load(std::memory_order_acquire);  // read before the last poll below
        if (!reader.poll())
            continue;
        ++fresh_values;
        const wide_value& v = reader.value();
        if (!is_whole(v))
            ++torn;
        if (v.words[0] <= last)
            ++backwards;
        if (reader.sequence() != v.words[0])
            ++mislabelled;
        last = v.words[0];
    }
    audio.join();
    CHECK(torn == 0);
    CHECK(backwards == 0);
    CHECK(mislabelled == 0);
    CHECK(fresh_values >= 1);
    // The writer has stopped: the reader holds exactly the last value, and nothing newer is pending.
    CHECK(reader.value().words[0] == count);
    CHECK(reader.sequence() == count);
    CHECK_FALSE(reader.poll());
    CHECK(cell.published() == count);
}

TEST_CASE("state_observer: a slow reader sees ever newer values and never loses the newest" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(500'000);
    courier::state_observer<meters> cell;
    auto publisher = cell.publisher();
    auto reader = cell.reader();
    std::atomic<std::uint64_t> published_so_far{0};

    std::thread audio([&] {
        for (std::uint64_t n = 1; n <= count; ++n)
        {
            publisher.publish(meters{0.0f, 0.0f, n});
            published_so_far.store(n, std::memory_order_release);  // pairs with the reader's acquire load
        }
    });

    std::uint64_t not_newer = 0;  // a poll that returned an older or equal value
    std::uint64_t lost_newest = 0;  // after a poll, a value older than one published before it began
    std::uint64_t last = 0;
    std::uint64_t updates = 0;
    volatile std::uint64_t busy = 0;  // the reader's "drawing", so it falls behind the writer
    while (last < count)
    {
        const std::uint64_t known = published_so_far.load(std::memory_order_acquire);
        const bool fresh = reader.poll();
        const std::uint64_t now = reader.value().playhead;
        if (now < known)  // fresh or not, what the reader holds is never older than what was published
            ++lost_newest;
        if (fresh)
        {
            ++updates;
            if (now <= last)
                ++not_newer;
        }
        last = now;
        for (int i = 0; i < 2000; ++i)
            busy = busy + 1;
    }
    audio.join();
    CHECK(not_newer == 0);
    CHECK(lost_newest == 0);
    CHECK(last == count);
    CHECK(updates <= count);
}
