// SPDX-License-Identifier: MIT
// The OSC endpoint over TCP on 127.0.0.1: both framings, several clients each answered over its own connection,
// the connection limit, oversize and endless packets cut off, idle connections cut off, framing errors counted, the shared secret, a client
// that does not read, backpressure when the audio side's lane is full, and subscriptions that end with their
// connection, never with a lease (docs/osc.md, "TCP").
#include <courier/audio/engine.h>
#include <courier/osc/osc_endpoint.h>
#include <courier/patterns/channel.h>
#include <courier/patterns/port_table.h>
#include "demos/synth/synth_osc_map.h"
#include "tests/osc/osc_test_support.h"
#include "tests/osc/tcp_test_client.h"

#include <doctest/doctest.h>

#include <chrono>
#include <limits>
#include <stdexcept>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace courier;
using namespace courier::osc;
using namespace courier::osc::testing;

namespace {

// An engine rendered by the test thread (or never), and an endpoint with one listener of each framing.
struct tcp_rig
{
    explicit tcp_rig(endpoint_config e = {}, std::size_t mailbox = 64)
    {
        audio::engine_config c;
        c.max_producers = 1;
        c.mailbox_capacity = mailbox;
        c.message_budget = 16;
        auto g = std::make_unique<recording_graph>();
        graph = g.get();
        engine = std::make_unique<audio::engine>(std::move(g), c);
        engine->prepare(audio::stream_config{});
        e.addresses = synth::osc_address_map();
        e.tcp = {tcp_listener{0, framing::size_prefix}, tcp_listener{0, framing::slip}};
        osc = std::make_unique<endpoint>(*engine, engine->add_producer(), table, e);
        to_osc = osc->own_port().connect();  // the test thread's channel to the endpoint's port (/events)
        osc->start();
    }
    ~tcp_rig() { osc->stop(); }
    tcp_rig(const tcp_rig&) = delete;
    tcp_rig& operator=(const tcp_rig&) = delete;

    std::uint16_t port(framing kind) const { return osc->tcp_port(kind == framing::slip ? 1 : 0); }

