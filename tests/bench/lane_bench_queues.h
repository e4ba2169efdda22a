// SPDX-License-Identifier: MIT
// lane_bench's contenders as queue adapters, each offering try_push and try_pop for one std::uint64_t without
// waiting, so one measurement template fits them all (docs/performance.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/lane.h>
#include <courier/ring_storage.h>
#include <courier/rwq_storage.h>

#include <readerwriterqueue/readerwriterqueue.h>

#if COURIER_BENCH_HAVE_BOOST
#include <boost/lockfree/spsc_queue.hpp>
#endif
#if COURIER_BENCH_HAVE_ATOMIC_QUEUE
#include <atomic_queue/atomic_queue.h>
#endif
#if COURIER_BENCH_HAVE_JUCE
#include "tests/bench/juce_fifo.h"
#endif

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
#include <vector>

namespace courier::bench {

/// courier::lane on storage policy `Storage`, received with try_receive().
template <class Storage>
class courier_lane_queue_on
{
public:
    /// Thread: setup. Real-time: no (allocates).
    explicit courier_lane_queue_on(std::size_t capacity) : queue(capacity), tx(queue.sender()), rx(queue.receiver()) {}

    /// Thread: producer. Real-time: wait-free.
    bool try_push(std::uint64_t value) noexcept { return tx.try_send(value); }

    /// Thread: consumer. Real-time: wait-free.
    bool try_pop(std::uint64_t& out) noexcept
    {
        if (auto message = rx.try_receive())
        {
            out = *message;
            return true;
        }
        return false;
    }

    /// Sends as many of `values` as fit with one index store; returns how many.
    /// Thread: producer. Real-time: wait-free.
    std::size_t push_many(std::span<std::uint64_t> values) noexcept { return tx.try_send_many(values); }

    /// Receives up to `out.size()` values with one index store; returns how many.
    /// Thread: consumer. Real-time: wait-free.
    std::size_t pop_many(std::span<std::uint64_t> out) noexcept { return rx.try_receive_many(out); }

    /// The receiver itself, for the drain() variant.
    /// Thread: consumer. Real-time: wait-free.
    courier::lane_receiver<std::uint64_t, Storage>& receiver() noexcept { return rx; }

private:
    courier::lane<std::uint64_t, Storage> queue;
    courier::lane_sender<std::uint64_t, Storage> tx;
    courier::lane_receiver<std::uint64_t, Storage> rx;
};

// The lane as users get it (its default storage, ring_storage), and on the moodycamel storage policy.
using courier_lane_queue = courier_lane_queue_on<courier::ring_storage<std::uint64_t>>;
using courier_rwq_lane_queue = courier_lane_queue_on<courier::rwq_storage<std::uint64_t>>;
static_assert(std::is_same_v<courier::lane<std::uint64_t>, courier::lane<std::uint64_t, courier::ring_storage<std::uint64_t>>>,
              "courier_lane_queue must measure the lane's default storage");

/// courier::lane received with drain() instead of try_receive(): for latency drain(f, 1), for throughput the
/// batch form an audio callback would use.
class courier_lane_drain_queue : public courier_lane_queue
{
public:
    using courier_lane_queue::courier_lane_queue;

    /// Thread: consumer. Real-time: wait-free.
    bool try_pop(std::uint64_t& out) noexcept
    {
        return receiver().drain([&](std::uint64_t&& value) { out = value; }, 1) == 1;
    }
};

/// moodycamel::ReaderWriterQueue.
class moodycamel_queue
{
public:
    // Note: ReaderWriterQueue rounds its capacity up (to whole blocks), so it may hold more than 1024.
    /// Thread: setup. Real-time: no (allocates).
    explicit moodycamel_queue(std::size_t capacity) : queue(capacity) {}
    /// Thread: producer. Real-time: wait-free (try_enqueue never allocates).
    bool try_push(std::uint64_t value) noexcept { return queue.try_enqueue(value); }
    /// Thread: consumer. Real-time: wait-free.
    bool try_pop(std::uint64_t& out) noexcept { return queue.try_dequeue(out); }

private:
    moodycamel::ReaderWriterQueue<std::uint64_t> queue;
};

#if COURIER_BENCH_HAVE_BOOST
/// boost::lockfree::spsc_queue with a run-time capacity.
class boost_spsc_queue
{
public:
    /// Thread: setup. Real-time: no (allocates).
    explicit boost_spsc_queue(std::size_t capacity) : queue(capacity) {}
    /// Thread: producer. Real-time: wait-free.
    bool try_push(std::uint64_t value) noexcept { return queue.push(value); }
    /// Thread: consumer. Real-time: wait-free.
    bool try_pop(std::uint64_t& out) noexcept { return queue.pop(out); }
    /// boost's array push: as many as fit, one index store. Thread: producer. Real-time: wait-free.
    std::size_t push_many(std::span<std::uint64_t> values) noexcept { return queue.push(values.data(), values.size()); }
    /// boost's array pop: up to out.size(), one index store. Thread: consumer. Real-time: wait-free.
    std::size_t pop_many(std::span<std::uint64_t> out) noexcept { return queue.pop(out.data(), out.size()); }

private:
    boost::lockfree::spsc_queue<std::uint64_t> queue;
};
#endif

#if COURIER_BENCH_HAVE_ATOMIC_QUEUE
/// max0x7ba's atomic_queue in its SPSC mode: AtomicQueue (a fixed-size array of atomic elements, each slot its own
/// full/empty flag through the NIL value), with the library's defaults for contention and throughput. Its
/// capacity is a template argument, so this contender always holds queue_capacity (1024) items.
class atomic_queue_spsc
{
public:
    static constexpr std::uint64_t nil = std::numeric_limits<std::uint64_t>::max();  // never sent by the bench

