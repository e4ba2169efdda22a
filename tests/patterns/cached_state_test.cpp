// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/cached_state.h>: the control-side copy converges to the audio side's value after every
// write, including writes that found the lane full.
#include <courier/patterns/cached_state.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>

namespace {

// A channel strip's settings: written by the GUI, used by the audio callback.
struct channel
{
    float gain = 1.0f;
    float pan = 0.0f;
    bool mute = false;
    std::uint64_t edits = 0;  // how many edits produced this value (the stress test checks consistency with it)

    friend bool operator==(const channel&, const channel&) = default;
};

}  // namespace

TEST_CASE("cached_state")
{
    SUBCASE("proxy_type and target_type let a processor hold the ends as members")
    {
        using state_type = courier::cached_state<channel>;
        state_type state(channel{}, 2);
        struct processor
        {
            state_type::proxy_type gui;
            state_type::target_type audio;
        };
        processor p{state.proxy(), state.target()};
        CHECK(p.gui.write(channel{0.5f, 0.0f, false, 1}) == courier::send_status::sent);
        CHECK(p.audio.poll());
        CHECK(p.audio.value().gain == 0.5f);
    }

    SUBCASE("get answers from the local copy and the audio side converges to it after every write")
    {
        // [cached-state-converge]
        courier::cached_state<channel> strip(channel{}, 4);
        auto gui = strip.proxy();
        auto audio = strip.target();
        for (int step = 1; step <= 20; ++step)
        {
            const auto status = gui.modify([&](channel& c) { c.gain = 0.05f * static_cast<float>(step); });
            CHECK(status == courier::send_status::sent);
            CHECK(gui.get().gain == 0.05f * static_cast<float>(step));  // no round trip
            CHECK_FALSE(gui.synced());

            CHECK(audio.poll());  // the next callback
            CHECK(audio.value() == gui.get());  // converged
            CHECK(gui.synced());
        }
        // [cached-state-converge]
    }

    SUBCASE("write keeps the value pending when the lane is full, and flush sends it once there is room")
    {
        courier::cached_state<channel> strip(channel{}, 1);  // a lane of one write
        auto gui = strip.proxy();
        auto audio = strip.target();
        // [cached-state-full]
        CHECK(gui.write(channel{0.1f, 0.0f, false, 1}) == courier::send_status::sent);
        CHECK(gui.write(channel{0.2f, 0.0f, true, 2}) == courier::send_status::full);  // lane full
        CHECK(gui.get().gain == 0.2f);  // the copy holds the newest value, not a diverged one
        CHECK_FALSE(gui.synced());      // and says that the audio side lags behind it
        CHECK(audio.poll());          // the audio side takes 0.1, which makes room
        CHECK(gui.flush() == courier::send_status::sent);
        CHECK(audio.poll());
        CHECK(audio.value() == gui.get());
        CHECK(gui.synced());
        // [cached-state-full]
        CHECK(gui.stats().deferred == 1);
        CHECK_FALSE(gui.pending());
    }

    SUBCASE("write sends the newest value when an older one is still pending, superseding it")
    {
        courier::cached_state<channel> strip(channel{}, 1);
        auto gui = strip.proxy();
        auto audio = strip.target();
        REQUIRE(gui.write(channel{0.1f, 0.0f, false, 1}) == courier::send_status::sent);
        REQUIRE(gui.write(channel{0.2f, 0.0f, false, 2}) == courier::send_status::full);
        CHECK(audio.poll());  // takes 0.1; the lane has room again
        CHECK(gui.write(channel{0.3f, 0.0f, false, 3}) == courier::send_status::sent);
        CHECK_FALSE(gui.pending());  // 0.2 is superseded: the state is 0.3 now
        CHECK(gui.flush() == courier::send_status::sent);  // nothing to send
        CHECK(audio.poll());
        CHECK(audio.value().gain == 0.3f);
        CHECK(gui.synced());
    }

    SUBCASE("flush returns pending while the lane stays full, and the audio side converges when it drains")
    {
        courier::cached_state<channel> strip(channel{}, 1);
        auto gui = strip.proxy();
        auto audio = strip.target();
        REQUIRE(gui.write(channel{0.5f, 0.0f, false, 1}) == courier::send_status::sent);
        for (int i = 2; i < 10; ++i)
            CHECK(gui.modify([](channel& c) { ++c.edits; }) == courier::send_status::full);
        CHECK(gui.flush() == courier::send_status::full);
        CHECK(gui.stats().deferred == 8);
        CHECK(gui.stats().lane.refused == 9);  // eight writes and one flush
        CHECK(audio.poll());
        CHECK(gui.flush() == courier::send_status::sent);
        CHECK(audio.poll());
        CHECK(audio.value() == gui.get());
        CHECK(audio.value().edits == 9);
        CHECK(gui.synced());
    }

    SUBCASE("update adopts only the newest of several queued writes and returns false when none came")
    {
        courier::cached_state<channel> strip(channel{}, 8);
        auto gui = strip.proxy();
        auto audio = strip.target();
        CHECK_FALSE(audio.poll());
        CHECK(audio.value() == channel{});
        for (std::uint64_t n = 1; n <= 5; ++n)
            REQUIRE(gui.write(channel{1.0f, 0.0f, false, n}) == courier::send_status::sent);
        CHECK(audio.poll());
        CHECK(audio.value().edits == 5);
        CHECK(strip.stats().applied_version == 5);
        CHECK(strip.stats().writes == 5);
        CHECK(strip.stats().lane.received == 5);
        CHECK_FALSE(audio.poll());
    }

    SUBCASE("both copies start at the initial value, and the constructor and ends refuse misuse")
    {
        courier::cached_state<channel> strip(channel{0.7f, -1.0f, true, 0}, 2);
        auto gui = strip.proxy();
        auto audio = strip.target();
        CHECK(gui.get() == audio.value());
        CHECK(gui.synced());
        CHECK_THROWS_AS((void)strip.proxy(), std::logic_error);
        CHECK_THROWS_AS((void)strip.target(), std::logic_error);
        CHECK_THROWS_AS(courier::cached_state<channel>(channel{}, 0), std::invalid_argument);
    }

    SUBCASE("ends made empty and then assigned work like the originals")
    {
        courier::cached_state<channel> strip(channel{}, 2);
        courier::cached_state_proxy<channel> gui;
        courier::cached_state_target<channel> audio;
        gui = strip.proxy();
        audio = strip.target();
        CHECK(gui.write(channel{0.5f, 0.0f, false, 1}) == courier::send_status::sent);
        CHECK(audio.poll());
        CHECK(audio.value() == gui.get());
    }

    SUBCASE("write, modify, flush and update neither allocate nor free")
    {
        courier::cached_state<channel> strip(channel{}, 2);
        auto gui = strip.proxy();
        auto audio = strip.target();
        const courier::test::allocation_counter allocations;
        (void)gui.write(channel{0.1f, 0.0f, false, 1});
        (void)gui.modify([](channel& c) { c.mute = true; });
        (void)gui.modify([](channel& c) { c.pan = 1.0f; });  // pending: the lane holds 2
        (void)audio.poll();
        (void)gui.flush();
        (void)audio.poll();
        CHECK(audio.value() == gui.get());
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("cached_state: with both sides running, the audio side sees whole values and ends equal to the copy" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(500'000);
    courier::cached_state<channel> strip(channel{}, 4);  // small, so writes often find it full
    auto gui = strip.proxy();
    auto audio_end = strip.target();
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
        (void)audio_end.poll();  // the last callback, after the final flush
    });

    for (std::uint64_t n = 1; n <= count; ++n)
    {
        (void)gui.modify([n](channel& c) {
            c.edits = n;
            c.gain = static_cast<float>(n % 1000);
            c.mute = n % 2 == 1;
        });
    }
    while (gui.flush() == courier::send_status::full)
        std::this_thread::yield();
    while (!gui.synced())  // the audio side converges without further writes
        std::this_thread::yield();
    stop.store(true, std::memory_order_release);
    audio.join();

    CHECK(torn == 0);
    CHECK(backwards == 0);
    CHECK(audio_end.value() == gui.get());
    CHECK(gui.get().edits == count);
    CHECK(strip.stats().writes == count);
}
