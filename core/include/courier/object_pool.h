// SPDX-License-Identifier: MIT
// A fixed pool owned by one thread, whose handles bring their object back to it through a return lane
// (docs/patterns/object_pool.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/counter.h>
#include <courier/in_flight.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/role_guard.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier {

namespace detail {

/// The slot bookkeeping object_pool and buffer_pool share. `count` slots, named by index, are each either on
/// the free stack of the *home* role (an object_pool's source, a buffer_pool's producer) or out. A slot comes
/// home in one of two ways: the home role puts it back itself (put_back), or the one other role, the
/// returner, sends its index through the return lane (send_home), which can never be full because it holds
/// `count` indices and a slot is out at most once. The pool holds the home role's guard (guard()) around each
/// of its home calls, once, so that two threads inside the role at once are reported once; nothing allocates
/// after the constructor. Which role a drop belongs to is the pool's choice (object_pool asks for
/// the source's thread id, buffer_pool asks the lease where it has been).
class slot_loop
{
public:
    /// Every slot free, slot 0 on top. `pool` and `home` name the owner and its home role in violation reports,
    /// `lane_name` the return lane; all three must outlive this. Throws std::invalid_argument for 0 or more than
    /// 2^32 - 1 slots.
    /// Thread: setup. Real-time: no (allocates).
    slot_loop(std::size_t count, const char* pool, const char* home, const char* lane_name)
        : returns(checked(count, pool), lane_name), to_home(returns.sender()), from_returner(returns.receiver()),
          home_guard(pool, home)
    {
        free_slots.reserve(count);
        for (std::size_t i = count; i-- > 0;)
            free_slots.push_back(static_cast<std::uint32_t>(i));  // slot 0 on top
    }

    slot_loop(const slot_loop&) = delete;
    slot_loop& operator=(const slot_loop&) = delete;

    /// The number of slots.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t count() const noexcept COURIER_REALTIME { return returns.capacity(); }

    /// Slots not on the free stack: out, or sent home and not yet collected.
    /// Thread: home. Real-time: wait-free.
    [[nodiscard]] std::size_t out() const noexcept COURIER_REALTIME { return count() - free_slots.size(); }

    /// The guard of the home role: the pool holds it (a role_guard::scope) around every call below that says
    /// "Thread: home".
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] role_guard& guard() noexcept COURIER_REALTIME { return home_guard; }

    /// A free slot, or nullopt when every slot is out. When the stack is empty it first collects (see collect).
    /// Thread: home, holding guard(). Real-time: wait-free if `arrived` is.
    template <class F>
    [[nodiscard]] std::optional<std::uint32_t> try_take(F&& arrived) noexcept
    {
        if (free_slots.empty() && collect(arrived) == 0)
            return std::nullopt;
        const std::uint32_t index = free_slots.back();
        free_slots.pop_back();  // never frees: a vector's capacity stays
        return index;
    }

    /// Takes every index the returner has sent, calls `arrived(index)` on each (an object_pool destroys its
    /// object there) and puts it on the free stack; returns how many.
    /// Thread: home, holding guard(). Real-time: wait-free if `arrived` is.
    template <class F>
    std::size_t collect(F&& arrived) noexcept
    {
        return from_returner.drain(
            [&](std::uint32_t index) {
                arrived(index);
                free_slots.push_back(index);  // within the reserved capacity: no allocation
            },
            count());
    }

    /// Puts slot `index`, which the home role itself let go of, back on the free stack.
    /// Thread: home, holding guard(). Real-time: wait-free.
    void put_back(std::uint32_t index) noexcept COURIER_REALTIME
    {
        free_slots.push_back(index);  // within the reserved capacity: no allocation
    }

    /// Sends slot `index` home through the return lane. Cannot fail: the lane holds `count` indices and a slot
    /// is out at most once.
    /// Thread: the returner (one thread at a time). Real-time: wait-free.
    void send_home(std::uint32_t index) noexcept COURIER_REALTIME
    {
        if (to_home.try_send(index))
            return;
        COURIER_FAIL("courier pool: the return lane is full, so a slot was returned twice");
        lost.add();  // the slot stays out for good
    }

    /// How many indices the returner has sent home so far.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t returned() const noexcept COURIER_REALTIME { return returns.stats().sent; }

    /// How many send_home calls found the lane full (a broken contract: a slot returned twice).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t broken() const noexcept COURIER_REALTIME { return lost.load(); }

    /// Checks that no thread is inside the home role and lets new threads take the home role and the ends of the
    /// return lane.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        home_guard.expect_idle();
        to_home.reset_thread_role();
        from_returner.reset_thread_role();
    }

