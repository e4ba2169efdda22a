// SPDX-License-Identifier: MIT
// The OSC router of osc_router.h: packets in over UDP and TCP (the endpoint's sockets, deframer and connection
// table), their framing checked by outline_packet, each message sent on to the node its prefix names with the
// prefix taken off, bundles split per node with their time tag (docs/osc.md, "Several nodes").
#include <courier/osc/osc_router.h>

#include "osc_connections.h"
#include "osc_rejections.h"
#include "osc_sockets.h"

#include <courier/counter.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace courier::osc {

namespace {

using steady = std::chrono::steady_clock;

constexpr std::string_view bundle_marker{"#bundle\0", 8};

// Appends an OSC string (characters, NUL, NULs to a multiple of 4) at `at`.
void put_string(std::vector<std::byte>& out, std::size_t& at, std::string_view s) noexcept
{
    std::memcpy(out.data() + at, s.data(), s.size());
    const std::size_t padded = (s.size() + 4) / 4 * 4;
    std::memset(out.data() + at + s.size(), 0, padded - s.size());
    at += padded;
}

void put_u32(std::vector<std::byte>& out, std::size_t& at, std::uint32_t v) noexcept
{
    for (int shift = 24; shift >= 0; shift -= 8)
        out[at++] = static_cast<std::byte>(v >> static_cast<unsigned>(shift));
}

// Whether `address` lies under `prefix` ("/node1" holds "/node1/x", not "/node1x" nor "/node1").
bool under(std::string_view address, std::string_view prefix) noexcept
{
    return !prefix.empty() && address.size() > prefix.size() && address.starts_with(prefix) &&
           address[prefix.size()] == '/';
}

sockaddr_in ipv4(const std::string& host, int port)
{
    const std::optional<sockaddr_in> a = ipv4_address(host, port);
    if (!a)
        throw std::invalid_argument("OSC router: '" + host + "' is not an IPv4 address");
    return *a;
}

void check_prefix(const std::string& prefix, const char* what)
{
    const bool ok = prefix.size() >= 2 && prefix.front() == '/' &&
                    prefix.find_first_of("/*?[]{},# ", 1) == std::string::npos;
    if (!ok)
        throw std::invalid_argument(std::string("OSC router: ") + what + " '" + prefix +
                                    "' must be '/' and a name without '/' or pattern characters");
}

}  // namespace

// One node: where it is, its counters and, for TCP, its link (a slot of the links table).
struct node_link
{
    route where;
    sockaddr_in address{};
    connection* link = nullptr;  // TCP: the slot, open while connected (or connecting)
    steady::time_point next_dial{};
    // Written by the router's thread only; read by stats() from any thread.
    counter packets, messages, full, failed, connects, replies;
    counter link_frame_errors, link_cut;  // what the node sent back, unreadable
};

struct router::state
{
    explicit state(const router_config& c)
        : config(c),
          controllers(c.max_connections, 64U << 10U, max_packet_bytes, controllers_open),
          links(std::max<std::size_t>(1, static_cast<std::size_t>(std::count_if(
                    c.routes.begin(), c.routes.end(),
                    [](const route& r) { return r.transport != route_transport::udp; }))),
                std::max(c.link_buffer_bytes, max_encoded_bytes(framing::slip, max_packet_bytes)),
                max_packet_bytes, links_open),
          receive_buffer(65536), scratch(max_packet_bytes)
    {
    }

    router_config config;
    int udp_fd = -1;   // controllers' datagrams
    int send_fd = -1;  // datagrams to UDP nodes; their replies come back here
    std::vector<listener_socket> listeners;
    std::vector<std::unique_ptr<node_link>> nodes;  // ✗ die with the state, on the setup thread

    // --- the router thread's own
    counter controllers_open, links_open;  // gauges of the two tables
    connection_table controllers;  // ✗ closed with the state, on the setup thread
    connection_table links;        // the TCP node links, one slot per TCP node
    poll_list polled;
    std::vector<std::byte> receive_buffer;
    std::vector<std::byte> scratch;  // the packet being built for one node
    packet_outline outline;

    // Written by the router's thread only; read by stats() from any thread.
    counter received, routed, messages_routed, connections, connections_refused, connections_cut,
        frame_errors, frames;
    rejection_counters rejected;

    std::atomic<bool> stop_requested{false};  // set by stop(); a flag, the join synchronises
    std::thread thread;

