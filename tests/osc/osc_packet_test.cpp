// SPDX-License-Identifier: MIT
// The OSC conversion and endpoint: valid packets, a table of malformed ones (each counted and answered with
// /fail, none reaching the engine), bundles applied together at their frame, and the endpoint addressed by name
// through a port_registry (docs/osc.md).
#include <courier/audio/engine.h>
#include <courier/audio/offline_driver.h>
#include <courier/osc/osc_endpoint.h>
#include <courier/osc/osc_packet.h>
#include <courier/patterns/port_registry.h>
#include <courier/patterns/port_table.h>
#include "demos/synth/synth_osc_map.h"
#include "tests/osc/osc_test_support.h"
#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace courier;
using namespace courier::osc;
using namespace courier::osc::testing;

namespace {

struct malformed
{
    const char* name;
    bytes packet;
    reject_reason expected;
};

std::vector<malformed> malformed_packets()
{
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    bytes seventeen = raw(std::string_view("#bundle\0", 8));
    append(seventeen, u32(0));
    append(seventeen, u32(1));
    for (int i = 0; i < 17; ++i)
    {
        const bytes m = msg("/synth/note_off", "i", {i32(i)});
        append(seventeen, u32(static_cast<std::uint32_t>(m.size())));
        append(seventeen, m);
    }
    bytes no_tags = str("/synth/gain");
    bytes tags_without_comma = str("/synth/gain");
    append(tags_without_comma, str("f"));
    append(tags_without_comma, f32(1.0F));
    bytes unterminated_tags = str("/synth/gain");
    append(unterminated_tags, raw(",fff"));
    bytes bad_padding = raw(std::string_view("/abcd\0X\0", 8));
    append(bad_padding, str(",f"));
    append(bad_padding, f32(1.0F));
    bytes bad_string_padding = str("/load");
    append(bad_string_padding, str(",s"));
    append(bad_string_padding, raw(std::string_view("ab\0Z", 4)));
    bytes unterminated_string = str("/load");
    append(unterminated_string, str(",s"));
    append(unterminated_string, raw("abcd"));
    bytes header_only = raw(std::string_view("#bundle\0", 8));
    bytes size_zero = bundle(1, {});
    append(size_zero, u32(0));
    bytes size_six = bundle(1, {});
    append(size_six, u32(6));
    append(size_six, raw("/abcdefg"));
    bytes size_too_big = bundle(1, {});
    append(size_too_big, u32(64));
    append(size_too_big, msg("/synth/gain", "f", {f32(1.0F)}));
    bytes trailing = msg("/synth/all_notes_off", "");
    append(trailing, u32(0));
    bytes float_missing = str("/synth/gain");
    append(float_missing, str(",f"));

    return {
        {"an empty datagram", {}, reject_reason::empty},
        {"a datagram over max_packet_bytes", bytes(max_packet_bytes + 4, std::byte{'/'}), reject_reason::oversize},
        {"a size that is not a multiple of 4", raw("/sy"), reject_reason::not_aligned},
        {"an address with no terminator", raw("/synth/gain1"), reject_reason::truncated},
        {"an address without a leading slash", msg("synth/gain", "f", {f32(1.0F)}), reject_reason::bad_address},
        {"an address with non-zero padding", bad_padding, reject_reason::bad_address},
        {"an empty address", msg("", "f", {f32(1.0F)}), reject_reason::bad_address},
        {"an address pattern with *", msg("/synth/*", "f", {f32(1.0F)}), reject_reason::pattern_unsupported},
        {"an address pattern with ?", msg("/synth/gai?", "f", {f32(1.0F)}), reject_reason::pattern_unsupported},
        {"an unknown /synth/ address", msg("/synth/volume", "f", {f32(1.0F)}), reject_reason::unknown_address},
        {"an unknown top-level address", msg("/foo", ""), reject_reason::unknown_address},
        {"no type-tag string", no_tags, reject_reason::bad_type_tags},
        {"a type-tag string without its comma", tags_without_comma, reject_reason::bad_type_tags},
        {"an unterminated type-tag string", unterminated_tags, reject_reason::truncated},
        {"/synth/gain without its argument", msg("/synth/gain", ""), reject_reason::wrong_arg_count},
        {"/synth/gain with two arguments", msg("/synth/gain", "ff", {f32(1.0F), f32(1.0F)}), reject_reason::wrong_arg_count},
        {"/synth/gain with an int", msg("/synth/gain", "i", {i32(1)}), reject_reason::wrong_arg_type},
        {"/synth/gain with a string", msg("/synth/gain", "s", {str("loud")}), reject_reason::wrong_arg_type},
        {"/synth/note_on with fi", msg("/synth/note_on", "fi", {f32(60.0F), i32(1)}), reject_reason::wrong_arg_type},
        {"/synth/note_on with one argument", msg("/synth/note_on", "i", {i32(60)}), reject_reason::wrong_arg_count},
        {"/synth/gain whose float is cut off", float_missing, reject_reason::truncated},
        {"/synth/gain 5", msg("/synth/gain", "f", {f32(5.0F)}), reject_reason::out_of_range},
        {"/synth/gain NaN", msg("/synth/gain", "f", {f32(nan)}), reject_reason::out_of_range},
        {"/synth/gain -inf", msg("/synth/gain", "f", {f32(-inf)}), reject_reason::out_of_range},
        {"/synth/cutoff 5 Hz", msg("/synth/cutoff", "f", {f32(5.0F)}), reject_reason::out_of_range},
        {"/synth/waveform 3", msg("/synth/waveform", "i", {i32(3)}), reject_reason::out_of_range},
        {"/synth/note_on 128 100", msg("/synth/note_on", "ii", {i32(128), i32(100)}), reject_reason::out_of_range},
        {"/synth/note_on 60 -1", msg("/synth/note_on", "ii", {i32(60), i32(-1)}), reject_reason::out_of_range},
        {"/synth/note_on 60 1.5", msg("/synth/note_on", "if", {i32(60), f32(1.5F)}), reject_reason::out_of_range},
        {"/synth/note_off -1", msg("/synth/note_off", "i", {i32(-1)}), reject_reason::out_of_range},
        {"/synth/all_notes_off with trailing bytes", trailing, reject_reason::trailing_bytes},
        {"/load with an empty path", msg("/load", "s", {str("")}), reject_reason::bad_string},
        {"/load with a 300-byte path", msg("/load", "s", {str(std::string(300, 'a'))}), reject_reason::bad_string},
        {"/load with bad string padding", bad_string_padding, reject_reason::bad_string},
        {"/load with an unterminated string", unterminated_string, reject_reason::truncated},
        {"/status to reply port 70000", msg("/status", "i", {i32(70000)}), reject_reason::out_of_range},
        {"/subscribe at 1000 per second", msg("/subscribe", "sf", {str("/meters"), f32(1000.0F)}), reject_reason::out_of_range},
        {"/subscribe with an int topic", msg("/subscribe", "i", {i32(1)}), reject_reason::wrong_arg_type},
        {"a bundle header without a time tag", header_only, reject_reason::truncated},
        {"a bundle element of size 0", size_zero, reject_reason::bad_bundle},
        {"a bundle element of size 6", size_six, reject_reason::bad_bundle},
        {"a bundle element larger than the packet", size_too_big, reject_reason::truncated},
        {"a bundle in a bundle", bundle(1, {bundle(1, {msg("/synth/gain", "f", {f32(0.5F)})})}), reject_reason::nested_bundle},
        {"a bundle of 17 messages", seventeen, reject_reason::bundle_too_large},
        {"a bundle holding /status", bundle(1, {msg("/status", "")}), reject_reason::verb_in_bundle},
        {"a bundle with one bad message of two",
         bundle(1, {msg("/synth/gain", "f", {f32(0.5F)}), msg("/synth/gain", "f", {f32(9.0F)})}), reject_reason::out_of_range},
    };
}

std::span<const std::byte> view(const bytes& b) { return {b.data(), b.size()}; }

// The synth's vocabulary (demos/synth/synth_osc_map.h), which these tests drive the endpoint with.
const address_map& synth_map()
{
    static const address_map map = synth::osc_address_map();
    return map;
}

// An engine that is never run (a rejected packet must not reach it) or is rendered by the test thread.
struct rig
{
    explicit rig(bool with_timed, bool read_meters = true, void (*configure)(endpoint_config&) = nullptr)
    {
        audio::engine_config c;
        c.max_producers = 2;
        c.mailbox_capacity = 64;
        auto g = std::make_unique<recording_graph>();
        graph = g.get();
        engine = std::make_unique<audio::engine>(std::move(g), c);
        engine->prepare(audio::stream_config{});
        endpoint_config e;
        e.addresses = synth_map();
        e.udp_port = 0;
        e.margin_frames = 1024;
        e.read_meters = read_meters;
        e.load_root = std::filesystem::temp_directory_path();  // /load files never land in the caller's folder
        if (configure != nullptr)
            configure(e);
        osc = std::make_unique<endpoint>(*engine, engine->add_producer(), table, e);
        if (with_timed)
            osc->set_timed_sender(engine->timed_sender());
    }
    port_table table{4, 4};
    recording_graph* graph = nullptr;
    std::unique_ptr<audio::engine> engine;
    std::unique_ptr<endpoint> osc;
};

std::optional<std::vector<std::string>> ask(const udp_client& client, const bytes& packet)
{
    if (!client.send(packet))
        return std::nullopt;
    const auto reply = client.receive(2000);
    if (!reply)
        return std::nullopt;
    return strings_of(*reply);
}

}  // namespace

