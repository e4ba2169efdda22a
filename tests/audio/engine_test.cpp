// SPDX-License-Identifier: MIT
// Tests for <courier/audio/engine.h>: timed events at their exact frames, the message budget, the O(1) graph swap with the
// old graph dying on the control side, meters, scope, statistics, and no allocation in process().
#include <courier/audio/engine.h>

#include <courier/audio/offline_driver.h>
#include "demos/synth/synth_graph.h"

#include "tests/support/allocation_counter.h"
#include "tests/support/hopping_host.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tagged_event.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

using courier::audio::engine;
using courier::audio::engine_config;
using courier::audio::engine_event;
using courier::audio::stream_config;

using courier::test::tagged_event;

namespace {

// A graph that writes, on every channel, the number of events applied so far plus `base`, and remembers
// the thread it was destroyed on.
struct probe_graph final : courier::audio::audio_graph
{
    explicit probe_graph(float b = 0.0F, std::atomic<int>* deaths_ = nullptr, std::thread::id* where_ = nullptr)
        : base(b), deaths(deaths_), where(where_)
    {
    }
    ~probe_graph() override
    {
        if (deaths != nullptr)
            deaths->fetch_add(1, std::memory_order_relaxed);
        if (where != nullptr)
            *where = std::this_thread::get_id();
    }
    void prepare(double, std::size_t) override { ++prepared; }
    void apply(const engine_event& e) noexcept COURIER_REALTIME override
    {
        ++applied;
        last_tag = e.tag;
    }
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t i = offset; i < offset + frames; ++i)
                out[c][i] = base + static_cast<float>(applied);
    }
    [[nodiscard]] std::uint32_t activity() const noexcept COURIER_REALTIME override
    {
        return static_cast<std::uint32_t>(applied);
    }

    float base;
    std::atomic<int>* deaths;
    std::thread::id* where;
    int prepared = 0;
    std::size_t applied = 0;
    std::uint32_t last_tag = 0;
};

// Drives an engine block by block on the calling thread, stereo.
struct harness
{
    explicit harness(engine& e, std::size_t block = 64) : eng(e), left(block), right(block)
    {
        eng.prepare({48000.0, block, 0, 2});
    }
    void run(std::size_t frames)
    {
        float* out[] = {left.data(), right.data()};
        eng.process(nullptr, out, frames);
    }
    engine& eng;
    std::vector<float> left;
    std::vector<float> right;
};

}  // namespace

