// SPDX-License-Identifier: MIT
// The OSC endpoint's TCP connections: a fixed table of slots, each with its deframer, its read-ahead buffer and
// its bounded buffer of replies waiting to be sent (docs/osc.md, "TCP"). Private to courier_osc: no public header
// includes it.
#pragma once

#include "osc_sockets.h"
#include <courier/counter.h>
#include <courier/osc/stream_deframer.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace courier::osc {

/// A TCP listening socket and the framing of the connections it accepts.
struct listener_socket
{
    int fd = -1;
    std::uint16_t port = 0;
    framing kind = framing::size_prefix;
};

/// Opens a listener for each of `wanted` on `bind_address` (open_tcp), appending them to `into`; when one cannot
/// be opened, closes those it opened and throws std::runtime_error with the reason.
/// Thread: setup. Real-time: no (syscalls, allocates).
void open_listeners(const std::string& bind_address, std::span<const tcp_listener> wanted,
                    std::vector<listener_socket>& into);

struct connection;

/// What one round of a network loop polls: descriptors, each with the connection it belongs to (nullptr for a
/// datagram socket or a listener). Reserved at setup; filled anew each round without allocating.
struct poll_list
{
    std::vector<pollfd> fds;
    std::vector<connection*> owner;

    /// Room for `most` descriptors. Thread: setup. Real-time: no (allocates).
    void reserve(std::size_t most);
    /// Starts a round with the datagram sockets of `sockets` that are open (>= 0) and every listener of
    /// `listeners`, all for reading. Thread: the network thread. Real-time: wait-free (within the reserve).
    void restart(std::initializer_list<int> sockets, std::span<const listener_socket> listeners) noexcept;
    /// Adds connection `c`'s descriptor for `events`. Thread: the network thread. Real-time: wait-free.
    void add(connection& c, short events) noexcept;
};

/// The counters a connection_table's pump() keeps (each written by the network thread only).
struct stream_counters
{
    counter* frames;        // packets read
    counter* frame_errors;  // framing errors that kept the connection
    counter* cut;           // connections closed for an oversize packet or endless bytes
};

/// How pump() left a connection.
enum class pump_result : std::uint8_t
{
    drained,  ///< nothing more to deframe now (or not readable)
    paused,   ///< the frame handler kept the frame (backpressure): deframer.frame() waits to be offered again
    closed,   ///< closed: by the client, by the handler, or cut off (counted)
};

/// One TCP connection slot. The network thread's own.
struct connection
{
    connection(std::size_t buffer_bytes, std::size_t max_packet);

    int fd = -1;                 // -1: a free slot
    peer self;                   // the way back: stream = this connection's id
    bool authenticated = false;  // the shared secret was given (or none is asked for)
    bool paused = false;         // deframer.frame() waits for room on the audio side (backpressure)
    stream_deframer deframer;
    std::vector<std::byte> in;   // bytes read and not yet deframed: [in_at, in_end)
    std::size_t in_at = 0;
    std::size_t in_end = 0;
    std::vector<std::byte> out;  // framed replies not yet taken by the kernel: [0, out_end)
    std::size_t out_end = 0;
    std::uint32_t generation = 0;
    std::chrono::steady_clock::time_point last_packet{};  // accepted, or its last whole packet read (idle cut)

    /// Whether the slot holds a connection.
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] bool open() const noexcept COURIER_REALTIME { return fd >= 0; }
};

/// At most `max_connections` (1 to 255) connections, each with buffers of a fixed size allocated at setup: memory
/// per connection is bounded whatever a client sends. Ids carry a generation, so a reply for a connection that has
/// closed (and whose slot was reused) goes nowhere instead of to the wrong client.
class connection_table
{
public:
    /// Allocates every slot; `open_gauge` is kept equal to open_count() (set before a connection closes, so a client
    /// that sees the close sees the count too). Throws std::invalid_argument for a bad size.
    /// Thread: setup. Real-time: no (allocates).
    connection_table(std::size_t max_connections, std::size_t buffer_bytes, std::size_t max_packet,
                     counter& open_gauge);

    /// Closes every open connection.
    /// Thread: setup. Real-time: no (syscalls).
    ~connection_table();
    connection_table(const connection_table&) = delete;
    connection_table& operator=(const connection_table&) = delete;

