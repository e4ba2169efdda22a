// SPDX-License-Identifier: MIT
// Priority: urgent messages overtake bulk ones through two lanes drained urgent-first, with a share per
// call kept for bulk (docs/patterns/priority_lanes.md).
// Experimental: nothing in courier's engine, GUI or demos uses it yet, and its API may change.
#pragma once

#include <courier/contracts.h>
#include <courier/lane.h>

#include <cstddef>
#include <stdexcept>
#include <utility>

namespace courier {

/// Which of the two lanes a message came through.
enum class priority
{
    urgent,  ///< overtakes bulk: note-offs, transport stop, panic
    bulk     ///< may wait: wavetable chunks, preset loads, long parameter lists
};

/// What one drain call handled, per lane.
struct priority_report
{
    std::size_t urgent = 0;  ///< urgent messages handled by this call
    std::size_t bulk = 0;    ///< bulk messages handled by this call

    /// Both lanes together.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t total() const noexcept { return urgent + bulk; }
};

/// A snapshot of both lanes' counters; each field is exact for some moment during the call.
struct priority_stats
{
    lane_stats urgent;
    lane_stats bulk;
};

template <class T>
class priority_receiver;

/// Two lanes into one consumer, an urgent one and a bulk one. Each drain call handles urgent messages first,
/// so a note-off sent after a thousand wavetable chunks is handled in the next callback, not after them.
///
/// The split of one call's `budget` between the lanes is fixed by `bulk_share` (the share kept for bulk):
/// - bulk cannot starve urgent: each call handles at least min(urgent queued, budget - bulk_share) urgent
///   messages, however much bulk is queued, and handles them before any bulk message;
/// - urgent cannot starve bulk when bulk_share > 0: each call handles at least min(bulk queued, bulk_share,
///   budget) bulk messages, however much urgent is queued. With bulk_share 0 the priority is strict, and a
///   steady flood of urgent messages (budget or more per call) starves bulk for as long as it lasts.
/// Budget left over by one lane goes to the other. Each lane is FIFO; between lanes there is no order.
///
/// The two senders are plain lane senders, so urgent and bulk may come from one thread or from two. The
/// object must outlive its ends; messages still queued die in its destructor, on the thread that destroys it.
template <class T>
class priority_lanes
{
public:
    /// The ends' types, for a processor that keeps them as members: both senders are plain lane senders.
    using sender_type = lane_sender<T>;
    using receiver_type = priority_receiver<T>;

    /// Reserves both lanes and keeps `bulk_share` of every drain call's budget for bulk messages (0 makes the
    /// priority strict). Throws std::invalid_argument when a capacity is 0.
    /// Thread: setup. Real-time: no (allocates).
    priority_lanes(std::size_t urgent_capacity, std::size_t bulk_capacity, std::size_t bulk_share)
        : urgent(urgent_capacity), bulk(bulk_capacity), share(bulk_share)
    {
    }

    priority_lanes(const priority_lanes&) = delete;
    priority_lanes& operator=(const priority_lanes&) = delete;

    /// Hands out the urgent lane's sending end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] lane_sender<T> urgent_sender() { return urgent.sender(); }

    /// Hands out the bulk lane's sending end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] lane_sender<T> bulk_sender() { return bulk.sender(); }

    /// Hands out the consumer's end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] priority_receiver<T> receiver()
    {
        return priority_receiver<T>(urgent.receiver(), bulk.receiver(), share);
    }

    /// The part of each drain call's budget kept for bulk messages.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t bulk_share() const noexcept COURIER_REALTIME { return share; }

    /// Both lanes' counters: sent, refused (a full lane), received, high-water mark.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] priority_stats stats() const noexcept COURIER_REALTIME { return {urgent.stats(), bulk.stats()}; }

private:
    lane<T> urgent;
    lane<T> bulk;
    const std::size_t share;
};

/// The consumer's end of a priority_lanes. Move-only; one thread drains at a time (the lanes' role guards
/// check in debug builds).
template <class T>
class priority_receiver
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    priority_receiver() noexcept = default;

    /// Calls `handle(T&&, priority)` for up to `budget` messages and reports how many came from each lane.
    /// Order within the call: up to budget - bulk_share urgent messages, then bulk messages up to what is
    /// left of the budget, then urgent again if bulk left budget over. Each message dies right after its call
    /// returns, on this thread.
    /// Thread: consumer. Real-time: wait-free if `handle` and T's destructor are.
    template <class Handler>
    priority_report drain(Handler&& handle, std::size_t budget) noexcept;

    /// Lets another thread become this end's consumer; the previous one must have stopped using it.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME
    {
        from_urgent.reset_thread_role();
        from_bulk.reset_thread_role();
    }

    /// True when this end belongs to a priority_lanes.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept { return static_cast<bool>(from_urgent); }

private:
    friend class priority_lanes<T>;
    priority_receiver(lane_receiver<T> u, lane_receiver<T> b, std::size_t s) noexcept
        : from_urgent(std::move(u)), from_bulk(std::move(b)), share(s)
    {
    }

    lane_receiver<T> from_urgent;
    lane_receiver<T> from_bulk;
    std::size_t share = 0;  // set at setup
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
template <class Handler>
priority_report priority_receiver<T>::drain(Handler&& handle, std::size_t budget) noexcept
{
    COURIER_EXPECTS(static_cast<bool>(from_urgent));
    auto urgent_handler = [&handle](T&& m) { handle(std::move(m), priority::urgent); };
    auto bulk_handler = [&handle](T&& m) { handle(std::move(m), priority::bulk); };
    const std::size_t reserved = share < budget ? share : budget;

    // Three bounded phases, at most `budget` messages in all. Urgent first, but never into the bulk share;
    // bulk then takes its share and whatever urgent left; urgent finally takes what bulk left.
    priority_report report;
    report.urgent = from_urgent.drain(urgent_handler, budget - reserved);
    report.bulk = from_bulk.drain(bulk_handler, budget - report.urgent);
    if (report.total() < budget)
        report.urgent += from_urgent.drain(urgent_handler, budget - report.total());
    return report;
}

}  // namespace courier
