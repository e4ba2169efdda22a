// SPDX-License-Identifier: MIT
// Context-local pool and closed-loop buffers: a fixed set of buffers circulates between a producer and
// a consumer thread, and the loop's size is the backpressure (docs/patterns/buffer_pool.md).
#pragma once

#include <courier/in_flight.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/object_pool.h>
#include <courier/role_guard.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier {

template <class Buffer>
class buffer_pool;

/// The right to use one buffer of a buffer_pool for a while. Move-only; dropping it (or reset()) puts the
/// buffer back in the loop. Nothing is constructed or destroyed when a lease starts or ends: the buffer keeps
/// its memory and whatever it holds.
template <class Buffer>
class buffer_lease
{
public:
    /// An empty lease: no buffer.
    /// Thread: any. Real-time: wait-free.
    buffer_lease() noexcept = default;

    /// Takes `other`'s buffer over; `other` is left empty. A lease may move to any thread.
    /// Thread: the lease's holder. Real-time: wait-free.
    buffer_lease(buffer_lease&& other) noexcept COURIER_REALTIME
        : pool(std::exchange(other.pool, nullptr)), buffer(std::exchange(other.buffer, nullptr)), slot(other.slot),
          received(other.received)
    {
    }

    /// Gives this lease's buffer back (see reset), then takes `other`'s over.
    /// Thread: the producer or the consumer of the pool. Real-time: wait-free.
    buffer_lease& operator=(buffer_lease&& other) noexcept COURIER_REALTIME
    {
        if (this != &other)
        {
            reset();
            pool = std::exchange(other.pool, nullptr);
            buffer = std::exchange(other.buffer, nullptr);
            slot = other.slot;
            received = other.received;
        }
        return *this;
    }

    /// Gives the buffer back, with reset()'s guarantee.
    /// Thread: the producer or the consumer of the pool. Real-time: wait-free.
    ~buffer_lease() { reset(); }

    /// Gives the buffer back and leaves the lease empty. A lease the producer acquired and never sent goes
    /// straight to the producer's free list; a lease the consumer received goes back through the return lane.
    /// Never fails.
    /// Thread: the producer for a lease it has not sent, the consumer for one it received. Real-time: wait-free.
    void reset() noexcept COURIER_REALTIME;

    /// The buffer, or nullptr for an empty lease.
    /// Thread: the lease's holder. Real-time: wait-free.
    [[nodiscard]] Buffer* get() const noexcept COURIER_REALTIME { return buffer; }
    Buffer& operator*() const noexcept COURIER_REALTIME { return *buffer; }
    Buffer* operator->() const noexcept COURIER_REALTIME { return buffer; }
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return buffer != nullptr; }

    /// Which of the pool's buffers this is, from 0 to count() - 1 (meaningless for an empty lease).
    /// Thread: the lease's holder. Real-time: wait-free.
    [[nodiscard]] std::uint32_t index() const noexcept COURIER_REALTIME { return slot; }

private:
    friend class buffer_pool<Buffer>;
    buffer_lease(buffer_pool<Buffer>& p, Buffer& b, std::uint32_t s) noexcept : pool(&p), buffer(&b), slot(s) {}

    buffer_pool<Buffer>* pool = nullptr;
    Buffer* buffer = nullptr;
    std::uint32_t slot = 0;
    bool received = false;  // set by try_receive: the consumer's role holds it, and it returns by the lane
};

/// A closed loop of `count` buffers between two threads, all made at setup: the producer takes a free buffer
/// (try_acquire), fills it and sends it; the consumer receives it (try_receive), uses it and drops the lease,
/// which sends the buffer back. Audio → GUI scope → back, or disk worker → audio → back.
/// - **No allocation after setup:** the buffers, both lanes and the producer's free list are made in the
///   constructor; acquiring, sending, receiving and returning only move indices and pointers.
/// - **Backpressure:** at most `count` buffers are leased out at once. When the consumer falls behind, the
///   producer's try_acquire returns an empty lease (counted in `refused`): it learns "no free buffer" as a
///   value, at once, and never waits.
/// - **Sending and returning cannot fail:** both lanes hold `count` entries and only `count` buffers exist.
/// - **Context-local pool:** the free list belongs to the producer and is refilled only by returns; a
///   lease the producer drops without sending goes straight back to it.
///
/// **Roles, not threads:** a lease returns the way it came. One the producer acquired and has not sent is
/// dropped by the producer's role and goes to the free list; one the consumer received is dropped by the
/// consumer's role and goes through the return lane. Which OS thread runs each role does not matter, and may
/// change between calls (a host moving the audio callback between worker threads), but each role's calls never
/// overlap (debug role guards report two threads in one role at once). The pool must outlive every lease. Its
/// destructor takes back the buffers still queued for the consumer, reports a contract violation if a lease
/// is still held, and destroys the buffers on the destroying thread.
template <class Buffer>
class buffer_pool
{
    static_assert(std::is_nothrow_destructible_v<Buffer>, "courier::buffer_pool: Buffer must be nothrow-destructible");

public:
    /// Makes `count` copies of `prototype` (a std::vector sized for a block, say: its memory is allocated
    /// here, once) and the two lanes of the loop. Throws std::invalid_argument for 0 or more than 2^32 - 1.
    /// Thread: setup. Real-time: no (allocates).
    buffer_pool(std::size_t count, const Buffer& prototype);

    buffer_pool(const buffer_pool&) = delete;
    buffer_pool& operator=(const buffer_pool&) = delete;

    /// The type of a lease, for a processor that holds one as a member.
    using lease_type = buffer_lease<Buffer>;

    /// Takes back the buffers still queued for the consumer and destroys all of them, on this thread. Every
    /// lease must have been dropped (a contract violation otherwise).
    /// Thread: setup (after the producer and consumer have stopped). Real-time: no (frees).
    ~buffer_pool();

