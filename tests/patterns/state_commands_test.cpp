// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/state_commands.h>: order, applied at the start of the next callback, the budget, a full
// lane reported to the sender.
#include <courier/patterns/state_commands.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>

namespace {

struct synth_state  // owned by the audio thread; fixed size, so applying a command never allocates
{
    float gain = 1.0f;
    std::array<int, 64> notes{};  // +key for note on, -key for note off, in the order applied
    std::size_t note_count = 0;
};

struct set_gain
{
    float value;
    void apply(synth_state& s) const noexcept { s.gain = value; }
};

struct note_on
{
    int key;
    void apply(synth_state& s) const noexcept { s.notes[s.note_count++ % s.notes.size()] = key; }
};

struct note_off
{
    int key;
    void apply(synth_state& s) const noexcept { s.notes[s.note_count++ % s.notes.size()] = -key; }
};
using synth_commands = courier::state_commands<synth_state, set_gain, note_on, note_off>;

// A simulated audio callback: commands first, then the block is rendered with the state they left.
void render(courier::state_command_receiver<synth_state, set_gain, note_on, note_off>& commands, synth_state& state,
            std::array<float, 8>& out) noexcept
{
    (void)commands.poll(state);
    for (float& sample : out)
        sample = state.gain;
}

}  // namespace