TEST_CASE("osc parse_packet")
{
    parsed_packet p;
    SUBCASE("parse_packet converts /synth/gain f to a gain command")
    {
        const bytes b = msg("/synth/gain", "f", {f32(0.25F)});
        REQUIRE(parse_packet(view(b), synth_map(), p) == reject_reason::none);
        REQUIRE(p.count == 1);
        CHECK_FALSE(p.bundle);
        CHECK(p.messages[0].what == command::event);
        const auto e = to_engine_event(p.messages[0]);
        REQUIRE(e.has_value());
        CHECK(e->type == synth::set_gain);
        CHECK(e->value == 0.25F);
    }
    SUBCASE("parse_packet scales an ii velocity to 0..1 and keeps an if velocity")
    {
        const bytes ii = msg("/synth/note_on", "ii", {i32(60), i32(127)});
        REQUIRE(parse_packet(view(ii), synth_map(), p) == reject_reason::none);
        CHECK(p.messages[0].key == 60);
        CHECK(p.messages[0].value == 1.0F);
        const bytes fi = msg("/synth/note_on", "if", {i32(61), f32(0.5F)});
        REQUIRE(parse_packet(view(fi), synth_map(), p) == reject_reason::none);
        CHECK(to_engine_event(p.messages[0])->key == 61U);
        CHECK(to_engine_event(p.messages[0])->value == 0.5F);
    }
    SUBCASE("parse_packet reads the verbs' optional arguments")
    {
        const bytes s = msg("/subscribe", "sfi", {str("/meters"), f32(20.0F), i32(9000)});
        REQUIRE(parse_packet(view(s), synth_map(), p) == reject_reason::none);
        CHECK(p.messages[0].what == command::subscribe);
        CHECK(p.messages[0].text_view() == "/meters");
        CHECK(p.messages[0].rate == 20.0F);
        CHECK(p.messages[0].reply_port == 9000);
        CHECK_FALSE(to_engine_event(p.messages[0]).has_value());
    }
    SUBCASE("parse_packet converts a bundle whole, with its time tag")
    {
        const bytes b = bundle(0x0123456789ABCDEFULL, {msg("/synth/note_on", "ii", {i32(60), i32(100)}),
                                                       msg("/synth/cutoff", "f", {f32(800.0F)})});
        REQUIRE(parse_packet(view(b), synth_map(), p) == reject_reason::none);
        CHECK(p.bundle);
        CHECK(p.time_tag == 0x0123456789ABCDEFULL);
        REQUIRE(p.count == 2);
        CHECK(p.messages[1].what == command::event);
        CHECK(p.messages[1].event_type == synth::set_cutoff);
    }
    SUBCASE("parse_packet rejects every malformed packet of the table with its reason")
    {
        const auto table = malformed_packets();
        CHECK(table.size() >= 30);
        for (const malformed& m : table)
        {
            INFO(m.name);
            CHECK(parse_packet(view(m.packet), synth_map(), p) == m.expected);
            CHECK(p.reason == m.expected);
            CHECK(p.count == 0);
        }
    }
    SUBCASE("reason_name names every reason")
    {
        for (std::size_t i = 0; i < reject_reason_count; ++i)
            CHECK(reason_name(static_cast<reject_reason>(i)) != "?");
        CHECK(reason_name(reject_reason::unknown_address) == "unknown_address");
    }
}

