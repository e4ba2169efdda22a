// SPDX-License-Identifier: MIT
// Waking a non-real-time worker from the audio thread without a syscall on the audio side
// (docs/patterns/wakeup.md).
#pragma once

#include <courier/contracts.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace courier {

/// Wakes one waiting worker thread. The audio side may not make a syscall, and waking a sleeping thread
/// needs one, so the design splits the two:
/// - signal() only sets a flag (wait-free, any thread, audio included). A waiting worker looks at the flag at
///   least every `poll_interval`, so it learns of the signal within that delay plus its scheduling latency.
/// - signal_and_wake() sets the flag and wakes the worker at once; it locks and makes a syscall, so it is for
///   control threads only.
/// A signal is never lost: the flag stays set until a wait returns true, and several signals before one wait
/// coalesce into that one wake-up (so the worker drains all pending work on each wake-up).
class wakeup
{
public:
    /// Thread: setup. Real-time: no (may allocate inside the mutex and condition variable on some platforms).
    explicit wakeup(std::chrono::microseconds poll_interval = std::chrono::milliseconds(1)) : poll(poll_interval)
    {
    }

    /// Marks work as pending; the waiter sees it within poll_interval().
    /// Thread: any. Real-time: wait-free.
    void signal() noexcept COURIER_REALTIME
    {
        // Pairs with the acquire exchange in wait_for: work published before the signal is visible to the worker.
        pending.store(true, std::memory_order_release);
    }

    /// Marks work as pending and wakes the waiter now.
    /// Thread: control. Real-time: no (locks, syscall).
    void signal_and_wake()
    {
        {
            // The lock orders this store against the waiter's check of the predicate, so the notify below
            // cannot fall between its check and its sleep.
            const std::lock_guard lock(sleep_mutex);
            pending.store(true, std::memory_order_release);  // pairs with the acquire exchange in wait_for
        }
        sleeper.notify_one();
    }

    /// Waits until a signal is pending or `timeout` has passed; returns true, consuming the signal, if one came.
    /// Thread: the one worker thread. Real-time: no (blocks).
    bool wait_for(std::chrono::nanoseconds timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;)
        {
            // Pairs with the release stores in signal and signal_and_wake.
            if (pending.exchange(false, std::memory_order_acquire))
                return true;
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline)
                return false;
            const auto nap = std::min<std::chrono::nanoseconds>(poll, deadline - now);
            std::unique_lock lock(sleep_mutex);
            // Relaxed in the predicate: the acquire exchange at the top of the loop takes the signal.
            sleeper.wait_for(lock, nap, [this] { return pending.load(std::memory_order_relaxed); });
        }
    }

    /// Waits until a signal is pending, consuming it.
    /// Thread: the one worker thread. Real-time: no (blocks).
    void wait()
    {
        while (!wait_for(std::chrono::hours(1)))
        {
        }
    }

    /// The longest a waiter goes without looking at the flag.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::chrono::microseconds poll_interval() const noexcept COURIER_REALTIME { return poll; }

private:
    const std::chrono::microseconds poll;
    std::atomic<bool> pending{false};  // set by signallers, cleared by the waiter

    // Used by the waiter and by signal_and_wake on control threads, never by the audio thread.
    std::mutex sleep_mutex;
    std::condition_variable sleeper;
};

}  // namespace courier
