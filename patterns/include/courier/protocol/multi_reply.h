// SPDX-License-Identifier: MIT
// Request/multi-reply: progress replies, then exactly one final reply, always last
// (docs/patterns/protocol_multi_reply.md).
#pragma once

#include <courier/protocol/request_reply.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace courier::protocol {

template <class Req, class Rep>
class multi_reply;

/// The asking party: starts operations and takes their replies.
template <class Req, class Rep>
class multi_client
{
public:
    /// Makes a request from `args` in the client's pool and starts an operation with a fresh id; `no_credit`
    /// when `credits` operations are unfinished.
    /// Thread: the client. Real-time: wait-free if Req's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] ticket try_request(Args&&... args) noexcept;

    /// Calls `handle(std::uint64_t id, reply_status, Rep* reply)` for up to `max` replies in the order sent;
    /// when the server has gone and every reply is read, ends each unfinished operation with server_gone
    /// (nullptr). Returns how many it handled.
    /// Thread: the client. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max) noexcept;

    /// Operations started and not yet ended by a terminal.
    /// Thread: the client. Real-time: wait-free.
    [[nodiscard]] std::size_t outstanding() const noexcept COURIER_REALTIME { return running.size(); }

    /// Destroys the requests that came back; returns how many.
    /// Thread: the client. Real-time: wait-free if Req's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// The counts of sends and refusals by reason.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// The client goes away (its thread has stopped); returns how many queued replies it dropped.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class multi_reply<Req, Rep>;
    multi_client(party<Req, Rep, detail::reply_kind>& e, std::size_t credits) : end(e), running(credits) {}
    party<Req, Rep, detail::reply_kind>& end;
    detail::id_table<bool> running;  // the client's thread only
    std::uint64_t next_id = 1;
};

/// The working party: accepts operations, reports progress, and finishes each exactly once.
template <class Req, class Rep>
class multi_server
{
public:
    /// Calls `start(std::uint64_t id, Req&)` for up to `max` new operations; the request goes home after
    /// the call, and the operation is running until try_finish. Returns how many it accepted.
    /// Thread: the server. Real-time: wait-free if `start` is.
    template <class Start>
    std::size_t drain(Start&& start, std::size_t max) noexcept;

    /// Sends a progress reply made from `args` for running operation `id`. `closed` if `id` is not running;
    /// `no_credit` when only the room reserved for the final replies is left (progress is droppable, the
    /// final reply is not); `full` or `gone` as for any send.
    /// Thread: the server. Real-time: wait-free if Rep's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_progress(std::uint64_t id, Args&&... args) noexcept;

    /// Sends the final reply made from `args` and ends operation `id`; `closed` if it is not running (so a
    /// second final is impossible). Never refused for room (reserved at start): `sent`, or `gone`
    /// when the client has gone (the operation ends all the same).
    /// Thread: the server. Real-time: wait-free if Rep's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_finish(std::uint64_t id, Args&&... args) noexcept;

    /// True while operation `id` is running.
    /// Thread: the server. Real-time: wait-free.
    [[nodiscard]] bool running(std::uint64_t id) noexcept COURIER_REALTIME { return active.find(id) != nullptr; }

    /// How many operations are running.
    /// Thread: the server. Real-time: wait-free.
    [[nodiscard]] std::size_t running_count() const noexcept COURIER_REALTIME { return active.size(); }

    /// Destroys the replies that came back; returns how many.
    /// Thread: the server. Real-time: wait-free if Rep's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// The counts of replies sent and refused.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// The server goes away (its thread has stopped): the client ends its operations with server_gone.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class multi_reply<Req, Rep>;
    multi_server(party<Rep, Req, detail::reply_kind>& e, std::size_t credits) : end(e), active(credits) {}
    party<Rep, Req, detail::reply_kind>& end;
    // The server's thread only: each running operation's id and the reply channel its request carried.
    detail::id_table<typename party<Rep, Req, detail::reply_kind>::answer_channel> active;
};

/// A client and a server, either of them the audio thread; at most `credits` operations run at once and at
/// most `progress_credits` progress replies are out at once.
template <class Req, class Rep>
class multi_reply
{
public:
    using client_type = multi_client<Req, Rep>;
    using server_type = multi_server<Req, Rep>;

