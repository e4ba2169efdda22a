// SPDX-License-Identifier: MIT
// A lane storage policy over moodycamel::ReaderWriterQueue, used through its non-allocating calls only
// (docs/architecture.md, "Storage policies").
#pragma once

#include <courier/cache_line.h>
#include <courier/contracts.h>
#include <courier/counter.h>

#include <readerwriterqueue/readerwriterqueue.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>

namespace courier {

/// A lane's storage policy is an SPSC container of exactly `capacity` items that counts what crosses it. The
/// lane adds the endpoints, role guards and refusal count on top. A policy provides:
///   explicit Policy(std::size_t capacity)   setup; reserves room for exactly `capacity` items
///   bool try_emplace(Args&&...) noexcept    producer; constructs at the back, or returns false when
///                                           `capacity` items are stored and leaves the arguments untouched
///   size_t push_many(span<T>) noexcept      producer; moves in as many as fit, front first, and says how many
///   T* front() noexcept                     consumer, wait-free; the oldest item, or nullptr
///   void pop() noexcept                     consumer; destroys the oldest item
///   size_t visit_each(visit, max) noexcept  consumer; calls visit(T& oldest, pop) for up to `max` items, oldest
///                                           first, where `visit` calls pop() once to destroy the item and free
///                                           its slot; returns how many (the lane's receive and drain calls)
///   size_t pop_many(span<T>) noexcept       consumer; move-assigns the oldest items out, destroys them there
///   uint64_t pushed(), popped()             any thread, wait-free; counts since construction
///   uint64_t high_water()                   any thread, wait-free; a high-water mark that is never more than
///                                           the most items ever stored at once, is `capacity` once a push was
///                                           refused, and is at most capacity / 16 (at least 1) below that most
/// The destructor destroys whatever is still stored, on the thread that destroys the lane. Two policies ship:
/// ring_storage (courier's own ring, whose positions are the counters: the lane's default) and rwq_storage
/// (this one, moodycamel plus counters; `lane<T, rwq_storage<T>>`). Both give the same guarantees; this one
/// costs more per message on both sides (docs/performance.md) and its high-water mark is exact.
template <class T>
class rwq_storage
{
public:
    /// Reserves room for exactly `capacity` items (moodycamel rounds its blocks up; the counters below cut
    /// the capacity back to the figure asked for). Allocates. Throws std::invalid_argument when `capacity` is 0
    /// or too large for memory (moodycamel would round capacity + 1 up past 2^64, to 0).
    /// Thread: setup. Real-time: no (allocates).
    explicit rwq_storage(std::size_t capacity) : queue(checked(capacity)), max_items(capacity) {}

    /// Constructs an item from `args` at the back, or returns false without touching `args`.
    /// Thread: producer. Real-time: wait-free if the chosen constructor of T is.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept
    {
        const std::uint64_t pushed_before = producer.pushed.load();  // only we write it
        if (pushed_before - producer.known_popped == max_items && refresh_depth() == max_items)
        {
            producer.high_water.set(max_items);  // the lane was full
            return false;
        }
        // try_emplace, never emplace: the latter allocates a new block when the queue is full. It cannot fail
        // here, since moodycamel holds at least max_items; if it ever did, the caller still hears "full".
        if (!queue.try_emplace(std::forward<Args>(args)...))
        {
            COURIER_FAIL("moodycamel refused an item within the capacity it reserved");
            return false;
        }
        producer.pushed.set(pushed_before + 1);  // a count only: moodycamel publishes the data
        // An exact mark: the consumer's count is read whenever the cached depth passes the mark. This storage is
        // not the fast one; ring_storage samples the depth instead and never pays this read.
        if (pushed_before + 1 - producer.known_popped > producer.high_water.load())
            producer.high_water.raise_to(refresh_depth());
        return true;
    }

