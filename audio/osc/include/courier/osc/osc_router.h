// SPDX-License-Identifier: MIT
// The OSC router: one controller drives several courier nodes. It receives OSC over UDP and TCP like the
// endpoint, and sends each message on to the node its address prefix names (/node1/synth/note_on -> /synth/note_on
// at node1), over UDP or TCP; a bundle is split per node, keeping its time tag (docs/osc.md, "Several nodes").
// A control-side component: it runs on a thread of its own, never on an audio thread.
#pragma once

#include <courier/osc/osc_packet.h>
#include <courier/osc/stream_deframer.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace courier::osc {

/// How the router reaches one node.
enum class route_transport : std::uint8_t
{
    udp,       ///< datagrams from the router's send socket
    tcp,       ///< one TCP connection, int32 size-prefix framing (courier-synth --osc-tcp)
    tcp_slip,  ///< one TCP connection, SLIP framing (courier-synth --osc-tcp-slip)
};

/// One node: messages whose address starts with `prefix` followed by '/' go to `host`:`port` with the prefix
/// taken off.
struct route
{
    std::string prefix;  ///< "/node1": starts with '/', no other '/', no pattern characters
    std::string host;    ///< IPv4 address of the node ("127.0.0.2")
    int port = 0;
    route_transport transport = route_transport::udp;
};

/// What the router listens on and where it sends.
struct router_config
{
    std::vector<route> routes;                   ///< the nodes (at least one)
    std::string broadcast_prefix = "/all";       ///< messages under it go to every node (empty: none)
    int udp_port = 0;                            ///< -1: no UDP socket; 0: any free port (see router::udp_port())
    std::vector<tcp_listener> tcp;               ///< TCP listeners for controllers, each with its framing
    std::string bind_address = "127.0.0.1";      ///< where the UDP socket and the listeners bind
    std::size_t max_connections = 8;             ///< controller connections at once (1..255)
    std::size_t link_buffer_bytes = 256U << 10U; ///< per TCP node link: framed packets waiting for the kernel
    int link_socket_buffer_bytes = 0;            ///< SO_SNDBUF of each TCP node link (0: the kernel's)
    double reconnect_seconds = 0.2;              ///< a broken TCP node link is dialled again after this long
};

/// The router's counters for one node.
struct router_node_stats
{
    std::uint64_t packets = 0;   ///< packets handed to the node's path (a datagram sent, or queued on the link)
    std::uint64_t messages = 0;  ///< messages in those packets
    std::uint64_t full = 0;      ///< packets the path had no room for (UDP send buffer, TCP link buffer): lost
    std::uint64_t failed = 0;    ///< packets that could not be sent (no link, refused by the network): lost
    std::uint64_t connects = 0;  ///< TCP links dialled (1 when the link never broke)
    std::uint64_t replies = 0;   ///< packets the node sent back (its /fail replies, ...), read and counted
};

/// The router's counters, each exact for some moment during the call. Every packet read ends in `routed` or
/// `rejected`; a routed packet's copy for each node ends in that node's `packets`, `full` or `failed`.
struct router_stats
{
    std::uint64_t received = 0;   ///< packets read (UDP datagrams and TCP frames)
    std::uint64_t routed = 0;     ///< packets sent on to at least one node
    std::uint64_t messages_routed = 0;  ///< messages handed to nodes' paths (one per node a message went to)
    std::uint64_t lost = 0;       ///< sum of the nodes' `full` and `failed`
    std::uint64_t rejected = 0;   ///< packets rejected (sum of `rejected_by`): malformed, or a prefix of no node
    std::array<std::uint64_t, reject_reason_count> rejected_by{};  ///< unknown_address: a prefix of no node
    std::uint64_t connections = 0;          ///< controller connections accepted
    std::uint64_t connections_refused = 0;  ///< controller connections closed at once: max_connections open
    std::uint64_t connections_cut = 0;      ///< controller connections closed for an oversize packet
    std::uint64_t frame_errors = 0;         ///< TCP framing errors that kept the connection
    std::vector<router_node_stats> nodes;   ///< per route, in router_config::routes order
};

/// The router. Checks every packet's framing with outline_packet (the endpoint's own reader) and never its
/// arguments (the node does); a bundle is routed whole or rejected whole.
/// Threads: setup for the constructor, start, stop and the destructor; any for stats() and the ports.
class router
{
public:
    /// Checks the routes, opens the sockets and the listeners (throws std::invalid_argument for a bad route,
    /// std::runtime_error when a socket cannot be opened). TCP links to nodes are dialled by start().
    /// Thread: setup. Real-time: no (allocates, makes syscalls).
    explicit router(const router_config& config);

    /// Stops the thread if running and closes every socket.
    /// Thread: setup. Real-time: no (joins, frees).
    ~router();

    router(const router&) = delete;
    router& operator=(const router&) = delete;

    /// Starts the router's network thread. Throws std::logic_error when already started.
    /// Thread: setup. Real-time: no (starts a thread).
    void start();

    /// Stops and joins the thread, after it has handed the node links what they hold to the kernel (up to
    /// 1 s). Does nothing when not started.
    /// Thread: setup. Real-time: no (joins).
    void stop() noexcept;

    /// The counters.
    /// Thread: any. Real-time: no (allocates the nodes' vector).
    [[nodiscard]] router_stats stats() const;

    /// The UDP port bound, or 0 without UDP.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint16_t udp_port() const noexcept;

    /// The port of TCP listener `index`, or 0 when there is no such listener.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint16_t tcp_port(std::size_t index = 0) const noexcept;

    struct state;  // defined in osc_router.cpp

private:
    std::unique_ptr<state> impl;  // ✗ dies in ~router, on the setup thread
};

}  // namespace courier::osc
