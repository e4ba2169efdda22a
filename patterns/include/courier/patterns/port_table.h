// SPDX-License-Identifier: MIT
// The fixed table of slots that ports live in, so that a channel to a closed port fails safely instead of
// touching freed memory (docs/patterns/ports.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/counter.h>
#include <courier/contracts.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace courier {

template <class Message>
class port;
template <class Message>
class channel;
class port_table;

/// The name of one port: which slot of which table, and which of the slot's lifetimes. A small value that can
/// be copied anywhere, into a message too. It stays safe to ask after the port has closed: it then answers
/// `false`, because the slot's generation has moved on, even if a new port has taken the slot since.
class port_address
{
public:
    /// An address that names no port.
    port_address() noexcept = default;

    /// True while the port it names is open.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] bool is_open() const noexcept COURIER_REALTIME;

    /// The slot index in its table (slots are reused; with generation() it names one port).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint32_t slot() const noexcept COURIER_REALTIME { return slot_index; }

    /// Which lifetime of the slot this address names; odd while that port is open. 0 for an empty address.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t generation() const noexcept COURIER_REALTIME { return slot_generation; }

    /// True when both name the same port of the same table (a closed port is still equal to itself).
    /// Thread: any. Real-time: wait-free.
    friend bool operator==(const port_address&, const port_address&) noexcept = default;

private:
    friend class port_table;
    template <class Message>
    friend class channel;
    template <class Message>
    friend class port;

    port_address(const port_table* t, std::uint32_t s, std::uint64_t g) noexcept
        : table(t), slot_index(s), slot_generation(g)
    {
    }

    const port_table* table = nullptr;
    std::uint32_t slot_index = 0;
    std::uint64_t slot_generation = 0;
};

/// A fixed table of `capacity` slots, allocated at setup, that ports open in and close out of. A slot holds
/// what a channel needs to find out, safely, whether its port still exists: a generation counter (odd while a
/// port is open, bumped on open and on close) and, for each of up to `max_lanes` lanes, a count of the senders
/// inside a send on that lane. The port's own lanes live in the port; the table only guards the way to them, so
/// the table, not the port, must outlive every channel and address.
///
/// **Closing a port** (control thread): bump the generation, so every later send fails with
/// `send_status::gone`; wait until every lane's count is 0, so no send is still inside the lanes; then
/// the lanes and the messages still queued in them die, on the closing thread. The sender's increment and
/// generation load, and the closer's generation store and count loads, are all sequentially consistent: either
/// the closer sees the increment and waits for the push to finish, or the sender sees the new generation and
/// never touches the lanes.
///
/// The count is a counter, not a flag, because a lane index is shared across a slot's lifetimes: a stale
/// channel to an earlier port in the slot and a live channel to the current one may be inside a send on the
/// same lane index at once, from two threads, and the closer must wait for both. So a send does two atomic
/// read-modify-writes on a cache line that normally only its own thread writes: one instruction each on
/// x86-64 and ARMv8.1 (wait-free); on machines without atomic add instructions (LL/SC loops), lock-free.
///
/// Opening and closing take a mutex (control threads only); sending takes no lock and never waits.
class port_table
{
public:
    /// Reserves `capacity` slots with room for `max_lanes` sender lanes per port. Throws
    /// std::invalid_argument when either is 0, `capacity` is above 2^32 - 2 or `max_lanes` above 2^32 - 1, or
    /// their product of lane gates does not fit in memory.
    /// Thread: setup. Real-time: no (allocates).
    port_table(std::size_t capacity, std::size_t max_lanes);

    port_table(const port_table&) = delete;
    port_table& operator=(const port_table&) = delete;

    /// Every port must have closed, and no channel or address may be used after this.
    /// Thread: setup. Real-time: no (frees).
    ~port_table() { COURIER_EXPECTS(open_ports() == 0); }

    /// The number of slots, that is the most ports open at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return slots.size(); }

    /// The most lanes a port in this table may have.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t max_lanes() const noexcept COURIER_REALTIME { return lanes_per_slot; }

    /// How many ports are open now.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t open_ports() const noexcept COURIER_REALTIME
    {
        return static_cast<std::size_t>(open_count.load());
    }

    /// How many ports have opened since setup.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t opened() const noexcept COURIER_REALTIME { return opened_count.load(); }

    /// How many sends were refused because the channel's port had closed (send_status::gone), exact for some
    /// moment during the call. Sums one counter per lane of every slot, so it costs capacity() × max_lanes()
    /// loads.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t gone() const noexcept COURIER_REALTIME;

private:
    template <class Message>
    friend class port;
    template <class Message>
    friend class channel;
    friend class port_address;

    // One slot: written by the control thread that opens or closes its port, read by every sender.
    struct alignas(cache_line_size) slot
    {
        std::atomic<std::uint64_t> generation{0};
        // The open port's state, type-erased. Written by the opener before the generation turns odd and by the
        // closer after every sender has left, read by a sender only between its own generation check and its
        // decrement: so the two never overlap, and a plain pointer is enough.
        void* state = nullptr;
    };

