// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/timed_events.h> (begin_block, the sub-block range, scheduled)
// from a simulated callback marked COURIER_REALTIME: the RealtimeSanitizer build aborts on any allocation,
// free or lock inside it.
#include <courier/patterns/timed_events.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace {

struct note
{
    float level;
};

struct synth
{
    courier::timed_event_receiver<note> events;
    std::uint64_t position = 0;
    float level = 0.0f;
    std::array<float, 64> out{};
    std::size_t handled = 0;
};

// One audio callback: split the block at the event times and render each piece.
void process_block(synth& s) noexcept COURIER_REALTIME
{
    const auto block = s.events.begin_block(s.position, static_cast<std::uint32_t>(s.out.size()));
    s.handled += block.events().size();
    for (auto it = block.begin(); it != block.end(); ++it)
    {
        for (const auto& e : it->events)
            s.level = e.event.level;
        for (std::uint32_t i = 0; i < it->frames; ++i)
            s.out[it->offset + i] = s.level;
    }
    (void)s.events.scheduled();
    (void)block.start();
    (void)block.frames();
    s.position += s.out.size();
}

}  // namespace

TEST_CASE("realtime paths: timed_events splits blocks at event times without allocating")
{
    courier::timed_events<note> events(16, 4);  // a small buffer, so events also wait for room
    auto sequencer = events.sender();
    synth s;
    s.events = events.receiver();
    for (int block = 0; block < 50; ++block)
    {
        const auto now = static_cast<std::uint64_t>(block) * 64;
        REQUIRE(sequencer.try_send({now + 10, note{1.0f}}));
        REQUIRE(sequencer.try_send({now + 130, note{0.5f}}));  // two blocks ahead
        if (block % 10 == 0)
            REQUIRE(sequencer.try_send({now > 0 ? now - 1 : 0, note{0.0f}}));  // late
        const courier::test::allocation_counter allocations;
        process_block(s);
        CHECK(allocations.count() == 0);
    }
    CHECK(s.handled > 50);
    CHECK(events.stats().late > 0);
    CHECK(events.stats().lane.refused == 0);
}
