// SPDX-License-Identifier: MIT
// The OSC router (docs/osc.md, "Several nodes"): messages sent on by address prefix with the prefix taken off,
// broadcast, bundles split per node keeping their time tag, over UDP and TCP (both framings); unknown prefixes and
// malformed packets rejected and counted; a link that does not take what it is sent counted as full, a node that is
// not there counted as failed and dialled again; bad routes refused. Fake nodes listen on 127.0.0.2 and 127.0.0.3.
#include <courier/osc/osc_router.h>
#include "tests/osc/osc_test_support.h"
#include "tests/osc/tcp_test_client.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace courier;
using namespace courier::osc;
using namespace courier::osc::testing;

namespace {

// A socket of a fake node on `host` (any free port): UDP datagrams, or a TCP listener with one accepted
// connection read through a deframer.
class fake_node
{
public:
    fake_node(const char* host, bool tcp, framing framed_as = framing::size_prefix, int receive_buffer = 0)
        : deframer(framed_as, 65536)
    {
        fd = ::socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
        if (receive_buffer > 0)
            (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);  // inherited
        sockaddr_in a{};
        a.sin_family = AF_INET;
        (void)inet_pton(AF_INET, host, &a.sin_addr);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        if (tcp)
            REQUIRE(::listen(fd, 4) == 0);
        sockaddr_in bound{};
        socklen_t length = sizeof bound;
        (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
        port = ntohs(bound.sin_port);
        is_tcp = tcp;
    }
    ~fake_node()
    {
        if (conn >= 0)
            ::close(conn);
        ::close(fd);
    }
    fake_node(const fake_node&) = delete;
    fake_node& operator=(const fake_node&) = delete;

    // The next packet, or nothing after `timeout_ms`.
    std::optional<bytes> receive(int timeout_ms)
    {
        if (!is_tcp)
        {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, timeout_ms) <= 0)
                return std::nullopt;
            bytes b(65536);
            const ssize_t got = ::recv(fd, b.data(), b.size(), 0);
            if (got < 0)
                return std::nullopt;
            b.resize(static_cast<std::size_t>(got));
            return b;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        for (;;)
        {
            std::span<const std::byte> in(pending.data() + pending_at, pending.size() - pending_at);
            const deframe_status s = deframer.next(in);
            pending_at = pending.size() - in.size();
            if (s == deframe_status::frame)
                return bytes(deframer.frame().begin(), deframer.frame().end());
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return std::nullopt;
            if (conn < 0)
            {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                    continue;
                conn = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
                continue;
            }
            pollfd p{conn, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                continue;
            pending.resize(65536);
            const ssize_t got = ::recv(conn, pending.data(), pending.size(), 0);
            if (got <= 0)
                return std::nullopt;
            pending.resize(static_cast<std::size_t>(got));
            pending_at = 0;
        }
    }

    // Accepts the router's connection without reading from it (a node that does not keep up).
    bool accept_only(int timeout_ms)
    {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0)
            return false;
        conn = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        return conn >= 0;
    }

    int fd = -1;
    int conn = -1;
    std::uint16_t port = 0;
    bool is_tcp = false;
    stream_deframer deframer;
    bytes pending;
    std::size_t pending_at = 0;
};

route to(const char* prefix, const char* host, std::uint16_t port, route_transport t = route_transport::udp)
{
    route r;
    r.prefix = prefix;
    r.host = host;
    r.port = port;
    r.transport = t;
    return r;
}

template <class Done>
bool eventually(Done&& done)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done())
    {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

}  // namespace