    // The router thread's work. Thread: the router thread. Real-time: no (syscalls).
    void loop() noexcept;
    void handle_packet(std::span<const std::byte> bytes) noexcept;
    void reject(reject_reason why) noexcept;
    void send_to_node(node_link& n, std::size_t size, std::uint32_t messages) noexcept;
    void dial(node_link& n) noexcept;
    void drain_replies() noexcept;
    void flush_links(std::chrono::milliseconds within) noexcept;
};

router::router(const router_config& config)
{
    if (config.routes.empty())
        throw std::invalid_argument("OSC router: no route");
    if (!config.broadcast_prefix.empty())
        check_prefix(config.broadcast_prefix, "the broadcast prefix");
    for (std::size_t i = 0; i < config.routes.size(); ++i)
    {
        const route& r = config.routes[i];
        check_prefix(r.prefix, "the prefix");
        if (r.prefix == config.broadcast_prefix ||
            std::any_of(config.routes.begin(), config.routes.begin() + static_cast<std::ptrdiff_t>(i),
                        [&](const route& o) { return o.prefix == r.prefix; }))
            throw std::invalid_argument("OSC router: the prefix '" + r.prefix + "' is given twice");
        if (r.port <= 0 || r.port > 65535)
            throw std::invalid_argument("OSC router: the port of '" + r.prefix + "' must be from 1 to 65535");
    }
    if (config.udp_port < -1 || config.udp_port > 65535)
        throw std::invalid_argument("OSC router: the UDP port must be from 0 to 65535");
    if (config.udp_port < 0 && config.tcp.empty())
        throw std::invalid_argument("OSC router: neither a UDP port nor a TCP listener was given");
    if (!(config.reconnect_seconds > 0.0 && config.reconnect_seconds <= 3600.0))
        throw std::invalid_argument("OSC router: reconnect_seconds must be from 0 to 3600");
    impl = std::make_unique<state>(config);
    for (const route& r : config.routes)
    {
        auto n = std::make_unique<node_link>();
        n->where = r;
        n->address = ipv4(r.host, r.port);
        impl->nodes.push_back(std::move(n));
    }
    auto close_all = [this] {
        for (const int fd : {impl->udp_fd, impl->send_fd})
            if (fd >= 0)
                ::close(fd);
        for (const listener_socket& l : impl->listeners)
            ::close(l.fd);
    };
    try
    {
        if (config.udp_port >= 0)
            impl->udp_fd = open_udp(config.bind_address, config.udp_port, 4U << 20U);
        impl->send_fd = open_udp(config.bind_address, 0, 1U << 20U);
        open_listeners(config.bind_address, config.tcp, impl->listeners);
    }
    catch (...)
    {
        close_all();
        throw;
    }
    const std::size_t most_fds = 2 + impl->listeners.size() + config.max_connections + impl->nodes.size();
    impl->polled.reserve(most_fds);
}

router::~router()
{
    stop();
    for (const int fd : {impl->udp_fd, impl->send_fd})
        if (fd >= 0)
            ::close(fd);
    for (const listener_socket& l : impl->listeners)
        ::close(l.fd);
    // The controllers' connections and the node links close with their tables, here on the setup thread.
}

void router::start()
{
    if (impl->thread.joinable())
        throw std::logic_error("OSC router: already started");
    impl->stop_requested.store(false, std::memory_order_relaxed);  // the thread's creation publishes it
    for (const auto& n : impl->nodes)
        if (n->where.transport != route_transport::udp)
            impl->dial(*n);  // this thread is the router's until the thread starts
    impl->thread = std::thread([s = impl.get()] { s->loop(); });
}

void router::stop() noexcept
{
    if (!impl->thread.joinable())
        return;
    impl->stop_requested.store(true, std::memory_order_relaxed);  // a flag: the join orders the rest
    impl->thread.join();
}

std::uint16_t router::udp_port() const noexcept
{
    return impl->udp_fd >= 0 ? bound_port(impl->udp_fd) : 0;
}

std::uint16_t router::tcp_port(std::size_t index) const noexcept
{
    return index < impl->listeners.size() ? impl->listeners[index].port : 0;
}

