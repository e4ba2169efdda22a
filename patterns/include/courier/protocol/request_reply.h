// SPDX-License-Identifier: MIT
// Request/reply: each request carries a correlation id and is settled exactly once, by its (final) reply, by a
// cancel that won the race, or by the server's going away; a held request may get progress replies before that
// (docs/patterns/protocol_request_reply.md).
#pragma once

#include <courier/protocol/duplex.h>
#include <courier/ticket.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace courier::protocol {

/// What a client learns about one of its requests: any number of `progress` (a held request the server reports
/// on), then exactly one terminal: `answered`, `cancelled` or `server_gone`.
enum class reply_status : std::uint8_t
{
    answered,     ///< terminal: the (final) reply is attached
    progress,     ///< a progress reply is attached; a terminal follows
    cancelled,    ///< terminal: the cancel won the race; nothing attached
    server_gone,  ///< terminal: the server closed without answering; nothing attached
};

template <class Req, class Rep>
class request_reply;

/// The asking party: sends requests from its pool, may cancel them, and takes one terminal per request.
template <class Req, class Rep>
class reply_client
{
public:
    /// Makes a request from `args` in the client's pool and sends it with a fresh id. `no_credit` when
    /// `credits` requests are unsettled (the server's room for replies is reserved per request).
    /// Thread: the client. Real-time: wait-free if Req's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] ticket<> try_request(Args&&... args) noexcept;

    /// Asks the server to cancel request `id`, at any time. The server settles the race: either the reply was
    /// already sent (it arrives, and the cancel is ignored) or `cancelled` arrives. `closed` when `id` is
    /// settled, unknown or already cancelled. Never refused for room (reserved per request).
    /// Thread: the client. Real-time: wait-free.
    [[nodiscard]] send_status try_cancel(std::uint64_t id) noexcept COURIER_REALTIME;

    /// Calls `handle(std::uint64_t id, reply_status, Rep* reply)` for up to `max` messages in the order sent:
    /// `progress` (the request stays unsettled) any number of times, then once per request its terminal
    /// (answered or cancelled); when the server has gone and every reply is read, settles each unsettled request
    /// as server_gone (reply nullptr). Returns how many it handled. Each reply goes home to the server's pool
    /// after its call.
    /// Thread: the client. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max) noexcept;

    /// Requests sent and not yet settled.
    /// Thread: the client. Real-time: wait-free.
    [[nodiscard]] std::size_t outstanding() const noexcept COURIER_REALTIME { return waiting.size(); }

    /// Destroys the requests that came back from the server (they die here, their source); returns how many.
    /// Thread: the client. Real-time: wait-free if Req's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// Requests out of the client's pool now.
    /// Thread: the client. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return end.in_flight(); }

    /// The counts of sends and refusals by reason.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// Lets a new thread be the client (a host moved it, a stream restarted); the old one must have stopped
    /// using it. Until the new thread's first call, requests dropped elsewhere go home through the return lane.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { end.reset_thread_role(); }

    /// The client goes away: the server's later replies answer `gone`. The client's thread must have
    /// stopped. Returns how many queued replies it dropped.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class request_reply<Req, Rep>;
    using link_end = party<Req, Rep, detail::reply_kind>;
    reply_client(link_end& e, std::size_t credits) : end(e), waiting(credits) {}
    link_end& end;
    detail::id_table<bool> waiting;  // value: a cancel was sent; the client's thread only
    std::uint64_t next_id = 1;
};

/// The answering party and the arbiter of every cancel race: it answers a request at once (poll) or holds it,
/// may report progress on it (try_progress), and settles it later (try_finish); a cancel settles a request only
/// while it is held.
template <class Req, class Rep>
class reply_server
{
public:
    /// Answers up to `max` new requests at once: calls `answer(std::uint64_t id, Req&)`, which returns the
    /// Rep, and sends it back (the request goes home first). A cancel for a held request settles it as
    /// cancelled; any other cancel is late and ignored (its reply is on the way). Returns how many messages it
    /// handled. A reply is only refused when the client has gone (room was reserved with the request).
    /// Thread: the server. Real-time: wait-free if `answer` and Rep's move constructor and destructor are.
    template <class Answer>
    std::size_t poll(Answer&& answer, std::size_t max) noexcept;

