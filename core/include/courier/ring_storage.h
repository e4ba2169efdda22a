// SPDX-License-Identifier: MIT
// A lane storage policy of courier's own: a fixed ring whose slots carry their own sequence numbers and whose two
// positions are also the lane's sent and received counters (docs/architecture.md, "Storage policies").
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

/// An SPSC ring of exactly `capacity` items. Each slot carries a sequence number next to its item: the producer
/// stores it after constructing the item, and the consumer reads it to learn that the item is there, on the
/// cache line it reads the item from, so the consumer never reads the producer's line. The producer keeps a
/// stale copy of the consumer's position and reads the real one only when that copy says the ring is full, or
/// every `look_interval()` sends, which is also when it samples the depth for the high-water mark. The write
/// and read positions count every item ever pushed and popped (64 bits: they do not wrap in the life of a
/// program), so the lane needs no counters of its own. The slots are a power of two with room to spare beyond
/// `capacity` (at least two cache lines' worth), so a producer waiting on a full ring writes lines the consumer
/// is not reading: a capacity of 1000 reserves 1024 slots, a capacity of 1024 reserves 2048. Implements the
/// policy described in rwq_storage.h, and is the lane's and the mailbox's default storage.
template <class T>
class ring_storage
{
    struct slot;  // below: an item's bytes and its sequence number

public:
    /// Reserves slots for `capacity` items. Allocates. Throws std::invalid_argument when `capacity` is 0 or its
    /// slots could not fit in memory (so std::bit_ceil never overflows).
    /// Thread: setup. Real-time: no (allocates).
    explicit ring_storage(std::size_t capacity)
        : max_items(checked(capacity)),
          interval(capacity / 16 > 0 ? capacity / 16 : 1),
          mask(std::bit_ceil(capacity + spare_slots) - 1),
          slots(std::make_unique<slot[]>(mask + 1))
    {
        producer.next_look = interval;
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
        // The consumer's line is read only here: when the cached view says full, or a look is due.
        if (write == producer.next_look && look(write) == max_items)
            return false;
        slot& s = slots[write & mask];
        ::new (static_cast<void*>(s.bytes)) T(std::forward<Args>(args)...);
        // Pairs with the acquire loads in front and pop_many: the item constructed above is visible first.
        s.sequence.store(write, std::memory_order_release);
        producer.write.store(write + 1, std::memory_order_relaxed);  // a count: the sequence published the item
        return true;
    }

    /// Moves items from the front of `items` to the back, as many as fit, and returns how many; the rest are
    /// untouched. Each item is published by its slot's sequence number and the count is stored once; the
    /// consumer's position is read only when the cached view runs out or a look is due, and a batch is cut
    /// short only after such a read found the ring full.
    /// Thread: producer. Real-time: wait-free if T's move constructor is (at most items.size() + 1 reads).
    [[nodiscard]] std::size_t push_many(std::span<T> items) noexcept
    {
        const std::uint64_t first = producer.write.load(std::memory_order_relaxed);  // only we store it
        std::uint64_t write = first;
        std::size_t sent = 0;
        while (sent < items.size())
        {
            if (write == producer.next_look && look(write) == max_items)
                break;  // full when we looked: the rest are refused
            const std::uint64_t room = producer.next_look - write;
            const std::size_t wanted = items.size() - sent;
            const std::size_t count = room < wanted ? static_cast<std::size_t>(room) : wanted;
            for (std::size_t i = 0; i < count; ++i)
            {
                slot& s = slots[(write + i) & mask];
                ::new (static_cast<void*>(s.bytes)) T(std::move(items[sent + i]));
                // Pairs with the acquire loads in front and pop_many: the item is visible before its number.
                s.sequence.store(write + i, std::memory_order_release);
            }
            write += count;
            sent += count;
        }
        if (write != first)
            producer.write.store(write, std::memory_order_relaxed);  // a count: the sequences published the items
        return sent;
    }