    /// A free slot, or nullptr when max_connections are open.
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] connection* free_slot() noexcept COURIER_REALTIME;

    /// Accepts the next connection waiting on `l` into a free slot, reading `l.kind` packets (TCP_NODELAY, and
    /// SO_SNDBUF/SO_RCVBUF of `socket_buffer_bytes` when > 0); with no free slot it closes it at once after
    /// counting it in `refused`. Returns the slot, or nullptr when none waited or it was refused (`was_refused`).
    /// Thread: the network thread. Real-time: no (syscalls).
    [[nodiscard]] connection* accept_from(const listener_socket& l, int socket_buffer_bytes, bool authenticated,
                                          counter& refused, bool& was_refused) noexcept;

    /// Deframes what `c` has read and, when `readable`, reads more (two reads at most, so one client cannot hold
    /// the thread), calling `on_frame(c)` with each whole packet in c.deframer.frame(). `on_frame` returns false to
    /// keep the packet for later (the connection is then left paused and unread). A packet over the limit closes
    /// the connection (counted in `counts.cut` first).
    /// Thread: the network thread. Real-time: no (syscalls).
    template <class OnFrame>
    pump_result pump(connection& c, bool readable, const stream_counters& counts, OnFrame&& on_frame) noexcept;

    /// Makes `slot` (from free_slot) the connection `fd` from `address`, reading `kind` packets.
    /// Thread: the network thread. Real-time: wait-free.
    void open(connection& slot, int fd, framing kind, const sockaddr_storage& address, socklen_t length,
              bool authenticated) noexcept COURIER_REALTIME;

    /// The open connection with id `id`, or nullptr (closed, or its slot reused since).
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] connection* find(std::uint32_t id) noexcept COURIER_REALTIME;

    /// Frames `packet` and appends it to the connection's reply buffer, then sends what the kernel takes now;
    /// false (nothing queued) when the buffer has no room: the client is not reading (backpressure).
    /// Thread: the network thread. Real-time: no (syscall).
    [[nodiscard]] bool queue(connection& c, std::span<const std::byte> packet) noexcept;

    /// Sends what the kernel takes of the reply buffer now; false when the connection broke (it is then closed).
    /// Thread: the network thread. Real-time: no (syscall).
    bool flush(connection& c) noexcept;

    /// Closes the connection and frees its slot; its id goes to closed_ids().
    /// Thread: the network thread. Real-time: no (syscall).
    void close(connection& c) noexcept;

    /// Ids of connections closed since the last clear_closed() (their subscriptions must go).
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] std::span<const std::uint32_t> closed_ids() const noexcept COURIER_REALTIME { return closed; }
    void clear_closed() noexcept COURIER_REALTIME { closed.clear(); }

    /// The slots, open or not.
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] std::span<connection> slots() noexcept COURIER_REALTIME { return table; }

    /// Connections open now.
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] std::size_t open_count() const noexcept COURIER_REALTIME { return opened; }

private:
    // Reads into c.in when it is all deframed; false when the connection closed (then closed here).
    [[nodiscard]] bool read_more(connection& c, bool& got_any) noexcept;

    std::vector<connection> table;       // ✗ the slots die with the table, on the setup thread
    std::vector<std::uint32_t> closed;   // reserved for every slot twice: no allocation in close()
    std::size_t opened = 0;
    counter* gauge;  // endpoint_stats::connections_open; written by the network thread only
};

template <class OnFrame>
pump_result connection_table::pump(connection& c, bool readable, const stream_counters& counts,
                                   OnFrame&& on_frame) noexcept
{
    for (int round = 0; round < 2 && c.open(); ++round)
    {
        // Deframe what was read before reading more, so the read-ahead buffer bounds what one client holds.
        while (c.in_at < c.in_end)
        {
            std::span<const std::byte> in(c.in.data() + c.in_at, c.in_end - c.in_at);
            const deframe_status s = c.deframer.next(in);
            c.in_at = c.in_end - in.size();
            if (s == deframe_status::need_more)
                break;
            if (s == deframe_status::oversize)
            {
                counts.cut->add();  // before the close: a client that sees it closed sees the count
                close(c);
                return pump_result::closed;
            }
            if (s != deframe_status::frame)
            {
                counts.frame_errors->add();  // the stream is still in step: go on with the next packet
                continue;
            }
            counts.frames->add();
            if (!on_frame(c))
                return pump_result::paused;  // the frame stays in the deframer, the rest in `in`, the rest of the
                                             // rest in the kernel: TCP flow control reaches the client
            if (!c.open())
                return pump_result::closed;
        }
        if (!readable || round == 1)
            break;
        bool got_any = false;
        if (!read_more(c, got_any))
            return pump_result::closed;
        if (!got_any)
            break;
    }
    return c.open() ? pump_result::drained : pump_result::closed;
}

}  // namespace courier::osc