TEST_CASE("state_commands")
{
    SUBCASE("poll applies each command type through its own apply, in order")
    {
        // [state-commands-define]
        struct mixer_state { float gain = 1.0f; bool muted = false; };  // owned by the audio thread
        struct set_gain
        {
            float value;
            void apply(mixer_state& m) const noexcept { m.gain = value; }
        };
        struct mute
        {
            bool on;
            void apply(mixer_state& m) const noexcept { m.muted = on; }
        };
        courier::state_commands<mixer_state, set_gain, mute> commands(16);
        auto to_audio = commands.sender();    // the GUI thread's end
        auto on_audio = commands.receiver();  // the audio callback's end
        REQUIRE(to_audio.try_send(set_gain{0.5f}));
        REQUIRE(to_audio.try_send(mute{true}));
        REQUIRE(to_audio.try_send(set_gain{0.25f}));

        mixer_state state;  // at the start of the next callback
        CHECK(on_audio.poll(state) == 3);
        CHECK(state.gain == 0.25f);  // in order: the last gain wins
        CHECK(state.muted);
        // [state-commands-define]
    }

    SUBCASE("poll applies commands in the order try_send accepted them")
    {
        synth_commands commands(16);
        auto to_audio = commands.sender();    // control thread's end
        auto on_audio = commands.receiver();  // audio thread's end
        REQUIRE(to_audio.try_send(note_on{60}));
        REQUIRE(to_audio.try_send(set_gain{0.5f}));
        REQUIRE(to_audio.try_send(note_off{60}));
        REQUIRE(to_audio.try_send(note_on{64}));

        synth_state state;  // owned by the audio thread
        CHECK(on_audio.poll(state) == 4);
        CHECK(on_audio.stats().depth() == 0);
        CHECK(state.gain == 0.5f);
        CHECK(state.note_count == 3);
        CHECK(state.notes[0] == 60);
        CHECK(state.notes[1] == -60);
        CHECK(state.notes[2] == 64);
    }

    SUBCASE("poll applies every command sent before the callback at its start, before frame 0")
    {
        synth_commands commands(4);
        auto to_audio = commands.sender();
        auto on_audio = commands.receiver();
        synth_state state;
        std::array<float, 8> out{};
        render(on_audio, state, out);
        CHECK(out[0] == 1.0f);

        REQUIRE(to_audio.try_send(set_gain{0.25f}));
        CHECK(out[7] == 1.0f);  // nothing happens between callbacks
        render(on_audio, state, out);
        for (const float sample : out)
            CHECK(sample == 0.25f);  // from the first frame of the next callback on
    }

    SUBCASE("try_send returns false and counts a refusal when the lane is full")
    {
        synth_commands commands(2);
        auto to_audio = commands.sender();
        auto on_audio = commands.receiver();
        REQUIRE(to_audio.try_send(set_gain{0.1f}));
        REQUIRE(to_audio.try_send(set_gain{0.2f}));
        const set_gain third{0.3f};
        CHECK_FALSE(to_audio.try_send(third));  // full: the sender keeps it
        CHECK(to_audio.stats().refused == 1);

        synth_state state;
        CHECK(on_audio.poll(state) == 2);
        CHECK(to_audio.try_send(third));  // room again: retry succeeds
        CHECK(on_audio.poll(state) == 1);
        CHECK(state.gain == 0.3f);
    }

    SUBCASE("poll stops at the budget and leaves the rest, in order, for the next call, counted")
    {
        synth_commands commands(8, 3);  // at most 3 commands per callback
        auto to_audio = commands.sender();
        auto on_audio = commands.receiver();
        for (int key = 1; key <= 7; ++key)
            REQUIRE(to_audio.try_send(note_on{key}));

        synth_state state;
        CHECK(on_audio.poll(state) == 3);
        CHECK(on_audio.stats().depth() == 4);
        CHECK(on_audio.poll(state) == 3);
        CHECK(on_audio.stats().depth() == 1);
        CHECK(on_audio.poll(state) == 1);
        CHECK(on_audio.stats().depth() == 0);
        CHECK(on_audio.over_budget() == 2);
        for (std::size_t i = 0; i < 7; ++i)
            CHECK(state.notes[i] == static_cast<int>(i) + 1);
    }

    SUBCASE("poll does not count a call that used its whole budget and left nothing behind")
    {
        synth_commands commands(4, 2);
        auto to_audio = commands.sender();
        auto on_audio = commands.receiver();
        REQUIRE(to_audio.try_send(note_on{1}));
        REQUIRE(to_audio.try_send(note_on{2}));
        synth_state state;
        CHECK(on_audio.poll(state) == 2);
        CHECK(on_audio.stats().depth() == 0);
        CHECK(commands.over_budget() == 0);
    }

    SUBCASE("stats count sent, refused, applied and over-budget calls, and capacity and budget are as given")
    {
        synth_commands commands(3, 2);
        CHECK(commands.capacity() == 3);
        CHECK(commands.budget() == 2);
        synth_commands by_default(5);
        CHECK(by_default.budget() == 5);

        auto to_audio = commands.sender();
        auto on_audio = commands.receiver();
        for (int key = 0; key < 4; ++key)
            (void)to_audio.try_send(note_on{key});  // the fourth is refused
        synth_state state;
        (void)on_audio.poll(state);
        const auto s = commands.stats();
        CHECK(s.sent == 3);
        CHECK(s.refused == 1);
        CHECK(s.received == 2);  // applied
        CHECK(commands.over_budget() == 1);
    }

    SUBCASE("the constructor throws when capacity or budget is 0, and each end is handed out once")
    {
        CHECK_THROWS_AS(synth_commands(0), std::invalid_argument);
        CHECK_THROWS_AS(synth_commands(4, 0), std::invalid_argument);
        synth_commands commands(4);
        (void)commands.sender();
        (void)commands.receiver();
        CHECK_THROWS_AS((void)commands.sender(), std::logic_error);
        CHECK_THROWS_AS((void)commands.receiver(), std::logic_error);
    }

    SUBCASE("moved ends keep working")
    {
        synth_commands commands(4);
        synth_commands::sender_type to_audio;
        courier::state_command_receiver<synth_state, set_gain, note_on, note_off> on_audio;
        to_audio = commands.sender();
        on_audio = commands.receiver();
        auto moved = std::move(to_audio);
        REQUIRE(moved.try_send(set_gain{0.75f}));
        synth_state state;
        CHECK(on_audio.poll(state) == 1);
        CHECK(state.gain == 0.75f);
    }

    SUBCASE("try_send and poll neither allocate nor free")
    {
        synth_commands commands(8, 4);
        auto to_audio = commands.sender();
        auto on_audio = commands.receiver();
        synth_state state;
        const courier::test::allocation_counter allocations;
        for (int key = 0; key < 8; ++key)
            CHECK(to_audio.try_send(note_on{key}));
        CHECK_FALSE(to_audio.try_send(set_gain{0.0f}));
        CHECK(on_audio.poll(state) == 4);
        CHECK(on_audio.poll(state) == 4);
        (void)on_audio.stats();
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("state_commands: a command accepted before a callback starts is applied in that callback, in order" *
          doctest::test_suite("stress"))
{
    struct counter_state
    {
        std::uint64_t value = 0;
        std::uint64_t out_of_order = 0;
    };
    struct set_value
    {
        std::uint64_t value;
        void apply(counter_state& s) const noexcept
        {
            if (value != s.value + 1)
                ++s.out_of_order;
            s.value = value;
        }
    };

    const std::uint64_t count = courier::test::stress_count(1'000'000);
    courier::state_commands<counter_state, set_value> commands(32);  // budget = capacity
    auto to_audio = commands.sender();
    auto on_audio = commands.receiver();
    std::atomic<std::uint64_t> accepted{0};  // the last value try_send accepted

    std::thread control([&] {
        for (std::uint64_t i = 1; i <= count; ++i)
        {
            while (!to_audio.try_send(set_value{i}))
                std::this_thread::yield();
            accepted.store(i, std::memory_order_release);  // pairs with the callback's acquire load
        }
    });

    counter_state state;
    std::uint64_t late = 0;  // callbacks that started after a send was accepted but did not apply it
    std::uint64_t callbacks = 0;
    while (state.value < count)
    {
        const std::uint64_t sent_before_start = accepted.load(std::memory_order_acquire);
        const std::size_t applied = on_audio.poll(state);
        if (state.value < sent_before_start)
            ++late;
        ++callbacks;
        if (applied == 0)
            std::this_thread::yield();  // an idle "callback": let the control thread run
    }
    control.join();
    CHECK(late == 0);
    CHECK(state.out_of_order == 0);
    CHECK(state.value == count);
    CHECK(commands.stats().received == count);
    CHECK(callbacks > 0);
}
