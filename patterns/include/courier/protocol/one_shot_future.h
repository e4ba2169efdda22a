// SPDX-License-Identifier: MIT
// One-shot future with cancel: exactly one terminal message per request, result or cancelled, whoever wins
// The race, and every body reclaimed in its source context (docs/patterns/protocol_one_shot_future.md).
#pragma once

#include <courier/protocol/request_reply.h>

namespace courier::protocol {

enum class future_kind : std::uint8_t
{
    request,
    cancel,
    result,
    cancelled,
};

/// How a request was settled: exactly one of these per request.
enum class settlement : std::uint8_t
{
    result,       ///< the result (attached) won
    cancelled,    ///< the cancel won; nothing attached
    worker_gone,  ///< the worker closed first; nothing attached
};

template <class Req, class Rep>
class one_shot_future;

/// The requesting party: asks, may cancel, and receives one settlement per request.
template <class Req, class Rep>
class future_requester
{
public:
    /// Makes a request from `args` in the requester's pool and sends it with a fresh id; `no_credit` when
    /// `credits` requests are unsettled.
    /// Thread: the requester. Real-time: wait-free if Req's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] ticket try_request(Args&&... args) noexcept;

    /// Asks the worker to cancel request `id`, at any time. The worker settles the race: either the result was
    /// already sent (it arrives, and the cancel is ignored) or the cancelled message arrives. `closed` when `id`
    /// is settled, unknown or already cancelled.
    /// Thread: the requester. Real-time: wait-free.
    [[nodiscard]] outcome try_cancel(std::uint64_t id) noexcept COURIER_REALTIME;

    /// Calls `handle(std::uint64_t id, settlement, Rep* result)` once per settled request, up to `budget`;
    /// after the worker has gone and everything is read, settles the rest as worker_gone. Returns how many.
    /// Thread: the requester. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t take(Handler&& handle, std::size_t budget) noexcept;

    /// Requests sent and not yet settled.
    /// Thread: the requester. Real-time: wait-free.
    [[nodiscard]] std::size_t outstanding() const noexcept COURIER_REALTIME { return waiting.size(); }

    /// Destroys the requests the worker gave back (they die here, their source); returns how many.
    /// Thread: the requester. Real-time: wait-free if Req's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// Requests out of the requester's pool now.
    /// Thread: the requester. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return end.in_flight(); }

    /// The counts of sends and refusals by reason.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// The requester goes away (its thread has stopped).
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class one_shot_future<Req, Rep>;
    future_requester(endpoint<Req, Rep, future_kind>& e, std::size_t credits) : end(e), waiting(credits) {}
    endpoint<Req, Rep, future_kind>& end;
    detail::id_table<bool> waiting;  // value: a cancel was sent; the requester's thread only
    std::uint64_t next_id = 1;
};

/// The working party: holds each request until it settles it, by its result or by a cancel.
template <class Req, class Rep>
class future_worker
{
public:
    /// Handles up to `budget` messages: a new request is kept pending and passed to `start(std::uint64_t id,
    /// const Req&)`; a cancel for a pending request settles it as cancelled (the request goes home now); a
    /// cancel for a request already settled is ignored (its result is on the way). Returns how many.
    /// Thread: the worker. Real-time: wait-free if `start` is.
    template <class Start>
    std::size_t accept(Start&& start, std::size_t budget) noexcept;

    /// Settles pending request `id` with a result made from `args`: `sent` (the request goes home first), or
    /// `closed` when it is not pending (cancelled or already settled: the result is not made), or
    /// `receiver_gone`. Never refused for room (reserved per request).
    /// Thread: the worker. Real-time: wait-free if Rep's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] outcome try_fulfil(std::uint64_t id, Args&&... args) noexcept;

    /// The pending request `id`, or nullptr when it is not pending.
    /// Thread: the worker. Real-time: wait-free.
    [[nodiscard]] const Req* pending(std::uint64_t id) noexcept COURIER_REALTIME
    {
        auto* p = open.find(id);
        return p != nullptr ? p->body.get() : nullptr;
    }

    /// How many requests are pending.
    /// Thread: the worker. Real-time: wait-free.
    [[nodiscard]] std::size_t pending_count() const noexcept COURIER_REALTIME { return open.size(); }

    /// Cancels that arrived after their request was settled (the race lost by the cancel).
    /// Thread: the worker. Real-time: wait-free.
    [[nodiscard]] std::uint64_t late_cancels() const noexcept COURIER_REALTIME { return late; }

