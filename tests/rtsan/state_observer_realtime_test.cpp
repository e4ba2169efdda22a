// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/state_observer.h> (publish for reports; poll and value for
// settings the GUI owns) from a simulated callback marked COURIER_REALTIME: the RealtimeSanitizer build aborts on
// any allocation, free or lock inside it.
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

struct mixer_settings
{
    std::array<float, 16> gains{};
    bool bypass = false;
};

// One audio callback: adopt the newest settings, then use them.
float process_block(courier::state_reader<mixer_settings>& settings) noexcept COURIER_REALTIME
{
    (void)settings.poll();
    const mixer_settings& s = settings.value();
    float sum = 0.0f;
    for (const float g : s.gains)
        sum += g;
    return s.bypass ? 0.0f : sum;
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

        REQUIRE(gui_meters.poll());
        CHECK(gui_meters.value().playhead == 64u * static_cast<std::uint64_t>(block + 1));
    }
}

TEST_CASE("realtime paths: state_observer adopts the GUI's settings in a callback without allocating")
{
    courier::state_observer<mixer_settings> settings;
    auto gui = settings.publisher();
    auto audio = settings.reader();
    for (int block = 0; block < 50; ++block)
    {
        for (int edit = 0; edit < 3; ++edit)  // three edits between callbacks: the newest carries all three
            gui.modify([&](mixer_settings& s) { s.gains[static_cast<std::size_t>(edit)] += 1.0f; });
        const courier::test::allocation_counter allocations;
        const float sum = process_block(audio);
        CHECK(allocations.count() == 0);
        CHECK(gui.synced());
        CHECK(sum == static_cast<float>(3 * (block + 1)));
        CHECK(process_block(audio) == sum);  // nothing new: the same settings again
    }
}
