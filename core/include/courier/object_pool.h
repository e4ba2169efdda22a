// SPDX-License-Identifier: MIT
// A fixed pool owned by one thread, whose handles bring their object back to it through a return lane
// (docs/patterns/object_pool.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/role_guard.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier {

template <class T>
class pool_ptr;

/// A fixed set of slots for objects of type T, owned by one thread (the *source*). The source makes objects
/// with try_make() and sends the handles anywhere; when a handle is dropped on another thread, the slot
/// travels back through the pool's return lane, and the object's destructor runs later on the source thread,
/// in collect() or try_make(). So the receiving side never allocates, frees or runs a destructor it did
/// not expect: each object is made and destroyed in its source context, exactly once.
///
/// Handles may be dropped on the source thread (the object dies at once) or by one other role, the returner
/// (its return lane is single-producer; a debug role guard reports two returners at once).
///
/// **Which thread is the source:** the thread that made the most recent try_make() or collect() call. So the
/// source role may move between threads, as a host moves the audio callback between worker threads, one block
/// at a time: in each callback, call collect() (or try_make()) before dropping handles there, so that the drop
/// finds the source on its own thread. A drop on any other thread takes the return lane.
/// **Thread ids are recycled:** once a thread has exited, the system may give its id to a new thread, which
/// would then pass for the source. reset_thread_roles() forgets the source, so call it (setup) when the source
/// thread stops for good; the destructor does the same. The audio engine does it when a stream starts.
///
/// The pool must outlive every handle; its destructor collects what has come back and reports a contract
/// violation if any object is still out.
template <class T>
class object_pool
{
    static_assert(std::is_nothrow_destructible_v<T>, "courier::object_pool: T must be nothrow-destructible");

public:
    /// Reserves room for `capacity` objects and a return lane as large, so returning can never fail.
    /// Throws std::invalid_argument for 0 or more than 2^32 - 1.
    /// Thread: setup. Real-time: no (allocates).
    explicit object_pool(std::size_t capacity);

    object_pool(const object_pool&) = delete;
    object_pool& operator=(const object_pool&) = delete;

    /// The type of a handle, for a processor that holds one as a member.
    using handle_type = pool_ptr<T>;

    /// Destroys every returned object; the caller must have dropped or returned all handles first.
    /// Thread: the source thread, or setup. Real-time: no (frees).
    ~object_pool();

    /// Constructs a T from `args` in a free slot and returns its handle, or an empty handle when every slot is
    /// in use (after first collecting returned ones). An empty result is counted as `exhausted`.
    /// Thread: source. Real-time: wait-free if T's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] pool_ptr<T> try_make(Args&&... args) noexcept
        requires std::is_nothrow_constructible_v<T, Args&&...>;

    /// Destroys the objects that came back through the return lane and frees their slots; returns how many.
    /// Thread: source. Real-time: wait-free if T's destructor is.
    std::size_t collect() noexcept;

    /// How many objects are out (made and not yet collected or dropped on the source thread).
    /// Thread: source. Real-time: wait-free.
    [[nodiscard]] std::size_t in_use() const noexcept COURIER_REALTIME { return slots.size() - free_slots.size(); }

    /// Forgets which thread is the source, so that until the next try_make() or collect() every drop takes the
    /// return lane: a thread that later receives the old source's id can no longer pass for it. Call it when the
    /// source thread stops (a stream stops, a worker exits). The threads that had the pool's roles must have
    /// stopped using it.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        source_guard.expect_idle();
        source_thread.store(std::thread::id{}, std::memory_order_relaxed);  // see on_source_thread
        to_source.reset_thread_role();
        from_returners.reset_thread_role();
    }

    /// True on the pool's source thread: the thread of the latest try_make() or collect() since construction
    /// or reset_thread_roles().
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] bool on_source_thread() const noexcept COURIER_REALTIME
    {
        // Relaxed: written by the source's own calls; a handle reaches another thread through a synchronising
        // queue, and a role moves between threads with a happens-before, so the load there sees the latest.
        return source_thread.load(std::memory_order_relaxed) == std::this_thread::get_id();
    }

    /// The number of slots.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return slots.size(); }

    /// How many try_make calls found no free slot.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t exhausted() const noexcept COURIER_REALTIME
    {
        return exhausted_count.load();
    }

