// SPDX-License-Identifier: MIT
// A one-way wait-free SPSC queue with a fixed capacity, used through a sender and a receiver
// (docs/patterns/lane.md).
#pragma once

#include "core/cache_line.h"
#include "core/contracts.h"
#include "core/lane_stats.h"
#include "core/role_guard.h"
#include "core/rwq_storage.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

template <class T, class Storage>
class lane_sender;
template <class T, class Storage>
class lane_receiver;

/// A one-way queue from one producer thread to one consumer thread, holding at most `capacity` messages.
/// The lane owns the storage; its two ends are handed out once each, as a move-only sender and receiver,
/// so each thread can only do its own half. Sending and receiving never allocate, lock or wait: a full lane
/// refuses the message and says so, and the refusal is counted.
///
/// The lane must outlive both ends. Messages still queued when the lane is destroyed die in its destructor,
/// on the thread that destroys it (normally the control thread, after the audio stream has stopped).
template <class T, class Storage = rwq_storage<T>>
class lane
{
    static_assert(std::is_nothrow_move_constructible_v<T>,
                  "courier::lane: messages must be nothrow-move-constructible (they move on the real-time path)");
    static_assert(std::is_nothrow_destructible_v<T>, "courier::lane: messages must be nothrow-destructible");

public:
    /// Creates an empty lane that holds at most `capacity` messages. Allocates all storage now.
    /// Throws std::invalid_argument when `capacity` is 0.
    /// Thread: setup. Real-time: no (allocates).
    explicit lane(std::size_t capacity) : storage(checked(capacity)), max_depth(capacity) {}

    lane(const lane&) = delete;
    lane& operator=(const lane&) = delete;

    /// Hands out the producer's end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] lane_sender<T, Storage> sender()
    {
        take_once(sender_taken, "courier::lane: sender() called twice");
        return lane_sender<T, Storage>(*this);
    }

    /// Hands out the consumer's end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] lane_receiver<T, Storage> receiver()
    {
        take_once(receiver_taken, "courier::lane: receiver() called twice");
        return lane_receiver<T, Storage>(*this);
    }

    /// The most messages this lane holds at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return max_depth; }

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME
    {
        lane_stats s;
        s.capacity = max_depth;
        // Counters only: nothing is read through them, so relaxed loads are enough.
        s.received = consumer.received.load(std::memory_order_relaxed);
        s.sent = producer.sent.load(std::memory_order_relaxed);
        s.refused = producer.refused.load(std::memory_order_relaxed);
        s.high_water = producer.high_water.load(std::memory_order_relaxed);
        return s;
    }

private:
    friend class lane_sender<T, Storage>;
    friend class lane_receiver<T, Storage>;

    static std::size_t checked(std::size_t capacity)
    {
        if (capacity == 0)
            throw std::invalid_argument("courier::lane: capacity must be at least 1");
        return capacity;
    }

    static void take_once(bool& taken, const char* message)
    {
        if (taken)
            throw std::logic_error(message);
        taken = true;
    }

    // Not marked COURIER_REALTIME themselves: they run T's constructors and destructor, which the public
    // functions calling them are responsible for (see docs/contracts.md, "Conditional guarantees").
    template <class... Args>
    bool try_emplace(Args&&... args) noexcept;
    T* front() noexcept COURIER_REALTIME;
    void pop_front() noexcept;

    static void bump(std::atomic<std::uint64_t>& counter) noexcept COURIER_REALTIME
    {
        // Single writer: a load and a store, no read-modify-write needed.
        counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    Storage storage;
    const std::size_t max_depth;

    // Written by the producer thread only.
    struct alignas(cache_line_size) producer_state
    {
        std::atomic<std::uint64_t> sent{0};
        std::atomic<std::uint64_t> refused{0};
        std::atomic<std::uint64_t> high_water{0};
        std::uint64_t known_received = 0;  // a stale copy of consumer.received: at most the true value
        std::uint64_t known_high_water = 0;
        role_guard guard;
    } producer;

    // Written by the consumer thread only.
    struct alignas(cache_line_size) consumer_state
    {
        std::atomic<std::uint64_t> received{0};
        role_guard guard;
    } consumer;

    // Written at setup only.
    bool sender_taken = false;
    bool receiver_taken = false;
};

/// The producer's end of a lane. Move-only; one thread sends through it at a time (a debug role guard checks).
template <class T, class Storage = rwq_storage<T>>
class lane_sender
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    lane_sender() noexcept = default;

    lane_sender(lane_sender&& other) noexcept : target(std::exchange(other.target, nullptr)) {}
    lane_sender& operator=(lane_sender&& other) noexcept
    {
        target = std::exchange(other.target, nullptr);
        return *this;
    }

    /// Moves `message` into the lane, or returns false and leaves `message` untouched when the lane is full.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] bool try_send(T&& message) noexcept COURIER_REALTIME
    {
        return try_emplace(std::move(message));
    }

