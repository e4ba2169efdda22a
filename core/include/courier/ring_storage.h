// SPDX-License-Identifier: MIT
// A lane storage policy of courier's own: a fixed ring whose two indices are also the lane's sent and received
// counters, so each side writes one shared cache line (docs/architecture.md, "Storage policies").
#pragma once

#include <courier/cache_line.h>
#include <courier/contracts.h>
#include <courier/counter.h>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
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
        // The consumer's line is read only here, when the ring looks full from the cached view.
        if (write - producer.known_read == max_items && refresh_read(write) == max_items)
            return false;
        ::new (static_cast<void*>(slots[write & mask].bytes)) T(std::forward<Args>(args)...);
        // Pairs with the acquire load in refresh_write: the item constructed above is visible before the position.
        producer.write.store(write + 1, std::memory_order_release);
        return true;
    }

    /// Moves items from the front of `items` to the back, as many as fit, and returns how many; the rest are
    /// untouched. While the cached view has room they are published with one position store; the consumer's
    /// position is read only when it has not, and a batch is cut short only after such a read found the ring full.
    /// Thread: producer. Real-time: wait-free if T's move constructor is (at most items.size() + 1 reads).
    [[nodiscard]] std::size_t push_many(std::span<T> items) noexcept
    {
        std::uint64_t published = producer.write.load(std::memory_order_relaxed);  // only we store it
        std::uint64_t write = published;
        std::size_t sent = 0;
        while (sent < items.size())
        {
            const std::size_t wanted = items.size() - sent;
            std::uint64_t room = max_items - (write - producer.known_read);
            if (room < wanted)
            {
                // Publish first, so the depth seen below is a true one (the high-water mark is never too high).
                if (write != published)
                {
                    // Pairs with the acquire load in refresh_write: the items above are visible first.
                    producer.write.store(write, std::memory_order_release);
                    published = write;
                }
                room = max_items - refresh_read(write);
                if (room == 0)
                    break;  // full when we looked: the rest are refused
            }
            const std::size_t count = room < wanted ? static_cast<std::size_t>(room) : wanted;
            for (std::size_t i = 0; i < count; ++i)
                ::new (static_cast<void*>(slots[(write + i) & mask].bytes)) T(std::move(items[sent + i]));
            write += count;
            sent += count;
        }
        if (write != published)
            // Pairs with the acquire load in refresh_write: every item above is visible before the position.
            producer.write.store(write, std::memory_order_release);
        return sent;
    }

    /// The oldest item, or nullptr when empty.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] T* front() noexcept COURIER_REALTIME
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        // The producer's line is read only here, when the ring looks empty from the cached view.
        if (read == consumer.known_write && refresh_write(read) == 0)
            return nullptr;
        return slots[read & mask].item();
    }

    /// Destroys the oldest item, which front() returned. The item dies here, on the consumer thread.
    /// Thread: consumer. Real-time: wait-free if T's destructor is.
    void pop() noexcept
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);
        slots[read & mask].item()->~T();
        // Pairs with the acquire load in refresh_read: the slot is free for the producer again.
        consumer.read.store(read + 1, std::memory_order_release);
    }

    /// Move-assigns the oldest items to `out`, as many as are stored and fit, oldest first, and returns how many.
    /// The moved-from items die here, on the consumer thread; their slots are handed back with one position store.
    /// Thread: consumer. Real-time: wait-free if T's move assignment and destructor are.
    [[nodiscard]] std::size_t pop_many(std::span<T> out) noexcept
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        std::uint64_t stored = consumer.known_write - read;
        if (stored < out.size())
            stored = refresh_write(read);
        const std::size_t count = stored < out.size() ? static_cast<std::size_t>(stored) : out.size();
        for (std::size_t i = 0; i < count; ++i)
        {
            T* item = slots[(read + i) & mask].item();
            out[i] = std::move(*item);
            item->~T();
        }
        if (count > 0)
            // Pairs with the acquire load in refresh_read: the slots are free for the producer again.
            consumer.read.store(read + count, std::memory_order_release);
        return count;
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

    /// The most items either side saw stored when it read the other's position: the producer when the ring
    /// looked full to it, the consumer when it looked empty. Never more than the true maximum; `capacity` once a
    /// push was refused (the rwq_storage.h policy text gives the rest of the contract).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t high_water() const noexcept COURIER_REALTIME
    {
        const std::uint64_t seen_by_producer = producer.high_water.load();
        const std::uint64_t seen_by_consumer = consumer.high_water.load();
        return seen_by_producer > seen_by_consumer ? seen_by_producer : seen_by_consumer;
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

    // Reads the consumer's position (producer only) and returns the items stored now, recording a new maximum.
    std::uint64_t refresh_read(std::uint64_t write) noexcept
    {
        // Pairs with the release stores in pop and pop_many: the slots up to `known_read` have been vacated.
        producer.known_read = consumer.read.load(std::memory_order_acquire);
        const std::uint64_t stored = write - producer.known_read;
        producer.high_water.raise_to(stored);
        return stored;
    }

    // Reads the producer's position (consumer only) and returns the items stored now, recording a new maximum.
    std::uint64_t refresh_write(std::uint64_t read) noexcept
    {
        // Pairs with the release stores in try_emplace and push_many: items up to `known_write` are constructed.
        consumer.known_write = producer.write.load(std::memory_order_acquire);
        const std::uint64_t stored = consumer.known_write - read;
        consumer.high_water.raise_to(stored);
        return stored;
    }

    // Written by the producer thread only.
    struct alignas(cache_line_size) producer_state
    {
        std::atomic<std::uint64_t> write{0};
        std::uint64_t known_read = 0;  // a stale copy of consumer.read: at most the true value
        counter high_water;  // the most stored when the producer read consumer.read
    } producer;

    // Written by the consumer thread only.
    struct alignas(cache_line_size) consumer_state
    {
        std::atomic<std::uint64_t> read{0};
        std::uint64_t known_write = 0;  // a stale copy of producer.write: at most the true value
        counter high_water;  // the most stored when the consumer read producer.write
    } consumer;
};

}  // namespace courier
