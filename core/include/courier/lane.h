// SPDX-License-Identifier: MIT
// A one-way wait-free SPSC queue with a fixed capacity, used through a sender and a receiver
// (docs/patterns/lane.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane_stats.h>
#include <courier/ring_storage.h>
#include <courier/role_guard.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
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
///
/// The counters (stats()) are exact for sent, received and refused. The high-water mark is sampled by the
/// producer, not tracked on every send: it reads the consumer's position (and records how many messages were
/// queued then) whenever the lane looks full to it, and at least once every `max(1, capacity / 16)` sends. So
/// `high_water`
///   - is never more than the most messages ever queued at once;
///   - equals `capacity` once any send was refused;
///   - is at most `max(1, capacity / 16)` below the most ever queued: between two of the producer's looks the
///     lane can have gained at most that many messages.
/// The consumer never reads the producer's cache line: each slot carries a sequence number beside its message,
/// so a message and its publication cross between the cores as one line (docs/performance.md).
///
/// `Storage` is the container underneath (the policy is described in rwq_storage.h). The default is courier's
/// own ring_storage: its positions are the lane's counters and its slots carry their sequence numbers.
/// rwq_storage (moodycamel::ReaderWriterQueue plus counters, with an exact high-water mark) stays available as
/// `lane<T, rwq_storage<T>>`; it behaves the same but costs more on both sides (docs/performance.md).
template <class T, class Storage = ring_storage<T>>
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

    /// As above, and names the lane in role-guard reports (docs/contracts.md); `name` must outlive the lane.
    /// Thread: setup. Real-time: no (allocates).
    lane(std::size_t capacity, const char* name) : lane(capacity)
    {
        producer.guard.set_name(name);
        consumer.guard.set_name(name);
    }

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
        s.received = storage.popped();
        s.sent = storage.pushed();
        s.refused = producer.refused.load();
        s.high_water = storage.high_water();
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

    // try_emplace is not marked COURIER_REALTIME: it runs T's constructors, and the public functions calling it
    // state the condition (docs/contracts.md, "Conditional guarantees").
    template <class... Args>
    bool try_emplace(Args&&... args) noexcept;
    std::size_t push_many(std::span<T> messages) noexcept;
    std::size_t pop_many(std::span<T> out) noexcept;

    Storage storage;
    const std::size_t max_depth;

    // Written by the producer thread only. The sent and received counts are the storage's own.
    struct alignas(cache_line_size) producer_state
    {
        counter refused;
        role_guard guard{detail::type_label<lane>::text, "sender"};
    } producer;

    // Written by the consumer thread only.
    struct alignas(cache_line_size) consumer_state
    {
        role_guard guard{detail::type_label<lane>::text, "receiver"};
    } consumer;

    // Written at setup only.
    bool sender_taken = false;
    bool receiver_taken = false;
};

/// The producer's end of a lane. Move-only; one thread sends through it at a time, which may be a different
/// thread from one call to the next (a debug role guard reports two threads inside at once).
template <class T, class Storage = ring_storage<T>>
class lane_sender
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    lane_sender() noexcept = default;

    lane_sender(lane_sender&& other) noexcept : target(std::exchange(other.target, nullptr)) {}
    lane_sender& operator=(lane_sender&& other) noexcept
    {
        if (this != &other)
            target = std::exchange(other.target, nullptr);
        return *this;
    }

    /// Moves `message` into the lane, or returns false and leaves `message` untouched when the lane is full.
    /// Marked real-time: a message type's move constructor is part of its contract (docs/contracts.md).
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

    /// Moves as many of `messages` into the lane as it has room for, front first, and returns how many. The
    /// rest stay in the span untouched, and each is counted as refused; the moved-from ones stay with the
    /// caller. The producer's position is stored once for the whole batch (each message is published by its
    /// slot's sequence number). An empty span sends nothing and refuses nothing.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] std::size_t try_send_many(std::span<T> messages) noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(target != nullptr);
        return target->push_many(messages);
    }

    /// Marks a hand-over to another thread. Not needed (any thread may take the end between calls); kept so
    /// setup code can state it, and checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { target->producer.guard.expect_idle(); }

    /// The lane's counters (see lane::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return target->stats(); }

    /// True when this end belongs to a lane.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return target != nullptr; }

private:
    friend class lane<T, Storage>;
    explicit lane_sender(lane<T, Storage>& l) noexcept : target(&l) {}

    lane<T, Storage>* target = nullptr;
};