TEST_CASE("engine")
{
    SUBCASE("process applies a timed event at exactly its frame, splitting the block there")
    {
        auto graph = std::make_unique<probe_graph>();
        engine e(std::move(graph));
        harness h(e, 256);
        auto sequencer = e.timed_sender();
        REQUIRE(sequencer.try_send(1000, tagged_event(1)));  // frame 1000 = block 3 (768..1023), offset 232
        for (int block = 0; block < 3; ++block)
            h.run(256);
        CHECK(std::all_of(h.left.begin(), h.left.end(), [](float x) { return x == 0.0F; }));
        h.run(256);
        CHECK(h.left[231] == 0.0F);
        CHECK(h.left[232] == 1.0F);
        CHECK(h.right[232] == 1.0F);
        CHECK(h.left[255] == 1.0F);
        CHECK(e.stats().timed_applied == 1);
        CHECK(e.stats().late_events == 0);
    }

    SUBCASE("process applies a synth note-on at exactly its frame: silence before, sound from that frame")
    {
        engine e(std::make_unique<courier::synth::synth_graph>());
        auto sequencer = e.timed_sender();
        REQUIRE(sequencer.try_send(1000, courier::synth::make_note_on(60, 1.0F)));
        courier::audio::offline_driver driver({48000.0, 256, 0, 2});
        const auto audio = driver.render(e, 2048);
        for (std::size_t i = 0; i < 1000; ++i)
            REQUIRE(audio.samples[2 * i] == 0.0F);
        CHECK(audio.samples[2 * 1000] != 0.0F);
        CHECK(audio.samples[2 * 1000 + 1] != 0.0F);
    }

    SUBCASE("process applies a late timed event at frame 0 of the block it arrives in and counts it")
    {
        engine e(std::make_unique<probe_graph>());
        harness h(e);
        h.run(64);
        auto sequencer = e.timed_sender();
        REQUIRE(sequencer.try_send(10, tagged_event(1)));  // frame 10 has passed
        h.run(64);
        CHECK(h.left[0] == 1.0F);
        CHECK(e.stats().late_events == 1);
    }

    SUBCASE("process applies at most message_budget immediate messages per callback, in order")
    {
        engine_config config;
        config.message_budget = 4;
        auto graph = std::make_unique<probe_graph>();
        probe_graph& probe = *graph;
        engine e(std::move(graph), config);
        harness h(e);
        auto control = e.add_producer();
        for (std::uint32_t i = 1; i <= 10; ++i)
            REQUIRE(control.try_send(tagged_event(i)));
        h.run(64);
        CHECK(h.left[0] == 4.0F);  // immediate messages take effect at frame 0
        h.run(64);
        CHECK(h.left[0] == 8.0F);
        h.run(64);
        CHECK(h.left[0] == 10.0F);
        CHECK(probe.last_tag == 10);
        const auto s = e.stats();
        CHECK(s.immediate_applied == 10);
        CHECK(s.budget_exhausted == 2);
        CHECK(s.max_messages_per_callback == 4);
        CHECK(s.mean_messages_per_callback == doctest::Approx(10.0 / 3.0));
        CHECK(e.producer_count() == 1);
        CHECK(e.mailbox_stats(0).received == 10);
    }

    SUBCASE("try_send returns false when a lane is full, and stats count it in sends_refused")
    {
        engine_config config;
        config.mailbox_capacity = 2;
        config.timed_capacity = 1;
        engine e(std::make_unique<probe_graph>(), config);
        auto control = e.add_producer();
        auto sequencer = e.timed_sender();
        std::size_t accepted = 0;
        for (std::uint32_t i = 0; i < 10; ++i)
            if (control.try_send(tagged_event(i)))
                ++accepted;
        const bool timed_first = sequencer.try_send(5, tagged_event(0));
        const bool timed_second = sequencer.try_send(6, tagged_event(0));
        CHECK(timed_first);
        CHECK_FALSE(timed_second);
        CHECK(e.stats().sends_refused == (10 - accepted) + 1);
        CHECK(e.mailbox_stats(0).refused == 10 - accepted);
        CHECK(e.timed_stats().lane.refused == 1);
    }

    SUBCASE("add_producer throws std::length_error past max_producers, timed_sender std::logic_error the second time")
    {
        engine_config config;
        config.max_producers = 1;
        engine e(std::make_unique<probe_graph>(), config);
        static_cast<void>(e.add_producer());
        CHECK_THROWS_AS(static_cast<void>(e.add_producer()), std::length_error);
        static_cast<void>(e.timed_sender());
        CHECK_THROWS_AS(static_cast<void>(e.timed_sender()), std::logic_error);
    }

    SUBCASE("try_publish_graph prepares the graph, the next callback runs it, and the old one dies in collect_graphs")
    {
        std::atomic<int> deaths{0};
        std::thread::id died_on;
        engine e(std::make_unique<probe_graph>(0.0F, &deaths, &died_on));
        harness h(e);
        h.run(64);
        CHECK(h.left[0] == 0.0F);
        std::unique_ptr<courier::audio::audio_graph> fresh = std::make_unique<probe_graph>(100.0F);
        auto* fresh_probe = static_cast<probe_graph*>(fresh.get());
        REQUIRE(e.try_publish_graph(fresh));
        CHECK(fresh == nullptr);
        CHECK(fresh_probe->prepared == 1);
        h.run(64);
        CHECK(h.left[0] == 100.0F);
        CHECK(deaths.load() == 0);  // not on the audio side
        CHECK(e.stats().graphs_adopted == 1);
        CHECK(e.collect_graphs() == 1);
        CHECK(deaths.load() == 1);
        CHECK(died_on == std::this_thread::get_id());
        CHECK(e.graph_stats().returns.returned == 1);
    }

    SUBCASE("try_publish_graph returns false, keeping the graph, when max_graphs_in_flight are out")
    {
        engine_config config;
        config.max_graphs_in_flight = 1;
        engine e(std::make_unique<probe_graph>(), config);
        harness h(e);
        std::unique_ptr<courier::audio::audio_graph> first = std::make_unique<probe_graph>(1.0F);
        std::unique_ptr<courier::audio::audio_graph> second = std::make_unique<probe_graph>(2.0F);
        REQUIRE(e.try_publish_graph(first));
        CHECK_FALSE(e.try_publish_graph(second));
        CHECK(second != nullptr);
        CHECK(e.stats().sends_refused == 1);
        h.run(64);
        CHECK(e.collect_graphs() == 1);
        CHECK(e.try_publish_graph(second));
        h.run(64);
        CHECK(h.left[0] == 2.0F);
    }

    SUBCASE("try_read_meters returns the newest block's peak, rms, frame and activity once")
    {
        engine e(std::make_unique<probe_graph>(0.5F));
        harness h(e);
        courier::audio::engine_meters m;
        CHECK_FALSE(e.try_read_meters(m));
        h.run(64);
        h.run(64);
        REQUIRE(e.try_read_meters(m));
        CHECK(m.frame == 128);
        CHECK(m.peak[0] == 0.5F);
        CHECK(m.peak[1] == 0.5F);
        CHECK(m.rms[0] == doctest::Approx(0.5F));
        CHECK(m.activity == 0);
        CHECK_FALSE(e.try_read_meters(m));
        CHECK(e.meters_published() == 2);
    }

    SUBCASE("try_read_scope returns full buffers of channel 0, and the audio side skips blocks when none is free")
    {
        engine_config config;
        config.scope_frames = 100;
        config.scope_buffers = 2;
        engine e(std::make_unique<probe_graph>(0.25F), config);
        harness h(e);
        std::vector<float> view(100, 0.0F);
        CHECK(e.try_read_scope(view) == 0);
        for (int block = 0; block < 4; ++block)  // 256 frames: two full buffers, the third has no room
            h.run(64);
        CHECK(e.stats().scope_sent == 2);
        CHECK(e.stats().scope_starved > 0);
        CHECK(e.try_read_scope(view) == 100);
        CHECK(std::all_of(view.begin(), view.end(), [](float x) { return x == 0.25F; }));
        CHECK(e.try_read_scope(view) == 100);
        CHECK(e.try_read_scope(view) == 0);
        // Read back, both buffers are free again (on one thread they return straight to the free list).
        const auto starved = e.stats().scope_starved;
        h.run(64);
        h.run(64);
        CHECK(e.stats().scope_starved == starved);
        CHECK(e.scope_stats().taken == 4);  // 128 frames: one buffer filled and sent, the next begun
        CHECK(e.stats().scope_sent == 3);
    }

    SUBCASE("stats count callbacks, frames and load; over_budget counts every callback past the bound")
    {
        engine_config config;
        config.over_budget_load = 0.0;  // any callback that takes time is over this bound
        engine e(std::make_unique<probe_graph>(), config);
        harness h(e);
        for (int block = 0; block < 5; ++block)
            h.run(block == 4 ? 10 : 64);
        const auto s = e.stats();
        CHECK(s.callbacks == 5);
        CHECK(s.frames == 4 * 64 + 10);
        CHECK(s.over_budget == 5);
        CHECK(s.max_load > 0.0);
        CHECK(s.mean_load > 0.0);
        CHECK(s.mean_load <= s.max_load);
        CHECK(e.config().block_size == 64);
    }

    SUBCASE("process neither allocates nor frees, with messages, timed events, a graph swap, meters and scope")
    {
        engine_config config;
        config.scope_frames = 64;
        engine e(std::make_unique<courier::synth::synth_graph>(), config);
        harness h(e);
        auto control = e.add_producer();
        auto sequencer = e.timed_sender();
        std::unique_ptr<courier::audio::audio_graph> fresh = std::make_unique<courier::synth::synth_graph>();
        REQUIRE(e.try_publish_graph(fresh));
        for (std::uint32_t i = 0; i < 16; ++i)
        {
            REQUIRE(control.try_send(courier::synth::make_cutoff(500.0F + static_cast<float>(i))));
            REQUIRE(sequencer.try_send(i * 40, courier::synth::make_note_on(60 + i, 0.5F)));
        }
        courier::test::allocation_counter heap;
        for (int block = 0; block < 20; ++block)
            h.run(64);
        CHECK(heap.count() == 0);
        CHECK(e.stats().timed_applied == 16);
        CHECK(e.stats().graphs_adopted == 1);
    }

    SUBCASE("the constructor throws std::invalid_argument for a null graph or a zero size")
    {
        CHECK_THROWS_AS(engine(nullptr), std::invalid_argument);
        engine_config config;
        config.message_budget = 0;
        CHECK_THROWS_AS(engine(std::make_unique<probe_graph>(), config), std::invalid_argument);
    }
}