router_stats router::stats() const
{
    const state& s = *impl;
    router_stats out;
    out.received = s.received.load();
    out.routed = s.routed.load();
    out.messages_routed = s.messages_routed.load();
    s.rejected.load_into(out.rejected, out.rejected_by);
    out.connections = s.connections.load();
    out.connections_refused = s.connections_refused.load();
    out.connections_cut = s.connections_cut.load();
    out.frame_errors = s.frame_errors.load();
    for (const auto& n : s.nodes)
    {
        router_node_stats ns;
        ns.packets = n->packets.load();
        ns.messages = n->messages.load();
        ns.full = n->full.load();
        ns.failed = n->failed.load();
        ns.connects = n->connects.load();
        ns.replies = n->replies.load();
        out.lost += ns.full + ns.failed;
        out.nodes.push_back(ns);
    }
    return out;
}

void router::state::dial(node_link& n) noexcept
{
    n.next_dial = steady::now() + std::chrono::duration_cast<steady::duration>(
                                      std::chrono::duration<double>(config.reconnect_seconds));
    n.connects.add();
    connection* slot = links.free_slot();
    if (slot == nullptr)
        return;  // cannot happen: one slot per TCP node
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    const int on = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // notes are small: send each now
    if (config.link_socket_buffer_bytes > 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &config.link_socket_buffer_bytes,
                           sizeof config.link_socket_buffer_bytes);
    // Non-blocking: packets queue in the link's buffer while the connection is made; a refused dial shows as an
    // error on the first send, which closes the link, and it is dialled again after reconnect_seconds.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&n.address), sizeof n.address) != 0 && errno != EINPROGRESS)
    {
        ::close(fd);
        return;
    }
    sockaddr_storage address{};
    std::memcpy(&address, &n.address, sizeof n.address);
    links.open(*slot, fd, n.where.transport == route_transport::tcp_slip ? framing::slip : framing::size_prefix,
               address, sizeof n.address, true);
    n.link = slot;
}

void router::state::loop() noexcept
{
    while (!stop_requested.load(std::memory_order_relaxed))  // a flag; stop() joins after setting it
    {
        polled.restart({udp_fd, send_fd}, listeners);
        for (connection& c : controllers.slots())
            if (c.open())
                polled.add(c, POLLIN);
        for (connection& c : links.slots())
            if (c.open())
                polled.add(c, static_cast<short>(POLLIN | (c.out_end > 0 ? POLLOUT : 0)));
        if (::poll(polled.fds.data(), static_cast<nfds_t>(polled.fds.size()), 5) > 0)
            for (std::size_t i = 0; i < polled.fds.size(); ++i)
            {
                const pollfd& p = polled.fds[i];
                if (p.revents == 0)
                    continue;
                connection* c = polled.owner[i];
                if (c != nullptr)
                {
                    if (!c->open() || c->fd != p.fd)
                        continue;  // closed earlier in this round
                    if (std::any_of(nodes.begin(), nodes.end(), [&](const auto& n) { return n->link == c; }))
                    {
                        if ((p.revents & POLLOUT) != 0 && !links.flush(*c))
                            continue;
                        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0)
                            drain_replies();
                        continue;
                    }
                    const stream_counters counts{&frames, &frame_errors, &connections_cut};
                    (void)controllers.pump(*c, true, counts, [this](connection& from) {
                        received.add();
                        handle_packet(from.deframer.frame());
                        return true;
                    });
                    continue;
                }
                const auto l = std::find_if(listeners.begin(), listeners.end(),
                                            [&](const listener_socket& x) { return x.fd == p.fd; });
                if (l != listeners.end())
                {
                    for (;;)
                    {
                        bool refused = false;
                        if (controllers.accept_from(*l, 0, true, connections_refused, refused) != nullptr)
                            connections.add();
                        else if (!refused)
                            break;
                    }
                    continue;
                }
                if (p.fd == send_fd)
                {
                    drain_replies();
                    continue;
                }
                for (int batch = 0; batch < 512; ++batch)
                {
                    const std::optional<datagram> d = try_receive(p.fd, receive_buffer);
                    if (!d)
                        break;
                    received.add();
                    if (d->size > receive_buffer.size())
                        reject(reject_reason::oversize);
                    else
                        handle_packet(std::span<const std::byte>(receive_buffer.data(), d->size));
                }
            }
        controllers.clear_closed();  // nothing hangs on a controller's id
        links.clear_closed();
        const auto now = steady::now();
        for (const auto& n : nodes)
        {
            if (n->link != nullptr && !n->link->open())
                n->link = nullptr;  // broken: its slot is free again
            if (n->where.transport != route_transport::udp && n->link == nullptr && now >= n->next_dial)
                dial(*n);
        }
    }
    flush_links(std::chrono::milliseconds(1000));
}

