// SPDX-License-Identifier: MIT
// The OSC endpoint's private state, endpoint::state: what the network thread and the disk worker share and own
// (docs/osc.md). Private to courier_osc: only its .cpp files include it (no liblo or socket headers in the API).
#pragma once

#include "osc_connections.h"
#include "osc_counters.h"
#include <courier/osc/osc_endpoint.h>
#include "osc_load_worker.h"
#include "osc_reply.h"
#include "osc_sockets.h"
#include "osc_subscriptions.h"
#include <courier/object_pool.h>
#include <courier/protocol/request_reply.h>
#include <courier/patterns/state_observer.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <poll.h>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace courier::osc {

/// Everything behind endpoint: made and destroyed on the setup thread; between start() and stop() each group
/// below belongs to the thread its comment names. The network thread's functions are in osc_network.cpp and
/// osc_verbs.cpp, the disk worker's in osc_load_worker.cpp.
struct endpoint::state
{
    state(std::unique_ptr<engine_adapter> adapter, engine_link& l, port_table& table, const endpoint_config& c)
        : owned_adapter(std::move(adapter)), link(&l), config(c),
          own(table, std::max<std::size_t>(c.port_lanes, 1), c.port_capacity), loads(table, 1, 4),
          meters_out(meter_cell.publisher()), meters_in(meter_cell.reader()),
          streams(c.max_connections, c.connection_buffer_bytes, max_packet_bytes, count.connections_open), replies(count, streams),
          receive_buffer(65536), subscribers(c.max_subscribers), loader(loads.server(), stop_requested)
    {
        const std::size_t most_fds = 2 + c.tcp.size() + c.max_connections;
        polled.reserve(most_fds);
    }

    // --- set at setup
    std::unique_ptr<engine_adapter> owned_adapter;  // the engine constructor's link; ✗ dies in ~state, on setup
    engine_link* link;                              // used by the network thread only
    endpoint_config config;
    int udp_fd = -1;
    int unix_fd = -1;
    std::uint16_t bound_port = 0;
    std::vector<listener_socket> listeners;  // TCP; ✗ closed in ~endpoint, on setup
    port<audio::engine_event> own;               // ✗ closed in ~state (after the threads stopped), on setup
    // /load: the network thread is the client, the disk worker the server; one load at a time, four progress
    // replies out at most. ✗ Requests and replies die in ~state at the latest (after both threads stopped).
    protocol::request_reply<load_request, load_reply> loads;

    // publish_meters() -> the network thread, when config.read_meters is false.
    state_observer<audio::engine_meters> meter_cell;
    state_publisher<audio::engine_meters> meters_out;  // the publishing control thread
    state_reader<audio::engine_meters> meters_in;      // the network thread

    // --- the network thread's own
    connection_table streams;                    // TCP connections; ✗ closed with the state, on setup
    poll_list polled;                            // rebuilt each round; reserved for every socket
    object_pool<parsed_packet> packets{1};       // the parse target, one at a time
    reply_sender replies;                        // its reply buffer
    std::vector<std::byte> receive_buffer;
    std::chrono::steady_clock::time_point round_start{};  // when this round of the loop began (idle cut)
    subscription_list subscribers;
    audio::engine_meters meters{};
    std::uint64_t load_id = 0;  // the running load's id (0: none)
    peer load_peer;
    std::string load_name;

    // --- the disk worker's own (its wakeup is signalled by the network thread and stop())
    load_worker loader;

    counters count;
    std::atomic<bool> stop_requested{false};  // set by stop(); read by both threads (a flag; joins synchronise)
    std::thread network;
    std::thread worker;

    // The network thread's work (osc_network.cpp, osc_verbs.cpp): each one reads or answers datagrams.
    // Thread: the network thread. Real-time: no (syscalls, allocates).
    void network_loop() noexcept;
    void receive_from(int fd) noexcept;
    // False only for a connection whose message found the audio side's lane full: nothing was counted, and the
    // same packet is offered again later (backpressure); a datagram is refused instead.
    [[nodiscard]] bool handle_packet(const peer& from, std::span<const std::byte> bytes) noexcept;
    void accept_from(const listener_socket& l) noexcept;
    void serve(connection& c, bool readable) noexcept;
    [[nodiscard]] bool handle_frame(connection& c) noexcept;
    [[nodiscard]] bool check_secret(connection& c) noexcept;
    void cut_idle() noexcept;
    void forget_closed() noexcept;
    void handle_verb(const peer& from, const parsed_message& m) noexcept;
    void handle_bundle(const peer& from, const parsed_packet& p) noexcept;
    void drain_port() noexcept;
    void take_load_replies() noexcept;
    void notify_due() noexcept;
    void reject(const peer& to, const parsed_packet& p) noexcept;
};

}  // namespace courier::osc