    port_table table{4, 4};
    recording_graph* graph = nullptr;
    std::unique_ptr<audio::engine> engine;
    std::unique_ptr<endpoint> osc;
    channel<audio::engine_event> to_osc;
};

std::vector<std::string> ask(tcp_client& client, const bytes& packet)
{
    if (!client.send(packet))
        return {};
    const auto reply = client.receive(2000);
    return reply ? strings_of(*reply) : std::vector<std::string>{};
}

// Waits (up to 10 s) until `done()` holds, rendering the engine meanwhile when `engine` is given.
template <class Done>
bool eventually(Done&& done, audio::engine* engine = nullptr)
{
    std::vector<float> left(256), right(256);
    float* out[2] = {left.data(), right.data()};
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done())
    {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        if (engine != nullptr)
            engine->process(nullptr, out, 256);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace

TEST_CASE("osc endpoint: TCP")
{
    SUBCASE("the endpoint answers over the connection a request came from, in both framings")
    {
        tcp_rig r;
        for (const framing kind : {framing::size_prefix, framing::slip})
        {
            INFO(framing_name(kind));
            REQUIRE(r.port(kind) != 0);
            tcp_client client(r.port(kind), kind);
            REQUIRE(client.connected());
            REQUIRE(client.send(msg("/synth/note_on", "ii", {i32(60), i32(100)})));
            const auto status = ask(client, msg("/status", ""));
            REQUIRE(!status.empty());
            CHECK(status[0] == "/status");
            const auto fail = ask(client, msg("/synth/gain", "i", {i32(1)}));
            REQUIRE(fail.size() >= 3);
            CHECK(fail[0] == "/fail");
            CHECK(fail[2] == "wrong_arg_type");
        }
        const endpoint_stats s = r.osc->stats();
        CHECK(s.connections == 2);
        CHECK(s.frames == 6);
        CHECK(s.applied == 2);
        CHECK(s.verbs == 2);
        CHECK(s.rejected_by[static_cast<std::size_t>(reject_reason::wrong_arg_type)] == 2);
        CHECK(s.datagrams == 0);
        CHECK(r.engine->mailbox_stats(0).sent == 2);
    }
    SUBCASE("several clients at once each get their own replies and subscriptions")
    {
        tcp_rig r;
        tcp_client a(r.port(framing::size_prefix), framing::size_prefix);
        tcp_client b(r.port(framing::slip), framing::slip);
        tcp_client c(r.port(framing::size_prefix), framing::size_prefix);
        REQUIRE((a.connected() && b.connected() && c.connected()));
        const auto done = ask(a, msg("/subscribe", "s", {str("/events")}));
        REQUIRE(done.size() >= 2);
        CHECK(done[0] == "/done");
        // An event sent to the endpoint's port reaches A's connection only.
        audio::engine_event tick;
        tick.type = 100;
        tick.key = 7;
        REQUIRE(r.to_osc.try_send(std::move(tick)) == send_status::sent);
        const auto event = a.receive(2000);
        REQUIRE(event.has_value());
        CHECK(strings_of(*event)[0] == "/event");
        // B and C get their own /status, and nothing else came to them before it.
        for (tcp_client* x : {&b, &c})
        {
            const auto status = ask(*x, msg("/status", ""));
            REQUIRE(!status.empty());
            CHECK(status[0] == "/status");
        }
        CHECK(r.osc->stats().connections_open == 3);
        CHECK(r.osc->stats().notifications == 1);
    }
    SUBCASE("a connection over max_connections is closed at once and counted")
    {
        endpoint_config e;
        e.max_connections = 2;
        tcp_rig r(e);
        tcp_client a(r.port(framing::size_prefix), framing::size_prefix);
        tcp_client b(r.port(framing::slip), framing::slip);
        REQUIRE(!ask(a, msg("/status", "")).empty());  // both accepted before the third comes
        REQUIRE(!ask(b, msg("/status", "")).empty());
        tcp_client c(r.port(framing::size_prefix), framing::size_prefix);
        REQUIRE(c.connected());  // the kernel accepts it; the endpoint closes it
        CHECK(c.wait_closed(2000));
        CHECK(r.osc->stats().connections_refused == 1);
        CHECK(!ask(a, msg("/status", "")).empty());  // the others are unaffected
    }
    SUBCASE("an oversize packet or endless bytes without a frame end cut the connection off, counted")
    {
        tcp_rig r;
        tcp_client sized(r.port(framing::size_prefix), framing::size_prefix);
        const bytes huge_size = u32(0x7FFFFFFFU);
        REQUIRE(sized.send_raw(huge_size));
        CHECK(sized.wait_closed(2000));
        tcp_client over(r.port(framing::size_prefix), framing::size_prefix);
        REQUIRE(over.send(bytes(max_packet_bytes + 4, std::byte{'/'})));
        CHECK(over.wait_closed(2000));
        tcp_client endless(r.port(framing::slip), framing::slip);
        const bytes no_end(3 * max_packet_bytes, std::byte{'A'});
        (void)endless.send_raw(no_end);  // the endpoint may close before it has taken all of it
        CHECK(endless.wait_closed(2000));
        CHECK(r.osc->stats().connections_cut == 3);
        CHECK(r.osc->stats().connections_open == 0);
        CHECK(r.engine->mailbox_stats(0).sent == 0);
    }
    SUBCASE("a connection that brings no whole packet for tcp_idle_seconds is closed and counted")
    {
        endpoint_config e;
        e.tcp_idle_seconds = 0.3;
        tcp_rig r(e);
        const auto start = std::chrono::steady_clock::now();
        tcp_client silent(r.port(framing::size_prefix), framing::size_prefix);
        tcp_client trickle(r.port(framing::slip), framing::slip);
        tcp_client talker(r.port(framing::size_prefix), framing::size_prefix);
        REQUIRE(silent.connected());
        REQUIRE(trickle.connected());
        REQUIRE(talker.connected());
        // The talker asks for /status every 100 ms for a second (more than three idle times): it must stay; the
        // trickler sends a byte of a frame that never ends every 50 ms: bytes are not packets, it must go.
        std::size_t answered = 0;
        for (int i = 0; i < 10; ++i)
        {
            (void)trickle.send_raw(raw("A"));  // the endpoint may have closed it already
            if (!ask(talker, msg("/status", "")).empty())
                ++answered;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            (void)trickle.send_raw(raw("B"));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        CHECK(answered == 10);
        CHECK(silent.wait_closed(3000));
        CHECK(trickle.wait_closed(3000));
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
        const endpoint_stats s = r.osc->stats();
        CHECK(s.connections_idle == 2);
        CHECK(s.connections_cut == 0);
        CHECK(s.connections_open == 1);  // the talker
        CHECK(!ask(talker, msg("/status", "")).empty());
    }
    SUBCASE("without tcp_idle_seconds a silent connection stays; a bad idle time is refused")
    {
        tcp_rig r;
        tcp_client silent(r.port(framing::size_prefix), framing::size_prefix);
        REQUIRE(silent.connected());
        CHECK(!silent.wait_closed(500));
        CHECK(r.osc->stats().connections_open == 1);
        CHECK(r.osc->stats().connections_idle == 0);
        for (const double bad : {-1.0, std::numeric_limits<double>::quiet_NaN(), 2.0e6})
        {
            endpoint_config e;
            e.tcp_idle_seconds = bad;
            CHECK_THROWS_AS(tcp_rig{e}, std::invalid_argument);
        }
    }
    SUBCASE("framing errors and malformed packets are counted and the connection stays")
    {
        tcp_rig r;
        tcp_client sized(r.port(framing::size_prefix), framing::size_prefix);
        REQUIRE(sized.send_raw(u32(0)));  // a size of 0
        const auto fail = ask(sized, raw("/sy"));  // not a multiple of 4
        REQUIRE(fail.size() >= 3);
        CHECK(fail[2] == "not_aligned");
        tcp_client slip(r.port(framing::slip), framing::slip);
        bytes bad_escape{std::byte{0xC0}, std::byte{0x2F}, std::byte{0xDB}, std::byte{0x41}, std::byte{0xC0}};
        REQUIRE(slip.send_raw(bad_escape));
        const auto status = ask(slip, msg("/status", ""));
        REQUIRE(!status.empty());
        CHECK(status[0] == "/status");
        const endpoint_stats s = r.osc->stats();
        CHECK(s.frame_errors == 2);
        CHECK(s.rejected_by[static_cast<std::size_t>(reject_reason::not_aligned)] == 1);
        CHECK(s.connections_cut == 0);
        CHECK(s.connections_open == 2);
    }
    SUBCASE("with a shared secret, a connection must start with /auth, else it is answered /fail and closed")
    {
        endpoint_config e;
        e.tcp_secret = "open sesame";
        tcp_rig r(e);
        tcp_client none(r.port(framing::size_prefix), framing::size_prefix);
        const auto required = ask(none, msg("/status", ""));
        REQUIRE(required.size() >= 3);
        CHECK(required[1] == "/auth");
        CHECK(required[2] == "auth_required");
        CHECK(none.wait_closed(2000));
        tcp_client wrong(r.port(framing::slip), framing::slip);
        const auto bad = ask(wrong, msg("/auth", "s", {str("open sesamE")}));
        REQUIRE(bad.size() >= 3);
        CHECK(bad[2] == "bad_secret");
        CHECK(wrong.wait_closed(2000));
        tcp_client right(r.port(framing::size_prefix), framing::size_prefix);
        const auto done = ask(right, msg("/auth", "s", {str("open sesame")}));
        REQUIRE(done.size() >= 2);
        CHECK(done[0] == "/done");
        CHECK(done[1] == "/auth");
        REQUIRE(right.send(msg("/synth/note_off", "i", {i32(60)})));
        const auto status = ask(right, msg("/status", ""));
        REQUIRE(!status.empty());
        CHECK(status[0] == "/status");
        const endpoint_stats s = r.osc->stats();
        CHECK(s.auth_failed == 2);
        CHECK(s.applied == 1);
        CHECK(r.engine->mailbox_stats(0).sent == 1);  // nothing from the refused connections
    }
    SUBCASE("a client that does not read loses its replies, counted, and never holds up the others")
    {
        endpoint_config e;
        e.connection_buffer_bytes = max_encoded_bytes(framing::slip, max_packet_bytes);
        e.connection_socket_buffer_bytes = 4096;
        tcp_rig r(e);
        tcp_client stalled(r.port(framing::size_prefix), framing::size_prefix, 4096);
        tcp_client other(r.port(framing::slip), framing::slip);
        REQUIRE((stalled.connected() && other.connected()));
        constexpr int requests = 3000;  // about 1 MB of /status replies, which nobody reads
        const bytes status = msg("/status", "");
        for (int i = 0; i < requests; ++i)
            REQUIRE(stalled.send(status));
        REQUIRE(eventually([&] { return r.osc->stats().verbs >= static_cast<std::uint64_t>(requests); }));
        const auto answer = ask(other, status);
        REQUIRE(!answer.empty());
        CHECK(answer[0] == "/status");
        const endpoint_stats s = r.osc->stats();
        CHECK(s.stream_replies_dropped > 0);
        CHECK(eventually([&] {
            const endpoint_stats now = r.osc->stats();
            return now.replies + now.replies_failed == static_cast<std::uint64_t>(requests) + 1;
        }));
        CHECK(s.connections_open == 2);
    }
    SUBCASE("a connection is not read while the audio side's lane is full, and nothing it sent is lost")
    {
        tcp_rig r({}, 64);
        tcp_client fast(r.port(framing::size_prefix), framing::size_prefix);
        tcp_client other(r.port(framing::slip), framing::slip);
        constexpr std::uint32_t notes = 1000;  // the lane holds 64; the engine is not running yet
        for (std::uint32_t i = 0; i < notes; ++i)
            REQUIRE(fast.send(msg("/synth/note_off", "i", {i32(static_cast<std::int32_t>(i % 128))})));
        REQUIRE(eventually([&] { return r.osc->stats().backpressure >= 1; }));
        const auto answer = ask(other, msg("/status", ""));  // the network thread still serves the others
        REQUIRE(!answer.empty());
        CHECK(answer[0] == "/status");
        CHECK(r.osc->stats().applied == 64);
        // Now be the audio thread: each block takes 16 events, and the endpoint goes on reading.
        REQUIRE(eventually([&] { return r.graph->count.load() == notes; }, r.engine.get()));
        const endpoint_stats s = r.osc->stats();
        CHECK(s.applied == notes);
        CHECK(s.refused == 0);
        CHECK(s.frames == notes + 1);  // and the other client's /status
        CHECK(r.engine->mailbox_stats(0).refused >= 1);  // the lane did refuse: the endpoint waited instead
        REQUIRE(r.graph->logged == r.graph->log.size());
        for (std::size_t i = 0; i < r.graph->log.size(); ++i)
            CHECK(r.graph->log[i].event.key == i % 128);  // in the order sent
    }
}

TEST_CASE("osc endpoint over TCP: a connection's subscription has no lease, a datagram one's runs out")
{
    // Both subscribe at once and then stay silent. The datagram subscriber's lease ends its subscription; the
    // connection's stays, because it ends with the connection (a closed connection is seen, a vanished UDP
    // peer is not). The UDP expiry is the clock: by then the lease has run out for both.
    endpoint_config e;
    e.udp_port = 0;
    e.subscription_lease_seconds = 0.3;
    tcp_rig r(e);
    tcp_client stream(r.port(framing::size_prefix), framing::size_prefix);
    udp_client datagram(r.osc->udp_port());
    REQUIRE(stream.connected());
    const auto over_tcp = ask(stream, msg("/subscribe", "s", {str("/events")}));
    REQUIRE(over_tcp.size() >= 2);
    CHECK(over_tcp[0] == "/done");
    REQUIRE(datagram.send(msg("/subscribe", "s", {str("/events")})));
    const auto over_udp = datagram.receive(2000);
    REQUIRE(over_udp.has_value());
    CHECK(strings_of(*over_udp)[0] == "/done");
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (r.osc->stats().subscribers_expired == 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polls a counter with a deadline
    const endpoint_stats s = r.osc->stats();
    CHECK(s.subscribers_expired == 1);  // the datagram subscriber's
    CHECK(s.subscribers == 1);          // the connection's, still on
    audio::engine_event tick;
    tick.type = 100;
    REQUIRE(r.to_osc.try_send(std::move(tick)) == send_status::sent);
    const auto event = stream.receive(2000);  // and it is still served
    REQUIRE(event.has_value());
    CHECK(strings_of(*event)[0] == "/event");
}
