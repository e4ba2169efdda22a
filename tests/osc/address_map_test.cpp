// SPDX-License-Identifier: MIT
// The OSC address map: registrations refused with a reason, parse_packet filling engine events from an
// application's own map, and the endpoint rejecting and counting what the map does not accept (docs/osc.md,
// "The address map").
#include <courier/audio/engine.h>
#include <courier/osc/address_map.h>
#include <courier/osc/osc_endpoint.h>
#include <courier/osc/osc_packet.h>
#include <courier/patterns/port_table.h>
#include "tests/osc/osc_test_support.h"

#include <doctest/doctest.h>

#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace courier;
using namespace courier::osc;
using namespace courier::osc::testing;

namespace {

// A vocabulary that is not the synth's: a mixer with channel faders and a transport.
enum : std::uint16_t { fader = 10, mute = 11, play = 12, marker = 13 };

address_map mixer_map()
{
    address_map m;
    m.add("/mixer/fader", fader, {{int_arg(arg_target::channel, 0, 7), float_arg(arg_target::value, 0.0, 1.0)}});
    m.add("/mixer/mute", mute, {{int_arg(arg_target::channel, 0, 7), int_arg(arg_target::value, 0, 1)}});
    m.add("/transport/play", play, {{}});
    m.add("/transport/marker", marker,
          {{int_arg(arg_target::tag, 0, 1e6)}, {int_arg(arg_target::tag, 0, 1e6), int_arg(arg_target::key, 0, 99)}});
    return m;
}

std::span<const std::byte> view(const bytes& b) { return {b.data(), b.size()}; }

struct bad_registration
{
    const char* name;
    void (*add)(address_map&);
};

struct packet_case
{
    const char* name;
    bytes packet;
    reject_reason expected;
};

}  // namespace

TEST_CASE("osc address_map")
{
    SUBCASE("add refuses every bad registration of the table with std::invalid_argument")
    {
        const std::vector<bad_registration> table{
            {"no leading slash", [](address_map& m) { m.add("mixer/fader", 1, {{}}); }},
            {"a pattern character", [](address_map& m) { m.add("/mixer/*", 1, {{}}); }},
            {"a space", [](address_map& m) { m.add("/mixer fader", 1, {{}}); }},
            {"too long", [](address_map& m) { m.add("/" + std::string(80, 'a'), 1, {{}}); }},
            {"an endpoint verb", [](address_map& m) { m.add("/status", 1, {{}}); }},
            {"the /auth verb", [](address_map& m) { m.add("/auth", 1, {{}}); }},
            {"registered twice", [](address_map& m) { m.add("/a", 1, {{}}).add("/a", 2, {{}}); }},
            {"event type 0", [](address_map& m) { m.add("/a", 0, {{}}); }},
            {"no signature", [](address_map& m) { m.add("/a", 1, {}); }},
            {"a string argument", [](address_map& m) { m.add("/a", 1, {{arg_spec{'s', arg_target::key, 0, 1}}}); }},
            {"an inverted range", [](address_map& m) { m.add("/a", 1, {{float_arg(arg_target::value, 1, 0)}}); }},
            {"an infinite range",
             [](address_map& m) {
                 m.add("/a", 1, {{float_arg(arg_target::value, 0, std::numeric_limits<double>::infinity())}});
             }},
            {"a float into the key", [](address_map& m) { m.add("/a", 1, {{float_arg(arg_target::key, 0, 1)}}); }},
            {"a scaled key", [](address_map& m) { m.add("/a", 1, {{int_arg(arg_target::key, 0, 1, 0.5)}}); }},
            {"a negative key", [](address_map& m) { m.add("/a", 1, {{int_arg(arg_target::key, -1, 1)}}); }},
            {"two signatures with the same tags",
             [](address_map& m) { m.add("/a", 1, {{int_arg(arg_target::key, 0, 1)}, {int_arg(arg_target::tag, 0, 1)}}); }},
            {"five arguments",
             [](address_map& m) {
                 const arg_spec k = int_arg(arg_target::key, 0, 1);
                 m.add("/a", 1, {{k, k, k, k, k}});
             }},
        };
        for (const bad_registration& b : table)
        {
            INFO(b.name);
            address_map m;
            CHECK_THROWS_AS(b.add(m), std::invalid_argument);
        }
    }
    SUBCASE("find returns the entry of an exact address and nullptr for any other")
    {
        const address_map m = mixer_map();
        CHECK(m.size() == 4);
        REQUIRE(m.find("/mixer/fader") != nullptr);
        CHECK(m.find("/mixer/fader")->event_type == fader);
        CHECK(m.find("/mixer/fade") == nullptr);
        CHECK(m.find("/mixer/fader/") == nullptr);
        CHECK(m.all().back().address == "/transport/marker");
        CHECK(m.find("/transport/marker")->find("ii") != nullptr);
        CHECK(m.find("/transport/marker")->find("f") == nullptr);
    }
    SUBCASE("is_endpoint_verb names the endpoint's own addresses")
    {
        CHECK(is_endpoint_verb("/status"));
        CHECK(is_endpoint_verb("/auth"));
        CHECK_FALSE(is_endpoint_verb("/synth/gain"));
    }
}