TEST_CASE("osc router")
{
    SUBCASE("a message goes to the node its prefix names, prefix off, arguments as they came; /all to every node")
    {
        fake_node a("127.0.0.2", false);
        fake_node b("127.0.0.3", false);
        router_config c;
        c.routes = {to("/node1", "127.0.0.2", a.port), to("/node2", "127.0.0.3", b.port)};
        router r(c);
        r.start();
        udp_client controller(r.udp_port());
        REQUIRE(controller.send(msg("/node1/synth/note_on", "ii", {i32(60), i32(100)})));
        const auto got_a = a.receive(2000);
        REQUIRE(got_a);
        CHECK(*got_a == msg("/synth/note_on", "ii", {i32(60), i32(100)}));
        REQUIRE(controller.send(msg("/node2/x", "f", {f32(0.5F)})));
        const auto got_b = b.receive(2000);
        REQUIRE(got_b);
        CHECK(*got_b == msg("/x", "f", {f32(0.5F)}));
        REQUIRE(controller.send(msg("/all/synth/all_notes_off", "")));
        for (fake_node* n : {&a, &b})
        {
            const auto got = n->receive(2000);
            REQUIRE(got);
            CHECK(*got == msg("/synth/all_notes_off", ""));
        }
        CHECK(!a.receive(100));  // nothing else
        r.stop();
        const router_stats s = r.stats();
        CHECK(s.received == 3);
        CHECK(s.routed == 3);
        CHECK(s.messages_routed == 4);
        CHECK(s.rejected == 0);
        CHECK(s.lost == 0);
        REQUIRE(s.nodes.size() == 2);
        CHECK(s.nodes[0].messages == 2);
        CHECK(s.nodes[1].messages == 2);
    }
    SUBCASE("a bundle is split per node, each part with the bundle's time tag and its messages in order")
    {
        fake_node a("127.0.0.2", false);
        fake_node b("127.0.0.3", true, framing::slip);
        router_config c;
        c.routes = {to("/n1", "127.0.0.2", a.port), to("/n2", "127.0.0.3", b.port, route_transport::tcp_slip)};
        c.tcp = {tcp_listener{0, framing::size_prefix}};
        router r(c);
        r.start();
        tcp_client controller(r.tcp_port(), framing::size_prefix);
        REQUIRE(controller.connected());
        const std::uint64_t tag = 0x0123456789ABCDEFULL;
        REQUIRE(controller.send(bundle(tag, {msg("/n1/a", "i", {i32(1)}), msg("/n2/b", "i", {i32(2)}),
                                             msg("/all/c", ""), msg("/n1/d", "s", {str("text")})})));
        const auto got_a = a.receive(2000);
        REQUIRE(got_a);
        CHECK(*got_a == bundle(tag, {msg("/a", "i", {i32(1)}), msg("/c", ""), msg("/d", "s", {str("text")})}));
        const auto got_b = b.receive(2000);
        REQUIRE(got_b);
        CHECK(*got_b == bundle(tag, {msg("/b", "i", {i32(2)}), msg("/c", "")}));
        r.stop();
        const router_stats s = r.stats();
        CHECK(s.received == 1);
        CHECK(s.routed == 1);
        CHECK(s.messages_routed == 5);
        CHECK(s.nodes[1].connects == 1);
        CHECK(s.lost == 0);
    }
    SUBCASE("unknown prefixes and malformed packets are rejected whole and counted, and the router goes on")
    {
        fake_node a("127.0.0.2", false);
        router_config c;
        c.routes = {to("/n1", "127.0.0.2", a.port)};
        router r(c);
        r.start();
        udp_client controller(r.udp_port());
        REQUIRE(controller.send(msg("/n9/a", "")));                                       // no such node
        REQUIRE(controller.send(msg("/n1", "")));                                         // the prefix alone
        REQUIRE(controller.send(msg("/n1x/a", "")));                                      // not under /n1
        REQUIRE(controller.send(bundle(1, {msg("/n1/a", ""), msg("/n2/b", "")})));        // half a bundle
        REQUIRE(controller.send(raw("abc")));                                             // not aligned
        REQUIRE(controller.send(msg("/n1/*", "")));                                       // a pattern
        REQUIRE(controller.send(bundle(1, {bundle(1, {msg("/n1/a", "")})})));             // nested
        bytes no_tags = str("/n1/a");
        REQUIRE(controller.send(no_tags));                                                // no type tags
        REQUIRE(controller.send(msg("/n1/ok", "")));
        const auto got = a.receive(2000);
        REQUIRE(got);
        CHECK(*got == msg("/ok", ""));  // the only one that went through
        r.stop();
        const router_stats s = r.stats();
        CHECK(s.received == 9);
        CHECK(s.rejected == 8);
        CHECK(s.routed == 1);
        auto by = [&](reject_reason why) { return s.rejected_by[static_cast<std::size_t>(why)]; };
        CHECK(by(reject_reason::unknown_address) == 4);
        CHECK(by(reject_reason::not_aligned) == 1);
        CHECK(by(reject_reason::pattern_unsupported) == 1);
        CHECK(by(reject_reason::nested_bundle) == 1);
        CHECK(by(reject_reason::bad_type_tags) == 1);
        CHECK(s.nodes[0].messages == 1);
    }
    SUBCASE("a node link that does not take what it is sent counts each packet it has no room for as full")
    {
        fake_node slow("127.0.0.3", true, framing::size_prefix, 4096);
        router_config c;
        c.routes = {to("/n1", "127.0.0.3", slow.port, route_transport::tcp)};
        c.link_buffer_bytes = 16384;
        c.link_socket_buffer_bytes = 4096;
        c.tcp = {tcp_listener{0, framing::size_prefix}};
        router r(c);
        r.start();
        REQUIRE(slow.accept_only(2000));  // and never reads
        tcp_client controller(r.tcp_port(), framing::size_prefix);
        REQUIRE(controller.connected());
        const bytes big = msg("/n1/blob", "s", {str(std::string(1000, 'x'))});
        constexpr std::uint64_t sent = 2000;  // 2 MB: more than every buffer on the way holds
        for (std::uint64_t i = 0; i < sent; ++i)
            REQUIRE(controller.send(big));
        REQUIRE(eventually([&] { return r.stats().received == sent; }));
        r.stop();
        const router_stats s = r.stats();
        CHECK(s.nodes[0].full > 0);
        CHECK(s.nodes[0].packets + s.nodes[0].full + s.nodes[0].failed == sent);  // each one accounted for
        CHECK(s.lost == s.nodes[0].full + s.nodes[0].failed);
        MESSAGE("router: " << s.nodes[0].packets << " packets queued, " << s.nodes[0].full << " full");
    }
    SUBCASE("a node that is not there: each packet counted as failed, and the link dialled again")
    {
        int closed_port = 0;
        {
            fake_node gone("127.0.0.2", true);  // a port that was free a moment ago: nothing listens there now
            closed_port = gone.port;
        }
        router_config c;
        c.routes = {to("/n1", "127.0.0.2", static_cast<std::uint16_t>(closed_port), route_transport::tcp)};
        c.reconnect_seconds = 0.05;
        router r(c);
        r.start();
        udp_client controller(r.udp_port());
        REQUIRE(eventually([&] { return r.stats().nodes[0].connects >= 3; }));  // dialled again and again
        for (int i = 0; i < 5; ++i)
        {
            REQUIRE(controller.send(msg("/n1/a", "")));
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        REQUIRE(eventually([&] { return r.stats().received == 5; }));
        r.stop();
        const router_stats s = r.stats();
        CHECK(s.nodes[0].packets + s.nodes[0].failed + s.nodes[0].full == 5);
        CHECK(s.nodes[0].failed >= 1);
        CHECK(s.lost == s.nodes[0].failed + s.nodes[0].full);
    }
    SUBCASE("bad routes are refused")
    {
        auto refused = [](router_config c) {
            try
            {
                router r(c);
                return false;
            }
            catch (const std::invalid_argument&)
            {
                return true;
            }
        };
        router_config none;
        CHECK(refused(none));
        for (const char* prefix : {"", "/", "node", "/a/b", "/a*", "/all"})
        {
            router_config c;
            c.routes = {to(prefix, "127.0.0.2", 9000)};
            CHECK_MESSAGE(refused(c), prefix);
        }
        router_config twice;
        twice.routes = {to("/a", "127.0.0.2", 9000), to("/a", "127.0.0.3", 9001)};
        CHECK(refused(twice));
        router_config bad_host;
        bad_host.routes = {to("/a", "localhost", 9000)};
        CHECK(refused(bad_host));
        router_config bad_port;
        bad_port.routes = {to("/a", "127.0.0.2", 0)};
        CHECK(refused(bad_port));
    }
}