/// The consumer's end of a lane. Move-only; one thread receives through it at a time, which may be a different
/// thread from one call to the next (a debug role guard reports two threads inside at once).
template <class T, class Storage = ring_storage<T>>
class lane_receiver
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    lane_receiver() noexcept = default;

    lane_receiver(lane_receiver&& other) noexcept : source(std::exchange(other.source, nullptr)) {}
    lane_receiver& operator=(lane_receiver&& other) noexcept
    {
        if (this != &other)
            source = std::exchange(other.source, nullptr);
        return *this;
    }

    /// Takes the oldest message out, or returns nothing when the lane is empty. Marked real-time: it moves the
    /// message out and destroys only the moved-from shell, both part of a message type's contract.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] std::optional<T> try_receive() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(source != nullptr);
        lane<T, Storage>& from = *source;
        const role_guard::scope held(from.consumer.guard);
        std::optional<T> message;
        from.storage.visit_each(
            [&](T& oldest, auto&& pop) noexcept {
                message.emplace(std::move(oldest));
                pop();  // the moved-from shell dies here, on the consumer
            },
            1);
        return message;
    }

    /// Move-assigns up to `out.size()` of the oldest messages to `out`, oldest first, and returns how many; the
    /// rest of `out` is untouched. The moved-from shells die here, on the consumer, and their slots go back to
    /// the sender with one index store.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] std::size_t try_receive_many(std::span<T> out) noexcept COURIER_REALTIME
        requires std::is_nothrow_move_assignable_v<T>
    {
        COURIER_EXPECTS(source != nullptr);
        return source->pop_many(out);
    }

    /// Calls `handle(T&&)` for up to `max_count` messages, oldest first, and returns how many it handled.
    /// Each message leaves the lane before its call, so its slot is already free while the handler runs; it is
    /// destroyed right after the call returns, on this thread.
    /// Thread: consumer. Real-time: wait-free if `handle` and T's destructor are.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max_count) noexcept
    {
        return visit_oldest(
            [&](T& oldest, auto&& pop) {
                // Out of the slot before the handler runs, so the slot is free again by the time the handler
                // replies: a sender counting its own free slots never finds the lane still full because of us.
                T message(std::move(oldest));
                pop();  // only the moved-from shell dies here
                handle(std::move(message));
            },  // whatever the handler left in `message` dies at the end of this call, on the consumer
            max_count);
    }

    /// Like drain(), but calls `handle(T&)` on each message where it lies in the lane, and destroys it there
    /// after the call: no move. The slot stays taken while the handler runs, so a sender sees one slot less
    /// for that long. For messages that are costly to move and cheap to run in place (closures: see
    /// command_receiver::poll).
    /// Thread: consumer. Real-time: wait-free if `handle` and T's destructor are.
    template <class Handler>
    std::size_t drain_in_place(Handler&& handle, std::size_t max_count) noexcept
    {
        return visit_oldest(
            [&](T& oldest, auto&& pop) {
                handle(oldest);
                pop();  // the message dies here, in its slot, on the consumer
            },
            max_count);
    }

    /// Marks a hand-over to another thread. Not needed (any thread may take the end between calls); kept so
    /// setup code can state it, and checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { source->consumer.guard.expect_idle(); }

    /// The lane's counters (see lane::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return source->stats(); }

    /// True when this end belongs to a lane.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return source != nullptr; }

private:
    friend class lane<T, Storage>;
    explicit lane_receiver(lane<T, Storage>& l) noexcept : source(&l) {}

    // Calls `visit(T& oldest, pop)` for up to `max_count` messages, oldest first; `visit` calls pop() once.
    template <class Visit>
    std::size_t visit_oldest(Visit&& visit, std::size_t max_count) noexcept
    {
        COURIER_EXPECTS(source != nullptr);
        lane<T, Storage>& from = *source;
        const role_guard::scope held(from.consumer.guard);  // handlers run inside the role
        return from.storage.visit_each(visit, max_count);
    }

    lane<T, Storage>* source = nullptr;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T, class Storage>
template <class... Args>
inline bool lane<T, Storage>::try_emplace(Args&&... args) noexcept
{
    const role_guard::scope held(producer.guard);
    if (!storage.try_emplace(std::forward<Args>(args)...))
    {
        producer.refused.add();
        return false;
    }
    return true;
}

template <class T, class Storage>
inline std::size_t lane<T, Storage>::push_many(std::span<T> messages) noexcept
{
    const role_guard::scope held(producer.guard);
    const std::size_t sent = storage.push_many(messages);
    if (sent < messages.size())
        producer.refused.add(messages.size() - sent);
    return sent;
}

template <class T, class Storage>
inline std::size_t lane<T, Storage>::pop_many(std::span<T> out) noexcept
{
    const role_guard::scope held(consumer.guard);
    return storage.pop_many(out);
}

}  // namespace courier
