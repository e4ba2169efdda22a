// SPDX-License-Identifier: MIT
// Cached state: a control-side copy of state owned by the audio thread, read locally and written through
// A lane, which converges to the audio side's value after every write (docs/patterns/cached_state.md).
#pragma once

#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/send_status.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace courier {

/// A snapshot of a cached_state's counters.
struct cached_state_stats
{
    lane_stats lane;                 ///< sent, refused (each refusal left a write pending), received
    std::uint64_t writes = 0;        ///< write() and modify() calls
    std::uint64_t deferred = 0;      ///< writes that found the lane full and were kept pending
    std::uint64_t applied_version = 0;  ///< the newest version the audio side has applied (0: the initial value)
};

template <class T>
class cached_state_proxy;
template <class T>
class cached_state_target;

/// A value owned by the audio thread (a parameter block, a mixer's channel settings) with a copy on the control
/// side, so the GUI reads it without a round trip. Writes go through the proxy: it updates its copy at once and
/// sends the whole new value to the audio side, which adopts the newest one at its next poll(). Once that
/// poll has run, the audio side's value equals the proxy's copy: the copy converges after every write.
///
/// When the lane is full, the write is not lost and the copy does not silently diverge: the proxy keeps the
/// value as pending (write returns send_status::full, counted in `deferred`) and sends its current copy on
/// the next flush() or write. Since each message is the whole value, a newer write supersedes an older pending
/// one: the audio side skips intermediate values, never the newest. Only the proxy writes the value; the audio
/// side reads it (state the audio side changes itself is observed through state_observer instead).
///
/// T is trivially copyable: the audio side copies it, and nothing dies there but plain bytes. The object
/// allocates its lane at setup and must outlive both ends.
template <class T>
class cached_state
{
    static_assert(std::is_trivially_copyable_v<T>,
                  "courier::cached_state: T must be trivially copyable (it is copied on the audio thread)");

public:
    /// Starts both copies at `initial` (version 0), with a lane of `capacity` writes. Allocates the lane now.
    /// Throws std::invalid_argument when `capacity` is 0.
    /// Thread: setup. Real-time: no (allocates).
    cached_state(const T& initial, std::size_t capacity) : initial_value(initial), writes(capacity) {}

    cached_state(const cached_state&) = delete;
    cached_state& operator=(const cached_state&) = delete;

    /// The ends' types, for a processor that holds them as members.
    using proxy_type = cached_state_proxy<T>;
    using target_type = cached_state_target<T>;

    /// Hands out the control side's proxy. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] cached_state_proxy<T> proxy() { return cached_state_proxy<T>(*this, writes.sender()); }

    /// Hands out the audio side's end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] cached_state_target<T> target() { return cached_state_target<T>(*this, writes.receiver()); }

    /// A snapshot of the counters; each field is exact for some moment during the call.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] cached_state_stats stats() const noexcept COURIER_REALTIME
    {
        cached_state_stats s;
        s.lane = writes.stats();
        s.writes = write_count.load();
        s.deferred = deferred_count.load();
        s.applied_version = applied_version.load();
        return s;
    }

private:
    friend class cached_state_proxy<T>;
    friend class cached_state_target<T>;

    struct versioned
    {
        T value;
        std::uint64_t version;
    };

    // Written at setup only.
    const T initial_value;
    lane<versioned> writes;

    // Written by the proxy's thread only.
    counter write_count;
    counter deferred_count;

    // Written by the audio thread only; the proxy compares it with its own version in synced().
    counter applied_version;
};

