// SPDX-License-Identifier: MIT
// Objects the audio side is done with travel back to the control side and die there, through a return lane
// that can never be full (docs/patterns/deferred_delete.md).
#pragma once

#include <courier/counter.h>
#include <courier/in_flight.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/role_guard.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

/// The "send it back to die" piece: the audio side hands objects it no longer needs to retire(), which
/// never frees; the control side destroys them later in collect(). The audio thread never runs a
/// destructor and never frees.
///
/// Retiring can never fail, because the control side reserves room for every object before it hands the
/// object to the audio side: try_reserve() refuses once `capacity` reservations are out, and collect() gives
/// one back per object it destroys. **Invariant:** objects in the return lane <= reservations out <=
/// `capacity` = the lane's capacity. So the caller's rule is: call try_reserve() (and check it) before an
/// object becomes the audio side's, and retire only objects that were reserved for. If an object's hand-off
/// fails after its reservation, give the reservation back with cancel_reservation().
///
/// Each reservation stands for one object that the audio side will retire or that dies at teardown;
/// reservations are interchangeable (swap_and_retire reserves for the new structure and retires the old one).
/// Objects still in the return lane when this dies are destroyed by its destructor, on the destroying thread.
template <class T>
class deferred_delete
{
public:
    /// Reserves a return lane of `capacity` objects. Throws std::invalid_argument when `capacity` is 0.
    /// Thread: setup. Real-time: no (allocates).
    explicit deferred_delete(std::size_t capacity)
        : returns(checked(capacity)), to_control(returns.sender()), from_audio(returns.receiver()), reserved(capacity)
    {
    }

    deferred_delete(const deferred_delete&) = delete;
    deferred_delete& operator=(const deferred_delete&) = delete;

    /// Destroys the objects still in the return lane, on this thread. The audio side must have stopped.
    /// Thread: setup (the control thread, after the audio stream has stopped). Real-time: no (frees).
    ~deferred_delete() = default;  // the lane's destructor: ✗ every object still queued dies here

    /// Takes one reservation for an object about to become the audio side's (counted in `taken`), or returns
    /// false (counted in `refused`) when `capacity` reservations are out; collect() first, or try again later.
    /// Thread: control (the one control thread of this object). Real-time: wait-free.
    [[nodiscard]] bool try_reserve() noexcept COURIER_REALTIME;

    /// Gives back a reservation whose object will never be retired: its hand-off to the audio side failed.
    /// Thread: control. Real-time: wait-free.
    void cancel_reservation() noexcept COURIER_REALTIME;

    /// Destroys every object retired so far, here on the control thread, gives back one reservation per
    /// object and returns how many it destroyed.
    /// Thread: control. Real-time: no (runs T's destructor and frees).
    std::size_t collect() noexcept
    {
        return collect([](T&) noexcept {});
    }

    /// As collect(), but calls `before_destroy(T&)` on each object first (an owner pattern frees its
    /// bookkeeping there).
    /// Thread: control. Real-time: no (runs T's destructor and frees).
    template <class F>
    std::size_t collect(F&& before_destroy) noexcept;

    /// Sends `object` back to the control side, leaving `object` empty; never destroys it here. Cannot fail
    /// while the invariant above holds; if a caller broke it (retired an object nobody reserved for) and the
    /// lane is full, this reports a contract violation and leaks the object (counted in `broken`) rather than
    /// free it on the audio thread.
    /// Thread: audio (the one thread that retires). Real-time: wait-free.
    void retire(std::unique_ptr<T>&& object) noexcept COURIER_REALTIME;

    /// The most reservations out at once: the return lane's capacity.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return returns.capacity(); }

    /// A snapshot of the reservations as a limit on objects in flight: `out` = reservations taken and not yet
    /// given back (an upper bound on the objects the audio side can still retire),
    /// `taken` and `refused` = try_reserve calls that got one or were refused, `returned` = objects the audio
    /// side retired, `broken` = retire calls that found the lane full (a broken contract; the object leaked).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] in_flight_stats stats() const noexcept COURIER_REALTIME
    {
        return reserved.snapshot(returns.stats().sent, broken.load());
    }

    /// Lets new threads take over the control role and the two ends of the return lane, for example when the
    /// audio device restarts its callback on a new thread. The old threads must have stopped using this object.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        control_guard.expect_idle();
        to_control.reset_thread_role();
        from_audio.reset_thread_role();
    }

private:
    static std::size_t checked(std::size_t capacity)
    {
        if (capacity == 0)
            throw std::invalid_argument("courier::deferred_delete: capacity must be at least 1");
        return capacity;
    }

    // Written at setup only.
    lane<std::unique_ptr<T>> returns;
    lane_sender<std::unique_ptr<T>> to_control;      // used by the audio thread
    lane_receiver<std::unique_ptr<T>> from_audio;    // used by the control thread

    // Written by the control thread only.
    role_guard control_guard{detail::type_label<deferred_delete>::text, "control side"};
    // Reservations out: taken by try_reserve, given back by cancel_reservation and collect.
    detail::in_flight_count reserved;

    // Written by the audio thread only.
    counter broken;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
bool deferred_delete<T>::try_reserve() noexcept
{
    const role_guard::scope held(control_guard);
    return reserved.try_take();  // a count; the lanes publish the objects
}

template <class T>
void deferred_delete<T>::cancel_reservation() noexcept
{
    const role_guard::scope held(control_guard);
    reserved.release();  // reports a cancel without a reservation
}

template <class T>
template <class F>
std::size_t deferred_delete<T>::collect(F&& before_destroy) noexcept
{
    const role_guard::scope held(control_guard);
    // Bounded by the lane's capacity: at most `capacity` objects can be waiting.
    const std::size_t count = from_audio.drain(
        [&](std::unique_ptr<T>&& object) {
            before_destroy(*object);
            object.reset();  // ✗ the object dies here, on the control thread
        },
        returns.capacity());
    reserved.release(count);  // reports objects retired without a reservation
    return count;
}

template <class T>
void deferred_delete<T>::retire(std::unique_ptr<T>&& object) noexcept
{
    if (object == nullptr)
        return;
    // Cannot fail: the lane holds `capacity` objects and at most `capacity` reservations are out, one per
    // object that can still be retired.
    if (to_control.try_send(std::move(object)))
        return;
    COURIER_FAIL("deferred_delete::retire: the return lane is full, so an object was retired without a reservation");
    broken.add();
    // Never free on the audio thread, not even for a broken contract: the object is leaked on purpose.
    [[maybe_unused]] T* leaked = object.release();
}

}  // namespace courier