TEST_CASE("osc frame_of_time_tag")
{
    bool late = false;
    const std::uint64_t now = time_tag_from_unix_nanoseconds(1'700'000'000'000'000'000LL);
    SUBCASE("frame_of_time_tag maps a tag one second ahead to one second of frames after the engine clock")
    {
        const auto f = frame_of_time_tag(now + (1ULL << 32U), now, 10000, 48000.0, 512, 60.0, late);
        REQUIRE(f.has_value());
        CHECK(*f == 58000U);
        CHECK_FALSE(late);
    }
    SUBCASE("frame_of_time_tag schedules immediately and past tags at the earliest frame")
    {
        CHECK(frame_of_time_tag(immediately, now, 10000, 48000.0, 512, 60.0, late) == 10512U);
        CHECK_FALSE(late);
        CHECK(frame_of_time_tag(now - (1ULL << 32U), now, 10000, 48000.0, 512, 60.0, late) == 10512U);
        CHECK(late);
    }
    SUBCASE("frame_of_time_tag refuses a tag further ahead than the limit")
    {
        CHECK_FALSE(frame_of_time_tag(now + (61ULL << 32U), now, 0, 48000.0, 512, 60.0, late).has_value());
    }
    SUBCASE("time_tag_from_unix_nanoseconds counts from 1900")
    {
        CHECK(time_tag_from_unix_nanoseconds(0) == (2208988800ULL << 32U));
        CHECK(time_tag_from_unix_nanoseconds(500'000'000) == ((2208988800ULL << 32U) | 0x80000000ULL));
        CHECK((time_tag_now() >> 32U) > 2208988800ULL + 1'700'000'000ULL);
    }
}

TEST_CASE("osc endpoint")
{
    rig r(true);
    r.osc->start();
    udp_client client(r.osc->udp_port());
    REQUIRE(r.osc->udp_port() != 0);

    SUBCASE("the endpoint answers every malformed packet with /fail <reason>, counts it, and stays up")
    {
        const auto table = malformed_packets();
        for (const malformed& m : table)
        {
            INFO(m.name);
            const auto before = r.osc->stats().rejected_by[static_cast<std::size_t>(m.expected)];
            const auto reply = ask(client, m.packet);
            REQUIRE(reply.has_value());
            REQUIRE(reply->size() >= 3);
            CHECK((*reply)[0] == "/fail");
            CHECK((*reply)[2] == reason_name(m.expected));
            CHECK(r.osc->stats().rejected_by[static_cast<std::size_t>(m.expected)] == before + 1);
        }
        const endpoint_stats s = r.osc->stats();
        CHECK(s.rejected == table.size());
        CHECK(s.datagrams == table.size());
        CHECK(s.applied == 0);
        CHECK(s.scheduled == 0);
        CHECK(r.engine->mailbox_stats(0).sent == 0);  // nothing reached the audio side's lanes
        CHECK(r.engine->timed_stats().lane.sent == 0);
        const auto status = ask(client, msg("/status", ""));  // still up
        REQUIRE(status.has_value());
        CHECK((*status)[0] == "/status");
    }
    SUBCASE("the endpoint queues a valid /synth/ message in its mailbox lane and does not reply")
    {
        REQUIRE(client.send(msg("/synth/note_on", "ii", {i32(60), i32(127)})));
        const auto status = ask(client, msg("/status", ""));  // handled after the note: the stats include it
        REQUIRE(status.has_value());
        CHECK((*status)[0] == "/status");
        CHECK(r.osc->stats().applied == 1);
        CHECK(r.engine->mailbox_stats(0).sent == 1);
    }
    SUBCASE("the endpoint replies /fail lane_full when the engine's lane is full, and counts the refusal")
    {
        const bytes note = msg("/synth/note_off", "i", {i32(1)});
        for (int i = 0; i < 64; ++i)
            REQUIRE(client.send(note));
        const auto reply = ask(client, note);  // the 65th: the lane holds 64
        REQUIRE(reply.has_value());
        CHECK((*reply)[0] == "/fail");
        CHECK((*reply)[1] == "/synth/note_off");
        CHECK((*reply)[2] == "lane_full");
        const endpoint_stats s = r.osc->stats();
        CHECK(s.applied == 64);
        CHECK(s.refused == 1);
        CHECK(r.engine->mailbox_stats(0).refused == 1);
    }
    SUBCASE("the endpoint answers /subscribe and /unsubscribe with /done, the unsubscription last")
    {
        const auto done = ask(client, msg("/subscribe", "sf", {str("/meters"), f32(100.0F)}));
        REQUIRE(done.has_value());
        CHECK((*done)[0] == "/done");
        CHECK((*done)[1] == "/subscribe");
        int meters = 0;
        while (meters < 3)
        {
            const auto note = client.receive(2000);
            REQUIRE(note.has_value());
            if (strings_of(*note).at(0) == "/meters")
                ++meters;
        }
        REQUIRE(client.send(msg("/unsubscribe", "s", {str("/meters")})));
        bool acknowledged = false;
        while (!acknowledged)
        {
            const auto next = client.receive(2000);
            REQUIRE(next.has_value());
            const auto words = strings_of(*next);
            if (words.at(0) == "/done")
            {
                CHECK(words.at(1) == "/unsubscribe");
                acknowledged = true;
            }
            else
                CHECK(words.at(0) == "/meters");  // sent before the acknowledgement
        }
        CHECK_FALSE(client.receive(300).has_value());  // nothing after the final acknowledgement
        CHECK(r.osc->stats().subscribers == 0);
        const auto again = ask(client, msg("/unsubscribe", "s", {str("/meters")}));
        REQUIRE(again.has_value());
        CHECK((*again)[2] == "not_subscribed");
    }
    SUBCASE("the endpoint answers /load with progress replies, then one /done with the file's shape")
    {
        struct tone final : audio::audio_callback
        {
            void process(const float* const*, float* const* out, std::size_t frames) noexcept override
            {
                for (std::size_t i = 0; i < frames; ++i)
                    out[0][i] = out[1][i] = 0.25F;
            }
        } source;
        audio::stream_config shape;
        audio::offline_driver writer(shape);
        const std::string name = "courier_osc_load_" + std::to_string(::getpid()) + ".wav";
        const std::filesystem::path file = std::filesystem::temp_directory_path() / name;
        writer.render_to_file(source, 48000, file);
        REQUIRE(client.send(msg("/load", "s", {str(name)})));
        int progress = 0;
        std::vector<std::string> last;
        for (;;)
        {
            const auto reply = client.receive(5000);
            REQUIRE(reply.has_value());
            last = strings_of(*reply);
            if (last.at(0) != "/load/progress")
                break;
            ++progress;
        }
        CHECK(progress >= 1);
        CHECK(progress <= 10);
        CHECK(last.at(0) == "/done");
        CHECK(last.at(1) == "/load");
        CHECK(last.at(2) == name);
        CHECK_FALSE(client.receive(200).has_value());  // nothing after the final reply
        CHECK(r.osc->stats().loads_done == 1);
        std::filesystem::remove(file);
    }
    SUBCASE("the endpoint refuses a /load outside its root")
    {
        const auto reply = ask(client, msg("/load", "s", {str("../../etc/passwd")}));
        REQUIRE(reply.has_value());
        CHECK((*reply)[0] == "/fail");
        CHECK((*reply)[2] == "path_not_allowed");
        const auto missing = ask(client, msg("/load", "s", {str("no-such-file.wav")}));
        REQUIRE(missing.has_value());
        CHECK((*missing)[2] == "cannot_open");
    }
    r.osc->stop();
}

TEST_CASE("osc endpoint: a vanished datagram subscriber's lease runs out and frees its slot")
{
    // Two slots and a 1.5 s lease: a subscriber that vanishes (its socket closes, it never unsubscribes) must
    // not keep its slot; one that keeps talking keeps its subscription. The lease is long against the checks'
    // round trips (milliseconds, tens under ThreadSanitizer), so `staying`, which renews every 50 ms, never
    // runs out between its last renewal and a check; a 400 ms lease did once in a TSan run.
    rig r(false, true, [](endpoint_config& e) {
        e.max_subscribers = 2;
        e.subscription_lease_seconds = 1.5;
    });
    r.osc->start();
    udp_client staying(r.osc->udp_port());
    udp_client waiting(r.osc->udp_port());
    const auto renew_until = [&](auto done) {
        // `staying` sends /status every 50 ms (anything renews a lease) until `done`, for 10 s at most
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done() && std::chrono::steady_clock::now() < give_up)
        {
            REQUIRE(staying.send(msg("/status", "")));
            while (staying.receive(50).has_value())
            {
            }
        }
        return done();
    };
    const auto subscribed = ask(staying, msg("/subscribe", "sf", {str("/meters"), f32(20.0F)}));
    REQUIRE(subscribed.has_value());
    CHECK((*subscribed)[0] == "/done");
    constexpr int vanishing = 3;
    for (int round = 1; round <= vanishing; ++round)
    {
        INFO("round " << round);
        {
            udp_client gone(r.osc->udp_port());
            const auto done = ask(gone, msg("/subscribe", "s", {str("/events")}));
            REQUIRE(done.has_value());
            CHECK((*done)[0] == "/done");
            CHECK(r.osc->stats().subscribers == 2);
            const auto refused = ask(waiting, msg("/subscribe", "s", {str("/events")}));  // the list is full
            REQUIRE(refused.has_value());
            CHECK((*refused)[0] == "/fail");
            CHECK((*refused)[2] == "too_many_subscribers");
            CHECK(r.osc->stats().subscribers_refused == static_cast<std::uint64_t>(round));
        }  // `gone` closes its socket without /unsubscribe: only its lease can end its subscription
        REQUIRE(renew_until([&] { return r.osc->stats().subscribers_expired == static_cast<std::uint64_t>(round); }));
        CHECK(r.osc->stats().subscribers == 1);  // `staying` renewed its lease all along
    }
    // The freed slot is taken by the subscriber that was refused, and `staying` still gets its /meters.
    const auto now_in = ask(waiting, msg("/subscribe", "s", {str("/events")}));
    REQUIRE(now_in.has_value());
    CHECK((*now_in)[0] == "/done");
    CHECK(r.osc->stats().subscribers == 2);
    bool meters = false;
    for (int i = 0; i < 20 && !meters; ++i)
    {
        const auto note = staying.receive(500);
        REQUIRE(note.has_value());
        meters = strings_of(*note).at(0) == "/meters";
    }
    CHECK(meters);
    const endpoint_stats s = r.osc->stats();
    CHECK(s.subscribers_expired == vanishing);  // exactly the vanished ones: nothing else expired
    CHECK(s.subscribers_refused == vanishing);
    r.osc->stop();
}

