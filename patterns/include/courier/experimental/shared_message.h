// SPDX-License-Identifier: MIT
// Return to source, reference-count variant: a message shared by several holders goes back to its source
// pool when the last reference drops, and dies there (docs/patterns/return_to_source.md).
// Experimental: nothing in courier's engine, GUI or demos uses it yet, and its API may change.
#pragma once

#include <courier/contracts.h>
#include <courier/object_pool.h>
#include <courier/role_guard.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <utility>

namespace courier {

template <class T>
class shared_message_pool;
template <class T>
class shared_message;

namespace detail {

// One pool slot: the message, its reference count, and the slot's own pool handle, which the box holds while
// any reference exists and gives back when the last one drops.
template <class T>
struct shared_box
{
    template <class... Args>
    explicit shared_box(std::in_place_t, Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args&&...>)
        : value(std::forward<Args>(args)...)
    {
    }

    const T value;
    std::atomic<std::uint32_t> references{1};
    pool_ptr<shared_box> self;  // empty once the last reference has dropped
};

}  // namespace detail

/// A counted, read-only reference to a message from a shared_message_pool: a sample several voices play, an
/// impulse response several convolvers read. Copying adds a reference and dropping one removes it, both
/// wait-free and without allocating. When the last reference drops, the message goes back to its pool: on
/// the pool's source thread it dies at once; on the other thread it travels back through the pool's return
/// lane and dies in the source's next collect() or try_make().
///
/// **Which threads may copy and drop references:** the pool's source thread, and *one* other role, the holder
/// (typically the audio thread; a host may run it on a different thread each block, one at a time). Any
/// reference may turn out to be the last, and the last one dropped away from the source pushes into the
/// pool's single-producer return lane, so copies and drops away from the source must never overlap. In debug
/// builds a role guard holds the holder role for each copy and drop and reports two threads doing so at once
/// as a contract violation, even when neither drop is the last.
/// Moving a reference (through a lane, say) is free and checks nothing.
template <class T>
class shared_message
{
public:
    /// An empty reference.
    /// Thread: any. Real-time: wait-free.
    shared_message() noexcept = default;

    /// Adds a reference to `other`'s message.
    /// Thread: the source or the holder thread. Real-time: wait-free.
    shared_message(const shared_message& other) noexcept COURIER_REALTIME;

    /// Takes `other`'s reference over; `other` is left empty. Checks no thread: a reference may move anywhere.
    /// Thread: the reference's holder. Real-time: wait-free.
    shared_message(shared_message&& other) noexcept COURIER_REALTIME
        : pool(std::exchange(other.pool, nullptr)), target(std::exchange(other.target, nullptr))
    {
    }

    /// Drops this reference, then adds one to `other`'s message.
    /// Thread: the source or the holder thread. Real-time: as reset(), then as the copy constructor.
    shared_message& operator=(const shared_message& other) noexcept
    {
        if (this != &other)
            *this = shared_message(other);
        return *this;
    }

    /// Drops this reference, then takes `other`'s over.
    /// Thread: the source or the holder thread. Real-time: as reset().
    shared_message& operator=(shared_message&& other) noexcept
    {
        if (this != &other)
        {
            reset();
            pool = std::exchange(other.pool, nullptr);
            target = std::exchange(other.target, nullptr);
        }
        return *this;
    }

    /// Drops the reference, with reset()'s guarantee.
    /// Thread: the source or the holder thread. Real-time: as reset().
    ~shared_message() { reset(); }

    /// Drops this reference and leaves it empty. If it was the last one, the message goes back to its pool:
    /// on the source thread it dies now; on the holder thread it travels back through the return lane and
    /// dies on the source in collect() or try_make().
    /// Thread: the source or the holder thread. Real-time: wait-free on the holder thread; on the source,
    /// wait-free if T's destructor is.
    void reset() noexcept;

    /// The message, or nullptr for an empty reference. Shared messages are read-only.
    /// Thread: the reference's holder. Real-time: wait-free.
    [[nodiscard]] const T* get() const noexcept COURIER_REALTIME { return target != nullptr ? &target->value : nullptr; }
    const T& operator*() const noexcept COURIER_REALTIME { return target->value; }
    const T* operator->() const noexcept COURIER_REALTIME { return &target->value; }
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return target != nullptr; }

    /// How many references the message has now (0 for an empty reference). Only a snapshot: other holders
    /// may be copying or dropping meanwhile.
    /// Thread: the reference's holder. Real-time: wait-free.
    [[nodiscard]] std::uint32_t use_count() const noexcept COURIER_REALTIME
    {
        return target != nullptr ? target->references.load(std::memory_order_relaxed) : 0;  // a snapshot
    }

private:
    friend class shared_message_pool<T>;
    shared_message(shared_message_pool<T>& p, detail::shared_box<T>* b) noexcept : pool(&p), target(b) {}

