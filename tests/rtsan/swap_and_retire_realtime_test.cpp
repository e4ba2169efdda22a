// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/swap_and_retire.h> from a simulated callback marked
// COURIER_REALTIME: under RealtimeSanitizer any allocation or free inside it aborts; elsewhere the allocation
// counter checks the same.
#include <courier/patterns/swap_and_retire.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace {

struct wavetable
{
    wavetable(courier::test::tracking_log& log, std::uint64_t id, std::size_t size)
        : tag(log, id), samples(size, static_cast<float>(id))
    {
    }
    courier::test::tracked tag;
    std::vector<float> samples;  // owns heap memory: it must never be freed on the audio thread
};

struct audio_side
{
    courier::swap_and_retire<wavetable>* tables = nullptr;
    float output = 0.0f;
    std::uint64_t playing = 0;
};

// One "audio callback": adopt the newest table, then read it.
void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    const wavetable& table = a.tables->acquire();
    a.output += table.samples[0];
    a.playing = a.tables->current().tag.number();
    (void)a.tables->in_flight();
    (void)a.tables->max_in_flight();
    (void)a.tables->stats();
}

}  // namespace

TEST_CASE("swap_and_retire realtime: one simulated callback swaps tables without allocating or freeing")
{
    courier::test::tracking_log log;
    courier::swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 1024), 4);
    audio_side a;
    a.tables = &tables;

    for (std::uint64_t block = 1; block <= 50; ++block)
    {
        // Control side: may allocate and free; the audio side must not.
        tables.collect();
        REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, block, 1024)));

        const courier::test::allocation_counter allocations;
        process_block(a);
        CHECK(allocations.count() == 0);
        CHECK(a.playing == block);
    }
    CHECK(tables.collect() == 1);
    CHECK(log.destroyed_away_from_home == 0);
}