TEST_CASE("osc endpoint: bundles")
{
    SUBCASE("a bundle's events take effect together, at the frame its time tag maps to")
    {
        rig r(true);
        r.osc->start();
        udp_client client(r.osc->udp_port());
        REQUIRE(client.send(bundle(immediately, {msg("/synth/note_on", "ii", {i32(60), i32(100)}),
                                                 msg("/synth/gain", "f", {f32(0.5F)}),
                                                 msg("/synth/cutoff", "f", {f32(900.0F)})})));
        REQUIRE(ask(client, msg("/status", "")).has_value());  // the bundle was handled before this
        r.osc->stop();
        CHECK(r.osc->stats().scheduled == 3);
        CHECK(r.osc->stats().last_bundle_frame == 1024);  // engine clock 0 + margin
        // Now be the audio thread: render past the frame.
        std::vector<float> left(256), right(256);
        float* out[2] = {left.data(), right.data()};
        {
            courier::test::allocation_counter heap;  // the audio side applies the bundle without the heap
            for (int block = 0; block < 8; ++block)
                r.engine->process(nullptr, out, 256);
            CHECK(heap.count() == 0);
        }
        REQUIRE(r.graph->logged == 3);
        for (std::size_t i = 0; i < 3; ++i)
            CHECK(r.graph->log[i].frame == 1024);
        CHECK(r.graph->log[0].event.type == synth::note_on);
        CHECK(r.graph->log[2].event.type == synth::set_cutoff);
        CHECK(r.engine->stats().late_events == 0);
    }
    SUBCASE("a bundle is refused whole with /fail no_timed_lane when the endpoint has no timed sender")
    {
        rig r(false);
        r.osc->start();
        udp_client client(r.osc->udp_port());
        const auto reply = ask(client, bundle(immediately, {msg("/synth/gain", "f", {f32(0.5F)})}));
        REQUIRE(reply.has_value());
        CHECK((*reply)[2] == "no_timed_lane");
        r.osc->stop();
        CHECK(r.osc->stats().refused == 1);
        CHECK(r.osc->stats().scheduled == 0);
    }
}

