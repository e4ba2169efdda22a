// SPDX-License-Identifier: MIT
// Bounded in-flight: a sender spends one credit per message and gets it back when the message is
// returned or acknowledged, so it fails early instead of overflowing a queue (docs/patterns/credit_sender.md).
// Experimental: nothing in courier's engine, GUI or demos uses it yet, and its API may change.
#pragma once

#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/send_status.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

/// A snapshot of a credit_sender's counters; each field is exact for some moment during the call.
struct credit_stats
{
    std::size_t credits = 0;                 ///< the most messages in flight at once
    std::uint64_t sent = 0;                  ///< messages queued by try_send
    std::uint64_t refused_no_credit = 0;     ///< try_send calls that found no credit
    std::uint64_t refused_full = 0;     ///< try_send calls that had a credit but found the lane full
    std::uint64_t given_back = 0;            ///< messages the receiver returned with give_back
    std::uint64_t acknowledged = 0;          ///< messages the receiver acknowledged without returning them
    std::uint64_t high_water_in_flight = 0;  ///< the most credits spent at once
};

template <class T>
class credit_receiver;

/// A sender with a fixed number of credits. Each message sent spends one; the credit comes back when the
/// receiver hands the message back (give_back, and the sender takes it in reclaim) or acknowledges it
/// (acknowledge). So at most `credits` messages are ever in flight (queued, being worked on by the receiver,
/// or on their way back), and a sender that outruns its receiver is told `no_credit` at once, before
/// anything queues up. A full lane is a different refusal (`full`) that spends no credit.
///
/// Use it where the receiver's work, not the queue, is the limit: disk reads in progress at a worker, scope
/// buffers the GUI has not drawn yet, jobs a network thread has not sent. The credit_sender object is the
/// sending end itself and owns both lanes; it must outlive its receiver. Messages still in either lane die
/// in its destructor, on the thread that destroys it. Returned messages die where reclaim's handler drops
/// them, on the sending thread.
template <class T>
class credit_sender
{
public:
    /// `credits` messages in flight at most, through a lane of `lane_capacity` messages (smaller than
    /// `credits` when the receiver holds messages while it works on them). Allocates both lanes now. Throws
    /// std::invalid_argument when either is 0.
    /// Thread: setup. Real-time: no (allocates).
    credit_sender(std::size_t credits, std::size_t lane_capacity)
        : to_receiver(checked(credits, lane_capacity)), returns(credits), total(credits),
          outgoing(to_receiver.sender()), incoming(returns.receiver())
    {
    }

    /// `credits` messages in flight at most, through a lane as large: `full` cannot happen.
    /// Thread: setup. Real-time: no (allocates).
    explicit credit_sender(std::size_t credits) : credit_sender(credits, credits) {}

    credit_sender(const credit_sender&) = delete;
    credit_sender& operator=(const credit_sender&) = delete;

    /// The receiving end's type, for a processor that holds it as a member (the sender is this object).
    using receiver_type = credit_receiver<T>;

    /// Hands out the receiving end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] credit_receiver<T> receiver()
    {
        if (receiver_taken)
            throw std::logic_error("courier::credit_sender: receiver() called twice");
        receiver_taken = true;
        return credit_receiver<T>(to_receiver.receiver(), returns.sender(), *this);
    }

    /// Queues `message` and spends a credit (`sent`: the credit stays spent until the message comes back or is
    /// acknowledged), or says why not and leaves `message` untouched: `no_credit` (every credit is out, even
    /// after taking in the receiver's acknowledgements: the receiver holds `credits()` messages it has not
    /// finished with) or `full` (a credit was free but the lane had no room; no credit is spent). Both refusals are counted. Messages given back wait for reclaim() to return their credits.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] send_status try_send(T&& message) noexcept COURIER_REALTIME { return send(std::move(message)); }

    /// Copies `message` into the lane and spends a credit, or says why not (see the overload above).
    /// Thread: producer. Real-time: wait-free if T's copy constructor is.
    [[nodiscard]] send_status try_send(const T& message) noexcept
        requires std::is_nothrow_copy_constructible_v<T>
    {
        return send(message);
    }

    /// Takes back the messages the receiver gave back, calling `handle(T&&)` for each (it dies right after,
    /// on this thread), and the receiver's acknowledgements; returns how many credits came back.
    /// Thread: producer. Real-time: wait-free if `handle` and T's destructor are.
    template <class Handler>
    std::size_t reclaim(Handler&& handle) noexcept;

    /// Credits free now, as of the last try_send or reclaim (acknowledgements made since then are not counted
    /// until the next of those calls).
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] std::size_t available() const noexcept COURIER_REALTIME { return total - spent; }

    /// Messages in flight, as of the last try_send or reclaim: credits() - available().
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return spent; }

    /// The number of credits: the most messages in flight at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t credits() const noexcept COURIER_REALTIME { return total; }

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] credit_stats stats() const noexcept COURIER_REALTIME;

private:
    friend class credit_receiver<T>;

    static std::size_t checked(std::size_t credits, std::size_t lane_capacity)
    {
        if (credits == 0 || lane_capacity == 0)
            throw std::invalid_argument("courier::credit_sender: credits and lane_capacity must be at least 1");
        return lane_capacity;
    }

    template <class Message>
    send_status send(Message&& message) noexcept;
    void take_acknowledgements() noexcept COURIER_REALTIME;

    // Written at setup only.
    lane<T> to_receiver;
    lane<T> returns;  // as large as the credits, so give_back never finds it full
    const std::size_t total;
    lane_sender<T> outgoing;
    lane_receiver<T> incoming;
    bool receiver_taken = false;

    // Written by the sending thread only.
    std::size_t spent = 0;
    std::uint64_t acks_taken = 0;  // how many of the receiver's acknowledgements have returned their credit
    counter sent;
    counter refused_no_credit;
    counter refused_full;
    counter high_water;

    // Written by the receiving thread only.
    std::atomic<std::uint64_t> acknowledged{0};  // not only a count: its release store hands the credits back
    counter given_back;
};

