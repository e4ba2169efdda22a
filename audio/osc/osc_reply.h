// SPDX-License-Identifier: MIT
// The OSC endpoint's replies and notifications: a message built with liblo, serialised and sent to a peer
// (docs/osc.md). Private to courier_osc: no public header includes it, and liblo stays in osc_reply.cpp.
#pragma once

#include "osc_connections.h"
#include "osc_counters.h"
#include "osc_sockets.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace courier::osc {

/// A reply message under construction (liblo), serialised into a buffer and sent with sendto (reply_sender).
class reply_builder
{
public:
    /// An empty message.
    /// Thread: the network thread. Real-time: no (allocates).
    reply_builder();
    /// ✗ The liblo message dies here, on the network thread.
    /// Thread: the network thread. Real-time: no (frees).
    ~reply_builder();
    reply_builder(const reply_builder&) = delete;
    reply_builder& operator=(const reply_builder&) = delete;

    /// Appends a string, an int32, an int64 or a float (from a double) argument.
    /// Thread: the network thread. Real-time: no (allocates).
    reply_builder& s(std::string_view v);
    reply_builder& i(std::int32_t v);
    reply_builder& h(std::uint64_t v);
    reply_builder& f(double v);

    /// Serialises the message for `path` into `buffer`; returns the size, 0 when it does not fit.
    /// Thread: the network thread. Real-time: no (allocates).
    std::size_t serialise(const char* path, std::vector<char>& buffer);

private:
    void* m;  // the lo_message (liblo's lo_message is a void*; osc_reply.cpp checks it)
};

/// Sends replies on the network thread from one buffer of its own, counting each in `replies` or
/// `replies_failed`.
class reply_sender
{
public:
    /// A sender counting into `count` (replies, replies_failed), answering TCP peers over their connection in
    /// `streams`.
    /// Thread: setup. Real-time: no (allocates).
    reply_sender(counters& count, connection_table& streams);

    /// Serialises `b` for `path` and sends it to `to` (a datagram, or framed onto its connection); a reply that
    /// cannot be built or sent, a peer with no address, a closed connection or one whose reply buffer is full
    /// (also counted in stream_replies_dropped) is counted in replies_failed.
    /// Thread: the network thread. Real-time: no (allocates, syscall).
    void send(const peer& to, const char* path, reply_builder& b) noexcept;

    /// Sends `/fail address reason` to `to`.
    /// Thread: the network thread. Real-time: no (allocates, syscall).
    void fail(const peer& to, std::string_view address, std::string_view reason) noexcept;

private:
    counters* count;
    connection_table* streams;
    std::vector<char> buffer;  // the network thread's own
};

}  // namespace courier::osc