namespace {

// An engine_link with no engine behind it: records what the endpoint sends. Written by the network thread only;
// the test reads it after endpoint::stop(), whose join orders the two.
class recording_link final : public engine_link
{
public:
    explicit recording_link(bool with_timed) : timed(with_timed)
    {
        sent.reserve(16);
        sent_at.reserve(16);
        clock.frames = 4800;
        clock.callbacks = 75;
        clock.sample_rate = 44100.0;
        clock.immediate_applied = 7;
    }
    bool try_send(const audio::engine_event& event) noexcept override
    {
        if (!room || sent.size() == sent.capacity())
            return false;
        sent.push_back(event);
        return true;
    }
    std::optional<std::uint64_t> timed_in_flight() const noexcept override
    {
        return timed ? std::optional<std::uint64_t>(sent_at.size()) : std::nullopt;
    }
    bool try_send_at(std::uint64_t frame, const audio::engine_event& event) noexcept override
    {
        if (sent_at.size() == sent_at.capacity())
            return false;
        sent_at.emplace_back(frame, event);
        return true;
    }
    link_status status() const noexcept override { return clock; }

    bool room = true;  // try_send's answer (set before start)
    bool timed;
    link_status clock;
    std::vector<audio::engine_event> sent;
    std::vector<std::pair<std::uint64_t, audio::engine_event>> sent_at;
};

struct link_rig
{
    explicit link_rig(bool with_timed) : link(with_timed)
    {
        endpoint_config e;
        e.addresses = synth_map();
        e.udp_port = 0;
        osc = std::make_unique<endpoint>(link, table, e);
    }
    recording_link link;
    port_table table{4, 4};
    std::unique_ptr<endpoint> osc;  // ✗ dies first, on the test thread (its port closes before the table)
};

}  // namespace