    /// Thread: setup. Real-time: no (allocates).
    explicit atomic_queue_spsc(std::size_t) : queue(std::make_unique<queue_type>()) {}
    /// Thread: producer. Real-time: wait-free.
    bool try_push(std::uint64_t value) noexcept { return queue->try_push(value); }
    /// Thread: consumer. Real-time: wait-free.
    bool try_pop(std::uint64_t& out) noexcept { return queue->try_pop(out); }

private:
    //                                      T              SIZE  NIL  MINIMIZE_CONTENTION MAXIMIZE_THROUGHPUT
    //                                      TOTAL_ORDER    SPSC
    using queue_type = atomic_queue::AtomicQueue<std::uint64_t, 1024, nil, true, true, false, true>;
    std::unique_ptr<queue_type> queue;
};
#endif

#if COURIER_BENCH_HAVE_JUCE
/// juce::AbstractFifo with a buffer (tests/bench/juce_fifo.h), with the span interface the batch rows use.
class juce_abstract_fifo : public courier::bench::juce_fifo
{
public:
    using juce_fifo::juce_fifo;
    /// Thread: producer. Real-time: wait-free.
    std::size_t push_many(std::span<std::uint64_t> values) noexcept
    {
        return juce_fifo::push_many(values.data(), values.size());
    }
    /// Thread: consumer. Real-time: wait-free.
    std::size_t pop_many(std::span<std::uint64_t> out) noexcept { return juce_fifo::pop_many(out.data(), out.size()); }
};
#endif

/// The baseline every audio programmer is told not to use on the audio thread.
class mutex_deque_queue
{
public:
    /// Thread: setup. Real-time: no (allocates).
    explicit mutex_deque_queue(std::size_t capacity) : limit(capacity) {}

    /// Thread: producer. Real-time: no (locks, allocates).
    bool try_push(std::uint64_t value)
    {
        const std::lock_guard lock(mutex);
        if (items.size() >= limit)
            return false;
        items.push_back(value);  // the deque allocates a new chunk now and then: part of what is measured
        return true;
    }

    /// Thread: consumer. Real-time: no (locks, frees).
    bool try_pop(std::uint64_t& out)
    {
        const std::lock_guard lock(mutex);
        if (items.empty())
            return false;
        out = items.front();
        items.pop_front();
        return true;
    }

private:
    std::mutex mutex;
    std::deque<std::uint64_t> items;
    const std::size_t limit;
};

/// A hand-written reference, not a library: a power-of-two ring with free-running indices, each side keeping
/// a cached copy of the other's index so it touches the other's cache line only when it must. It shows what
/// a queue with nothing else to do costs here.
class minimal_ring
{
public:
    /// Thread: setup. Real-time: no (allocates).
    explicit minimal_ring(std::size_t capacity) : slots(std::bit_ceil(capacity)), mask(slots.size() - 1) {}

    /// Thread: producer. Real-time: wait-free.
    bool try_push(std::uint64_t value) noexcept
    {
        const std::size_t write = producer.write.load(std::memory_order_relaxed);  // only we store it
        if (write - producer.known_read == slots.size())
        {
            // Pairs with try_pop's release store: the slots it has handed back are done being read.
            producer.known_read = consumer.read.load(std::memory_order_acquire);
            if (write - producer.known_read == slots.size())
                return false;
        }
        slots[write & mask] = value;
        producer.write.store(write + 1, std::memory_order_release);  // publishes the slot to try_pop
        return true;
    }

    /// Thread: consumer. Real-time: wait-free.
    bool try_pop(std::uint64_t& out) noexcept
    {
        const std::size_t read = consumer.read.load(std::memory_order_relaxed);  // only we store it
        if (read == consumer.known_write)
        {
            consumer.known_write = producer.write.load(std::memory_order_acquire);  // pairs with try_push's release
            if (read == consumer.known_write)
                return false;
        }
        out = slots[read & mask];
        consumer.read.store(read + 1, std::memory_order_release);  // hands the slot back to try_push
        return true;
    }

private:
    std::vector<std::uint64_t> slots;
    const std::size_t mask;

    // Written by the producer thread only.
    struct alignas(courier::cache_line_size) producer_side
    {
        std::atomic<std::size_t> write{0};
        std::size_t known_read = 0;
    } producer;

    // Written by the consumer thread only.
    struct alignas(courier::cache_line_size) consumer_side
    {
        std::atomic<std::size_t> read{0};
        std::size_t known_write = 0;
    } consumer;
};

}  // namespace courier::bench