    /// The oldest item, or nullptr when empty.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] T* front() noexcept COURIER_REALTIME
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        slot& s = slots[read & mask];
        // Pairs with the release stores in try_emplace and push_many: the item is constructed.
        if (s.sequence.load(std::memory_order_acquire) != read)
            return nullptr;
        return s.item();
    }

    /// Destroys the oldest item, which front() returned. The item dies here, on the consumer thread.
    /// Thread: consumer. Real-time: wait-free if T's destructor is.
    void pop() noexcept
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);
        slots[read & mask].item()->~T();
        // Pairs with the acquire load in look: the slot is free for the producer again.
        consumer.read.store(read + 1, std::memory_order_release);
    }

    /// Calls `visit(T& oldest, pop)` for up to `max_count` items, oldest first, and returns how many; `visit`
    /// calls `pop()` once, which destroys the item (on the consumer thread) and hands its slot back. The
    /// position and the slots stay in registers across the loop, which front() and pop() cannot do.
    /// Thread: consumer. Real-time: wait-free if `visit` and T's destructor are.
    template <class Visit>
    std::size_t visit_each(Visit&& visit, std::size_t max_count) noexcept
    {
        std::uint64_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        slot* const ring = slots.get();
        const std::uint64_t wrap = mask;
        std::size_t visited = 0;
        while (visited < max_count)
        {
            slot& s = ring[read & wrap];
            // Pairs with the release stores in try_emplace and push_many: the item is constructed.
            if (s.sequence.load(std::memory_order_acquire) != read)
                break;
            T* item = s.item();
            visit(*item, [&]() noexcept {
                item->~T();
                // Pairs with the acquire load in look: the slot is free for the producer again.
                consumer.read.store(read + 1, std::memory_order_release);
            });
            ++read;
            ++visited;
        }
        return visited;
    }

    /// Move-assigns the oldest items to `out`, as many as are stored and fit, oldest first, and returns how many.
    /// The moved-from items die here, on the consumer thread; their slots are handed back with one position store.
    /// Thread: consumer. Real-time: wait-free if T's move assignment and destructor are.
    [[nodiscard]] std::size_t pop_many(std::span<T> out) noexcept
    {
        const std::uint64_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        std::size_t count = 0;
        while (count < out.size())
        {
            slot& s = slots[(read + count) & mask];
            // Pairs with the release stores in try_emplace and push_many: the item is constructed.
            if (s.sequence.load(std::memory_order_acquire) != read + count)
                break;
            T* item = s.item();
            out[count] = std::move(*item);
            item->~T();
            ++count;
        }
        if (count > 0)
            // Pairs with the acquire load in look: the slots are free for the producer again.
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

    /// The most items the producer saw stored when it read the consumer's position, which it does at least every
    /// look_interval() pushes and whenever the ring looks full. Never more than the true maximum; `capacity` once a
    /// push was refused; and the most ever stored is at most the mark plus look_interval().
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t high_water() const noexcept COURIER_REALTIME { return producer.high_water.load(); }

    /// The most pushes between two reads of the consumer's position: capacity / 16, at least 1.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t look_interval() const noexcept COURIER_REALTIME { return interval; }

private:
    struct slot
    {
        alignas(T) std::byte bytes[sizeof(T)];  // first, so the item's address is the slot's
        std::atomic<std::uint64_t> sequence{never};  // n once item n is in this slot
        T* item() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
    };

    // No position is ever this, so a slot not yet written never looks ready (64-bit positions do not wrap).
    static constexpr std::uint64_t never = ~std::uint64_t{0};

    // Slots beyond `capacity`: a producer writing behind a consumer on a full ring stays this far from its line.
    static constexpr std::size_t spare_slots = 2 * cache_line_size / sizeof(slot) + 1;

    static std::size_t checked(std::size_t capacity)
    {
        // The largest power of two whose slots fit in the address space: above it bit_ceil overflows (2^63+).
        const std::size_t most = std::bit_floor(static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(slot)) - spare_slots;
        if (capacity == 0 || capacity > most)
            throw std::invalid_argument("courier::ring_storage: capacity must be from 1 to " + std::to_string(most) +
                                        ", got " + std::to_string(capacity));
        return capacity;
    }

    const std::uint64_t max_items;
    const std::uint64_t interval;
    const std::uint64_t mask;
    const std::unique_ptr<slot[]> slots;

    // Reads the consumer's position (producer only), records the depth for the high-water mark, sets when to look
    // next (when the ring would be full, or after `interval` more pushes) and returns the items stored now.
    std::uint64_t look(std::uint64_t write) noexcept
    {
        // Pairs with the release stores in pop and pop_many: the slots up to `read` have been vacated.
        const std::uint64_t read = consumer.read.load(std::memory_order_acquire);
        const std::uint64_t stored = write - read;
        producer.high_water.raise_to(stored);
        const std::uint64_t full_at = read + max_items;
        producer.next_look = full_at < write + interval ? full_at : write + interval;
        return stored;
    }

    // Written by the producer thread only; the consumer never reads this line.
    struct alignas(cache_line_size) producer_state
    {
        std::atomic<std::uint64_t> write{0};
        std::uint64_t next_look = 0;  // the write position at which the producer reads consumer.read again
        counter high_water;  // the most stored when the producer read consumer.read
    } producer;

    // Written by the consumer thread only.
    struct alignas(cache_line_size) consumer_state
    {
        std::atomic<std::uint64_t> read{0};
    } consumer;
};

}  // namespace courier
