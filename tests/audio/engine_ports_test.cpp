// SPDX-License-Identifier: MIT
// Tests for the engine's processors by name (<courier/audio/engine.h>, "processors by name"): a port per processor of the
// graph, listed in a port_registry, drained by the audio side within the message budget, routed to apply_to().
#include <courier/audio/engine.h>

#include <courier/audio/offline_driver.h>
#include "demos/synth/synth_graph.h"
#include <courier/patterns/port_registry.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tagged_event.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

using courier::audio::engine;
using courier::audio::engine_config;
using courier::audio::engine_event;

using courier::test::tagged_event;

namespace {

// A graph with two processors, "left" and "right"; it counts what reaches each and what reaches apply().
struct two_processor_graph final : courier::audio::audio_graph
{
    void prepare(double, std::size_t) override {}
    void apply(const engine_event&) noexcept COURIER_REALTIME override { ++applied; }
    void apply_to(std::size_t index, const engine_event& e) noexcept COURIER_REALTIME override
    {
        ++per_processor[index];
        last_tag = e.tag;
        last_tag_of[index] = e.tag;
    }
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t i = offset; i < offset + frames; ++i)
                out[c][i] = 0.0F;
    }
    [[nodiscard]] std::span<const std::string_view> processors() const noexcept COURIER_REALTIME override
    {
        static constexpr std::string_view names[] = {"left", "right"};
        return names;
    }

    std::size_t applied = 0;
    std::array<std::uint64_t, 2> per_processor{};
    std::uint32_t last_tag = 0;
    std::array<std::uint32_t, 2> last_tag_of{};  // each port delivers in order; the two ports interleave freely
};

// An engine over a two_processor_graph whose ports are open and listed as "/fx/left" and "/fx/right", with one
// registry reader (the test thread), driven block by block on the calling thread.
struct fixture
{
    explicit fixture(const engine_config& config = {})
        : graph(new two_processor_graph), e(std::unique_ptr<courier::audio::audio_graph>(graph), config)
    {
        e.prepare({48000.0, 64, 0, 2});
        e.open_processor_ports(table);
        e.register_processors(names, "/fx/");
        REQUIRE(names.publish());
        REQUIRE(reader.refresh());
    }
    void run()
    {
        float* out[] = {left.data(), right.data()};
        e.process(nullptr, out, 64);
    }

    courier::port_table table{4, 4};  // outlives the engine and every channel: declared first
    courier::port_registry<engine_event> names;
    courier::registry_reader<engine_event> reader = names.add_reader();
    two_processor_graph* graph;  // owned by the engine
    engine e;
    std::vector<float> left = std::vector<float>(64);
    std::vector<float> right = std::vector<float>(64);
};

}  // namespace

