// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/link_unlink.h> from a simulated callback marked
// COURIER_REALTIME: under RealtimeSanitizer any allocation or free inside it aborts; elsewhere the allocation
// counter checks the same.
#include <courier/patterns/link_unlink.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>

namespace {

struct voice : courier::link_hook<voice>
{
    voice(courier::test::tracking_log& log, std::uint64_t id, int blocks) noexcept : tag(log, id), blocks_left(blocks) {}
    courier::test::tracked tag;
    int blocks_left;
    float phase = 0.0f;
};

struct audio_side
{
    courier::link_unlink<voice>* voices = nullptr;
    courier::link_handle watched;  // a voice the audio side looks up by handle
    int found = 0;
    float output = 0.0f;
};

// One "audio callback": adopt links and unlink requests, render, let finished voices go.
void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    a.voices->poll(8);  // a bounded batch first
    a.voices->poll();   // then the rest
    a.voices->for_each([&](voice& v) {
        v.phase += 0.25f;
        a.output += v.phase;
        if (--v.blocks_left == 0)
            a.voices->unlink(v);
    });
    if (a.voices->find(a.watched) != nullptr)
        ++a.found;
    (void)a.voices->linked_count();
    (void)a.voices->alive();
    (void)a.voices->max_objects();
    (void)a.voices->stats();
}

}  // namespace

TEST_CASE("link_unlink realtime: one simulated callback links, renders and unlinks without allocating or freeing")
{
    courier::test::tracking_log log;
    courier::link_unlink<voice> voices(16, 32);
    audio_side a;
    a.voices = &voices;

    std::uint64_t made = 0;
    for (int block = 0; block < 50; ++block)
    {
        // Control side: may allocate and free; the audio side must not.
        voices.collect();
        const auto result = voices.try_link(std::make_unique<voice>(log, made++, 3));
        REQUIRE(result);
        a.watched = result.id;
        if (block % 4 == 0)
        {
            const auto doomed = voices.try_link(std::make_unique<voice>(log, made++, 100));
            REQUIRE(doomed);
            REQUIRE(voices.try_request_unlink(doomed.id));  // unlinked in the same callback that links it
        }

        const courier::test::allocation_counter allocations;
        process_block(a);
        CHECK(allocations.count() == 0);
    }
    CHECK(a.found == 50);
    voices.collect();
    CHECK(log.destroyed_away_from_home == 0);
}