    /// Moves items from the front of `items` to the back, as many as fit, and returns how many; the rest are
    /// untouched. moodycamel publishes each one on its own: this storage has no batch publication.
    /// Thread: producer. Real-time: wait-free if T's move constructor is.
    [[nodiscard]] std::size_t push_many(std::span<T> items) noexcept
    {
        std::size_t count = 0;
        while (count < items.size() && try_emplace(std::move(items[count])))
            ++count;
        return count;
    }

    /// The oldest item, or nullptr when empty.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] T* front() noexcept COURIER_REALTIME { return queue.peek(); }

    /// Destroys the oldest item; the queue must not be empty. The item dies here, on the consumer thread.
    /// Thread: consumer. Real-time: wait-free if T's destructor is.
    void pop() noexcept
    {
        [[maybe_unused]] const bool popped_one = queue.pop();
        COURIER_EXPECTS(popped_one);
        // Pairs with the acquire load in refresh_depth: once the producer sees this count, moodycamel has
        // released the slot too, so its try_emplace cannot find the queue full.
        consumer.popped.store(consumer.popped.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }

    /// Calls `visit(T& oldest, pop)` for up to `max_count` items, oldest first, and returns how many; `visit`
    /// calls `pop()` once, which destroys the item (on the consumer thread) and frees its slot.
    /// Thread: consumer. Real-time: wait-free if `visit` and T's destructor are.
    template <class Visit>
    std::size_t visit_each(Visit&& visit, std::size_t max_count) noexcept
    {
        std::size_t visited = 0;
        while (visited < max_count)
        {
            T* oldest = front();
            if (oldest == nullptr)
                break;
            visit(*oldest, [this]() noexcept { pop(); });
            ++visited;
        }
        return visited;
    }

    /// Move-assigns the oldest items to `out`, as many as are stored and fit, oldest first, and returns how many.
    /// The moved-from items die here, on the consumer thread.
    /// Thread: consumer. Real-time: wait-free if T's move assignment and destructor are.
    [[nodiscard]] std::size_t pop_many(std::span<T> out) noexcept
    {
        std::size_t count = 0;
        for (; count < out.size(); ++count)
        {
            T* item = front();
            if (item == nullptr)
                break;
            out[count] = std::move(*item);
            pop();
        }
        return count;
    }

    /// Items pushed since construction.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t pushed() const noexcept COURIER_REALTIME
    {
        return producer.pushed.load();
    }

    /// Items popped since construction.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t popped() const noexcept COURIER_REALTIME
    {
        return consumer.popped.load(std::memory_order_relaxed);  // a count; nothing is read through it
    }

    /// The most items ever stored at once: exact, since try_emplace reads the consumer's count whenever the
    /// cached depth passes the mark (the policy's contract above allows less).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t high_water() const noexcept COURIER_REALTIME
    {
        return producer.high_water.load();
    }

private:
    // The items stored now, reading the consumer's count (producer only).
    std::uint64_t refresh_depth() noexcept
    {
        producer.known_popped = consumer.popped.load(std::memory_order_acquire);  // pairs with the store in pop
        return producer.pushed.load() - producer.known_popped;
    }

    static std::size_t checked(std::size_t capacity)
    {
        // moodycamel reserves up to twice the items (its blocks are powers of two): they must fit in memory.
        const std::size_t most = static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(T) / 2;
        if (capacity == 0 || capacity > most)
            throw std::invalid_argument("courier::rwq_storage: capacity must be from 1 to " + std::to_string(most) +
                                        ", got " + std::to_string(capacity));
        return capacity;
    }

    moodycamel::ReaderWriterQueue<T> queue;
    const std::uint64_t max_items;

    // Written by the producer thread only.
    struct alignas(cache_line_size) producer_state
    {
        counter pushed;                  // statistics only: moodycamel's own indices carry the data
        std::uint64_t known_popped = 0;  // a stale copy of consumer.popped: at most the true value
        counter high_water;
    } producer;

    // Written by the consumer thread only.
    struct alignas(cache_line_size) consumer_state
    {
        std::atomic<std::uint64_t> popped{0};
    } consumer;
};

}  // namespace courier