    /// Copies `message` into the lane, or returns false when the lane is full.
    /// Thread: producer. Real-time: wait-free if T's copy constructor is.
    [[nodiscard]] bool try_send(const T& message) noexcept
        requires std::is_nothrow_copy_constructible_v<T>
    {
        return try_emplace(message);
    }

    /// Constructs a message in place from `args`, or returns false and leaves `args` untouched when full.
    /// Thread: producer. Real-time: wait-free if the chosen constructor of T is.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept
        requires std::is_nothrow_constructible_v<T, Args&&...>
    {
        COURIER_EXPECTS(target != nullptr);
        return target->try_emplace(std::forward<Args>(args)...);
    }

    /// Lets another thread become this end's producer; the previous one must have stopped using it.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { target->producer.guard.reset(); }

    /// The lane's counters (see lane::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return target->stats(); }

    /// True when this end belongs to a lane.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept { return target != nullptr; }

private:
    friend class lane<T, Storage>;
    explicit lane_sender(lane<T, Storage>& l) noexcept : target(&l) {}

    lane<T, Storage>* target = nullptr;
};

/// The consumer's end of a lane. Move-only; one thread receives through it at a time (a debug role guard checks).
template <class T, class Storage = rwq_storage<T>>
class lane_receiver
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    lane_receiver() noexcept = default;

    lane_receiver(lane_receiver&& other) noexcept : source(std::exchange(other.source, nullptr)) {}
    lane_receiver& operator=(lane_receiver&& other) noexcept
    {
        source = std::exchange(other.source, nullptr);
        return *this;
    }

    /// Takes the oldest message out, or returns nothing when the lane is empty.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] std::optional<T> try_receive() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(source != nullptr);
        T* oldest = source->front();
        if (oldest == nullptr)
            return std::nullopt;
        std::optional<T> message(std::move(*oldest));
        source->pop_front();  // the moved-from shell dies here, on the consumer
        return message;
    }

    /// Calls `handle(T&&)` for up to `max_count` messages, oldest first, and returns how many it handled.
    /// Each message is destroyed right after its call returns, on this thread.
    /// Thread: consumer. Real-time: wait-free if `handle` and T's destructor are.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max_count) noexcept
    {
        COURIER_EXPECTS(source != nullptr);
        std::size_t handled = 0;
        while (handled < max_count)
        {
            T* oldest = source->front();
            if (oldest == nullptr)
                break;
            handle(std::move(*oldest));
            source->pop_front();  // whatever the handler left in the message dies here, on the consumer
            ++handled;
        }
        return handled;
    }

    /// Lets another thread become this end's consumer; the previous one must have stopped using it.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { source->consumer.guard.reset(); }

    /// The lane's counters (see lane::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return source->stats(); }

    /// True when this end belongs to a lane.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept { return source != nullptr; }

private:
    friend class lane<T, Storage>;
    explicit lane_receiver(lane<T, Storage>& l) noexcept : source(&l) {}

    lane<T, Storage>* source = nullptr;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T, class Storage>
template <class... Args>
bool lane<T, Storage>::try_emplace(Args&&... args) noexcept
{
    producer.guard.check();
    const std::uint64_t sent_before = producer.sent.load(std::memory_order_relaxed);  // only we store it

    // known_received is stale, so `depth` is an upper bound. Ask the consumer for the true figure only when
    // the bound says the lane might be full or at a new high-water mark; otherwise we never touch its line.
    std::uint64_t depth = sent_before + 1 - producer.known_received;
    if (depth > max_depth || depth > producer.known_high_water)
    {
        // Pairs with the release store in pop_front: once we see a message as received, the storage has
        // released its slot too, so try_emplace below cannot find the storage full.
        producer.known_received = consumer.received.load(std::memory_order_acquire);
        depth = sent_before + 1 - producer.known_received;
        if (depth > max_depth)
        {
            bump(producer.refused);
            return false;
        }
    }

    // Cannot fail while the check above holds: the storage reserves at least max_depth slots. Counted as a
    // refusal all the same, so a broken storage policy can never lose a message silently.
    if (!storage.try_emplace(std::forward<Args>(args)...))
    {
        COURIER_FAIL("storage refused a message the lane had room for");
        bump(producer.refused);
        return false;
    }
    producer.sent.store(sent_before + 1, std::memory_order_relaxed);  // a counter; storage publishes the data

    if (depth > producer.known_high_water)
    {
        producer.known_high_water = depth;
        producer.high_water.store(depth, std::memory_order_relaxed);
    }
    return true;
}

template <class T, class Storage>
T* lane<T, Storage>::front() noexcept
{
    consumer.guard.check();
    return storage.front();
}

template <class T, class Storage>
void lane<T, Storage>::pop_front() noexcept
{
    storage.pop();
    // Pairs with the acquire load in try_emplace: publishes that this slot is free again.
    consumer.received.store(consumer.received.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

}  // namespace courier
