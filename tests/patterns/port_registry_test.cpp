// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/port_registry.h>: names mapped to ports, published by the control thread and looked up
// wait-free by each sender thread; stand-in processors, a GUI and an OSC endpoint addressed by name while the
// control thread keeps changing the names.
#include <courier/patterns/port_registry.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/overlapping_threads.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using courier::port;
using courier::port_registry;
using courier::port_table;
using courier::registry_reader;
using courier::send_status;

namespace {

struct engine_message
{
    std::uint32_t from = 0;    // which sender thread
    std::uint32_t target = 0;  // which port it was sent to
    std::uint64_t sequence = 0;
};

}  // namespace

TEST_CASE("port_registry")
{
    SUBCASE("try_send by name reaches the port listed under that name, after publish and refresh")
    {
        // [registry-route]
        port_table table(64, 4);
        port<engine_message> voice0(table, 4, 32), voice1(table, 4, 32);  // stand-in processors (audio side)
        port<engine_message> osc_out(table, 4, 32);                        // the OSC endpoint (network thread)

        port_registry<engine_message> names;
        auto gui = names.add_reader();    // setup: one reader per sending thread, before any name
        auto audio = names.add_reader();
        names.add("/synth/voice/0", voice0);  // each reader gets a lane of its own into each port
        names.add("/synth/voice/1", voice1);
        names.add("/osc/out", osc_out);
        REQUIRE(names.publish());

        gui.refresh();    // at the start of each GUI tick: adopt the newest names in O(1)
        audio.refresh();  // at the start of each callback
        CHECK(gui.try_send("/synth/voice/1", engine_message{0, 1, 7}) == send_status::sent);
        CHECK(audio.try_send("/osc/out", engine_message{1, 2, 8}) == send_status::sent);
        CHECK(gui.try_send("/synth/voice/9", engine_message{}) == send_status::gone);

        std::uint64_t got = 0;
        voice1.drain([&](engine_message&& m) { got = m.sequence; }, 8);  // on the audio thread
        CHECK(got == 7);
        // [registry-route]
        CHECK(osc_out.drain([&](engine_message&& m) { got = m.sequence; }, 8) == 1);
        CHECK(got == 8);
        CHECK(voice0.drain([](engine_message&&) {}, 8) == 0);
        CHECK(gui.unknown_names() == 1);
        CHECK(audio.unknown_names() == 0);
    }

    SUBCASE("find returns nothing before publish and refresh, and refresh returns true only for a new snapshot")
    {
        port_table table(4, 2);
        port<int> p(table, 1, 8);
        port_registry<int> names;
        registry_reader<int> reader;
        CHECK_FALSE(static_cast<bool>(reader));
        reader = names.add_reader();
        CHECK(static_cast<bool>(reader));
        names.add("/a", p);
        CHECK_FALSE(reader.find("/a").has_value());
        CHECK_FALSE(reader.refresh());  // nothing published yet
        REQUIRE(names.publish());
        CHECK_FALSE(reader.find("/a").has_value());  // published, not yet adopted
        CHECK(reader.refresh());
        CHECK_FALSE(reader.refresh());
        const auto found = reader.find("/a");
        REQUIRE(found.has_value());
        CHECK(found->address() == p.address());
        CHECK(found->try_send(5) == send_status::sent);
        CHECK_FALSE(reader.find("/b").has_value());
        CHECK_FALSE(reader.find("").has_value());
        CHECK_FALSE(reader.find("/a/").has_value());
    }

    SUBCASE("find finds every name among many, and each reader gets a different lane of the same port")
    {
        port_table table(64, 2);
        std::vector<std::unique_ptr<port<int>>> ports;
        port_registry<int> names;
        auto first = names.add_reader();
        auto second = names.add_reader();
        for (int i = 0; i < 40; ++i)
        {
            ports.push_back(std::make_unique<port<int>>(table, 2, 4));
            names.add("/synth/voice/" + std::to_string(i), *ports.back());
        }
        REQUIRE(names.publish());
        first.refresh();
        second.refresh();
        CHECK(first.size() == 40);
        CHECK(names.size() == 40);
        CHECK(names.reader_count() == 2);
        for (int i = 0; i < 40; ++i)
        {
            const std::string name = "/synth/voice/" + std::to_string(i);
            const auto a = first.find(name);
            const auto b = second.find(name);
            REQUIRE(a.has_value());
            REQUIRE(b.has_value());
            CHECK(a->address() == ports[static_cast<std::size_t>(i)]->address());
            CHECK(b->address() == a->address());
            CHECK(a->lane() != b->lane());
        }
    }

    SUBCASE("add throws for an empty or taken name, a closed port, or too few free lanes, and changes nothing")
    {
        port_table table(4, 2);
        port<int> p(table, 2, 4);
        port<int> narrow(table, 1, 4);
        port<int> closed(table, 2, 4);
        (void)closed.close();
        port_registry<int> names;
        (void)names.add_reader();
        (void)names.add_reader();
        CHECK_THROWS_AS(names.add("", p), std::invalid_argument);
        CHECK_THROWS_AS(names.add("/closed", closed), std::logic_error);
        CHECK_THROWS_AS(names.add("/narrow", narrow), std::length_error);
        CHECK(narrow.connected() == 0);
        names.add("/p", p);
        CHECK_THROWS_AS(names.add("/p", narrow), std::invalid_argument);
        CHECK(names.size() == 1);
        CHECK(p.connected() == 2);
    }

    SUBCASE("add_reader throws once a name has been added, and the constructor throws for max_in_flight 0")
    {
        port_table table(1, 2);
        port<int> p(table, 2, 4);
        port_registry<int> names;
        (void)names.add_reader();
        names.add("/p", p);
        CHECK_THROWS_AS((void)names.add_reader(), std::logic_error);
        CHECK_THROWS_AS(port_registry<int>(0), std::invalid_argument);
    }

    SUBCASE("remove hides a name after publish and refresh, and returns false for a name not listed")
    {
        port_table table(2, 2);
        port<int> p(table, 1, 4);
        port_registry<int> names;
        auto reader = names.add_reader();
        names.add("/p", p);
        REQUIRE(names.publish());
        reader.refresh();
        REQUIRE(reader.find("/p").has_value());
        CHECK(names.address_of("/p") == p.address());
        CHECK(names.remove("/p"));
        CHECK_FALSE(names.remove("/p"));
        CHECK_FALSE(names.address_of("/p").has_value());
        CHECK(reader.find("/p").has_value());  // the adopted snapshot does not change under the reader
        REQUIRE(names.publish());
        reader.refresh();
        CHECK_FALSE(reader.find("/p").has_value());
        CHECK(reader.size() == 0);
    }

    SUBCASE("publish returns false while a reader holds max_in_flight snapshots, and true once it refreshes")
    {
        port_table table(8, 2);
        std::vector<std::unique_ptr<port<int>>> ports;
        port_registry<int> names(2);
        auto reader = names.add_reader();
        for (int i = 0; i < 3; ++i)
        {
            ports.push_back(std::make_unique<port<int>>(table, 1, 4));
            names.add("/p" + std::to_string(i), *ports.back());
            CHECK(names.publish() == (i < 2));  // the third finds two snapshots still out
        }
        CHECK(reader.refresh());  // adopts both; the first and the initial one go back to the control side
        CHECK(reader.size() == 2);
        CHECK(names.collect() == 2);  // ✗ they die here, on the control thread
        CHECK(names.publish());
        CHECK(reader.refresh());
        CHECK(reader.size() == 3);
    }

    SUBCASE("a closed port stays listed and answers gone until its name points at a new port")
    {
        port_table table(2, 2);
        auto sampler = std::make_unique<port<int>>(table, 1, 4);
        port_registry<int> names;
        auto audio = names.add_reader();
        names.add("/sampler", *sampler);
        REQUIRE(names.publish());
        audio.refresh();
        sampler.reset();  // the object is destroyed on the control thread; its name is still listed
        CHECK(audio.try_send("/sampler", 1) == send_status::gone);

        port<int> replacement(table, 1, 4);
        REQUIRE(names.remove("/sampler"));
        names.add("/sampler", replacement);
        REQUIRE(names.publish());
        audio.refresh();
        CHECK(audio.try_send("/sampler", 2) == send_status::sent);
        int got = 0;
        CHECK(replacement.drain([&](int v) { got = v; }, 4) == 1);
        CHECK(got == 2);
        CHECK(table.gone() == 1);
    }

    SUBCASE("refresh, find and try_send neither allocate nor free")
    {
        port_table table(2, 2);
        port<int> p(table, 1, 8);
        port_registry<int> names;
        auto reader = names.add_reader();
        names.add("/a/rather/long/name/that/does/not/fit/in/a/small/string", p);
        REQUIRE(names.publish());
        const courier::test::allocation_counter allocations;
        CHECK(reader.refresh());
        CHECK(reader.find("/a/rather/long/name/that/does/not/fit/in/a/small/string").has_value());
        CHECK(reader.try_send("/a/rather/long/name/that/does/not/fit/in/a/small/string", 1) == send_status::sent);
        CHECK(reader.try_send("/missing", 1) == send_status::gone);
        (void)reader.size();
        (void)reader.unknown_names();
        CHECK(allocations.count() == 0);
    }
}