TEST_CASE("engine: control threads and a sequencer send while the audio thread runs" * doctest::test_suite("stress"))
{
    const std::uint64_t per_thread = courier::test::stress_count(20000);
    engine_config config;
    config.max_producers = 2;
    config.timed_capacity = 256;
    config.timed_buffer = 256;
    auto graph = std::make_unique<probe_graph>();
    engine e(std::move(graph), config);
    courier::audio::offline_driver driver({48000.0, 64, 0, 2});
    auto first = e.add_producer();
    auto second = e.add_producer();
    auto sequencer = e.timed_sender();
    driver.start(e, courier::audio::pacing::as_fast_as_possible);

    std::atomic<std::uint64_t> retries{0};
    auto flood = [&](courier::audio::engine_sender sender) {
        for (std::uint64_t i = 0; i < per_thread; ++i)
            while (!sender.try_send(tagged_event(static_cast<std::uint32_t>(i))))
            {
                retries.fetch_add(1, std::memory_order_relaxed);
                std::this_thread::yield();
            }
    };
    std::thread a(flood, std::move(first));
    std::thread b(flood, std::move(second));
    std::thread seq([&] {
        for (std::uint64_t i = 0; i < per_thread; ++i)
            while (!sequencer.try_send(e.stats().frames + 64, tagged_event(0)))
                std::this_thread::yield();
    });
    a.join();
    b.join();
    seq.join();
    while (e.stats().immediate_applied < 2 * per_thread || e.stats().timed_applied < per_thread)
        std::this_thread::yield();
    driver.stop();

    const auto s = e.stats();
    CHECK(s.immediate_applied == 2 * per_thread);
    CHECK(s.timed_applied == per_thread);
    CHECK(s.sends_refused == retries.load() + e.timed_stats().lane.refused);
    CHECK(s.max_messages_per_callback <= config.message_budget + config.timed_buffer);
    CHECK(s.callbacks > 0);
}

