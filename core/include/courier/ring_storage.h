// SPDX-License-Identifier: MIT
// A lane storage policy of courier's own: a fixed ring whose two indices are also the lane's sent and received
// counters, so each side writes one shared cache line (docs/architecture.md, "Storage policies").
#pragma once

#include <courier/cache_line.h>
#include <courier/contracts.h>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace courier {

/// An SPSC ring of exactly `capacity` items. The write and read positions count every item ever pushed and
/// popped (64 bits: they do not wrap in the life of a program), so the lane needs no counters of its own, and
/// each side keeps a stale copy of the other's position, refreshed only when the ring looks full or empty.
/// Slots are a power of two, so a capacity of 1000 reserves 1024 slots. Implements the policy described in
/// rwq_storage.h, and is the lane's and the mailbox's default storage.
template <class T>
class ring_storage
{
public:
    /// Reserves slots for `capacity` items. Allocates. Throws std::invalid_argument when `capacity` is 0 or its
    /// slots could not fit in memory (so std::bit_ceil never overflows).
    /// Thread: setup. Real-time: no (allocates).
    explicit ring_storage(std::size_t capacity)
        : max_items(checked(capacity)), mask(std::bit_ceil(capacity) - 1), slots(std::make_unique<slot[]>(mask + 1))
    {
    }

    ring_storage(const ring_storage&) = delete;
    ring_storage& operator=(const ring_storage&) = delete;

    /// Destroys the items still stored, on the thread that destroys the ring.
    ~ring_storage()
    {
        for (auto i = consumer.read.load(std::memory_order_relaxed); i != producer.write.load(std::memory_order_relaxed); ++i)
            slots[i & mask].item()->~T();
    }

    /// Constructs an item at the back, or returns false without touching `args` when `capacity` items are stored.
    /// Thread: producer. Real-time: wait-free if the chosen constructor of T is.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept
    {
        const std::uint64_t write = producer.write.load(std::memory_order_relaxed);  // only we store it
        if (write - producer.known_read == max_items)
        {
            // Pairs with the release store in pop(): the slot we are about to reuse has been vacated.
            producer.known_read = consumer.read.load(std::memory_order_acquire);
            if (write - producer.known_read == max_items)
                return false;
        }
        ::new (static_cast<void*>(slots[write & mask].bytes)) T(std::forward<Args>(args)...);
        // Pairs with the acquire load in front(): the item constructed above is visible before the position.
        producer.write.store(write + 1, std::memory_order_release);
        return true;
    }

    /// The oldest item, or nullptr when empty.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] T* front() noexcept COURIER_REALTIME
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        if (read == consumer.known_write)
        {
            // Pairs with the release store in try_emplace: items up to `write` are fully constructed.
            consumer.known_write = producer.write.load(std::memory_order_acquire);
            if (read == consumer.known_write)
                return nullptr;
        }
        return slots[read & mask].item();
    }

    /// Destroys the oldest item, which front() returned. The item dies here, on the consumer thread.
    /// Thread: consumer. Real-time: wait-free if T's destructor is.
    void pop() noexcept
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);
        slots[read & mask].item()->~T();
        // Pairs with the acquire load in try_emplace: the slot is free for the producer again.
        consumer.read.store(read + 1, std::memory_order_release);
    }

    /// Items pushed since construction.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t pushed() const noexcept COURIER_REALTIME
    {
        return producer.write.load(std::memory_order_relaxed);  // a count; nothing is read through it
    }

    /// Items popped since construction.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t popped() const noexcept COURIER_REALTIME
    {
        return consumer.read.load(std::memory_order_relaxed);  // a count; nothing is read through it
    }

    /// An upper bound on the items stored, from the producer's cached view; no shared line is read.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] std::uint64_t depth_bound() const noexcept COURIER_REALTIME
    {
        return producer.write.load(std::memory_order_relaxed) - producer.known_read;
    }

    /// The items stored now, reading the consumer's position.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] std::uint64_t refresh_depth() noexcept COURIER_REALTIME
    {
        producer.known_read = consumer.read.load(std::memory_order_acquire);  // as in try_emplace
        return producer.write.load(std::memory_order_relaxed) - producer.known_read;
    }

private:
    static std::size_t checked(std::size_t capacity)
    {
        // The largest power of two whose slots fit in the address space: above it bit_ceil overflows (2^63+).
        const std::size_t most = std::bit_floor(static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(slot));
        if (capacity == 0 || capacity > most)
            throw std::invalid_argument("courier::ring_storage: capacity must be from 1 to " + std::to_string(most) +
                                        ", got " + std::to_string(capacity));
        return capacity;
    }

    struct slot
    {
        alignas(T) std::byte bytes[sizeof(T)];
        T* item() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
    };

    const std::uint64_t max_items;
    const std::uint64_t mask;
    const std::unique_ptr<slot[]> slots;

    // Written by the producer thread only.
    struct alignas(cache_line_size) producer_state
    {
        std::atomic<std::uint64_t> write{0};
        std::uint64_t known_read = 0;  // a stale copy of consumer.read: at most the true value
    } producer;

    // Written by the consumer thread only.
    struct alignas(cache_line_size) consumer_state
    {
        std::atomic<std::uint64_t> read{0};
        std::uint64_t known_write = 0;  // a stale copy of producer.write: at most the true value
    } consumer;
};

}  // namespace courier