    /// Takes up to `max` messages: each new request is held and passed to `start(std::uint64_t id, const
    /// Req&)`, to be reported on by try_progress and settled later by try_finish (or by a cancel, whichever the
    /// server sees first); cancels as in poll. Returns how many messages it handled.
    /// Thread: the server. Real-time: wait-free if `start` is.
    template <class Start>
    std::size_t drain(Start&& start, std::size_t max) noexcept;

    /// Sends a progress reply made from `args` for held request `id`; the request stays held. `closed` when `id`
    /// is not held (nothing goes out after the final reply or a cancel); `no_credit` when only the room reserved
    /// for final replies is left (always, when the request_reply was made with no progress credits): progress
    /// is droppable, the final reply is not; `gone` when the client has gone.
    /// Thread: the server. Real-time: wait-free if Rep's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_progress(std::uint64_t id, Args&&... args) noexcept;

    /// Settles held request `id` with a reply made from `args`: `sent` (the request goes home first), or
    /// `closed` when it is not held (cancelled or already settled: the reply is not made), or `gone`. Never
    /// refused for room (reserved per request).
    /// Thread: the server. Real-time: wait-free if Rep's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_finish(std::uint64_t id, Args&&... args) noexcept;

    /// The held request `id`, or nullptr when it is not held.
    /// Thread: the server. Real-time: wait-free.
    [[nodiscard]] const Req* pending(std::uint64_t id) noexcept COURIER_REALTIME
    {
        auto* p = held.find(id);
        return p != nullptr ? p->body.get() : nullptr;
    }

    /// How many requests are held.
    /// Thread: the server. Real-time: wait-free.
    [[nodiscard]] std::size_t pending_count() const noexcept COURIER_REALTIME { return held.size(); }

    /// Cancels that arrived after their request was settled (the race lost by the cancel).
    /// Thread: the server. Real-time: wait-free.
    [[nodiscard]] std::uint64_t late_cancels() const noexcept COURIER_REALTIME { return late; }

    /// Destroys the replies that came back; returns how many.
    /// Thread: the server. Real-time: wait-free if Rep's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// The counts of replies sent and refused.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// Lets a new thread be the server (the audio device restarted its callback on a new thread); the old one
    /// must have stopped using it. Held requests stay held. Until the new thread's first call, replies dropped
    /// elsewhere go home through the return lane.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { end.reset_thread_role(); }

    /// The server goes away: the client settles its unsettled requests as server_gone. The server's thread
    /// must have stopped. Returns how many queued requests it dropped (they go home to the client's pool).
    /// Requests still held go home when the request_reply dies.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class request_reply<Req, Rep>;
    using link_end = party<Rep, Req, detail::reply_kind>;
    using in_envelope = typename link_end::in_envelope;
    reply_server(link_end& e, std::size_t credits) : end(e), held(credits) {}

    // Settles a cancel: the held request goes home and `cancelled` goes out; a cancel for a request no longer
    // held is late. The server is the only one who settles, so whichever it sees first wins.
    void on_cancel(std::uint64_t id) noexcept;
    // Removes held request `id` (its body goes home before the settlement leaves) and returns its channel.
    bool release(std::uint64_t id, typename link_end::answer_channel& reply_to) noexcept;

    link_end& end;
    // The server's thread only. A held request: its body and the channel its settlement goes to.
    struct held_request
    {
        pool_ptr<Req> body;
        typename link_end::answer_channel reply_to;
    };
    detail::id_table<held_request> held;
    std::uint64_t late = 0;
};

