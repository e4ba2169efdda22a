// SPDX-License-Identifier: MIT
// Runs the audio-side entry points of <courier/patterns/cached_state.h> (update, value) from a simulated callback marked
// COURIER_REALTIME: the RealtimeSanitizer build aborts on any allocation, free or lock inside it.
#include <courier/patterns/cached_state.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <array>

namespace {

struct mixer_settings
{
    std::array<float, 16> gains{};
    bool bypass = false;
};

// One audio callback: adopt the newest settings, then use them.
float process_block(courier::cached_state_target<mixer_settings>& settings) noexcept COURIER_REALTIME
{
    (void)settings.poll();
    const mixer_settings& s = settings.value();
    float sum = 0.0f;
    for (const float g : s.gains)
        sum += g;
    return s.bypass ? 0.0f : sum;
}

}  // namespace

TEST_CASE("realtime paths: cached_state adopts written values in a callback without allocating")
{
    courier::cached_state<mixer_settings> settings(mixer_settings{}, 2);
    auto gui = settings.proxy();
    auto audio = settings.target();
    for (int block = 0; block < 50; ++block)
    {
        for (int edit = 0; edit < 3; ++edit)  // the third finds the lane full and stays pending
            (void)gui.modify([&](mixer_settings& s) { s.gains[static_cast<std::size_t>(edit)] += 1.0f; });
        const courier::test::allocation_counter allocations;
        const float first = process_block(audio);
        CHECK(gui.flush() == courier::send_status::sent);
        const float second = process_block(audio);
        CHECK(allocations.count() == 0);
        CHECK(first < second);
        CHECK(gui.synced());
        CHECK(second == static_cast<float>(3 * (block + 1)));
    }
}
