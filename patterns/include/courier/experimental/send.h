// SPDX-License-Identifier: MIT
// Send: fire-and-forget from the sender's pool, with every failure to enqueue reported to the sender
// (docs/patterns/protocol_send.md). Experimental: for most uses a lane, or credit_sender for bounded in-flight
// messages, says the same more simply; this stays while its place among those is decided.
#pragma once

#include <courier/protocol/duplex.h>

#include <variant>

namespace courier::protocol {

template <class T>
class send_link;

/// The sending party of a send_link: makes each message in its own pool (its credits) and learns of every
/// failure to enqueue as a value.
template <class T>
class message_sender
{
public:
    /// Makes a T from `args` in the sender's pool and sends it. Returns `sent`, or `no_credit` (every credit
    /// out), `full` or `gone`; on a refusal the message dies here, on this thread, and is counted.
    /// Thread: the sender. Real-time: wait-free if T's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_send(Args&&... args) noexcept
    {
        return end.try_post(next_id++, detail::send_kind::message, std::forward<Args>(args)...);
    }

    /// Destroys the messages that came back from the receiver (they die here, their source); returns how many.
    /// Thread: the sender. Real-time: wait-free if T's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// Messages out of the sender's pool: sent and not yet back and collected (a refused one dies at once).
    /// Thread: the sender. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return end.in_flight(); }

    /// The most messages out at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t credits() const noexcept COURIER_REALTIME { return end.credits(); }

    /// The counts of sends and refusals by reason.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

private:
    friend class send_link<T>;
    explicit message_sender(party<T, std::monostate, detail::send_kind>& e) noexcept : end(e) {}
    party<T, std::monostate, detail::send_kind>& end;
    std::uint64_t next_id = 1;  // the sender's thread only
};

/// The receiving party of a send_link.
template <class T>
class message_receiver
{
public:
    /// Calls `handle(std::uint64_t id, T&)` for up to `max` messages, in the order sent; returns how many.
    /// Each message goes home to the sender's pool after its call (it dies there, not here).
    /// Thread: the receiver. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max) noexcept
    {
        return end.drain([&](envelope<T, detail::send_kind, std::monostate>&& m) { handle(m.id, *m.body); }, max);
    }

    /// The receiver goes away: later sends answer gone. Returns how many queued messages it dropped
    /// unread (they were reported `sent`; count them as lost). The receiver's thread must have stopped.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class send_link<T>;
    explicit message_receiver(party<std::monostate, T, detail::send_kind>& e) noexcept : end(e) {}
    party<std::monostate, T, detail::send_kind>& end;
};

/// Send: one sender, one receiver, either of them the audio thread. A message is made in the sender's
/// pool, so the sender has `credits` messages out at most; the receiver's queue has room for all of them.
template <class T>
class send_link
{
public:
    using sender_type = message_sender<T>;
    using receiver_type = message_receiver<T>;

    /// Opens the link in `table` (two free slots; the table must outlive the link). The receiver's queue holds
    /// `queue_capacity` messages, or (for 0) one more than the credits, so that only credits can run out.
    /// Thread: setup. Real-time: no (allocates).
    send_link(port_table& table, std::size_t credits, std::size_t queue_capacity = 0)
        : link(table, credits, 1, 0, queue_capacity), tx(link.a()), rx(link.b())
    {
    }

    /// The sending party; hand it to the sender's thread.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] sender_type& sender() noexcept COURIER_REALTIME { return tx; }

    /// The receiving party; hand it to the receiver's thread.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] receiver_type& receiver() noexcept COURIER_REALTIME { return rx; }

private:
    duplex<T, std::monostate, detail::send_kind> link;
    message_sender<T> tx;
    message_receiver<T> rx;
};

}  // namespace courier::protocol