/// A client and a server, either of them the audio thread, with at most `credits` requests unsettled and at
/// most `progress_credits` progress replies out at once.
template <class Req, class Rep>
class request_reply
{
public:
    using client_type = reply_client<Req, Rep>;
    using server_type = reply_server<Req, Rep>;

    /// Opens the link in `table` (two free slots). `progress_credits` is 0 for a link whose requests are
    /// answered by one reply each. Throws std::invalid_argument when `credits` is 0 or either count is above
    /// 2^32 - 1, and as duplex does.
    /// Thread: setup. Real-time: no (allocates).
    request_reply(port_table& table, std::size_t credits, std::size_t progress_credits = 0)
        // Markers: per request one cancel, plus up to `credits` late cancels of requests already settled that the
        // server has not read yet; so a cancel never finds the queue full.
        : link(table, credits, server_credits(credits, progress_credits), 2 * credits), c(link.a(), credits),
          s(link.b(), credits)
    {
    }

    request_reply(const request_reply&) = delete;
    request_reply& operator=(const request_reply&) = delete;

    /// Gives the requests still held back to the client's pool, then closes the link (see duplex).
    /// Thread: setup (both parties stopped). Real-time: no (frees).
    ~request_reply()
    {
        link.reset_thread_roles();  // this thread now returns the held requests
        s.held.clear();             // ✗ they die here, or on the client's pool when the link closes
    }

    /// The asking party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] client_type& client() noexcept COURIER_REALTIME { return c; }

    /// The answering party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] server_type& server() noexcept COURIER_REALTIME { return s; }

private:
    // The server's pool: a final reply per request, one more (a final still in the client's handler while the
    // next request is answered) and the progress replies (see try_progress). Checked here, before the sum could
    // wrap to a small pool.
    static std::size_t server_credits(std::size_t credits, std::size_t progress_credits)
    {
        if (credits == 0 || credits > UINT32_MAX || progress_credits > UINT32_MAX)
            throw std::invalid_argument(
                "courier::protocol::request_reply: credits must be between 1 and 2^32 - 1, progress_credits at "
                "most 2^32 - 1");
        return credits + 1 + progress_credits;
    }