private:
    static std::size_t checked(std::size_t count, const char* pool)
    {
        if (count == 0 || count > UINT32_MAX)
            throw std::invalid_argument(std::string(pool) + ": the number of slots must be between 1 and 2^32 - 1");
        return count;
    }

    // Written at setup only.
    lane<std::uint32_t> returns;
    lane_sender<std::uint32_t> to_home;  // used by the one returning thread
    lane_receiver<std::uint32_t> from_returner;
    counter lost;  // written by the returner

    // Written by the home role only (its calls hold home_guard).
    std::vector<std::uint32_t> free_slots;  // a stack; reserved to `count` at setup, never reallocates
    // On a line of its own, and last, so that what follows a slot_loop starts on a new line: every home call
    // writes the guard, and returners read their pool's routing state on every drop.
    alignas(cache_line_size) role_guard home_guard;
};

}  // namespace detail

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
    /// in use (after first collecting returned ones). An empty result is counted in stats().refused.
    /// Thread: source. Real-time: wait-free if T's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] pool_ptr<T> try_make(Args&&... args) noexcept
        requires std::is_nothrow_constructible_v<T, Args&&...>;

    /// Destroys the objects that came back through the return lane and frees their slots; returns how many.
    /// Thread: source. Real-time: wait-free if T's destructor is.
    std::size_t collect() noexcept;

    /// How many objects are out (made and not yet collected or dropped on the source thread). The same count as
    /// stats().out, read by the source without an atomic load: the source's cheap check before try_make().
    /// Thread: source. Real-time: wait-free.
    [[nodiscard]] std::size_t in_use() const noexcept COURIER_REALTIME { return loop.out(); }

    /// Forgets which thread is the source, so that until the next try_make() or collect() every drop takes the
    /// return lane: a thread that later receives the old source's id can no longer pass for it. Call it when the
    /// source thread stops (a stream stops, a worker exits). The threads that had the pool's roles must have
    /// stopped using it.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        loop.reset_thread_roles();
        source_thread.store(std::thread::id{}, std::memory_order_relaxed);  // see on_source_thread
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
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return loop.count(); }

    /// A snapshot of the pool as a limit on objects in flight: `capacity` = capacity(), `out` = in_use() (read
    /// from any thread), `taken` = objects made, `refused` = try_make calls that found no free slot (the
    /// backpressure), `returned` = handles dropped away from the source, whose slots took the return lane.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] in_flight_stats stats() const noexcept COURIER_REALTIME
    {
        return made.snapshot(loop.returned(), loop.broken());
    }

private:
    friend class pool_ptr<T>;

    struct slot
    {
        alignas(T) std::byte bytes[sizeof(T)];
        T* object() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
    };

    // Called by pool_ptr when a handle lets go of slot `index`.
    void give_back(std::uint32_t index) noexcept;
    void destroy(std::uint32_t index) noexcept;
    void claim_source() noexcept COURIER_REALTIME
    {
        if (!on_source_thread())
            source_thread.store(std::this_thread::get_id(), std::memory_order_relaxed);  // see on_source_thread
    }

    // The free stack, the return lane and the source's role guard; the source is its home role.
    detail::slot_loop loop;
    std::vector<slot> slots;  // written at setup only; each object lives in its slot from try_make to its death

    // Written by the source thread only (its calls hold the loop's guard).
    std::atomic<std::thread::id> source_thread{};  // on a line apart from the guard's: see slot_loop
    detail::in_flight_count made;  // objects out: taken by try_make, released where each one dies
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
    : loop(capacity, detail::type_label<object_pool>::text, "source", "object_pool return lane"), slots(capacity),
      made(capacity)
{
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
    const role_guard::scope held(loop.guard());
    claim_source();
    const auto index = loop.try_take([this](std::uint32_t returned) { destroy(returned); });
    if (!index)
    {
        made.refuse();
        return {};
    }
    made.take();
    T* object = ::new (static_cast<void*>(slots[*index].bytes)) T(std::forward<Args>(args)...);
    return pool_ptr<T>(*this, object, *index);
}

template <class T>
std::size_t object_pool<T>::collect() noexcept
{
    const role_guard::scope held(loop.guard());
    claim_source();
    return loop.collect([this](std::uint32_t index) { destroy(index); });
}

template <class T>
void object_pool<T>::give_back(std::uint32_t index) noexcept
{
    if (on_source_thread())
    {
        // Holds the source's role: a thread that passes for the source by a recycled id while the real source
        // is busy is reported.
        const role_guard::scope held(loop.guard());
        destroy(index);
        loop.put_back(index);
        return;
    }
    loop.send_home(index);  // cannot fail: see slot_loop
}

template <class T>
void object_pool<T>::destroy(std::uint32_t index) noexcept
{
    slots[index].object()->~T();  // the object dies here, on the source thread
    made.release();
}

}  // namespace courier