TEST_CASE("osc endpoint: on an engine_link")
{
    SUBCASE("endpoint(link) sends /synth/ events to the link and answers /status from the link's status")
    {
        link_rig r(false);
        r.osc->start();
        udp_client client(r.osc->udp_port());
        REQUIRE(client.send(msg("/synth/note_on", "ii", {i32(60), i32(127)})));
        REQUIRE(client.send(msg("/status", "")));
        const auto reply = client.receive(2000);
        REQUIRE(reply.has_value());
        r.osc->stop();
        CHECK(status_value(*reply, "frames") == 4800.0);
        CHECK(status_value(*reply, "callbacks") == 75.0);
        CHECK(status_value(*reply, "sample_rate") == 44100.0);
        CHECK(status_value(*reply, "immediate_applied") == 7.0);
        CHECK(status_value(*reply, "osc_applied") == 1.0);
        REQUIRE(r.link.sent.size() == 1);
        CHECK(r.link.sent[0].type == synth::note_on);
        CHECK(r.link.sent[0].key == 60);
        CHECK(r.osc->stats().applied == 1);
    }
    SUBCASE("the endpoint replies /fail lane_full when the link refuses, and counts the refusal")
    {
        link_rig r(false);
        r.link.room = false;
        r.osc->start();
        udp_client client(r.osc->udp_port());
        const auto reply = ask(client, msg("/synth/gain", "f", {f32(0.5F)}));
        REQUIRE(reply.has_value());
        r.osc->stop();
        CHECK((*reply)[0] == "/fail");
        CHECK((*reply)[2] == "lane_full");
        CHECK(r.osc->stats().refused == 1);
        CHECK(r.osc->stats().applied == 0);
    }
    SUBCASE("a bundle goes whole to the link's timed lane at the link's clock plus the margin")
    {
        link_rig r(true);
        r.osc->start();
        udp_client client(r.osc->udp_port());
        REQUIRE(client.send(bundle(immediately, {msg("/synth/note_on", "ii", {i32(64), i32(100)}),
                                                 msg("/synth/cutoff", "f", {f32(900.0F)})})));
        REQUIRE(ask(client, msg("/status", "")).has_value());  // the bundle was handled before this
        r.osc->stop();
        REQUIRE(r.link.sent_at.size() == 2);
        CHECK(r.link.sent_at[0].first == 4800 + 1024);
        CHECK(r.link.sent_at[1].first == 4800 + 1024);
        CHECK(r.link.sent_at[1].second.type == synth::set_cutoff);
        CHECK(r.link.sent.empty());
        CHECK(r.osc->stats().scheduled == 2);
        CHECK(r.osc->stats().last_bundle_frame == 4800 + 1024);
    }
    SUBCASE("a bundle is refused with /fail no_timed_lane when the link has no timed lane")
    {
        link_rig r(false);
        r.osc->start();
        udp_client client(r.osc->udp_port());
        const auto reply = ask(client, bundle(immediately, {msg("/synth/gain", "f", {f32(0.5F)})}));
        REQUIRE(reply.has_value());
        r.osc->stop();
        CHECK((*reply)[2] == "no_timed_lane");
        CHECK(r.link.sent_at.empty());
        CHECK(r.osc->stats().refused == 1);
    }
}

