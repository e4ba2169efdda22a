// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/state_observer.h>: the latest-value cell (no torn reads, newest never lost, monotonic) and
// the on-request query (each request answered exactly once, at the next callback).
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

TEST_CASE("state_query")
{
    SUBCASE("answer_pending answers a request exactly once, at the next callback")
    {
        // [state-query-answer]
        courier::state_query<voice_query, voice_report> query(4);
        auto gui = query.asker();
        auto audio = query.answerer();
        const auto id = gui.try_ask(voice_query{3});
        REQUIRE(id.has_value());

        // The next callback answers from the state it owns, once.
        const auto answer = [](const voice_query& q) { return voice_report{q.voice, 0.5f}; };
        CHECK(audio.answer_pending(answer) == 1);
        CHECK(audio.answer_pending(answer) == 0);

        const auto reply = gui.try_take_reply();
        REQUIRE(reply.has_value());
        CHECK(reply->id == *id);
        CHECK(reply->value.voice == 3);
        // [state-query-answer]
        CHECK_FALSE(gui.try_take_reply().has_value());
    }

    SUBCASE("answer_pending answers each request once, at the next callback, in order")
    {
        courier::state_query<voice_query, voice_report> query(4);
        auto gui = query.asker();
        auto audio = query.answerer();
        const auto first = gui.try_ask(voice_query{3});
        const auto second = gui.try_ask(voice_query{5});
        REQUIRE(first.has_value());
        REQUIRE(second.has_value());
        CHECK_FALSE(gui.try_take_reply().has_value());  // the audio side has not run yet

        // Next callback: the audio side answers from the state it owns.
        const auto answer = [](const voice_query& q) { return voice_report{q.voice, 0.1f * static_cast<float>(q.voice)}; };
        CHECK(audio.answer_pending(answer) == 2);
        CHECK(audio.answer_pending(answer) == 0);  // each request is answered once

        const auto r1 = gui.try_take_reply();
        const auto r2 = gui.try_take_reply();
        REQUIRE((r1 && r2));
        CHECK(r1->id == *first);
        CHECK(r1->value.voice == 3);
        CHECK(r2->id == *second);
        CHECK(r2->value.voice == 5);
        CHECK_FALSE(gui.try_take_reply().has_value());
    }

    SUBCASE("try_ask returns nothing and counts it when max_in_flight replies are outstanding")
    {
        courier::state_query<voice_query, voice_report> query(2);
        CHECK(query.max_in_flight() == 2);
        auto gui = query.asker();
        auto audio = query.answerer();
        REQUIRE(gui.try_ask(voice_query{1}));
        REQUIRE(gui.try_ask(voice_query{2}));
        CHECK(gui.in_flight() == 2);
        CHECK_FALSE(gui.try_ask(voice_query{3}).has_value());
        CHECK(query.stats().refused == 1);

        // Answered but not yet taken: the replies still hold their slots.
        CHECK(audio.answer_pending([](const voice_query& q) { return voice_report{q.voice, 0.0f}; }) == 2);
        CHECK_FALSE(gui.try_ask(voice_query{3}).has_value());
        CHECK(query.stats().refused == 2);

        REQUIRE(gui.try_take_reply());
        CHECK(gui.in_flight() == 1);
        CHECK(gui.try_ask(voice_query{3}) == std::optional<std::uint64_t>(3));
        const auto s = query.stats();
        CHECK(s.requests.sent == 3);
        CHECK(s.replies.sent == 2);
        CHECK(s.replies.refused == 0);
    }

    SUBCASE("ends made empty and then assigned work like the originals")
    {
        courier::state_query<int, int> query(2);
        courier::state_query_asker<int, int> ask;
        courier::state_query_answerer<int, int> answer;
        ask = query.asker();
        answer = query.answerer();
        REQUIRE(ask.try_ask(20));
        CHECK(answer.answer_pending([](const int& x) { return x + 1; }) == 1);
        const auto reply = ask.try_take_reply();
        REQUIRE(reply.has_value());
        CHECK(reply->value == 21);
    }

    SUBCASE("asker and answerer throw when taken twice")
    {
        courier::state_query<voice_query, voice_report> query(1);
        (void)query.asker();
        (void)query.answerer();
        CHECK_THROWS_AS((void)query.asker(), std::logic_error);
        CHECK_THROWS_AS((void)query.answerer(), std::logic_error);
        CHECK_THROWS_AS((courier::state_query<voice_query, voice_report>(0)), std::invalid_argument);
    }

    SUBCASE("try_ask, answer_pending and try_take_reply neither allocate nor free")
    {
        courier::state_query<voice_query, voice_report> query(4);
        auto gui = query.asker();
        auto audio = query.answerer();
        const courier::test::allocation_counter allocations;
        for (int v = 0; v < 4; ++v)
            CHECK(gui.try_ask(voice_query{v}));
        CHECK(audio.answer_pending([](const voice_query& q) { return voice_report{q.voice, 1.0f}; }) == 4);
        while (gui.try_take_reply())
        {
        }
        CHECK(gui.in_flight() == 0);
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

TEST_CASE("state_query: every request is answered exactly once while both sides run" * doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(300'000);
    courier::state_query<std::uint64_t, std::uint64_t> query(8);
    auto control = query.asker();
    auto audio_end = query.answerer();
    std::atomic<bool> stop{false};

    std::thread audio([&] {
        while (!stop.load(std::memory_order_acquire))  // pairs with the release store after the last reply
            if (audio_end.answer_pending([](const std::uint64_t& x) { return x * 3; }) == 0)
                std::this_thread::yield();
    });

    std::vector<int> replies_per_id(count + 1, 0);
    std::uint64_t wrong_value = 0;
    std::uint64_t asked = 0;
    std::uint64_t answered = 0;
    std::vector<std::uint64_t> request_of_id(count + 1, 0);
    while (answered < count)
    {
        if (asked < count)
            if (const auto id = control.try_ask(asked + 1000))
            {
                if (*id <= count)
                    request_of_id[*id] = asked + 1000;
                ++asked;
            }
        if (const auto reply = control.try_take_reply())
        {
            ++answered;
            if (reply->id == 0 || reply->id > count)
                continue;
            ++replies_per_id[reply->id];
            if (reply->value != request_of_id[reply->id] * 3)
                ++wrong_value;
        }
    }
    stop.store(true, std::memory_order_release);
    audio.join();
    CHECK_FALSE(control.try_take_reply().has_value());  // no reply beyond one per request

    std::uint64_t not_once = 0;
    for (std::uint64_t id = 1; id <= count; ++id)
        if (replies_per_id[id] != 1)
            ++not_once;
    CHECK(not_once == 0);
    CHECK(wrong_value == 0);
    CHECK(control.in_flight() == 0);
    CHECK(query.stats().replies.refused == 0);
}