private:
    friend class pool_ptr<T>;

    struct slot
    {
        alignas(T) std::byte bytes[sizeof(T)];
        T* object() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
    };

    static std::size_t checked(std::size_t capacity)
    {
        if (capacity == 0 || capacity > UINT32_MAX)
            throw std::invalid_argument("courier::object_pool: capacity must be between 1 and 2^32 - 1");
        return capacity;
    }

    // Called by pool_ptr when a handle lets go of slot `index`.
    void give_back(std::uint32_t index) noexcept;
    void destroy_and_free(std::uint32_t index) noexcept;
    void claim_source() noexcept COURIER_REALTIME
    {
        if (!on_source_thread())
            source_thread.store(std::this_thread::get_id(), std::memory_order_relaxed);  // see on_source_thread
    }

    // Written at setup only.
    std::vector<slot> slots;
    lane<std::uint32_t> returns{slots.size(), "object_pool return lane"};
    lane_sender<std::uint32_t> to_source;  // used by the one returning thread
    lane_receiver<std::uint32_t> from_returners;

    // Written by the source thread only (its calls hold source_guard).
    std::vector<std::uint32_t> free_slots;  // a stack; reserved to capacity at setup, never reallocates
    std::atomic<std::thread::id> source_thread{};
    // On a line of its own: every source call writes it, and returners read source_thread on every drop.
    alignas(cache_line_size) role_guard source_guard{detail::type_label<object_pool>::text, "source"};
    counter exhausted_count;  // written by the source thread
};

/// A move-only handle to an object in an object_pool. Dropping it returns the object to its pool, where it
/// is destroyed on the pool's source thread.
template <class T>
class pool_ptr
{
public:
    pool_ptr() noexcept = default;
    pool_ptr(pool_ptr&& other) noexcept
        : pool(std::exchange(other.pool, nullptr)), object(std::exchange(other.object, nullptr)), index(other.index)
    {
    }
    pool_ptr& operator=(pool_ptr&& other) noexcept
    {
        if (this != &other)
        {
            reset();
            pool = std::exchange(other.pool, nullptr);
            object = std::exchange(other.object, nullptr);
            index = other.index;
        }
        return *this;
    }

    /// Returns the object to its pool (see reset, whose guarantee this shares).
    ~pool_ptr() { reset(); }

    /// Returns the object to its pool and leaves the handle empty. On the source thread the object dies now;
    /// on any other thread it travels back and dies on the source thread later.
    /// Thread: the handle's holder (the source, or the pool's one returning thread). Real-time: wait-free
    /// elsewhere; on the source thread, wait-free if T's destructor is.
    void reset() noexcept
    {
        if (pool != nullptr)
        {
            std::exchange(pool, nullptr)->give_back(index);
            object = nullptr;
        }
    }

    /// The object, or nullptr for an empty handle.
    /// Thread: the handle's holder. Real-time: wait-free.
    [[nodiscard]] T* get() const noexcept COURIER_REALTIME { return object; }
    T& operator*() const noexcept COURIER_REALTIME { return *object; }
    T* operator->() const noexcept COURIER_REALTIME { return object; }
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return object != nullptr; }

private:
    friend class object_pool<T>;
    pool_ptr(object_pool<T>& p, T* o, std::uint32_t i) noexcept : pool(&p), object(o), index(i) {}

    object_pool<T>* pool = nullptr;
    T* object = nullptr;
    std::uint32_t index = 0;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
object_pool<T>::object_pool(std::size_t capacity)
    : slots(checked(capacity)), to_source(returns.sender()), from_returners(returns.receiver())
{
    free_slots.reserve(capacity);
    for (std::size_t i = capacity; i-- > 0;)
        free_slots.push_back(static_cast<std::uint32_t>(i));  // slot 0 on top
}

template <class T>
object_pool<T>::~object_pool()
{
    // Destruction is setup: the source thread (often the audio thread) has stopped, and this thread takes over
    // its role.
    reset_thread_roles();
    collect();  // objects returned from elsewhere die here, on the thread destroying the pool
    COURIER_EXPECTS(in_use() == 0);
}

template <class T>
template <class... Args>
pool_ptr<T> object_pool<T>::try_make(Args&&... args) noexcept
    requires std::is_nothrow_constructible_v<T, Args&&...>
{
    const role_guard::scope held(source_guard);
    claim_source();
    if (free_slots.empty() && collect() == 0)
    {
        exhausted_count.add();
        return {};
    }
    const std::uint32_t index = free_slots.back();
    free_slots.pop_back();  // never frees: a vector's capacity stays
    T* object = ::new (static_cast<void*>(slots[index].bytes)) T(std::forward<Args>(args)...);
    return pool_ptr<T>(*this, object, index);
}

template <class T>
std::size_t object_pool<T>::collect() noexcept
{
    const role_guard::scope held(source_guard);
    claim_source();
    return from_returners.drain([this](std::uint32_t index) { destroy_and_free(index); }, slots.size());
}

template <class T>
void object_pool<T>::give_back(std::uint32_t index) noexcept
{
    if (on_source_thread())
    {
        // Holds the source's role: a thread that passes for the source by a recycled id while the real source
        // is busy is reported.
        const role_guard::scope held(source_guard);
        destroy_and_free(index);
        return;
    }
    // Cannot fail: the return lane holds as many entries as the pool has slots, and a slot is out at most once.
    [[maybe_unused]] const bool queued = to_source.try_send(index);
    COURIER_EXPECTS(queued);
}

template <class T>
void object_pool<T>::destroy_and_free(std::uint32_t index) noexcept
{
    slots[index].object()->~T();  // the object dies here, on the source thread
    free_slots.push_back(index);  // within the reserved capacity: no allocation
}

}  // namespace courier
