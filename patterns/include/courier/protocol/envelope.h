// SPDX-License-Identifier: MIT
// What travels through a protocol's lanes: a correlation id, a wire kind, a body from the sender's pool and the
// channel its answers go to (docs/patterns/protocol_send.md).
#pragma once

#include <courier/object_pool.h>
#include <courier/patterns/channel.h>

#include <cstdint>
#include <variant>

namespace courier::protocol {

/// What travels through a protocol's lanes: the correlation id, what kind of message it is, (for kinds that
/// carry one) the body, a handle into the *sender's* pool, and the channel its answers go to. Dropping the
/// envelope sends the body home. `Back` is the body type of the answers. An envelope dies on the thread that
/// drops it (the receiving party after handling it, or the setup thread when duplex closes an inbox); its body
/// then travels back to the sender's pool and dies there (object_pool). A side whose messages carry no body
/// names `std::monostate` as its body type.
template <class Body, class Kind, class Back>
struct envelope
{
    std::uint64_t id = 0;
    Kind kind{};
    pool_ptr<Body> body;  // empty for markers
    /// Where answers to this message go: the sender's inbox, through the lane reserved for the receiver's
    /// thread (only that thread may send on it). Set by the sending party; a protocol's answering side sends
    /// replies, progress, results, acknowledgements and notifications here (docs/patterns/protocol_send.md).
    channel<envelope<Back, Kind, Body>> reply_to;
};

namespace detail {

// The wire kinds: what an envelope is, per protocol. Only the protocols' own code names them.

// request_reply's messages.
enum class reply_kind : std::uint8_t
{
    request,    // client to server, with a body
    cancel,     // client to server, marker
    progress,   // server to client, with a body; more follow
    reply,      // server to client, with a body; terminal
    cancelled,  // server to client, marker; terminal
};

enum class subscription_kind : std::uint8_t
{
    subscribe,
    unsubscribe,
    notify,
    ack,
};

enum class stream_kind : std::uint8_t
{
    item,
    end,
};

enum class send_kind : std::uint8_t
{
    message,
};

}  // namespace detail

}  // namespace courier::protocol
