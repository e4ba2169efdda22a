// SPDX-License-Identifier: MIT
// Subscribe/notify/unsubscribe: notifications until unsubscribe, which is acknowledged, and no notification
// after the acknowledgement (docs/patterns/protocol_subscription.md).
#pragma once

#include <courier/protocol/request_reply.h>

#include <variant>

namespace courier::protocol {

/// What the subscriber learns.
enum class subscription_event : std::uint8_t
{
    notification,    ///< a notification (attached) for the subscription
    ack,             ///< terminal: the unsubscribe is done; no notification for this id follows
    publisher_gone,  ///< terminal: the publisher closed; no notification follows
};

/// Where the subscriber stands.
enum class subscriber_state : std::uint8_t
{
    idle,            ///< not subscribed (or the acknowledgement has arrived)
    subscribed,      ///< notifications flow
    unsubscribing,   ///< unsubscribe sent; notifications may still arrive until the acknowledgement
};

template <class T>
class subscription;

/// The subscribing party.
template <class T>
class subscriber
{
public:
    /// Subscribes with a fresh subscription id. `closed` unless idle.
    /// Thread: the subscriber. Real-time: wait-free.
    [[nodiscard]] ticket<> try_subscribe() noexcept COURIER_REALTIME;

    /// Asks the publisher to stop; it answers with an acknowledgement, after which no notification arrives.
    /// `closed` unless subscribed.
    /// Thread: the subscriber. Real-time: wait-free.
    [[nodiscard]] send_status try_unsubscribe() noexcept COURIER_REALTIME;

    /// Calls `handle(std::uint64_t subscription_id, subscription_event, T* notification)` for up to `max`
    /// messages in the order sent; returns how many. When the publisher has gone and everything is read, a
    /// live subscription ends with publisher_gone.
    /// Thread: the subscriber. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max) noexcept;

    /// Where the subscriber stands.
    /// Thread: the subscriber. Real-time: wait-free.
    [[nodiscard]] subscriber_state state() const noexcept COURIER_REALTIME { return now; }

    /// The current (or last) subscription's id.
    /// Thread: the subscriber. Real-time: wait-free.
    [[nodiscard]] std::uint64_t id() const noexcept COURIER_REALTIME { return current; }

    /// The subscriber goes away (its thread has stopped): the publisher's notifications answer gone.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class subscription<T>;
    explicit subscriber(party<std::monostate, T, detail::subscription_kind>& e) noexcept : end(e) {}
    party<std::monostate, T, detail::subscription_kind>& end;
    // The subscriber's thread only.
    subscriber_state now = subscriber_state::idle;
    std::uint64_t current = 0;
};

/// The publishing party: notifies while someone is subscribed.
template <class T>
class publisher
{
public:
    /// Handles up to `max` subscribe and unsubscribe messages; answers each unsubscribe with the
    /// acknowledgement, after which try_notify answers `closed`. Returns how many it handled.
    /// Thread: the publisher. Real-time: wait-free.
    std::size_t poll(std::size_t max) noexcept COURIER_REALTIME;

    /// Makes a notification from `args` and sends it. `closed` when nobody is subscribed (call poll first to
    /// learn of an unsubscribe); otherwise as any send, with refusals counted.
    /// Thread: the publisher. Real-time: wait-free if T's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_notify(Args&&... args) noexcept
    {
        if (current == 0)
            return send_status::closed;
        return end.try_post_to(notify_to, current, detail::subscription_kind::notify, std::forward<Args>(args)...);
    }

    /// True while a subscription is live (as of the last poll).
    /// Thread: the publisher. Real-time: wait-free.
    [[nodiscard]] bool subscribed() const noexcept COURIER_REALTIME { return current != 0; }

    /// Destroys the notifications that came back; returns how many.
    /// Thread: the publisher. Real-time: wait-free if T's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// Notifications out now (at most the credits).
    /// Thread: the publisher. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return end.in_flight(); }

    /// The counts of notifications sent and refused.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

    /// The publisher goes away (its thread has stopped): a live subscription ends with publisher_gone.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class subscription<T>;
    explicit publisher(party<T, std::monostate, detail::subscription_kind>& e) noexcept : end(e) {}
    party<T, std::monostate, detail::subscription_kind>& end;
    // The publisher's thread only.
    std::uint64_t current = 0;  // the live subscription's id, 0 for none
    typename party<T, std::monostate, detail::subscription_kind>::answer_channel notify_to;  // the channel subscribe carried
};

/// One subscriber and one publisher, either of them the audio thread (typically the audio side publishes
/// meters); at most `credits` notifications are out at once.
template <class T>
class subscription
{
public:
    using subscriber_type = subscriber<T>;
    using publisher_type = publisher<T>;

    /// Opens the link in `table` (two free slots).
    /// Thread: setup. Real-time: no (allocates).
    subscription(port_table& table, std::size_t credits) : link(table, 1, credits, 2), sub(link.a()), pub(link.b())
    {
    }

    /// The subscribing party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] subscriber_type& subscribing() noexcept COURIER_REALTIME { return sub; }

    /// The publishing party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] publisher_type& publishing() noexcept COURIER_REALTIME { return pub; }

private:
    duplex<std::monostate, T, detail::subscription_kind> link;
    subscriber<T> sub;
    publisher<T> pub;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
ticket<> subscriber<T>::try_subscribe() noexcept
{
    if (now != subscriber_state::idle)
        return {send_status::closed, 0};
    const send_status o = end.try_signal(current + 1, detail::subscription_kind::subscribe);
    if (o != send_status::sent)
        return {o, 0};
    now = subscriber_state::subscribed;
    return {o, ++current};
}

template <class T>
send_status subscriber<T>::try_unsubscribe() noexcept
{
    if (now != subscriber_state::subscribed)
        return send_status::closed;
    const send_status o = end.try_signal(current, detail::subscription_kind::unsubscribe);
    if (o == send_status::sent)
        now = subscriber_state::unsubscribing;
    return o;
}

template <class T>
template <class Handler>
std::size_t subscriber<T>::drain(Handler&& handle, std::size_t max) noexcept
{
    const bool publisher_gone = !end.peer_open();  // before draining: see reply_client::drain
    std::size_t handled = end.drain(
        [&](envelope<T, detail::subscription_kind, std::monostate>&& m) {
            if (m.kind == detail::subscription_kind::ack)
            {
                if (m.id == current)
                    now = subscriber_state::idle;
                handle(m.id, subscription_event::ack, static_cast<T*>(nullptr));
            }
            else
                handle(m.id, subscription_event::notification, m.body.get());
        },
        max);
    if (publisher_gone && handled < max && now != subscriber_state::idle)
    {
        now = subscriber_state::idle;
        handle(current, subscription_event::publisher_gone, static_cast<T*>(nullptr));
        ++handled;
    }
    return handled;
}

template <class T>
std::size_t publisher<T>::poll(std::size_t max) noexcept
{
    return end.drain(
        [&](envelope<std::monostate, detail::subscription_kind, T>&& m) {
            if (m.kind == detail::subscription_kind::subscribe)
            {
                current = m.id;
                notify_to = m.reply_to;  // notifications and the ack go where the subscribe said
            }
            else if (m.kind == detail::subscription_kind::unsubscribe && m.id == current)
            {
                current = 0;  // from here on try_notify answers closed: nothing can follow the ack
                // Room reserved (the subscriber has one unsubscribe out at a time); refused only if it has gone.
                (void)end.try_signal_to(notify_to, m.id, detail::subscription_kind::ack);
            }
        },
        max);
}

}  // namespace courier::protocol