    /// A free buffer, or an empty lease (counted in `refused`) when all `count` are leased out. The buffer
    /// holds whatever it held last.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] buffer_lease<Buffer> try_acquire() noexcept COURIER_REALTIME;

    /// Sends a filled buffer to the consumer and leaves `lease` empty. Cannot fail: the lane holds `count`
    /// leases and only `count` buffers exist.
    /// Thread: producer. Real-time: wait-free.
    void send(buffer_lease<Buffer>&& lease) noexcept COURIER_REALTIME;

    /// The oldest buffer the producer sent, or an empty lease when none is waiting. Drop the lease when done
    /// with the buffer.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] buffer_lease<Buffer> try_receive() noexcept COURIER_REALTIME;

    /// How many buffers the loop holds.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t count() const noexcept COURIER_REALTIME { return buffers.size(); }

    /// How many buffers the producer has sent to the consumer.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t sent() const noexcept COURIER_REALTIME { return filled.stats().sent; }

    /// A snapshot of the loop as a limit on buffers in flight: `capacity` = count(), `out` = buffers leased out
    /// now (being filled, queued for the consumer, or held by it), `taken` = buffers acquired, `refused` = try_acquire calls that found none free (the backpressure),
    /// `returned` = buffers the consumer handed back through the return lane.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] in_flight_stats stats() const noexcept COURIER_REALTIME
    {
        return leased.snapshot(loop.returned(), loop.broken());
    }

    /// Marks a hand-over of both roles to new threads (say the audio device restarted its callback on a new
    /// thread). Not needed: the pool routes by role, not thread; it checks that no thread is inside a role now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        loop.reset_thread_roles();
        to_consumer.reset_thread_role();
        from_producer.reset_thread_role();
    }

private:
    friend class buffer_lease<Buffer>;

    // Called by a lease that lets go of buffer `slot`; `received` says whether the consumer had it.
    void give_back(std::uint32_t slot, bool received) noexcept COURIER_REALTIME;

    // The free stack, the return lane (the consumer returns) and the producer's role guard, as in object_pool:
    // the producer is the loop's home role.
    detail::slot_loop loop;

    // Written at setup only.
    std::vector<Buffer> buffers;  // ✗ the buffers die with it, in ~buffer_pool, on the destroying thread
    lane<buffer_lease<Buffer>> filled{buffers.size(), "buffer_pool filled lane"};
    lane_sender<buffer_lease<Buffer>> to_consumer;      // used by the producer
    lane_receiver<buffer_lease<Buffer>> from_producer;  // used by the consumer

    // Buffers leased out: taken by the producer, released by whichever role drops a lease.
    detail::in_flight_count leased{buffers.size()};
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Buffer>
void buffer_lease<Buffer>::reset() noexcept
{
    if (pool != nullptr)
    {
        buffer = nullptr;
        std::exchange(pool, nullptr)->give_back(slot, received);  // nothing is destroyed: the buffer stays
    }
}

template <class Buffer>
buffer_pool<Buffer>::buffer_pool(std::size_t count, const Buffer& prototype)
    : loop(count, detail::type_label<buffer_pool>::text, "producer", "buffer_pool return lane"),
      buffers(count, prototype), to_consumer(filled.sender()), from_producer(filled.receiver())
{
}

template <class Buffer>
buffer_pool<Buffer>::~buffer_pool()
{
    // Setup: the producer and consumer have stopped, so this thread takes their roles over.
    reset_thread_roles();
    // Leases still queued for the consumer were never received: they go straight to the free list, from here.
    from_producer.drain([](buffer_lease<Buffer>&&) noexcept {}, buffers.size());
    COURIER_EXPECTS(leased.current() == 0);  // no lease is still held
    // Then the members: ✗ the buffers die in `buffers`' destructor, on this thread.
}

template <class Buffer>
buffer_lease<Buffer> buffer_pool<Buffer>::try_acquire() noexcept
{
    const role_guard::scope held(loop.guard());
    // Refilled only by returns: when the free stack is empty, the buffers the consumer dropped come home first.
    const auto slot = loop.try_take([](std::uint32_t) noexcept {});  // nothing to destroy: a buffer stays
    if (!slot)
    {
        leased.refuse();  // every buffer is out: the loop's size is the backpressure
        return {};
    }
    leased.take();  // its release came before its index reached us, so no more than count() are ever out
    return buffer_lease<Buffer>(*this, buffers[*slot], *slot);
}

template <class Buffer>
void buffer_pool<Buffer>::send(buffer_lease<Buffer>&& lease) noexcept
{
    COURIER_EXPECTS(lease.pool == this);
    // Cannot fail: the lane holds count() leases and only count() buffers exist. Should it fail anyway, the
    // lease stays with the caller and its buffer comes back when the caller drops it.
    [[maybe_unused]] const bool queued = to_consumer.try_send(std::move(lease));
    COURIER_EXPECTS(queued);
}

template <class Buffer>
buffer_lease<Buffer> buffer_pool<Buffer>::try_receive() noexcept
{
    if (auto lease = from_producer.try_receive())
    {
        lease->received = true;  // from now on it returns through the lane, whichever thread drops it
        return std::move(*lease);
    }
    return {};
}

template <class Buffer>
void buffer_pool<Buffer>::give_back(std::uint32_t slot, bool received) noexcept
{
    leased.release();  // before the index travels: see try_acquire
    if (!received)
    {
        // Never sent, or sent and never received (the destructor's drain): the producer's role drops it.
        const role_guard::scope held(loop.guard());
        loop.put_back(slot);
        return;
    }
    loop.send_home(slot);  // cannot fail: the return lane holds count() indices and only count() buffers exist
}

}  // namespace courier
