// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/state_commands.h> from a simulated callback marked
// COURIER_REALTIME: the RealtimeSanitizer build aborts on any allocation, free or lock inside it.
#include <courier/patterns/state_commands.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace {

struct voice_state
{
    float gain = 1.0f;
    int active_key = -1;
    std::array<float, 32> out{};
};

struct set_gain
{
    float value;
    void apply(voice_state& s) const noexcept { s.gain = value; }
};

struct play
{
    int key;
    void apply(voice_state& s) const noexcept { s.active_key = key; }
};

using voice_commands = courier::state_commands<voice_state, set_gain, play>;
using voice_receiver = courier::state_command_receiver<voice_state, set_gain, play>;

// One audio callback: commands first, then the block.
void process_block(voice_receiver& commands, voice_state& state) noexcept COURIER_REALTIME
{
    const std::size_t applied = commands.poll(state);
    (void)commands.stats();
    for (float& sample : state.out)
        sample = state.active_key >= 0 ? state.gain : 0.0f;
    state.out[0] += static_cast<float>(applied + commands.stats().depth());
}

}  // namespace

TEST_CASE("realtime paths: state_commands applies commands in a callback without allocating")
{
    voice_commands commands(8, 2);  // a budget of 2, so some calls stop at it
    auto to_audio = commands.sender();
    auto on_audio = commands.receiver();
    voice_state state;
    std::uint64_t sent = 0;
    for (int block = 0; block < 50; ++block)
    {
        REQUIRE(to_audio.try_send(play{block}));
        ++sent;
        if (block % 3 == 0)  // three commands this time: one waits for the next block
        {
            REQUIRE(to_audio.try_send(set_gain{0.5f}));
            REQUIRE(to_audio.try_send(set_gain{0.25f}));
            sent += 2;
        }

        const courier::test::allocation_counter allocations;
        process_block(on_audio, state);
        CHECK(allocations.count() == 0);
    }
    process_block(on_audio, state);
    CHECK(state.active_key == 49);
    CHECK(state.gain == 0.25f);
    CHECK(commands.stats().received == sent);
    CHECK(commands.over_budget() > 0);
}