TEST_CASE("osc endpoint: security defaults and the Unix socket")
{
    SUBCASE("endpoint_config binds UDP to 127.0.0.1 unless told otherwise")
    {
        CHECK(endpoint_config{}.bind_address == "127.0.0.1");
        CHECK(endpoint_config{}.udp_port == -1);
    }
    SUBCASE("the endpoint answers over a Unix datagram socket of mode 0600 and removes its file at the end")
    {
        const std::string dir = "osc_unix_test_dir";
        std::filesystem::create_directories(dir);
        const std::string path = dir + "/endpoint.sock";
        const std::string mine = dir + "/client.sock";
        std::filesystem::remove(mine);
        {
            audio::engine engine(std::make_unique<recording_graph>(), audio::engine_config{});
            port_table table(4, 4);
            endpoint_config c;
            c.unix_path = path;
            endpoint osc(engine, engine.add_producer(), table, c);
            struct stat st{};
            REQUIRE(::stat(path.c_str(), &st) == 0);
            CHECK(S_ISSOCK(st.st_mode));
            CHECK((st.st_mode & 0777) == 0600);
            osc.start();
            const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
            sockaddr_un me{};
            me.sun_family = AF_UNIX;
            std::memcpy(me.sun_path, mine.c_str(), mine.size() + 1);
            REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) == 0);
            sockaddr_un to{};
            to.sun_family = AF_UNIX;
            std::memcpy(to.sun_path, path.c_str(), path.size() + 1);
            const bytes status = msg("/status", "");
            REQUIRE(::sendto(fd, status.data(), status.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
                    static_cast<ssize_t>(status.size()));
            pollfd p{fd, POLLIN, 0};
            REQUIRE(::poll(&p, 1, 2000) == 1);
            bytes reply(2048);
            const ssize_t got = ::recv(fd, reply.data(), reply.size(), 0);
            REQUIRE(got > 0);
            reply.resize(static_cast<std::size_t>(got));
            CHECK(strings_of(reply).at(0) == "/status");
            ::close(fd);
            osc.stop();
        }
        CHECK_FALSE(std::filesystem::exists(path));
        std::filesystem::remove_all(dir);
    }
    SUBCASE("the endpoint refuses to replace a file that is not a socket")
    {
        const std::string path = "osc_not_a_socket.txt";
        { std::ofstream(path) << "keep me"; }
        audio::engine engine(std::make_unique<recording_graph>(), audio::engine_config{});
        port_table table(4, 4);
        endpoint_config c;
        c.unix_path = path;
        CHECK_THROWS_AS(endpoint(engine, engine.add_producer(), table, c), std::runtime_error);
        CHECK(std::filesystem::is_regular_file(path));
        std::filesystem::remove(path);
    }
}