#if COURIER_CHECKS
TEST_CASE("engine: destroyed on the control thread while the audio side holds a scope buffer, no role violation" *
          doctest::test_suite("stress"))
{
    // The audio thread leaves a scope buffer half filled; a GUI thread has been reading the scope (its drops take
    // the scope's return lane). Both stop; the control thread destroys the engine and with it the half-filled
    // lease, which must go home without tripping any role guard.
    const courier::test::violation_recorder violations;
    {
        engine_config config;
        config.scope_frames = 100;
        config.scope_buffers = 2;
        engine e(std::make_unique<probe_graph>(0.5F), config);
        e.prepare({48000.0, 64, 0, 2});
        std::latch audio_done(1);
        std::latch gui_done(1);
        std::latch teardown_done(1);
        std::thread audio([&] {
            std::vector<float> left(64);
            std::vector<float> right(64);
            float* out[] = {left.data(), right.data()};
            for (int block = 0; block < 3; ++block)  // 192 frames: one buffer sent, the next 92 frames in
                e.process(nullptr, out, 64);
            audio_done.count_down();
            teardown_done.wait();  // stays alive: its id cannot pass to another thread
        });
        std::thread gui([&] {
            audio_done.wait();
            std::vector<float> view(100);
            CHECK(e.try_read_scope(view) == 100);  // the lease is dropped here: back through the return lane
            gui_done.count_down();
            teardown_done.wait();
        });
        gui_done.wait();
        CHECK(e.scope_stats().out == 1);  // the audio side's half-filled buffer
        // ✗ ~engine, here: the lease dies on this thread
        teardown_done.count_down();
        audio.join();
        gui.join();
    }
    CHECK(violations.count() == 0);
}

TEST_CASE("engine: thread_hop: process runs on a different host thread each block while control and GUI work" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    const std::size_t blocks = courier::test::stress_count(2000);
    engine_config config;
    config.scope_frames = 100;
    config.scope_buffers = 3;
    config.max_producers = 1;
    engine e(std::make_unique<probe_graph>(), config);
    e.prepare({48000.0, 64, 0, 2});
    auto control = e.add_producer();
    auto sequencer = e.timed_sender();
    courier::test::hopping_host host(3);
    std::atomic<bool> done{false};
    std::uint64_t sent = 0;
    std::uint64_t scope_reads = 0;
    std::thread gui([&] {
        std::vector<float> view(100);
        for (;;)
        {
            const bool last = done.load(std::memory_order_acquire);  // pairs with the store after the run
            while (e.try_read_scope(view) != 0)
                ++scope_reads;
            courier::audio::engine_meters m;
            (void)e.try_read_meters(m);
            if (control.try_send(tagged_event(static_cast<std::uint32_t>(sent))))
                ++sent;
            (void)sequencer.try_send(e.stats().frames + 64, tagged_event(0));
            (void)e.collect_graphs();
            if (last)
                return;
            std::this_thread::yield();
        }
    });
    std::vector<float> left(64);
    std::vector<float> right(64);
    host.run(blocks, [&](std::size_t) {
        float* out[] = {left.data(), right.data()};
        e.process(nullptr, out, 64);
    });
    done.store(true, std::memory_order_release);
    gui.join();
    CHECK(host.threads_seen() == 3);
    CHECK(e.stats().callbacks == blocks);
    CHECK(scope_reads > 0);
    CHECK(violations.count() == 0);
}
#endif
