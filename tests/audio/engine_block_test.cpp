// SPDX-License-Identifier: MIT
// Tests for engine::process_block (audio/engine/include/courier/audio/engine.h): a plugin host's block events at
// their exact frames, the input reaching the graph (in place too), graph handover, meters and scope from the
// engine, no allocation; and add_producer while other producers send (issue 17).
#include <courier/audio/engine.h>

#include <courier/audio/offline_driver.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tagged_event.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

using courier::audio::block_event;
using courier::audio::engine;
using courier::audio::engine_config;
using courier::audio::engine_event;

namespace {

constexpr std::uint16_t set_level = 1;

// An effect: output = input × level + offset, where "set_level" events set the level. Remembers the longest
// piece it was asked to render and what adopt() was given.
struct level_graph final : courier::audio::audio_graph
{
    explicit level_graph(float o = 0.0F) : offset(o) {}
    void prepare(double, std::size_t frames) override { max_frames = frames; }
    void apply(const engine_event& e) noexcept COURIER_REALTIME override
    {
        if (e.type == set_level)
            level = e.value;
        else if (e.type == courier::audio::midi_event_type)
            last_midi_note = courier::audio::midi_bytes(e).data1;
    }
    void render(float* const* out, std::size_t channels, std::size_t at, std::size_t frames) noexcept
        COURIER_REALTIME override
    {
        render_with_input(nullptr, 0, out, channels, at, frames);
    }
    void render_with_input(const float* const* in, std::size_t in_channels, float* const* out, std::size_t channels,
                           std::size_t at, std::size_t frames) noexcept COURIER_REALTIME override
    {
        longest = std::max(longest, frames);
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t i = at; i < at + frames; ++i)
            {
                const float x = in_channels > 0 ? in[std::min(c, in_channels - 1)][i] : 1.0F;  // read first
                out[c][i] = x * level + offset;
            }
    }
    void adopt(audio_graph& previous) noexcept COURIER_REALTIME override
    {
        level = static_cast<level_graph&>(previous).level;  // every graph of this engine is a level_graph
        adopted_from = &previous;
    }

    float offset;
    float level = 1.0F;
    std::size_t max_frames = 0;
    std::size_t longest = 0;
    std::uint8_t last_midi_note = 0;
    const audio_graph* adopted_from = nullptr;
};

block_event level_at(std::uint32_t frame, float level)
{
    block_event b;
    b.frame = frame;
    b.event.type = set_level;
    b.event.value = level;
    return b;
}

}  // namespace