TEST_CASE("osc parse_packet with an application's address map")
{
    const address_map map = mixer_map();
    parsed_packet p;
    SUBCASE("parse_packet fills channel, value, key and tag as the map says")
    {
        const bytes b = msg("/mixer/fader", "if", {i32(3), f32(0.75F)});
        REQUIRE(parse_packet(view(b), map, p) == reject_reason::none);
        const auto e = to_engine_event(p.messages[0]);
        REQUIRE(e.has_value());
        CHECK(e->type == fader);
        CHECK(e->channel == 3);
        CHECK(e->value == 0.75F);
        const bytes m = msg("/transport/marker", "ii", {i32(123456), i32(42)});
        REQUIRE(parse_packet(view(m), map, p) == reject_reason::none);
        CHECK(p.messages[0].tag == 123456U);
        CHECK(p.messages[0].key == 42U);
        const bytes play_now = msg("/transport/play", "");
        REQUIRE(parse_packet(view(play_now), map, p) == reject_reason::none);
        CHECK(to_engine_event(p.messages[0])->type == play);
    }
    SUBCASE("parse_packet rejects what the map does not accept, with its reason")
    {
        const std::vector<packet_case> table{
            {"an address the map lacks", msg("/mixer/pan", "if", {i32(0), f32(0.0F)}), reject_reason::unknown_address},
            {"the synth's vocabulary, which is not registered", msg("/synth/gain", "f", {f32(1.0F)}),
             reject_reason::unknown_address},
            {"a float for an int", msg("/mixer/fader", "ff", {f32(3.0F), f32(0.5F)}), reject_reason::wrong_arg_type},
            {"an int for a float", msg("/mixer/fader", "ii", {i32(3), i32(1)}), reject_reason::wrong_arg_type},
            {"a string", msg("/mixer/mute", "is", {i32(3), str("on")}), reject_reason::wrong_arg_type},
            {"one argument too few", msg("/mixer/fader", "i", {i32(3)}), reject_reason::wrong_arg_count},
            {"an argument too many", msg("/transport/play", "i", {i32(3)}), reject_reason::wrong_arg_count},
            {"a channel out of range", msg("/mixer/fader", "if", {i32(8), f32(0.5F)}), reject_reason::out_of_range},
            {"a value out of range", msg("/mixer/mute", "ii", {i32(0), i32(2)}), reject_reason::out_of_range},
            {"a NaN value",
             msg("/mixer/fader", "if", {i32(0), f32(std::numeric_limits<float>::quiet_NaN())}),
             reject_reason::out_of_range},
            {"a cut-off argument", bytes(msg("/mixer/fader", "if", {i32(0)})), reject_reason::truncated},
        };
        for (const packet_case& c : table)
        {
            INFO(c.name);
            CHECK(parse_packet(view(c.packet), map, p) == c.expected);
            CHECK(p.count == 0);
        }
    }
    SUBCASE("parse_packet knows the endpoint's verbs with an empty map")
    {
        const address_map none;
        const bytes status = msg("/status", "");
        CHECK(parse_packet(view(status), none, p) == reject_reason::none);
        CHECK(p.messages[0].what == command::status);
        const bytes gain = msg("/synth/gain", "f", {f32(1.0F)});
        CHECK(parse_packet(view(gain), none, p) == reject_reason::unknown_address);
    }
}

TEST_CASE("osc endpoint: an application's address map")
{
    audio::engine_config c;
    c.max_producers = 1;
    c.mailbox_capacity = 64;
    audio::engine engine(std::make_unique<recording_graph>(), c);
    engine.prepare(audio::stream_config{});
    port_table ports(4, 4);
    endpoint_config e;
    e.addresses = mixer_map();
    e.udp_port = 0;
    endpoint osc(engine, engine.add_producer(), ports, e);
    osc.start();
    udp_client client(osc.udp_port());
    auto ask = [&](const bytes& packet) {
        REQUIRE(client.send(packet));
        const auto reply = client.receive(2000);
        REQUIRE(reply.has_value());
        return strings_of(*reply);
    };

    SUBCASE("the endpoint rejects and counts unknown addresses and wrong argument types, and queues mapped ones")
    {
        const std::vector<packet_case> table{
            {"unknown", msg("/mixer/pan", "if", {i32(0), f32(0.0F)}), reject_reason::unknown_address},
            {"the synth's", msg("/synth/note_on", "ii", {i32(60), i32(100)}), reject_reason::unknown_address},
            {"wrong type", msg("/mixer/fader", "ff", {f32(3.0F), f32(0.5F)}), reject_reason::wrong_arg_type},
            {"wrong type again", msg("/mixer/mute", "if", {i32(3), f32(1.0F)}), reject_reason::wrong_arg_type},
            {"wrong count", msg("/mixer/mute", "i", {i32(3)}), reject_reason::wrong_arg_count},
        };
        for (const packet_case& k : table)
        {
            INFO(k.name);
            const auto before = osc.stats().rejected_by[static_cast<std::size_t>(k.expected)];
            const auto words = ask(k.packet);
            REQUIRE(words.size() >= 3);
            CHECK(words[0] == "/fail");
            CHECK(words[2] == reason_name(k.expected));
            CHECK(osc.stats().rejected_by[static_cast<std::size_t>(k.expected)] == before + 1);
        }
        REQUIRE(client.send(msg("/mixer/fader", "if", {i32(2), f32(0.5F)})));
        (void)ask(msg("/status", ""));  // handled after the fader: the counters include it
        const endpoint_stats s = osc.stats();
        CHECK(s.rejected == table.size());
        CHECK(s.rejected_by[static_cast<std::size_t>(reject_reason::unknown_address)] == 2);
        CHECK(s.rejected_by[static_cast<std::size_t>(reject_reason::wrong_arg_type)] == 2);
        CHECK(s.applied == 1);
        CHECK(engine.mailbox_stats(0).sent == 1);
    }
    osc.stop();
}
