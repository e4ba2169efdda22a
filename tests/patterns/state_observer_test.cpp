// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/state_observer.h>: the latest-value cell (no torn reads, newest never lost, monotonic).
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
    SUBCASE("update returns false and value is the initial value before anything is published")
    {
        courier::state_observer<meters> cell(meters{0.0f, 0.0f, 42});
        auto reader = cell.reader();
        CHECK_FALSE(reader.update());
        CHECK(reader.value().playhead == 42);
        CHECK(reader.sequence() == 0);
        CHECK(cell.published() == 0);
    }

    SUBCASE("update takes the newest value and skips the stale ones a slow reader missed")
    {
        // [state-observer-latest]
        courier::state_observer<meters> cell;
        auto on_audio = cell.publisher();
        auto on_gui = cell.reader();
        for (std::uint64_t block = 1; block <= 3; ++block)  // three callbacks, no GUI tick in between
            on_audio.publish(meters{0.5f, 0.25f, block * 64});

        CHECK(on_gui.update());  // a newer value has come
        CHECK(on_gui.value().playhead == 192);  // the newest; blocks 1 and 2 were stale
        CHECK(on_gui.sequence() == 3);
        CHECK_FALSE(on_gui.update());  // nothing new since
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
        REQUIRE(reader.update());
        CHECK(reader.value().words[0] == 10'000);
        CHECK(is_whole(reader.value()));
    }

    SUBCASE("value stays unchanged between updates while the publisher keeps writing")
    {
        courier::state_observer<wide_value> cell;
        auto publisher = cell.publisher();
        auto reader = cell.reader();
        publisher.publish(make_wide(1));
        REQUIRE(reader.update());
        const wide_value& held = reader.value();
        for (std::uint64_t n = 2; n <= 10; ++n)
            publisher.publish(make_wide(n));  // cycles through the two other slots only
        CHECK(held.words[0] == 1);
        CHECK(is_whole(held));
        REQUIRE(reader.update());
        CHECK(reader.value().words[0] == 10);
    }

    SUBCASE("ends made empty and then assigned work like the originals")
    {
        courier::state_observer<int> cell(5);
        courier::state_publisher<int> publisher;
        courier::state_reader<int> reader;
        publisher = cell.publisher();
        reader = cell.reader();
        publisher.publish(6);
        CHECK(reader.update());
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

    SUBCASE("publish and update neither allocate nor free")
    {
        courier::state_observer<meters> cell;
        auto publisher = cell.publisher();
        auto reader = cell.reader();
        const courier::test::allocation_counter allocations;
        publisher.publish(meters{1.0f, 1.0f, 1});
        CHECK(reader.update());
        CHECK(reader.value().playhead == 1);
        (void)cell.published();
        CHECK(allocations.count() == 0);
    }
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
        finished = done.load(std::memory_order_acquire);  // read before the last update below
        if (!reader.update())
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
    CHECK_FALSE(reader.update());
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

    std::uint64_t not_newer = 0;  // an update that returned an older or equal value
    std::uint64_t lost_newest = 0;  // after an update, a value older than one published before it began
    std::uint64_t last = 0;
    std::uint64_t updates = 0;
    volatile std::uint64_t busy = 0;  // the reader's "drawing", so it falls behind the writer
    while (last < count)
    {
        const std::uint64_t known = published_so_far.load(std::memory_order_acquire);
        const bool fresh = reader.update();
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