TEST_CASE("engine::process_block")
{
    auto owned = std::make_unique<level_graph>();
    level_graph& graph = *owned;
    engine e(std::move(owned));
    e.prepare({48000.0, 64, 2, 2});
    std::array<std::vector<float>, 2> in{std::vector<float>(64, 0.5F), std::vector<float>(64, 0.5F)};
    std::array<std::vector<float>, 2> out{std::vector<float>(64, -9.0F), std::vector<float>(64, -9.0F)};
    const float* ins[] = {in[0].data(), in[1].data()};
    float* outs[] = {out[0].data(), out[1].data()};

    SUBCASE("process_block applies each host event at exactly its frame and reads the input")
    {
        const std::array<block_event, 3> events{level_at(0, 2.0F), level_at(10, 4.0F), level_at(37, 0.0F)};
        e.process_block(ins, outs, 64, events);
        for (std::size_t i = 0; i < 64; ++i)
        {
            const float expected = i < 10 ? 1.0F : i < 37 ? 2.0F : 0.0F;  // 0.5 × level
            REQUIRE(out[0][i] == expected);
            REQUIRE(out[1][i] == expected);
        }
        CHECK(e.stats().host_events_applied == 3);
    }

    SUBCASE("process_block works in place: the output buffers are the input buffers")
    {
        const std::array<block_event, 1> events{level_at(32, 3.0F)};
        e.process_block(ins, const_cast<float* const*>(ins), 64, events);  // a host's in-place buffer
        CHECK(in[0][31] == 0.5F);
        CHECK(in[0][32] == 1.5F);
        CHECK(in[1][63] == 1.5F);
    }

    SUBCASE("process_block applies events at or after the block's end after its last frame")
    {
        const std::array<block_event, 1> events{level_at(64, 0.0F)};
        e.process_block(ins, outs, 64, events);
        CHECK(out[0][63] == 0.5F);
        e.process_block(ins, outs, 64, {});
        CHECK(out[0][0] == 0.0F);
    }

    SUBCASE("process_block takes an out-of-order event where the cut has got to")
    {
        const std::array<block_event, 2> events{level_at(20, 2.0F), level_at(5, 4.0F)};
        e.process_block(ins, outs, 64, events);
        CHECK(out[0][19] == 0.5F);
        CHECK(out[0][20] == 2.0F);  // both at 20: the later one wins
    }

    SUBCASE("process_block cuts at timed events and host events alike")
    {
        auto sequencer = e.timed_sender();
        engine_event half;
        half.type = set_level;
        half.value = 0.5F;
        REQUIRE(sequencer.try_send(20, half));
        const std::array<block_event, 1> events{level_at(40, 4.0F)};
        e.process_block(ins, outs, 64, events);
        CHECK(out[0][19] == 0.5F);
        CHECK(out[0][20] == 0.25F);
        CHECK(out[0][39] == 0.25F);
        CHECK(out[0][40] == 2.0F);
        CHECK(e.stats().timed_applied == 1);
    }

    SUBCASE("process_block renders a block longer than block_size in pieces the graph was prepared for")
    {
        std::vector<float> long_in(300, 0.5F);
        std::vector<float> long_out(300, 0.0F);
        const float* li[] = {long_in.data(), long_in.data()};
        std::vector<float> long_right(300, 0.0F);
        float* lo[] = {long_out.data(), long_right.data()};
        const std::array<block_event, 1> events{level_at(200, 2.0F)};
        e.process_block(li, lo, 300, events);
        CHECK(graph.longest <= graph.max_frames);
        CHECK(long_out[199] == 0.5F);
        CHECK(long_out[200] == 1.0F);
        CHECK(long_out[299] == 1.0F);
    }

    SUBCASE("process_block hands a MIDI event to the graph with its bytes")
    {
        std::array<block_event, 1> events{};
        events[0].frame = 3;
        events[0].event = courier::audio::make_midi_event(0x91, 64, 100);
        e.process_block(ins, outs, 64, events);
        CHECK(graph.last_midi_note == 64);
        CHECK(events[0].event.channel == 1);
    }

    SUBCASE("process_block publishes meters and scope from its output: the plugin keeps none of its own")
    {
        const std::array<block_event, 1> events{level_at(0, 2.0F)};
        for (int block = 0; block < 16; ++block)  // 1024 frames: one scope buffer
            e.process_block(ins, outs, 64, events);
        courier::audio::engine_meters m;
        REQUIRE(e.try_read_meters(m));
        CHECK(m.peak[0] == 1.0F);
        CHECK(m.rms[1] == doctest::Approx(1.0F));
        CHECK(m.frame == 1024);
        std::vector<float> scope(1024);
        CHECK(e.try_read_scope(scope) == 1024);
        CHECK(scope[100] == 1.0F);
        CHECK(e.stats().callbacks == 16);
        CHECK(e.stats().max_load > 0.0);
    }

    SUBCASE("process_block lets the adopted graph take over from the one it replaces")
    {
        const std::array<block_event, 1> events{level_at(0, 3.0F)};
        e.process_block(ins, outs, 64, events);
        auto fresh = std::unique_ptr<courier::audio::audio_graph>(std::make_unique<level_graph>(0.25F));
        const auto* fresh_graph = static_cast<const level_graph*>(fresh.get());
        REQUIRE(e.try_publish_graph(fresh));
        e.process_block(ins, outs, 64, {});
        CHECK(fresh_graph->adopted_from == &graph);
        CHECK(out[0][0] == 0.5F * 3.0F + 0.25F);  // the level carried over, the new offset in effect
        CHECK(e.collect_graphs() == 1);
    }

    SUBCASE("process_block neither allocates nor frees")
    {
        const std::array<block_event, 2> events{level_at(3, 2.0F), level_at(50, 1.0F)};
        auto control = e.add_producer();
        REQUIRE(control.try_send(courier::test::tagged_event(1)));
        e.process_block(ins, outs, 64, events);  // warm up
        const courier::test::allocation_counter allocations;
        for (int block = 0; block < 40; ++block)
            e.process_block(ins, outs, 64, events);
        CHECK(allocations.count() == 0);
    }
}

TEST_CASE("engine: add_producer while other producers send and the audio thread runs" * doctest::test_suite("stress"))
{
    // Before the fix each engine_sender read a vector that add_producer appended to, and two add_producer calls
    // could overlap inside the mailbox: ThreadSanitizer reported both. Now each sender owns its lane and
    // add_producer is serialised.
    constexpr std::size_t threads = 4;
    const std::uint64_t per_thread = courier::test::stress_count(5000);
    engine_config config;
    config.max_producers = threads;
    config.mailbox_capacity = 64;
    engine e(std::make_unique<level_graph>(), config);
    courier::audio::offline_driver driver({48000.0, 64, 0, 2});
    driver.start(e, courier::audio::pacing::as_fast_as_possible);

    std::latch go(threads);
    std::vector<std::thread> senders;
    for (std::size_t t = 0; t < threads; ++t)
        senders.emplace_back([&, t] {
            go.arrive_and_wait();  // every thread adds its producer at the same moment, while the others send
            auto sender = e.add_producer();
            for (std::uint64_t i = 0; i < per_thread; ++i)
                while (!sender.try_send(courier::test::tagged_event(static_cast<std::uint32_t>(t))))
                    std::this_thread::yield();
        });
    for (auto& s : senders)
        s.join();
    while (e.stats().immediate_applied < threads * per_thread)
        std::this_thread::yield();
    driver.stop();

    CHECK(e.producer_count() == threads);
    CHECK(e.stats().immediate_applied == threads * per_thread);
    std::uint64_t sent = 0;
    for (std::size_t i = 0; i < threads; ++i)
        sent += e.mailbox_stats(i).sent;
    CHECK(sent == threads * per_thread);
}
