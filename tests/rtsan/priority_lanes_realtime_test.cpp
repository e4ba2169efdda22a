// SPDX-License-Identifier: MIT
// Runs the audio side of <courier/experimental/priority_lanes.h> from a simulated callback marked COURIER_REALTIME: the
// RealtimeSanitizer build aborts on any allocation, free or lock inside it; other builds count allocations.
#include <courier/experimental/priority_lanes.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

namespace {

struct audio_side
{
    courier::priority_receiver<int> from_control;
    int urgent_sum = 0;
    int bulk_sum = 0;
};

void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    const auto report = a.from_control.drain(
        [&a](int&& m, courier::priority p) { (p == courier::priority::urgent ? a.urgent_sum : a.bulk_sum) += m; },
        8);
    a.urgent_sum += static_cast<int>(report.total() - report.urgent - report.bulk);  // 0: touches total()
}

}  // namespace

TEST_CASE("priority_lanes: the audio side's drain runs in a COURIER_REALTIME callback without allocating")
{
    courier::priority_lanes<int> lanes(16, 64, 2);
    auto urgent = lanes.urgent_sender();
    auto bulk = lanes.bulk_sender();
    audio_side a;
    a.from_control = lanes.receiver();

    for (int block = 0; block < 20; ++block)
    {
        for (int i = 0; i < 3; ++i)  // control side: may allocate; the audio side must not
            REQUIRE(bulk.try_send(1));
        REQUIRE(urgent.try_send(10));

        const courier::test::allocation_counter allocations;
        process_block(a);
        CHECK(allocations.count() == 0);
    }
    CHECK(a.urgent_sum == 20 * 10);
    CHECK(a.bulk_sum == 20 * 3);
}