    /// Opens the link in `table` (two free slots). Throws std::invalid_argument when `credits` is 0 or either
    /// count is above 2^32 - 1, and as duplex does.
    /// Thread: setup. Real-time: no (allocates).
    multi_reply(port_table& table, std::size_t credits, std::size_t progress_credits)
        : link(table, credits, server_credits(credits, progress_credits), 0), c(link.a(), credits),
          s(link.b(), credits)
    {
    }

    /// The asking party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] client_type& client() noexcept COURIER_REALTIME { return c; }

    /// The working party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] server_type& server() noexcept COURIER_REALTIME { return s; }

private:
    // The server's pool: a final reply per operation, the progress replies, and one more (see try_progress).
    // Checked here, before the sum could wrap to a small pool.
    static std::size_t server_credits(std::size_t credits, std::size_t progress_credits)
    {
        if (credits == 0 || credits > UINT32_MAX || progress_credits > UINT32_MAX)
            throw std::invalid_argument(
                "courier::protocol::multi_reply: credits must be between 1 and 2^32 - 1, progress_credits at most "
                "2^32 - 1");
        return credits + progress_credits + 1;
    }

    duplex<Req, Rep, detail::reply_kind> link;
    client_type c;
    server_type s;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Req, class Rep>
template <class... Args>
ticket multi_client<Req, Rep>::try_request(Args&&... args) noexcept
{
    if (running.full())
        return {end.refuse(send_status::no_credit), 0};
    const send_status o = end.try_post(next_id, detail::reply_kind::request, std::forward<Args>(args)...);
    if (o != send_status::sent)
        return {o, 0};
    (void)running.insert(next_id, true);  // room checked above
    return {o, next_id++};
}

template <class Req, class Rep>
template <class Handler>
std::size_t multi_client<Req, Rep>::drain(Handler&& handle, std::size_t max) noexcept
{
    const bool server_gone = !end.peer_open();  // before draining: see reply_client::drain
    std::size_t handled = end.drain(
        [&](envelope<Rep, detail::reply_kind, Req>&& m) {
            const bool last = m.kind == detail::reply_kind::reply;
            if (last)
                (void)running.erase(m.id);
            handle(m.id, last ? reply_status::answered : reply_status::progress, m.body.get());
        },
        max);
    while (server_gone && handled < max && !running.empty())
    {
        const std::uint64_t id = running.front_id();
        (void)running.erase(id);
        handle(id, reply_status::server_gone, static_cast<Rep*>(nullptr));
        ++handled;
    }
    return handled;
}

template <class Req, class Rep>
template <class Start>
std::size_t multi_server<Req, Rep>::drain(Start&& start, std::size_t max) noexcept
{
    return end.drain(
        [&](envelope<Req, detail::reply_kind, Rep>&& m) {
            // The client never has more than `credits` operations running, so there is room.
            [[maybe_unused]] const bool added = active.insert(m.id, std::move(m.reply_to));
            COURIER_EXPECTS(added);
            start(m.id, *m.body);
        },
        max);  // each request goes home to the client's pool after its call
}

template <class Req, class Rep>
template <class... Args>
send_status multi_server<Req, Rep>::try_progress(std::uint64_t id, Args&&... args) noexcept
{
    const auto* reply_to = active.find(id);
    if (reply_to == nullptr)
        return send_status::closed;
    (void)end.collect();
    // Keep `credits` + 1 bodies for final replies: one per operation the client may have running, plus one for
    // a final still in the client's handler while it starts the next operation.
    if (end.in_flight() + active.capacity() + 1 >= end.credits())
        return end.refuse(send_status::no_credit);
    return end.try_post_to(*reply_to, id, detail::reply_kind::progress, std::forward<Args>(args)...);
}

template <class Req, class Rep>
template <class... Args>
send_status multi_server<Req, Rep>::try_finish(std::uint64_t id, Args&&... args) noexcept
{
    typename party<Rep, Req, detail::reply_kind>::answer_channel reply_to;
    if (!active.erase(id, [&](auto&& channel) noexcept { reply_to = channel; }))
        return send_status::closed;
    const send_status o = end.try_post_to(reply_to, id, detail::reply_kind::reply, std::forward<Args>(args)...);
    COURIER_EXPECTS(o == send_status::sent || o == send_status::gone);  // room reserved: see try_progress
    return o;
}

}  // namespace courier::protocol
