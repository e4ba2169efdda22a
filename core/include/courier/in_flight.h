// SPDX-License-Identifier: MIT
// One vocabulary for "at most N out at once": the snapshot every bounded loop reports (object_pool,
// buffer_pool, deferred_delete and the patterns built on it), and the accounting behind it
// (docs/contracts.md, "Counters").
#pragma once

#include <courier/contracts.h>
#include <courier/counter.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace courier {

/// A snapshot of a limit on how many things may be out at once: the objects of an object_pool, the buffers of
/// a buffer_pool, the reservations of a deferred_delete (and so the structures of a swap_and_retire, the
/// objects of a link_unlink). Things are taken on one side, travel, and come back through a return lane that can hold all
/// of them. Each field is exact for some moment during the call.
struct in_flight_stats
{
    std::size_t capacity = 0;      ///< the most that may be out at once
    std::uint64_t out = 0;         ///< out now
    std::uint64_t high_water = 0;  ///< the most out at once so far; never more than `capacity`
    std::uint64_t taken = 0;       ///< requests that got one (an object made, a buffer acquired, a reservation)
    std::uint64_t refused = 0;     ///< requests refused because `capacity` were out: the backpressure
    std::uint64_t returned = 0;    ///< things sent back through the return lane
    std::uint64_t broken = 0;      ///< returns that found the lane full: a broken contract, the thing leaked
};

namespace detail {

/// The accounting behind an in_flight_stats: how many are out, the high-water mark, and the taken and
/// refused counts. One side (the taker) takes; a thing may come back on either side, so `out` is the one
/// field changed by two threads, with read-modify-writes.
class in_flight_count
{
public:
    /// Thread: setup. Real-time: wait-free.
    explicit in_flight_count(std::size_t capacity) noexcept : limit(capacity) {}

    in_flight_count(const in_flight_count&) = delete;
    in_flight_count& operator=(const in_flight_count&) = delete;

    /// Takes one if fewer than `capacity` are out; counts a refusal otherwise.
    /// Thread: the taker. Real-time: wait-free.
    [[nodiscard]] bool try_take() noexcept COURIER_REALTIME
    {
        if (out.load(std::memory_order_relaxed) >= limit)
        {
            refuse();
            return false;
        }
        take();
        return true;
    }

    /// Counts one taken, where something else decided there was one to take (a pool's free stack).
    /// Thread: the taker. Real-time: wait-free.
    void take() noexcept COURIER_REALTIME
    {
        // Every release of this thing came before it could be taken again (coherence of one atomic), so `out`
        // never exceeds the capacity.
        const std::uint64_t now = out.fetch_add(1, std::memory_order_relaxed) + 1;  // a count: nothing read through it
        high_water.raise_to(now);
        taken.add();
    }

    /// Counts a refusal decided elsewhere (a pool's empty free stack).
    /// Thread: the taker. Real-time: wait-free.
    void refuse() noexcept COURIER_REALTIME { refused.add(); }

    /// Counts `n` back; reports a contract violation (and counts none back) if fewer than `n` were out.
    /// Thread: whichever side ends a thing's trip (the owner says which). Real-time: wait-free.
    void release(std::uint64_t n = 1) noexcept COURIER_REALTIME
    {
        const std::uint64_t before = out.fetch_sub(n, std::memory_order_relaxed);  // a count, as above
        COURIER_EXPECTS(before >= n);
        if (before < n)
            out.fetch_add(n, std::memory_order_relaxed);  // undo: a broken count never wraps round
    }

    /// How many are out now.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t current() const noexcept COURIER_REALTIME
    {
        return out.load(std::memory_order_relaxed);  // a count: nothing read through it
    }

    /// The most that may be out at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return limit; }

    /// The snapshot, with the return lane's own figures (`returned`, `broken`) filled in by the owner.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] in_flight_stats snapshot(std::uint64_t returned, std::uint64_t broken) const noexcept COURIER_REALTIME
    {
        in_flight_stats s;
        s.capacity = limit;
        s.out = current();
        s.high_water = high_water.load();
        s.taken = taken.load();
        s.refused = refused.load();
        s.returned = returned;
        s.broken = broken;
        return s;
    }

private:
    std::size_t limit;
    std::atomic<std::uint64_t> out{0};
    counter high_water;  // written by the taker
    counter taken;       // written by the taker
    counter refused;     // written by the taker
};

}  // namespace detail

}  // namespace courier