/// The control side's end: reads answer from the local copy, writes go through to the audio side. Move-only;
/// one thread uses it at a time (the lane's role guard checks in debug builds).
template <class T>
class cached_state_proxy
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    cached_state_proxy() noexcept = default;

    /// The local copy: the value the audio side has, or will have at its next poll once nothing is pending.
    /// Thread: control (the proxy's thread). Real-time: wait-free.
    [[nodiscard]] const T& get() const noexcept COURIER_REALTIME { return copy; }

    /// Sets the local copy to `value` and sends it to the audio side. Returns `sent` when the value is in the
    /// lane (the audio side takes it at its next poll), or `full` when the lane was full: the value is not
    /// lost, it is kept and sent by the next flush() or write (counted in `deferred`).
    /// Thread: control (the proxy's thread). Real-time: wait-free.
    send_status write(const T& value) noexcept COURIER_REALTIME
    {
        copy = value;
        return send_copy();
    }

    /// Calls `change(T&)` on the local copy, then sends the result as write() does. Use it to change one field.
    /// Thread: control (the proxy's thread). Real-time: wait-free if `change` is.
    template <class Change>
    send_status modify(Change&& change) noexcept
    {
        change(copy);
        return send_copy();
    }

    /// Sends a pending write, if any; returns `sent` when nothing is pending any more, `full` when the lane is
    /// still full (the value stays kept for the next flush() or write).
    /// Call it on every timer tick (or before relying on the audio side having the value).
    /// Thread: control (the proxy's thread). Real-time: wait-free.
    send_status flush() noexcept COURIER_REALTIME;

    /// True when a write is waiting for room in the lane.
    /// Thread: control (the proxy's thread). Real-time: wait-free.
    [[nodiscard]] bool pending() const noexcept COURIER_REALTIME { return has_pending; }

    /// True when nothing is pending and the audio side has applied the newest write, so its value equals get().
    /// Thread: control (the proxy's thread). Real-time: wait-free.
    [[nodiscard]] bool synced() const noexcept COURIER_REALTIME
    {
        // Compares version numbers only; no data is read through the counter.
        return !has_pending && owner->applied_version.load() == version;
    }

    /// The counters (see cached_state::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] cached_state_stats stats() const noexcept COURIER_REALTIME { return owner->stats(); }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { to_audio.reset_thread_role(); }

private:
    friend class cached_state<T>;
    cached_state_proxy(cached_state<T>& o, lane_sender<typename cached_state<T>::versioned> s) noexcept
        : owner(&o), to_audio(std::move(s)), copy(o.initial_value)
    {
    }

    send_status send_copy() noexcept COURIER_REALTIME;

    cached_state<T>* owner = nullptr;
    lane_sender<typename cached_state<T>::versioned> to_audio;
    // Written by the proxy's thread only.
    T copy{};
    std::uint64_t version = 0;  // of `copy`; each write makes a new one
    bool has_pending = false;
};

/// The audio side's end: holds the value the audio callback uses. Move-only.
template <class T>
class cached_state_target
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    cached_state_target() noexcept = default;

    /// Adopts the newest value written through the proxy, if any has come since the last poll, and returns
    /// whether one did. Call it at the start of every callback. Older values queued behind it are skipped.
    /// Thread: audio. Real-time: wait-free.
    bool poll() noexcept COURIER_REALTIME;

    /// The value the audio side uses: the initial value, then the one adopted by the last poll.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] const T& value() const noexcept COURIER_REALTIME { return current; }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { from_control.reset_thread_role(); }

private:
    friend class cached_state<T>;
    cached_state_target(cached_state<T>& o, lane_receiver<typename cached_state<T>::versioned> r) noexcept
        : owner(&o), from_control(std::move(r)), current(o.initial_value)
    {
    }

    cached_state<T>* owner = nullptr;
    lane_receiver<typename cached_state<T>::versioned> from_control;
    // Written by the audio thread only.
    T current{};
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
send_status cached_state_proxy<T>::send_copy() noexcept
{
    COURIER_EXPECTS(owner != nullptr);
    owner->write_count.add();
    ++version;
    if (to_audio.try_send(typename cached_state<T>::versioned{copy, version}))
    {
        has_pending = false;  // this newer value supersedes any pending one
        return send_status::sent;
    }
    // Full: the copy keeps the value, so get() already answers with it, and flush() or the next write sends it.
    has_pending = true;
    owner->deferred_count.add();
    return send_status::full;
}

template <class T>
send_status cached_state_proxy<T>::flush() noexcept
{
    COURIER_EXPECTS(owner != nullptr);
    if (!has_pending)
        return send_status::sent;
    // Same version: the copy has not changed since the write that was kept pending.
    if (!to_audio.try_send(typename cached_state<T>::versioned{copy, version}))
        return send_status::full;  // the refusal is counted in the lane's stats
    has_pending = false;
    return send_status::sent;
}

template <class T>
bool cached_state_target<T>::poll() noexcept
{
    COURIER_EXPECTS(owner != nullptr);
    std::uint64_t newest = 0;
    // The lane holds at most its capacity, so one pass with that budget empties it; the last value wins.
    // Each message dies inside drain right after it is copied, on this (the audio) thread: plain bytes.
    const std::size_t adopted = from_control.drain(
        [&](typename cached_state<T>::versioned&& write) {
            current = write.value;
            newest = write.version;
        },
        from_control.stats().capacity);
    if (adopted == 0)
        return false;
    owner->applied_version.set(newest);  // a version number, read by synced()
    return true;
}

}  // namespace courier
