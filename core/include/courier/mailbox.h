// SPDX-License-Identifier: MIT
// Fan-in from several producer threads to one consumer, as one lane per producer drained round-robin
// (docs/patterns/mailbox.md).
#pragma once

#include <courier/contracts.h>
#include <courier/lane.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace courier {

template <class T, class Storage>
class mailbox_receiver;

/// Several producers feeding one consumer. Each producer gets a lane of its own, so the consumer never shares
/// a multi-producer queue with anybody; the consumer drains the lanes round-robin with a budget per call, so
/// a flooding producer can neither starve the others nor make one callback unbounded.
///
/// All lanes are allocated in the constructor. Producers may be added while the consumer runs. The mailbox
/// outlives every end it hands out; queued messages die in its destructor, on the thread that destroys it.
/// `Storage` is each lane's storage policy, by default the lane's own default (ring_storage, <courier/lane.h>).
template <class T, class Storage = ring_storage<T>>
class mailbox
{
public:
    /// Reserves `max_producers` lanes of `lane_capacity` messages each. Throws std::invalid_argument when
    /// `max_producers` is 0 or above 2^32 - 1, or as the lane does for `lane_capacity`.
    /// Thread: setup. Real-time: no (allocates).
    mailbox(std::size_t max_producers, std::size_t lane_capacity)
    {
        if (max_producers == 0 || max_producers > UINT32_MAX)
            throw std::invalid_argument("courier::mailbox: max_producers must be between 1 and 2^32 - 1");
        lanes.reserve(max_producers);
        receivers.reserve(max_producers);
        for (std::size_t i = 0; i < max_producers; ++i)
        {
            lanes.push_back(std::make_unique<lane<T, Storage>>(lane_capacity));
            receivers.push_back(lanes.back()->receiver());
        }
    }

    mailbox(const mailbox&) = delete;
    mailbox& operator=(const mailbox&) = delete;

    /// The ends' types, for a processor that holds them as members.
    using sender_type = lane_sender<T, Storage>;
    using receiver_type = mailbox_receiver<T, Storage>;

    /// Registers a new producer and returns its own sender. Throws std::length_error when all
    /// `max_producers` lanes are taken. Calls to add_producer must not overlap each other.
    /// Thread: control. Real-time: no (may throw).
    [[nodiscard]] lane_sender<T, Storage> add_producer()
    {
        const std::size_t index = producers.load(std::memory_order_relaxed);  // only add_producer stores it
        if (index == lanes.size())
            throw std::length_error("courier::mailbox: every producer lane is taken");
        auto sender = lanes[index]->sender();
        // Pairs with the acquire load in active_lanes(): the consumer only visits lanes already handed out.
        producers.store(index + 1, std::memory_order_release);
        return sender;
    }

    /// Hands out the consumer's end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] mailbox_receiver<T, Storage> receiver()
    {
        if (receiver_taken)
            throw std::logic_error("courier::mailbox: receiver() called twice");
        receiver_taken = true;
        return mailbox_receiver<T, Storage>(*this);
    }

    /// How many producers have been added.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t producer_count() const noexcept COURIER_REALTIME
    {
        return producers.load(std::memory_order_relaxed);  // a count for display; no data read through it
    }

    /// The counters of producer `index`'s lane (0 for the first producer added).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats(std::size_t index) const noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(index < lanes.size());
        return lanes[index]->stats();
    }

private:
    friend class mailbox_receiver<T, Storage>;

    std::size_t active_lanes() const noexcept COURIER_REALTIME
    {
        return producers.load(std::memory_order_acquire);  // pairs with the release in add_producer
    }

    // Written at setup only.
    std::vector<std::unique_ptr<lane<T, Storage>>> lanes;
    std::vector<lane_receiver<T, Storage>> receivers;
    bool receiver_taken = false;

    // Written by add_producer on the control thread.
    std::atomic<std::size_t> producers{0};
};

/// The consumer's end of a mailbox.
template <class T, class Storage = ring_storage<T>>
class mailbox_receiver
{
public:
    mailbox_receiver() noexcept = default;
    mailbox_receiver(mailbox_receiver&& other) noexcept
        : box(std::exchange(other.box, nullptr)), next_lane(other.next_lane)
    {
    }
    mailbox_receiver& operator=(mailbox_receiver&& other) noexcept
    {
        if (this != &other)
        {
            box = std::exchange(other.box, nullptr);
            next_lane = other.next_lane;
        }
        return *this;
    }

    /// Calls `handle(T&&)` for up to `budget` messages, taking one message from each non-empty lane in turn,
    /// and starting each call where the last one stopped. Returns how many messages it handled. With k
    /// producers holding messages, each gets at least budget / k of the calls.
    /// Thread: consumer. Real-time: wait-free if `handle` and T's destructor are.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t budget) noexcept;

    /// True when this end belongs to a mailbox.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return box != nullptr; }

    /// Lets another thread become the consumer of every lane; the previous one must have stopped using them.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(box != nullptr);
        for (auto& lane_end : box->receivers)
            lane_end.reset_thread_role();
    }

private:
    friend class mailbox<T, Storage>;
    explicit mailbox_receiver(mailbox<T, Storage>& m) noexcept : box(&m) {}

    mailbox<T, Storage>* box = nullptr;
    std::size_t next_lane = 0;  // written by the consumer only
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T, class Storage>
template <class Handler>
std::size_t mailbox_receiver<T, Storage>::drain(Handler&& handle, std::size_t budget) noexcept
{
    COURIER_EXPECTS(box != nullptr);
    const std::size_t lane_count = box->active_lanes();
    if (lane_count == 0)
        return 0;
    if (next_lane >= lane_count)
        next_lane = 0;

    // Passes over all lanes, one message from each. A pass that finds every lane empty ends the drain, so the
    // work is bounded by (budget + 1) * lane_count lane visits.
    std::size_t handled = 0;
    std::size_t empty_in_a_row = 0;
    while (handled < budget && empty_in_a_row < lane_count)
    {
        if (box->receivers[next_lane].drain(handle, 1) == 1)
        {
            ++handled;
            empty_in_a_row = 0;
        }
        else
        {
            ++empty_in_a_row;
        }
        next_lane = next_lane + 1 == lane_count ? 0 : next_lane + 1;
    }
    return handled;
}

}  // namespace courier
