// SPDX-License-Identifier: MIT
// Request/reply: each request carries a correlation id and is answered exactly once, by a reply or, if the
// Server has gone, by a server_gone settlement (docs/patterns/protocol_request_reply.md).
#pragma once

#include <courier/protocol/duplex.h>

namespace courier::protocol {

enum class request_kind : std::uint8_t
{
    request,
    reply,
};

/// What the client learns about one of its requests; exactly one per request.
enum class reply_status : std::uint8_t
{
    answered,     ///< the reply is attached
    server_gone,  ///< the server closed without answering; no reply attached
};

/// What try_request did, and the correlation id of the request when it was sent.
struct ticket
{
    outcome result = outcome::closed;
    std::uint64_t id = 0;  ///< 0 unless `result` is `sent`
};

template <class Req, class Rep>
class request_reply;

/// The asking party: sends requests from its pool and takes one settlement per request.
template <class Req, class Rep>
class reply_client
{
public:
    /// Makes a request from `args` in the client's pool and sends it with a fresh id. `no_credit` when
    /// `credits` requests are unanswered (the server's room for replies is reserved per request).
    /// Thread: the client. Real-time: wait-free if Req's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] ticket try_request(Args&&... args) noexcept;

    /// Calls `handle(std::uint64_t id, reply_status, Rep* reply)` once per settled request, for up to `budget`
    /// replies; when the server has gone and every reply is read, settles each unanswered request as
    /// server_gone (reply nullptr). Returns how many it handled. Each reply goes home after its call.
    /// Thread: the client. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t take_replies(Handler&& handle, std::size_t budget) noexcept;

    /// Requests sent and not yet settled.
    /// Thread: the client. Real-time: wait-free.
    [[nodiscard]] std::size_t outstanding() const noexcept COURIER_REALTIME { return waiting.size(); }

    /// Destroys the requests that came back from the server; returns how many.
    /// Thread: the client. Real-time: wait-free if Req's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// The counts of sends and refusals by reason.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// The client goes away: the server's later replies answer receiver_gone. The client's thread must have
    /// stopped. Returns how many queued replies it dropped.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class request_reply<Req, Rep>;
    reply_client(endpoint<Req, Rep, request_kind>& e, std::size_t credits) : end(e), waiting(credits) {}
    endpoint<Req, Rep, request_kind>& end;
    // The client's thread only.
    detail::id_table<bool> waiting;
    std::uint64_t next_id = 1;
};

/// The answering party: answers each request as it takes it, from its own pool.
template <class Req, class Rep>
class reply_server
{
public:
    /// Calls `answer(std::uint64_t id, Req&)`, which returns the Rep, for up to `budget` requests, and sends
    /// each reply back at once; returns how many. A reply can only be refused when the client has gone (room
    /// for it was reserved when the request was sent): counted in stats().receiver_gone.
    /// Thread: the server. Real-time: wait-free if `answer` and Rep's move constructor and destructor are.
    template <class Answer>
    std::size_t serve(Answer&& answer, std::size_t budget) noexcept;

    /// Destroys the replies that came back; returns how many.
    /// Thread: the server. Real-time: wait-free if Rep's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// The counts of replies sent and refused.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// The server goes away: the client settles its unanswered requests as server_gone. The server's thread
    /// must have stopped. Returns how many queued requests it dropped (they go home to the client's pool).
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class request_reply<Req, Rep>;
    explicit reply_server(endpoint<Rep, Req, request_kind>& e) noexcept : end(e) {}
    endpoint<Rep, Req, request_kind>& end;
};

/// A client and a server, either of them the audio thread, with at most `credits` requests unanswered.
template <class Req, class Rep>
class request_reply
{
public:
    /// Opens the link in `table` (two free slots).
    /// Thread: setup. Real-time: no (allocates).
    request_reply(port_table& table, std::size_t credits)
        : link(table, credits, credits + 1, 0), c(link.a(), credits), s(link.b())  // +1: a reply being handled
    {
    }

    /// The asking party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] reply_client<Req, Rep>& client() noexcept COURIER_REALTIME { return c; }

    /// The answering party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] reply_server<Req, Rep>& server() noexcept COURIER_REALTIME { return s; }

private:
    duplex<Req, Rep, request_kind> link;
    reply_client<Req, Rep> c;
    reply_server<Req, Rep> s;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Req, class Rep>
template <class... Args>
ticket reply_client<Req, Rep>::try_request(Args&&... args) noexcept
{
    if (waiting.full())
        return {outcome::no_credit, 0};
    const outcome o = end.try_post(next_id, request_kind::request, std::forward<Args>(args)...);
    if (o != outcome::sent)
        return {o, 0};
    (void)waiting.insert(next_id, true);  // room checked above
    return {o, next_id++};
}

template <class Req, class Rep>
template <class Handler>
std::size_t reply_client<Req, Rep>::take_replies(Handler&& handle, std::size_t budget) noexcept
{
    // Read before draining: once the server's inbox is closed, every reply it sent is already in ours
    // (its sends happen before the close, whose generation store is_open's acquire load pairs with).
    const bool server_gone = !end.peer_open();
    std::size_t handled = end.drain(
        [&](envelope<Rep, request_kind, Req>&& m) {
            (void)waiting.erase(m.id);
            handle(m.id, reply_status::answered, m.body.get());
        },
        budget);
    while (server_gone && handled < budget && !waiting.empty())
    {
        const std::uint64_t id = waiting.front_id();
        (void)waiting.erase(id);
        handle(id, reply_status::server_gone, static_cast<Rep*>(nullptr));
        ++handled;
    }
    return handled;
}

template <class Req, class Rep>
template <class Answer>
std::size_t reply_server<Req, Rep>::serve(Answer&& answer, std::size_t budget) noexcept
{
    return end.drain(
        [&](envelope<Req, request_kind, Rep>&& m) {
            Rep reply = answer(m.id, *m.body);
            // The request goes home before its reply leaves, so a client that sees the reply may reuse its credit.
            m.body.reset();
            // The reply goes where the request says: the channel it carries into the client's inbox.
            const outcome o = end.try_post_to(m.reply_to, m.id, request_kind::reply, std::move(reply));
            // Room for the reply was reserved with the request: only the client's going away refuses it.
            COURIER_EXPECTS(o == outcome::sent || o == outcome::receiver_gone);
            (void)o;
        },
        budget);
}

}  // namespace courier::protocol