void router::state::flush_links(std::chrono::milliseconds within) noexcept
{
    const auto deadline = steady::now() + within;
    for (;;)
    {
        bool waiting = false;
        for (connection& c : links.slots())
            if (c.open() && c.out_end > 0 && links.flush(c) && c.out_end > 0)
                waiting = true;
        if (!waiting || steady::now() >= deadline)
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void router::state::drain_replies() noexcept
{
    for (int batch = 0; batch < 512; ++batch)
    {
        const std::optional<datagram> d = try_receive(send_fd, receive_buffer);
        if (!d)
            break;
        for (const auto& n : nodes)
            if (d->from.length == sizeof(sockaddr_in) &&
                std::memcmp(&d->from.address, &n->address, sizeof(sockaddr_in)) == 0)
                n->replies.add();
    }
    for (const auto& n : nodes)
        if (n->link != nullptr && n->link->open())
        {
            const stream_counters counts{&n->replies, &n->link_frame_errors, &n->link_cut};
            (void)links.pump(*n->link, true, counts, [](connection&) { return true; });
        }
}

void router::state::reject(reject_reason why) noexcept
{
    rejected.count(why);
}

void router::state::handle_packet(std::span<const std::byte> bytes) noexcept
{
    if (const reject_reason why = outline_packet(bytes, outline); why != reject_reason::none)
    {
        reject(why);
        return;
    }
    // Every message must have a node (or be broadcast), or the packet is rejected whole: a bundle is one
    // moment, and half of it played on some nodes would not be that moment.
    const std::string_view all = config.broadcast_prefix;
    for (std::uint32_t i = 0; i < outline.count; ++i)
    {
        const std::string_view address = outline.elements[i].address;
        if (!under(address, all) &&
            std::none_of(nodes.begin(), nodes.end(), [&](const auto& n) { return under(address, n->where.prefix); }))
        {
            reject(reject_reason::unknown_address);
            return;
        }
    }
    bool sent_any = false;
    for (const auto& n : nodes)
    {
        // The node's share: its messages and the broadcast ones, prefixes off, in the order they came. The
        // result is never longer than the packet: only prefixes are taken away.
        std::size_t at = 0;
        std::uint32_t messages = 0;
        if (outline.bundle)
        {
            std::memcpy(scratch.data(), bundle_marker.data(), bundle_marker.size());
            at = bundle_marker.size();
            put_u32(scratch, at, static_cast<std::uint32_t>(outline.time_tag >> 32U));
            put_u32(scratch, at, static_cast<std::uint32_t>(outline.time_tag));
        }
        for (std::uint32_t i = 0; i < outline.count; ++i)
        {
            const packet_element& e = outline.elements[i];
            const std::string_view prefix = under(e.address, n->where.prefix) ? std::string_view(n->where.prefix)
                                            : under(e.address, all)            ? all
                                                                               : std::string_view();
            if (prefix.empty())
                continue;
            const std::string_view address = e.address.substr(prefix.size());
            const std::size_t size = (address.size() + 4) / 4 * 4 + e.after_address.size();
            if (outline.bundle)
                put_u32(scratch, at, static_cast<std::uint32_t>(size));
            put_string(scratch, at, address);
            std::memcpy(scratch.data() + at, e.after_address.data(), e.after_address.size());
            at += e.after_address.size();
            ++messages;
        }
        if (messages == 0)
            continue;
        send_to_node(*n, at, messages);
        sent_any = true;
    }
    if (sent_any)
        routed.add();
}

void router::state::send_to_node(node_link& n, std::size_t size, std::uint32_t messages) noexcept
{
    const std::span<const std::byte> packet(scratch.data(), size);
    bool sent = false;
    if (n.where.transport == route_transport::udp)
    {
        const ssize_t got = ::sendto(send_fd, packet.data(), packet.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                                     reinterpret_cast<const sockaddr*>(&n.address), sizeof n.address);
        sent = got == static_cast<ssize_t>(packet.size());
        if (!sent)
            ((errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) ? n.full : n.failed).add();
    }
    else if (n.link == nullptr || !n.link->open())
        n.failed.add();  // the link is down: dialled again after reconnect_seconds
    else if (!links.queue(*n.link, packet))
        n.full.add();  // the node does not take what it is sent as fast: its link's buffer is full
    else if (!n.link->open())
        n.failed.add();  // the send found the link broken (a refused dial, a node gone): closed
    else
        sent = true;
    if (!sent)
        return;
    n.packets.add();
    n.messages.add(messages);
    messages_routed.add(messages);
}

}  // namespace courier::osc
