// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/deferred_delete.h> from a simulated callback marked
// COURIER_REALTIME: under RealtimeSanitizer any allocation or free inside it aborts; elsewhere the allocation
// counter checks the same.
#include <courier/patterns/deferred_delete.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <memory>

namespace {

struct audio_side
{
    courier::deferred_delete<courier::test::tracked>* graveyard = nullptr;
    courier::lane_receiver<std::unique_ptr<courier::test::tracked>> from_control;
    std::unique_ptr<courier::test::tracked> current;
    int swaps = 0;
};

// One "audio callback": adopts the newest object and retires the one it replaces.
void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    while (auto fresh = a.from_control.try_receive())
    {
        a.current.swap(*fresh);
        a.graveyard->retire(std::move(*fresh));  // never frees here
        ++a.swaps;
    }
    (void)a.graveyard->stats().out;
    (void)a.graveyard->capacity();
    (void)a.graveyard->stats();
}

}  // namespace

TEST_CASE("deferred_delete realtime: one simulated callback retires objects without allocating or freeing")
{
    courier::test::tracking_log log;
    courier::deferred_delete<courier::test::tracked> graveyard(4);
    courier::lane<std::unique_ptr<courier::test::tracked>> to_audio_lane(4);
    auto to_audio = to_audio_lane.sender();

    audio_side a;
    a.graveyard = &graveyard;
    a.from_control = to_audio_lane.receiver();
    REQUIRE(graveyard.try_reserve());
    a.current = std::make_unique<courier::test::tracked>(log, 0u);

    for (std::uint64_t block = 1; block <= 50; ++block)
    {
        // Control side: may allocate and free; the audio side must not.
        REQUIRE(graveyard.try_reserve());
        REQUIRE(to_audio.try_send(std::make_unique<courier::test::tracked>(log, block)));

        const courier::test::allocation_counter allocations;
        process_block(a);
        CHECK(allocations.count() == 0);

        CHECK(graveyard.collect() == 1);  // ✗ the replaced object dies here, on the control thread
        CHECK(a.current->number() == block);
    }
    CHECK(a.swaps == 50);
    a.current.reset();  // on the control thread, after the "stream" has stopped
    CHECK(log.live == 0);
    CHECK(log.destroyed_away_from_home == 0);
}