    // One lane index's gate in one slot; written by the senders on that lane index (the current channel's
    // thread, and any stale channel's), read by the closer.
    struct lane_gate
    {
        std::atomic<std::uint32_t> active{0};  // senders inside try_send on this lane index
        std::atomic<std::uint64_t> gone{0};    // gone refusals on this lane index: many writers (stale channels),
                                               // so a fetch_add, not a single-writer courier::counter
    };

    lane_gate& gate(std::uint32_t slot_index, std::uint32_t lane) const noexcept COURIER_REALTIME
    {
        return gates[static_cast<std::size_t>(slot_index) * lanes_per_slot + lane];
    }

    // Claims a free slot for `state` and makes it open; returns its address. Throws std::length_error when full.
    port_address open(void* state);
    // Makes the slot closed, then waits until no sender is inside it. The caller then destroys the state.
    void close(std::uint32_t slot_index);

    const std::size_t lanes_per_slot;
    std::vector<slot> slots;
    std::unique_ptr<lane_gate[]> gates;  // capacity × max_lanes, mutable through const channels

    // Written by control threads under `control`: open() and close() lock it, never the audio thread or a
    // sender (try_send reads only the atomics in `slots` and `gates`).
    std::mutex control;
    std::vector<std::uint32_t> free_slots;  // a stack; reserved at setup
    counter open_count;    // written by the control thread that holds `control`
    counter opened_count;  // written by the control thread that holds `control`
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

inline bool port_address::is_open() const noexcept
{
    if (table == nullptr)
        return false;
    // Pairs with the release store in port_table::open and the seq_cst store in port_table::close: a thread that
    // sees the port closed also sees everything its owner did before the close.
    return table->slots[slot_index].generation.load(std::memory_order_acquire) == slot_generation;
}

inline port_table::port_table(std::size_t capacity, std::size_t max_lanes) : lanes_per_slot(max_lanes)
{
    if (capacity == 0 || max_lanes == 0 || capacity > UINT32_MAX - 1 || max_lanes > UINT32_MAX)
        throw std::invalid_argument("courier::port_table: capacity and max_lanes must be between 1 and 2^32 - 2");
    // One lane gate per slot and lane: the product must fit in memory (new[] would refuse it, but unclearly).
    if (max_lanes > static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(lane_gate) / capacity)
        throw std::invalid_argument("courier::port_table: capacity x max_lanes lane gates do not fit in memory");
    slots = std::vector<slot>(capacity);
    gates = std::make_unique<lane_gate[]>(capacity * max_lanes);
    free_slots.reserve(capacity);
    for (std::size_t i = capacity; i-- > 0;)
        free_slots.push_back(static_cast<std::uint32_t>(i));  // slot 0 on top
}

inline std::uint64_t port_table::gone() const noexcept
{
    std::uint64_t sum = 0;
    // Counters only: nothing is read through them, so relaxed loads are enough.
    for (std::size_t i = 0; i < slots.size() * lanes_per_slot; ++i)
        sum += gates[i].gone.load(std::memory_order_relaxed);
    return sum;
}

inline port_address port_table::open(void* state)
{
    const std::lock_guard lock(control);
    if (free_slots.empty())
        throw std::length_error("courier::port_table: every slot holds an open port");
    const std::uint32_t index = free_slots.back();
    free_slots.pop_back();  // within the reserved capacity: never frees
    slot& s = slots[index];
    s.state = state;
    const std::uint64_t generation = s.generation.load(std::memory_order_relaxed) + 1;  // only control stores it
    COURIER_EXPECTS(generation % 2 == 1);
    // Pairs with the seq_cst load in channel::try_send (and the acquire in is_open): a sender that sees the new
    // generation also sees `state`.
    s.generation.store(generation, std::memory_order_release);
    open_count.add();  // under the mutex
    opened_count.add();
    return port_address(this, index, generation);
}

inline void port_table::close(std::uint32_t slot_index)
{
    slot& s = slots[slot_index];
    const std::uint64_t generation = s.generation.load(std::memory_order_relaxed);  // only control stores it
    COURIER_EXPECTS(generation % 2 == 1);
    // Sequentially consistent, with the count loads below, against the sender's increment and generation load
    // in channel::try_send: a sender either sees this new generation, or has incremented before our loads.
    s.generation.store(generation + 1, std::memory_order_seq_cst);
    for (std::uint32_t lane = 0; lane < lanes_per_slot; ++lane)
    {
        // seq_cst for the argument above; reading 0 also acquires the senders' release decrements (one release
        // sequence of read-modify-writes), so every message they pushed is in the lanes before the lanes die.
        // Control thread: waiting is allowed; a sender stays counted for one generation check and one push.
        while (gate(slot_index, lane).active.load(std::memory_order_seq_cst) != 0)
            std::this_thread::yield();
    }
    s.state = nullptr;

    const std::lock_guard lock(control);
    free_slots.push_back(slot_index);  // within the reserved capacity: never allocates
    open_count.set(open_count.load() - 1);  // under the mutex
}

}  // namespace courier