TEST_CASE("engine processors by name")
{
    SUBCASE("open_processor_ports opens a port per processor, in the graph's order")
    {
        fixture f;
        REQUIRE(f.e.processor_names().size() == 2);
        CHECK(f.e.processor_names()[0] == "left");
        CHECK(f.e.processor_names()[1] == "right");
        CHECK(f.e.processor_port("right").is_open());
        CHECK(f.table.open_ports() == 2);
        CHECK_THROWS_AS(f.e.open_processor_ports(f.table), std::logic_error);
        CHECK_THROWS_AS(static_cast<void>(f.e.processor_port("centre")), std::out_of_range);
    }

    SUBCASE("a message sent by name reaches apply_to of its processor at the next callback, not before")
    {
        fixture f;
        CHECK(f.reader.try_send("/fx/right", tagged_event(7)) == courier::send_status::sent);
        CHECK(f.reader.try_send("/fx/left", tagged_event(8)) == courier::send_status::sent);
        CHECK(f.reader.try_send("/fx/right", tagged_event(9)) == courier::send_status::sent);
        CHECK(f.graph->per_processor[0] + f.graph->per_processor[1] == 0);
        f.run();
        CHECK(f.graph->per_processor[0] == 1);
        CHECK(f.graph->per_processor[1] == 2);
        CHECK(f.graph->applied == 0);
        CHECK(f.e.stats().port_applied == 3);
    }

    SUBCASE("try_send by an unlisted name answers gone and is counted by the reader as an unknown name")
    {
        fixture f;
        CHECK(f.reader.try_send("/fx/centre", tagged_event(1)) == courier::send_status::gone);
        CHECK(f.reader.unknown_names() == 1);
        f.run();
        CHECK(f.e.stats().port_applied == 0);
    }

    SUBCASE("a full port lane answers full, and stats count it in sends_refused")
    {
        engine_config config;
        config.port_capacity = 2;
        fixture f(config);
        CHECK(f.reader.try_send("/fx/left", tagged_event(1)) == courier::send_status::sent);
        CHECK(f.reader.try_send("/fx/left", tagged_event(2)) == courier::send_status::sent);
        CHECK(f.reader.try_send("/fx/left", tagged_event(3)) == courier::send_status::full);
        CHECK(f.e.stats().sends_refused == 1);
        f.run();
        CHECK(f.graph->per_processor[0] == 2);
        CHECK(f.graph->last_tag == 2);
    }

    SUBCASE("port messages share message_budget with the mailbox, half each while both have more")
    {
        engine_config config;
        config.message_budget = 4;
        fixture f(config);
        auto control = f.e.add_producer();
        for (std::uint32_t i = 0; i < 3; ++i)
        {
            REQUIRE(control.try_send(tagged_event(i)));
            REQUIRE(f.reader.try_send("/fx/left", tagged_event(100 + i)) == courier::send_status::sent);
        }
        f.run();  // audio_poll: 2 from the mailbox, 2 from the port; neither can starve the other
        CHECK(f.graph->applied == 2);
        CHECK(f.graph->per_processor[0] == 2);
        CHECK(f.e.stats().budget_exhausted == 1);
        f.run();
        CHECK(f.graph->applied == 3);
        CHECK(f.graph->per_processor[0] == 3);
        CHECK(f.e.stats().port_applied == 3);
        CHECK(f.e.stats().budget_exhausted == 1);
    }

    SUBCASE("try_publish_graph throws std::invalid_argument for a graph with other processors")
    {
        fixture f;
        std::unique_ptr<courier::audio::audio_graph> other = std::make_unique<courier::synth::synth_graph>();
        CHECK_THROWS_AS(static_cast<void>(f.e.try_publish_graph(other)), std::invalid_argument);
        CHECK(other != nullptr);
        std::unique_ptr<courier::audio::audio_graph> same = std::make_unique<two_processor_graph>();
        CHECK(f.e.try_publish_graph(same));
    }

    SUBCASE("after the engine dies, a kept channel answers gone and touches nothing freed")
    {
        courier::port_table table(4, 4);
        std::optional<courier::channel<engine_event>> kept;
        {
            engine e(std::make_unique<courier::synth::synth_graph>());
            e.open_processor_ports(table);
            kept = e.processor_port("synth").connect();
            CHECK(kept->try_send(courier::synth::make_gain(0.1F)) == courier::send_status::sent);
        }  // the port closes here; the queued message dies with it, on this thread
        CHECK(kept->try_send(courier::synth::make_gain(0.2F)) == courier::send_status::gone);
        CHECK(table.open_ports() == 0);
    }

    SUBCASE("process neither allocates nor frees while draining the processor ports")
    {
        fixture f;
        for (std::uint32_t i = 0; i < 32; ++i)
            REQUIRE(f.reader.try_send(i % 2 == 0 ? "/fx/left" : "/fx/right", tagged_event(i)) == courier::send_status::sent);
        courier::test::allocation_counter heap;
        for (int block = 0; block < 4; ++block)
            f.run();
        CHECK(heap.count() == 0);
        CHECK(f.e.stats().port_applied == 32);
    }

    SUBCASE("the synth's port is \"synth\", and a gain sent there changes the level")
    {
        courier::port_table table(4, 4);
        courier::port_registry<engine_event> names;
        auto reader = names.add_reader();
        engine e(std::make_unique<courier::synth::synth_graph>());
        e.prepare({48000.0, 64, 0, 1});
        e.open_processor_ports(table);
        e.register_processors(names);
        REQUIRE(names.publish());
        reader.refresh();
        auto control = e.add_producer();
        REQUIRE(control.try_send(courier::synth::make_note_on(69, 1.0F)));
        std::vector<float> mono(64);
        float* out[] = {mono.data()};
        float loud = 0.0F;
        for (int block = 0; block < 40; ++block)
        {
            e.process(nullptr, out, 64);
            for (float x : mono)
                loud = std::max(loud, std::fabs(x));
        }
        REQUIRE(reader.try_send("/synth", courier::synth::make_gain(0.0F)) == courier::send_status::sent);
        e.process(nullptr, out, 64);
        e.process(nullptr, out, 64);
        float quiet = 0.0F;
        for (float x : mono)
            quiet = std::max(quiet, std::fabs(x));
        CHECK(loud > 0.05F);
        CHECK(quiet == 0.0F);
    }
}

TEST_CASE("engine processors by name: a control thread sends by name while the audio thread runs" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(20000);
    courier::port_table table(4, 4);
    courier::port_registry<engine_event> names;
    auto reader = names.add_reader();
    auto* graph = new two_processor_graph;
    engine e{std::unique_ptr<courier::audio::audio_graph>(graph)};
    e.open_processor_ports(table);
    e.register_processors(names);
    REQUIRE(names.publish());
    courier::audio::offline_driver driver({48000.0, 64, 0, 2});
    driver.start(e, courier::audio::pacing::as_fast_as_possible);

    std::uint64_t full = 0;
    std::thread sender([&] {
        reader.refresh();
        for (std::uint64_t i = 0; i < count; ++i)
            while (reader.try_send(i % 3 == 0 ? "/left" : "/right", tagged_event(static_cast<std::uint32_t>(i))) !=
                   courier::send_status::sent)
            {
                ++full;
                std::this_thread::yield();
            }
    });
    sender.join();
    while (e.stats().port_applied < count)
        std::this_thread::yield();
    driver.stop();  // joins the audio thread: its writes to the graph are visible here

    CHECK(e.stats().port_applied == count);
    CHECK(graph->per_processor[0] == (count + 2) / 3);
    CHECK(graph->per_processor[1] == count - (count + 2) / 3);
    CHECK(e.stats().sends_refused == full);
    // The last message each port received: the highest index sent to it (i % 3 == 0 went left).
    const std::uint64_t last_left = (count - 1) / 3 * 3;
    const std::uint64_t last_right = (count - 1) % 3 != 0 ? count - 1 : count - 2;
    CHECK(graph->last_tag_of[0] == last_left);
    CHECK(graph->last_tag_of[1] == last_right);
}
