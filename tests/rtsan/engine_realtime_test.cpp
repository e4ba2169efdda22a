// SPDX-License-Identifier: MIT
// Runs the engine's process() (<courier/audio/engine.h>) with every audio-side path active: immediate messages, timed events,
// messages to a processor port, a graph swap, the synth graph, meters and scope, from a simulated callback marked COURIER_REALTIME: the
// RealtimeSanitizer build aborts on any allocation, free or lock inside it.
#include <courier/audio/disk_streamer.h>
#include <courier/audio/engine.h>
#include <courier/audio/offline_driver.h>

#include "demos/synth/synth_graph.h"

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <cstdint>
#include <memory>
#include <vector>

namespace {

struct device
{
    std::array<float, 128> left{};
    std::array<float, 128> right{};
};

// One audio callback of a device: the engine runs everything it does per block.
void audio_callback(courier::audio::engine& engine, device& d) noexcept COURIER_REALTIME
{
    float* out[] = {d.left.data(), d.right.data()};
    engine.process(nullptr, out, d.left.size());
}

// The synth plus a streamed file mixed in: what courier-synth --stream runs.
struct synth_and_stream final : courier::audio::audio_graph
{
    explicit synth_and_stream(courier::audio::disk_streamer& s) : stream(&s) {}
    void prepare(double rate, std::size_t frames) override { synth.prepare(rate, frames); }
    void apply(const courier::audio::engine_event& e) noexcept COURIER_REALTIME override { synth.apply(e); }
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        synth.render(out, channels, offset, frames);
        static_cast<void>(stream->mix(out, channels, offset, frames));
    }
    courier::synth::synth_graph synth;
    courier::audio::disk_streamer* stream;
};

// A file to stream: one second of a synth chord, rendered offline.
std::filesystem::path write_chord()
{
    const auto path = std::filesystem::temp_directory_path() /
                      ("courier_engine_rt_" + std::to_string(::getpid()) + ".wav");
    courier::audio::engine source(std::make_unique<courier::synth::synth_graph>());
    auto notes = source.timed_sender();
    REQUIRE(notes.try_send(0, courier::synth::make_note_on(60, 0.8F)));
    REQUIRE(notes.try_send(0, courier::synth::make_note_on(64, 0.8F)));
    courier::audio::offline_driver driver({48000.0, 256, 0, 2});
    driver.render_to_file(source, 48000, path);
    return path;
}

}  // namespace

TEST_CASE("realtime paths: the engine runs with a disk streamer and a control thread without allocating")
{
    const auto path = write_chord();
    courier::audio::disk_streamer_config stream_config;
    stream_config.block_frames = 1024;
    stream_config.buffers = 4;
    stream_config.loop = true;
    courier::audio::disk_streamer stream(path, stream_config);
    courier::audio::engine engine(std::make_unique<synth_and_stream>(stream));
    engine.prepare({48000.0, 128, 0, 2});
    auto control = engine.add_producer();
    stream.start();
    REQUIRE(stream.wait_until_primed(std::chrono::seconds(10)));

    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> sent{0};
    std::thread control_thread([&] {
        std::uint32_t i = 0;
        while (!done.load(std::memory_order_relaxed))  // a flag; the join below synchronises
        {
            if (control.try_send(courier::synth::make_cutoff(500.0F + static_cast<float>(i++ % 2000))))
                sent.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::yield();
        }
    });
    while (sent.load(std::memory_order_relaxed) == 0)  // the control thread is sending before the callbacks run
        std::this_thread::yield();
    device d;
    std::size_t heap_calls = 0;
    for (int block = 0; block < 400; ++block)
    {
        courier::test::allocation_counter heap;
        audio_callback(engine, d);
        heap_calls += heap.count();
    }
    done.store(true, std::memory_order_relaxed);
    control_thread.join();
    stream.stop();
    CHECK(heap_calls == 0);
    CHECK(engine.stats().callbacks == 400);
    CHECK(stream.stats().frames_mixed + stream.stats().underrun_frames == 400 * 128);
    CHECK(engine.stats().immediate_applied > 0);
    std::filesystem::remove(path);
}

TEST_CASE("realtime paths: the engine drains, swaps, renders and reports without allocating")
{
    courier::audio::engine_config config;
    config.scope_frames = 256;
    config.scope_buffers = 2;
    courier::port_table table(2, 4);  // the processor port's table outlives the engine
    courier::audio::engine engine(std::make_unique<courier::synth::synth_graph>(), config);
    engine.prepare({48000.0, 128, 0, 2});
    engine.open_processor_ports(table);
    const courier::channel<courier::audio::engine_event> to_synth = engine.processor_port("synth").connect();
    auto control = engine.add_producer();
    auto sequencer = engine.timed_sender();
    device d;
    std::vector<float> view(256);
    std::size_t scope_read = 0;
    for (std::uint32_t block = 0; block < 64; ++block)
    {
        const std::uint64_t now = block * 128ULL;
        REQUIRE(control.try_send(courier::synth::make_cutoff(400.0F + static_cast<float>(block) * 50.0F)));
        REQUIRE(sequencer.try_send(now + 17, courier::synth::make_note_on(48 + block % 24, 0.7F)));
        REQUIRE(sequencer.try_send(now + 300, courier::synth::make_note_off(48 + block % 24)));
        REQUIRE(to_synth.try_send(courier::synth::make_gain(0.5F)) == courier::send_status::sent);
        if (block % 16 == 8)
        {
            std::unique_ptr<courier::audio::audio_graph> fresh = std::make_unique<courier::synth::synth_graph>();
            REQUIRE(engine.try_publish_graph(fresh));
        }
        courier::test::allocation_counter heap;
        audio_callback(engine, d);
        CHECK(heap.count() == 0);
        engine.collect_graphs();
        courier::audio::engine_meters m;
        static_cast<void>(engine.try_read_meters(m));
        if (block % 3 == 0)
            if (engine.try_read_scope(view) > 0)
                ++scope_read;
    }
    const auto s = engine.stats();
    CHECK(s.callbacks == 64);
    CHECK(s.immediate_applied == 64);
    CHECK(s.port_applied == 64);
    CHECK(s.graphs_adopted == 4);
    CHECK(s.sends_refused == 0);
    CHECK(scope_read > 0);
}