    /// Destroys the results that came back; returns how many.
    /// Thread: the worker. Real-time: wait-free if Rep's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// The counts of settlements sent and refused.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// The worker goes away (its thread has stopped); pending requests go home, and the requester settles them
    /// as worker_gone. Must be followed by the destruction of the link before the worker is used again.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class one_shot_future<Req, Rep>;
    future_worker(endpoint<Rep, Req, future_kind>& e, std::size_t credits) : end(e), open(credits) {}
    endpoint<Rep, Req, future_kind>& end;
    // The worker's thread only.
    // A pending request: its body, held until settled, and the channel its settlement goes to.
    struct pending_request
    {
        pool_ptr<Req> body;
        typename endpoint<Rep, Req, future_kind>::answer_channel reply_to;
    };
    detail::id_table<pending_request> open;
    std::uint64_t late = 0;
};

/// A requester and a worker, either of them the audio thread, with at most `credits` requests unsettled.
template <class Req, class Rep>
class one_shot_future
{
public:
    /// Opens the link in `table` (two free slots).
    /// Thread: setup. Real-time: no (allocates).
    one_shot_future(port_table& table, std::size_t credits)
        // Markers: per request one cancel, plus up to `credits` stale cancels of requests already settled
        // that the worker has not read yet; so a cancel never finds the queue full.
        : link(table, credits, credits + 1, 2 * credits), r(link.a(), credits), w(link.b(), credits)
    {
    }

    one_shot_future(const one_shot_future&) = delete;
    one_shot_future& operator=(const one_shot_future&) = delete;

    /// Gives the requests still pending back to the requester's pool, then closes the link (see duplex).
    /// Thread: setup (both parties stopped). Real-time: no (frees).
    ~one_shot_future()
    {
        link.reset_thread_roles();  // this thread now returns the pending requests
        w.open.clear();             // ✗ they die here, or on the requester's pool when the link closes
    }

    /// The requesting party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] future_requester<Req, Rep>& requester() noexcept COURIER_REALTIME { return r; }

    /// The working party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] future_worker<Req, Rep>& worker() noexcept COURIER_REALTIME { return w; }

private:
    duplex<Req, Rep, future_kind> link;
    future_requester<Req, Rep> r;
    future_worker<Req, Rep> w;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Req, class Rep>
template <class... Args>
ticket future_requester<Req, Rep>::try_request(Args&&... args) noexcept
{
    if (waiting.full())
        return {outcome::no_credit, 0};
    const outcome o = end.try_post(next_id, future_kind::request, std::forward<Args>(args)...);
    if (o != outcome::sent)
        return {o, 0};
    (void)waiting.insert(next_id, false);  // room checked above
    return {o, next_id++};
}

template <class Req, class Rep>
outcome future_requester<Req, Rep>::try_cancel(std::uint64_t id) noexcept
{
    bool* cancel_sent = waiting.find(id);
    if (cancel_sent == nullptr || *cancel_sent)
        return outcome::closed;
    const outcome o = end.try_signal(id, future_kind::cancel);  // room reserved (see one_shot_future)
    if (o == outcome::sent)
        *cancel_sent = true;
    return o;
}

template <class Req, class Rep>
template <class Handler>
std::size_t future_requester<Req, Rep>::take(Handler&& handle, std::size_t budget) noexcept
{
    const bool worker_gone = !end.peer_open();  // before draining: see reply_client::take_replies
    std::size_t handled = end.drain(
        [&](envelope<Rep, future_kind, Req>&& m) {
            (void)waiting.erase(m.id);
            handle(m.id, m.kind == future_kind::result ? settlement::result : settlement::cancelled, m.body.get());
        },
        budget);  // each result goes home to the worker's pool after its call
    while (worker_gone && handled < budget && !waiting.empty())
    {
        const std::uint64_t id = waiting.front_id();
        (void)waiting.erase(id);
        handle(id, settlement::worker_gone, static_cast<Rep*>(nullptr));
        ++handled;
    }
    return handled;
}

template <class Req, class Rep>
template <class Start>
std::size_t future_worker<Req, Rep>::accept(Start&& start, std::size_t budget) noexcept
{
    return end.drain(
        [&](envelope<Req, future_kind, Rep>&& m) {
            if (m.kind == future_kind::request)
            {
                start(m.id, *m.body);
                [[maybe_unused]] const bool kept =
                    open.insert(m.id, pending_request{std::move(m.body), std::move(m.reply_to)});  // room: credits
                COURIER_EXPECTS(kept);
                return;
            }
            // A cancel. The worker is the only one who settles, so whichever it sees first wins.
            typename endpoint<Rep, Req, future_kind>::answer_channel reply_to;
            const bool was_pending = open.erase(m.id, [&](pending_request&& request) noexcept {
                request.body.reset();  // goes home before the settlement leaves; ✗ dies on the requester's thread
                reply_to = request.reply_to;
            });
            if (!was_pending)
            {
                ++late;
                return;
            }
            // To the channel the request carried. Room reserved; refused only if the requester has gone.
            (void)end.try_signal_to(reply_to, m.id, future_kind::cancelled);
        },
        budget);
}

template <class Req, class Rep>
template <class... Args>
outcome future_worker<Req, Rep>::try_fulfil(std::uint64_t id, Args&&... args) noexcept
{
    typename endpoint<Rep, Req, future_kind>::answer_channel reply_to;
    if (!open.erase(id, [&](pending_request&& request) noexcept {
            request.body.reset();  // goes home before the result leaves
            reply_to = request.reply_to;
        }))
        return outcome::closed;  // cancelled or settled: no second terminal
    const outcome o = end.try_post_to(reply_to, id, future_kind::result, std::forward<Args>(args)...);
    COURIER_EXPECTS(o == outcome::sent || o == outcome::receiver_gone);  // room reserved per request
    return o;
}

}  // namespace courier::protocol