    shared_message_pool<T>* pool = nullptr;
    detail::shared_box<T>* target = nullptr;
};

/// A fixed pool of shared messages owned by one thread, the source (the first to call try_make). Built on
/// object_pool: each message takes one slot while any reference to it exists, and dies on the source once the
/// last reference has dropped, exactly once. The pool must outlive every reference; its destructor collects
/// what came back and reports a contract violation if a message is still referenced.
template <class T>
class shared_message_pool
{
    static_assert(std::is_nothrow_destructible_v<T>, "courier::shared_message_pool: T must be nothrow-destructible");

public:
    /// Reserves room for `capacity` messages and a return lane as large, so a last drop can never fail to
    /// send its message back. Throws std::invalid_argument for 0 or more than 2^32 - 1.
    /// Thread: setup. Real-time: no (allocates).
    explicit shared_message_pool(std::size_t capacity) : boxes(capacity) {}

    shared_message_pool(const shared_message_pool&) = delete;
    shared_message_pool& operator=(const shared_message_pool&) = delete;

    /// Destroys the messages that came back, on this thread; every reference must have been dropped.
    /// Thread: setup (the source, or any thread once the source and holder have stopped). Real-time: no (frees).
    ~shared_message_pool() = default;  // ~object_pool: ✗ returned messages die here

    /// Constructs a message from `args` and returns the first reference to it, or an empty reference (counted
    /// in exhausted()) when every slot is in use after collecting returned ones.
    /// Thread: source. Real-time: wait-free if T's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] shared_message<T> try_make(Args&&... args) noexcept
        requires std::is_nothrow_constructible_v<T, Args&&...>;

    /// Destroys the messages whose last reference dropped on the holder thread, and returns how many.
    /// Thread: source. Real-time: wait-free if T's destructor is.
    std::size_t collect() noexcept { return boxes.collect(); }  // ✗ returned messages die in here, on the source

    /// How many messages exist (referenced, or back but not yet collected).
    /// Thread: source. Real-time: wait-free.
    [[nodiscard]] std::size_t in_use() const noexcept COURIER_REALTIME { return boxes.in_use(); }

    /// The number of slots.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return boxes.capacity(); }

    /// How many try_make calls found no free slot.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t exhausted() const noexcept COURIER_REALTIME { return boxes.stats().refused; }

    /// Lets a new thread become the holder, for example the thread that drops the remaining references at
    /// shutdown after the audio thread has stopped.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        holder.expect_idle();
        boxes.reset_thread_roles();
    }

private:
    friend class shared_message<T>;

    // Every copy and drop holds this for its duration: away from the source, only one thread at a time may be
    // the holder.
    role_guard::scope enter_role() noexcept COURIER_REALTIME
    {
        if (boxes.on_source_thread())
            return role_guard::scope();
        return role_guard::scope(holder);
    }

    object_pool<detail::shared_box<T>> boxes;  // its first try_make names the source thread
    role_guard holder{detail::type_label<shared_message_pool>::text, "holder"};  // the one thread other than the source
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
shared_message<T>::shared_message(const shared_message& other) noexcept : pool(other.pool), target(other.target)
{
    if (target == nullptr)
        return;
    const role_guard::scope held = pool->enter_role();
    // Relaxed: the new reference is made from a live one, so the count cannot reach zero meanwhile; the
    // acq_rel decrements in reset order every holder's use of the message before its destruction.
    target->references.fetch_add(1, std::memory_order_relaxed);
}

template <class T>
void shared_message<T>::reset() noexcept
{
    detail::shared_box<T>* box = std::exchange(target, nullptr);
    shared_message_pool<T>* owner = std::exchange(pool, nullptr);
    if (box == nullptr)
        return;
    const role_guard::scope held = owner->enter_role();
    // Release: this holder's reads of the message happen before whoever destroys it. Acquire (for the last
    // drop): every other holder's reads happen before the box is given back. Pairs with the fetch_sub of every
    // other reference.
    if (box->references.fetch_sub(1, std::memory_order_acq_rel) != 1)
        return;
    // The last reference: take the slot's handle out of the box first, so the box no longer owns itself.
    pool_ptr<detail::shared_box<T>> slot = std::move(box->self);
    // On the source: ✗ the message dies here, now. On the holder thread: the slot index goes back through the
    // return lane (cannot fail: the lane holds as many entries as the pool has slots), and ✗ the message dies
    // on the source in collect() or try_make().
    slot.reset();
}

template <class T>
template <class... Args>
shared_message<T> shared_message_pool<T>::try_make(Args&&... args) noexcept
    requires std::is_nothrow_constructible_v<T, Args&&...>
{
    auto handle = boxes.try_make(std::in_place, std::forward<Args>(args)...);
    if (!handle)
        return {};
    detail::shared_box<T>* box = handle.get();
    box->self = std::move(handle);  // the box holds its own slot until the last reference drops
    return shared_message<T>(*this, box);
}

}  // namespace courier