/// The receiving end of a credit_sender. Move-only; one thread receives at a time (the lanes' role guards
/// check in debug builds). Every message received must end in exactly one give_back or acknowledge, or its
/// credit never comes back.
template <class T>
class credit_receiver
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    credit_receiver() noexcept = default;

    /// Takes the oldest message out, or returns nothing when none is queued. Its credit stays spent until
    /// the message is given back or acknowledged.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] std::optional<T> try_receive() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(owner != nullptr);
        auto message = from_sender.try_receive();
        if (message)
            ++holding_count;
        return message;
    }

    /// Calls `handle(T&&)` for up to `max_count` queued messages, oldest first, and returns how many it
    /// handled. The handler ends each message's credit with give_back or acknowledge (or later, if it keeps
    /// the message); whatever it leaves in the message dies right after it returns, on this thread.
    /// Thread: consumer. Real-time: wait-free if `handle` and T's destructor are.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max_count) noexcept
    {
        COURIER_EXPECTS(owner != nullptr);
        return from_sender.drain(
            [&](T&& message) {
                ++holding_count;  // before the handler, which may give it back or acknowledge it at once
                handle(std::move(message));
            },
            max_count);
    }

    /// Hands a received message back to the sender, which returns its credit in reclaim() and destroys it
    /// there. Cannot fail: the return lane holds as many messages as there are credits.
    /// Thread: consumer. Real-time: wait-free.
    void give_back(T&& message) noexcept COURIER_REALTIME;

    /// Returns the credits of `count` received messages without sending them back (the receiver keeps or
    /// has consumed them); the sender takes the credits in its next try_send or reclaim.
    /// Thread: consumer. Real-time: wait-free.
    void acknowledge(std::size_t count = 1) noexcept COURIER_REALTIME;

    /// Received messages not yet given back or acknowledged.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] std::size_t holding() const noexcept COURIER_REALTIME { return holding_count; }

    /// The sender's counters (see credit_sender::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] credit_stats stats() const noexcept COURIER_REALTIME { return owner->stats(); }

private:
    friend class credit_sender<T>;
    credit_receiver(lane_receiver<T> r, lane_sender<T> b, credit_sender<T>& o) noexcept
        : from_sender(std::move(r)), back_to_sender(std::move(b)), owner(&o)
    {
    }

    lane_receiver<T> from_sender;
    lane_sender<T> back_to_sender;
    credit_sender<T>* owner = nullptr;
    std::size_t holding_count = 0;  // written by the receiving thread only
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
template <class Message>
send_status credit_sender<T>::send(Message&& message) noexcept
{
    if (spent == total)
    {
        take_acknowledgements();
        if (spent == total)
        {
            refused_no_credit.add();
            return send_status::no_credit;
        }
    }
    if (!outgoing.try_send(std::forward<Message>(message)))  // leaves `message` untouched when refused
    {
        refused_full.add();
        return send_status::full;
    }
    ++spent;
    sent.add();
    high_water.raise_to(spent);
    return send_status::sent;
}

template <class T>
template <class Handler>
std::size_t credit_sender<T>::reclaim(Handler&& handle) noexcept
{
    const std::size_t before = spent;
    take_acknowledgements();
    // At most `total` messages can be in the return lane, so this loop is bounded by the credits.
    const std::size_t returned = incoming.drain(handle, total);  // each returned message dies here, on this thread
    COURIER_EXPECTS(returned <= spent);
    spent -= returned;
    return before - spent;
}

template <class T>
void credit_sender<T>::take_acknowledgements() noexcept
{
    // Pairs with the release store in credit_receiver::acknowledge: once its credit is back, whatever the
    // receiver did with the message (and anything the message pointed to) happened before our next send.
    const std::uint64_t acks = acknowledged.load(std::memory_order_acquire);
    const std::uint64_t fresh = acks - acks_taken;
    COURIER_EXPECTS(fresh <= spent);
    acks_taken = acks;
    spent -= static_cast<std::size_t>(fresh);
}

template <class T>
credit_stats credit_sender<T>::stats() const noexcept
{
    credit_stats s;
    s.credits = total;
    s.sent = sent.load();
    s.refused_no_credit = refused_no_credit.load();
    s.refused_full = refused_full.load();
    s.given_back = given_back.load();
    s.acknowledged = acknowledged.load(std::memory_order_relaxed);  // read as a count here: nothing is read through it
    s.high_water_in_flight = high_water.load();
    return s;
}

template <class T>
void credit_receiver<T>::give_back(T&& message) noexcept
{
    COURIER_EXPECTS(owner != nullptr && holding_count > 0);
    // Cannot fail: the return lane holds `credits` messages, and a message in it still holds its credit, so at
    // most `credits` can be there. A refusal would mean a message not received from this sender.
    [[maybe_unused]] const bool queued = back_to_sender.try_send(std::move(message));
    COURIER_EXPECTS(queued);
    --holding_count;
    owner->given_back.add();
}

template <class T>
void credit_receiver<T>::acknowledge(std::size_t count) noexcept
{
    COURIER_EXPECTS(owner != nullptr && count <= holding_count);
    holding_count -= count;
    // Single writer (this thread): a load, then a release store that pairs with the acquire load in
    // credit_sender::take_acknowledgements.
    owner->acknowledged.store(owner->acknowledged.load(std::memory_order_relaxed) + count, std::memory_order_release);
}

}  // namespace courier