#if COURIER_CHECKS
TEST_CASE("port_registry: reset_thread_roles hands a reader to a new thread while the old one is alive" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    port_table table(1, 2);
    port<int> p(table, 1, 8);
    port_registry<int> names;
    auto reader = names.add_reader();
    names.add("/p", p);
    REQUIRE(names.publish());
    courier::test::run_on_two_live_threads(
        [&] {
            reader.refresh();
            names.reset_thread_roles();  // the first thread hands over (setup: nothing else runs)
        },
        [&] {
            reader.refresh();  // no report: the role was reset
        });
    CHECK(violations.count() == 0);
    courier::test::run_on_two_live_threads([&] { reader.refresh(); }, [&] { reader.refresh(); });
    CHECK(violations.count() == 0);  // nor without it: one after the other is a hand-over
    courier::test::run_overlapping([&] { reader.refresh(); }, [&] { reader.refresh(); });
    CHECK(violations.count() > 0);  // two threads inside the reader at once are caught
}
#endif

TEST_CASE("port_registry: stand-in processors, the GUI and the OSC endpoint addressed by name while names change" *
          doctest::test_suite("stress"))
{
    // Threads: GUI and OSC send to 8 voice ports by name; the audio thread drains the voices and sends meters to
    // "/gui" and replies to "/osc/out" by name; the control thread (this one) keeps adding, publishing,
    // removing and closing an "/extra" port that GUI and OSC also send to. Every message sent is received
    // exactly once, in order per sender; every message sent to an extra port dies in its close().
    constexpr std::uint32_t voices = 8;
    constexpr std::uint32_t gui_id = 0, osc_id = 1, audio_id = 2;
    const std::uint64_t per_sender = courier::test::stress_count(200'000);
    const int extra_rounds = static_cast<int>(courier::test::stress_count(2'000));

    port_table table(32, 4);
    std::vector<std::unique_ptr<port<engine_message>>> voice;
    for (std::uint32_t v = 0; v < voices; ++v)
        voice.push_back(std::make_unique<port<engine_message>>(table, 3, 64));
    port<engine_message> gui_port(table, 3, 256), osc_port(table, 3, 256);

    port_registry<engine_message> names;
    std::array<registry_reader<engine_message>, 3> readers{names.add_reader(), names.add_reader(), names.add_reader()};
    std::vector<std::string> voice_names;
    for (std::uint32_t v = 0; v < voices; ++v)
    {
        voice_names.push_back("/synth/voice/" + std::to_string(v));
        names.add(voice_names.back(), *voice[v]);
    }
    names.add("/gui", gui_port);
    names.add("/osc/out", osc_port);
    REQUIRE(names.publish());

    std::atomic<int> senders_done{0};
    std::atomic<bool> audio_done{false};
    std::atomic<bool> control_done{false};
    std::atomic<bool> rounds_done{false};
    std::atomic<int> errors{0};
    std::array<std::array<std::uint64_t, voices>, 2> sent_to_voice{};  // written by GUI / OSC, read after join
    std::array<std::uint64_t, 2> sent_to_extra{};
    std::array<std::uint64_t, 2> received_from_audio{};                 // by GUI / OSC
    std::uint64_t audio_sent_to[2] = {0, 0};                            // written by audio, read after join
    std::array<std::array<std::uint64_t, voices>, 2> received_by_voice{};  // written by audio

    // GUI and OSC: send per_sender messages round-robin over the voices (retrying a full lane later), now and
    // then one to "/extra"; drain their own port; refresh the names each round.
    auto control_side_sender = [&](std::uint32_t me, port<engine_message>& own) {
        auto& names_here = readers[me];
        std::array<std::uint64_t, voices> next{};
        std::uint64_t expected_from_audio = 0;
        std::uint64_t sent = 0;
        std::uint32_t target = 0;
        const auto drain_own = [&] {
            return own.drain(
                [&](engine_message&& m) {
                    if (m.from != audio_id || m.target != me || m.sequence != expected_from_audio)
                        errors.fetch_add(1, std::memory_order_relaxed);
                    expected_from_audio = m.sequence + 1;
                    ++received_from_audio[me];
                },
                64);
        };
        // After their share of voice messages, they keep sending to "/extra" until the control thread is done.
        while (sent < per_sender || !rounds_done.load(std::memory_order_acquire))  // pairs with the release store
        {
            names_here.refresh();
            for (int k = 0; k < 16 && sent < per_sender; ++k)
            {
                const auto r = names_here.try_send(voice_names[target], engine_message{me, target, next[target]});
                if (r == send_status::sent)
                {
                    ++next[target];
                    ++sent;
                }
                else if (r != send_status::full)
                    errors.fetch_add(1, std::memory_order_relaxed);
                target = (target + 1) % voices;
            }
            const auto r = names_here.try_send("/extra", engine_message{me, 99, 0});
            if (r == send_status::sent)
                ++sent_to_extra[me];
            if (drain_own() == 0)
                std::this_thread::yield();  // two cores, four threads: let the others run
        }
        sent_to_voice[me] = next;
        senders_done.fetch_add(1, std::memory_order_release);  // pairs with the audio thread's acquire load
        while (!audio_done.load(std::memory_order_acquire))  // pairs with the audio thread's release store
            if (drain_own() == 0)
                std::this_thread::yield();
        while (drain_own() > 0)
        {
        }
        while (!control_done.load(std::memory_order_acquire))  // keep refreshing so publish() can finish
        {
            names_here.refresh();
            std::this_thread::yield();
        }
    };

    std::thread gui([&] { control_side_sender(gui_id, gui_port); });
    std::thread osc([&] { control_side_sender(osc_id, osc_port); });
    std::thread audio([&] {
        auto& names_here = readers[audio_id];
        std::array<std::array<std::uint64_t, voices>, 2> expected{};
        const auto process = [&]() -> std::size_t {  // one callback: names, every voice's port, two reports
            names_here.refresh();
            std::size_t handled = 0;
            for (std::uint32_t v = 0; v < voices; ++v)
                handled += voice[v]->drain(
                    [&](engine_message&& m) {
                        if (m.target != v || m.from > osc_id || m.sequence != expected[m.from][v])
                            errors.fetch_add(1, std::memory_order_relaxed);
                        expected[m.from][v] = m.sequence + 1;
                        ++received_by_voice[m.from][v];
                    },
                    16);
            const char* report_to[2] = {"/gui", "/osc/out"};
            for (std::uint32_t t = 0; t < 2; ++t)
            {
                const auto r = names_here.try_send(report_to[t], engine_message{audio_id, t, audio_sent_to[t]});
                if (r == send_status::sent)
                    ++audio_sent_to[t];
            }
            return handled;
        };
        while (senders_done.load(std::memory_order_acquire) < 2)  // pairs with the senders' release
            if (process() == 0)
                std::this_thread::yield();
        while (process() > 0)  // the senders have stopped: drain what is left
        {
        }
        audio_done.store(true, std::memory_order_release);  // pairs with the senders' acquire loads
        while (!control_done.load(std::memory_order_acquire))
        {
            names_here.refresh();
            std::this_thread::yield();
        }
    });

    // The control thread: an extra port comes and goes, each time in a slot that may have held the last one.
    std::uint64_t destroyed_in_close = 0;
    for (int round = 0; round < extra_rounds; ++round)
    {
        auto extra = std::make_unique<port<engine_message>>(table, 3, 64);
        names.add("/extra", *extra);
        while (!names.publish())
            std::this_thread::yield();
        std::this_thread::yield();
        if (round % 2 == 1)  // the object dies while its name is still listed: senders get gone
        {
            const std::uint64_t gone_before = table.gone();
            destroyed_in_close += extra->close();
            while (table.gone() == gone_before)  // the senders keep sending to "/extra"
                std::this_thread::yield();
        }
        REQUIRE(names.remove("/extra"));
        while (!names.publish())
            std::this_thread::yield();
        destroyed_in_close += extra->close();  // readers may still hold the old names: they get gone
    }
    rounds_done.store(true, std::memory_order_release);  // pairs with the senders' acquire load
    while (senders_done.load(std::memory_order_acquire) < 2 || !audio_done.load(std::memory_order_acquire))
        std::this_thread::yield();
    control_done.store(true, std::memory_order_release);  // pairs with the threads' acquire loads
    gui.join();
    osc.join();
    audio.join();

    CHECK(errors.load() == 0);
    for (std::uint32_t s = 0; s < 2; ++s)
    {
        std::uint64_t total = 0;
        for (std::uint32_t v = 0; v < voices; ++v)
        {
            CHECK(received_by_voice[s][v] == sent_to_voice[s][v]);
            total += sent_to_voice[s][v];
        }
        CHECK(total == per_sender);
        CHECK(received_from_audio[s] == audio_sent_to[s]);
    }
    CHECK(sent_to_extra[0] + sent_to_extra[1] == destroyed_in_close);
    CHECK(table.gone() >= static_cast<std::uint64_t>(extra_rounds / 2));  // one wait per odd round
}