TEST_CASE("osc endpoint: meters")
{
    SUBCASE("publish_meters hands the endpoint the meters its /status reply reports")
    {
        rig r(false, false);
        r.osc->start();
        udp_client client(r.osc->udp_port());
        audio::engine_meters m;
        m.frame = 777;
        m.peak = {0.5F, 0.25F};
        m.activity = 3;
        r.osc->publish_meters(m);
        std::optional<double> voices;
        for (int attempt = 0; attempt < 100 && voices != 3.0; ++attempt)  // the network thread takes it within 2 ms
        {
            REQUIRE(client.send(msg("/status", "")));
            const auto reply = client.receive(2000);
            REQUIRE(reply.has_value());
            voices = status_value(*reply, "voices");
            if (voices == 3.0)
                CHECK(status_value(*reply, "peak") == 0.5);
        }
        CHECK(voices == 3.0);
        r.osc->stop();
    }
}

TEST_CASE("osc endpoint: addressed by name")
{
    SUBCASE("an event sent to \"/osc\" through a port_registry reaches the /events subscribers")
    {
        rig r(false);
        port_registry<audio::engine_event> names;
        registry_reader<audio::engine_event> reader = names.add_reader();
        r.osc->register_in(names, "/osc");
        REQUIRE(names.publish());
        r.osc->start();
        udp_client client(r.osc->udp_port());
        const auto done = ask(client, msg("/subscribe", "s", {str("/events")}));
        REQUIRE(done.has_value());
        REQUIRE((*done)[0] == "/done");
        std::thread sender([&reader] {
            (void)reader.refresh();
            audio::engine_event e;
            e.type = 42;
            e.key = 7;
            CHECK(reader.try_send("/osc", std::move(e)) == send_status::sent);
            audio::engine_event other;
            CHECK(reader.try_send("/nobody", std::move(other)) == send_status::gone);
        });
        sender.join();
        const auto event = client.receive(2000);
        REQUIRE(event.has_value());
        CHECK(strings_of(*event).at(0) == "/event");
        r.osc->stop();
        CHECK(r.osc->stats().events_forwarded == 1);
    }
}
