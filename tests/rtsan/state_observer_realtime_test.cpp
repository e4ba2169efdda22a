// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/state_observer.h> (publish) from a simulated
// callback marked COURIER_REALTIME: the RealtimeSanitizer build aborts on any allocation, free or lock inside it.
#include <courier/patterns/state_observer.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace {

struct meters
{
    std::array<float, 8> peaks{};
    std::uint64_t playhead = 0;
};

struct engine
{
    courier::state_publisher<meters> meters_out;
    std::array<float, 8> levels{};
    std::uint64_t playhead = 0;
};

// One audio callback: render, publish the meters.
void process_block(engine& e) noexcept COURIER_REALTIME
{
    for (std::size_t v = 0; v < e.levels.size(); ++v)
        e.levels[v] = static_cast<float>(v) * 0.125f;
    e.playhead += 64;
    meters m;
    m.peaks = e.levels;
    m.playhead = e.playhead;
    e.meters_out.publish(m);
}

}  // namespace

TEST_CASE("realtime paths: state_observer publishes in a callback without allocating")
{
    courier::state_observer<meters> cell;
    engine e;
    e.meters_out = cell.publisher();
    auto gui_meters = cell.reader();

    for (int block = 0; block < 50; ++block)
    {
        const courier::test::allocation_counter allocations;
        process_block(e);
        CHECK(allocations.count() == 0);

        REQUIRE(gui_meters.update());
        CHECK(gui_meters.value().playhead == 64u * static_cast<std::uint64_t>(block + 1));
    }
}