    duplex<Req, Rep, detail::reply_kind> link;
    client_type c;
    server_type s;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Req, class Rep>
template <class... Args>
ticket<> reply_client<Req, Rep>::try_request(Args&&... args) noexcept
{
    if (waiting.full())
        return {end.refuse(send_status::no_credit), 0};
    const send_status o = end.try_post(next_id, detail::reply_kind::request, std::forward<Args>(args)...);
    if (o != send_status::sent)
        return {o, 0};
    (void)waiting.insert(next_id, false);  // room checked above
    return {o, next_id++};
}

template <class Req, class Rep>
send_status reply_client<Req, Rep>::try_cancel(std::uint64_t id) noexcept
{
    bool* cancel_sent = waiting.find(id);
    if (cancel_sent == nullptr || *cancel_sent)
        return send_status::closed;
    const send_status o = end.try_signal(id, detail::reply_kind::cancel);  // room reserved (see request_reply)
    if (o == send_status::sent)
        *cancel_sent = true;
    return o;
}

template <class Req, class Rep>
template <class Handler>
std::size_t reply_client<Req, Rep>::drain(Handler&& handle, std::size_t max) noexcept
{
    // Read before draining: once the server's inbox is closed, every reply it sent is already in ours
    // (its sends happen before the close, whose generation store is_open's acquire load pairs with).
    const bool server_gone = !end.peer_open();
    std::size_t handled = end.drain(
        [&](typename link_end::in_envelope&& m) {
            if (m.kind == detail::reply_kind::progress)
            {
                handle(m.id, reply_status::progress, m.body.get());  // not a terminal: the request stays unsettled
                return;
            }
            (void)waiting.erase(m.id);
            handle(m.id, m.kind == detail::reply_kind::reply ? reply_status::answered : reply_status::cancelled,
                   m.body.get());
        },
        max);  // each reply goes home to the server's pool after its call
    while (server_gone && handled < max && !waiting.empty())
    {
        const std::uint64_t id = waiting.front_id();
        (void)waiting.erase(id);
        handle(id, reply_status::server_gone, static_cast<Rep*>(nullptr));
        ++handled;
    }
    return handled;
}

template <class Req, class Rep>
bool reply_server<Req, Rep>::release(std::uint64_t id, typename link_end::answer_channel& reply_to) noexcept
{
    return held.erase(id, [&](held_request&& request) noexcept {
        request.body.reset();  // goes home before the settlement leaves; ✗ dies on the client's thread
        reply_to = request.reply_to;
    });
}

template <class Req, class Rep>
void reply_server<Req, Rep>::on_cancel(std::uint64_t id) noexcept
{
    typename link_end::answer_channel reply_to;
    if (!release(id, reply_to))
    {
        ++late;
        return;
    }
    // To the channel the request carried. Room reserved; refused only if the client has gone.
    (void)end.try_signal_to(reply_to, id, detail::reply_kind::cancelled);
}

template <class Req, class Rep>
template <class Answer>
std::size_t reply_server<Req, Rep>::poll(Answer&& answer, std::size_t max) noexcept
{
    return end.drain(
        [&](in_envelope&& m) {
            if (m.kind == detail::reply_kind::cancel)
                return on_cancel(m.id);
            Rep reply = answer(m.id, *m.body);
            // The request goes home before its reply leaves, so a client that sees the reply may reuse its credit.
            m.body.reset();
            // The reply goes where the request says: the channel it carries into the client's inbox.
            const send_status o = end.try_post_to(m.reply_to, m.id, detail::reply_kind::reply, std::move(reply));
            // Room for the reply was reserved with the request: only the client's going away refuses it.
            COURIER_EXPECTS(o == send_status::sent || o == send_status::gone);
            (void)o;
        },
        max);
}

template <class Req, class Rep>
template <class Start>
std::size_t reply_server<Req, Rep>::drain(Start&& start, std::size_t max) noexcept
{
    return end.drain(
        [&](in_envelope&& m) {
            if (m.kind == detail::reply_kind::cancel)
                return on_cancel(m.id);
            start(m.id, std::as_const(*m.body));
            [[maybe_unused]] const bool kept =
                held.insert(m.id, held_request{std::move(m.body), std::move(m.reply_to)});  // room: credits
            COURIER_EXPECTS(kept);
        },
        max);
}

template <class Req, class Rep>
template <class... Args>
send_status reply_server<Req, Rep>::try_progress(std::uint64_t id, Args&&... args) noexcept
{
    const held_request* request = held.find(id);
    if (request == nullptr)
        return send_status::closed;  // cancelled or settled: nothing after the terminal
    (void)end.collect();
    // Keep `credits` + 1 bodies for final replies: one per request the client may have unsettled, plus one for
    // a final still in the client's handler while the next request is answered.
    if (end.in_flight() + held.capacity() + 1 >= end.credits())
        return end.refuse(send_status::no_credit);
    // To the channel the request carried, as its final reply will: so progress always arrives before it.
    return end.try_post_to(request->reply_to, id, detail::reply_kind::progress, std::forward<Args>(args)...);
}

template <class Req, class Rep>
template <class... Args>
send_status reply_server<Req, Rep>::try_finish(std::uint64_t id, Args&&... args) noexcept
{
    typename link_end::answer_channel reply_to;
    if (!release(id, reply_to))
        return send_status::closed;  // cancelled or settled: no second terminal
    const send_status o = end.try_post_to(reply_to, id, detail::reply_kind::reply, std::forward<Args>(args)...);
    COURIER_EXPECTS(o == send_status::sent || o == send_status::gone);  // room reserved per request
    return o;
}

}  // namespace courier::protocol
