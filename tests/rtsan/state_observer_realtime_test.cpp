// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/state_observer.h> (publish, answer_pending) from a simulated
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
    courier::state_query_answerer<int, float> voice_levels;
    std::array<float, 8> levels{};
    std::uint64_t playhead = 0;
};

// One audio callback: render, answer the questions asked since the last one, publish the meters.
void process_block(engine& e) noexcept COURIER_REALTIME
{
    for (std::size_t v = 0; v < e.levels.size(); ++v)
        e.levels[v] = static_cast<float>(v) * 0.125f;
    e.playhead += 64;
    (void)e.voice_levels.answer_pending([&](const int& voice) { return e.levels[static_cast<std::size_t>(voice)]; });
    meters m;
    m.peaks = e.levels;
    m.playhead = e.playhead;
    e.meters_out.publish(m);
}

}  // namespace

TEST_CASE("realtime paths: state_observer publishes and answers in a callback without allocating")
{
    courier::state_observer<meters> cell;
    courier::state_query<int, float> query(4);
    engine e;
    e.meters_out = cell.publisher();
    e.voice_levels = query.answerer();
    auto gui_meters = cell.reader();
    auto gui_ask = query.asker();

    for (int block = 0; block < 50; ++block)
    {
        REQUIRE(gui_ask.try_ask(block % 8));
        const courier::test::allocation_counter allocations;
        process_block(e);
        CHECK(allocations.count() == 0);

        REQUIRE(gui_meters.update());
        CHECK(gui_meters.value().playhead == 64u * static_cast<std::uint64_t>(block + 1));
        const auto reply = gui_ask.try_take_reply();
        REQUIRE(reply.has_value());
        CHECK(reply->value == static_cast<float>(block % 8) * 0.125f);
    }
}
