// SPDX-License-Identifier: MIT
// A worker thread that sleeps on a wakeup and drains its sources when woken, and stops without losing work
// (docs/patterns/delivery.md).
#pragma once

#include <courier/contracts.h>
#include <courier/counter.h>
#include <courier/patterns/drain_source.h>
#include <courier/wakeup.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <utility>

namespace courier {

/// A worker thread that sleeps on a wakeup and, each time it is woken, drains its sources until they are
/// empty. The audio side posts work into a lane, then calls signal(): wait-free, no syscall; the worker
/// notices within the poll interval. Control threads call signal_and_wake() to wake it at once.
///
/// A wake-up is never lost: the worker takes the signal before it drains, and drains until every source is
/// empty, so a message sent and signalled at any moment is handled by this drain or by the next wake-up.
/// stop() loses nothing queued before it: every message whose send happened before the call to stop() is
/// handled before stop() returns, unless it returns false.
///
/// One start() and one stop() per object (a new thread would trip the sources' role guards). The sources
/// run on the worker thread and may allocate and block; they are destroyed with the worker_loop.
template <poll_source... Sources>
class worker_loop
{
    static_assert(sizeof...(Sources) > 0, "courier::worker_loop: give at least one source");

public:
    /// Keeps the sources; starts no thread yet. Each drain pass handles at most `budget` messages, shared
    /// among the sources as audio_poll shares it; `poll_interval` is how late a signal() may be noticed (see
    /// wakeup). Throws std::invalid_argument when `budget` is 0.
    /// Thread: setup. Real-time: no (may allocate inside the wakeup, may throw).
    worker_loop(std::size_t budget, std::chrono::microseconds poll_interval, Sources... sources)
        : from(std::move(sources)...), per_pass(checked(budget)), wake(poll_interval)
    {
    }

    worker_loop(const worker_loop&) = delete;
    worker_loop& operator=(const worker_loop&) = delete;

    /// Stops the worker if it is running (see stop()).
    /// Thread: setup. Real-time: no (blocks).
    ~worker_loop() { (void)stop(); }

    /// Starts the worker thread. Throws std::logic_error when called a second time, and whatever std::thread
    /// throws.
    /// Thread: control. Real-time: no (creates a thread).
    void start();

    /// Asks the worker to finish, wakes it, waits for it to drain what is queued and exit. Returns true when
    /// the final drain found every source empty; false when the sources kept filling for `max_passes` passes
    /// (messages may be left; they die with their lanes) or the worker never started. Later calls return the
    /// same answer. Throws std::invalid_argument when `max_passes` is 0.
    /// Thread: control. Real-time: no (blocks: joins the worker).
    bool stop(std::size_t max_passes = 1024);

    /// Tells the worker that work is queued; it drains within the poll interval. Send first, then signal.
    /// Thread: any (the audio thread included). Real-time: wait-free.
    void signal() noexcept COURIER_REALTIME { wake.signal(); }

    /// Tells the worker that work is queued and wakes it now.
    /// Thread: control. Real-time: no (locks, syscall).
    void signal_and_wake() { wake.signal_and_wake(); }

    /// The messages handled so far, final drain included, the times the worker woke (`rounds`, stop()'s own
    /// wake-up included) and the passes that used the whole budget (`busy`: it went round again at once).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] poll_stats stats() const noexcept COURIER_REALTIME
    {
        return {wakeup_count.load(), handled_count.load(), busy_count.load()};
    }

private:
    enum class phase
    {
        ready,
        running,
        stopped
    };

    static std::size_t checked(std::size_t budget)
    {
        if (budget == 0)
            throw std::invalid_argument("courier::worker_loop: budget must be at least 1");
        return budget;
    }

    void run() noexcept;
    std::size_t pass() noexcept;
    bool stopping() const noexcept
    {
        return stop_requested.load(std::memory_order_acquire);  // pairs with the release store in stop()
    }

    // Used by the worker thread only.
    std::tuple<Sources...> from;
    const std::size_t per_pass;

    wakeup wake;
    std::atomic<bool> stop_requested{false};  // written by stop(), read by the worker
    std::size_t final_passes = 0;  // written by stop() before its release store, read by the final drain after it

    // Written by the worker thread only.
    counter handled_count;
    counter wakeup_count;
    counter busy_count;
    bool final_drained = false;  // read by stop() after joining the worker

    // Used by the controlling thread only.
    std::thread worker;
    phase state = phase::ready;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <poll_source... Sources>
void worker_loop<Sources...>::start()
{
    if (state != phase::ready)
        throw std::logic_error("courier::worker_loop: start() called twice; make a new worker_loop instead");
    worker = std::thread([this] { run(); });
    state = phase::running;
}

template <poll_source... Sources>
bool worker_loop<Sources...>::stop(std::size_t max_passes)
{
    if (max_passes == 0)
        throw std::invalid_argument("courier::worker_loop: stop() needs max_passes of at least 1");
    if (state == phase::running)
    {
        final_passes = max_passes;  // published to the worker by the release store below
        // Pairs with the acquire load in stopping(): every send that happened before this call, and
        // final_passes, are visible to the worker's final drain.
        stop_requested.store(true, std::memory_order_release);
        wake.signal_and_wake();  // a plain signal() could leave the worker asleep for a whole poll interval
        worker.join();           // orders the worker's write to final_drained before our read
    }
    state = phase::stopped;
    return final_drained;
}

template <poll_source... Sources>
std::size_t worker_loop<Sources...>::pass() noexcept
{
    const std::size_t n = std::apply([this](auto&... s) { return detail::share_budget(per_pass, s...); }, from);
    handled_count.add(n);
    if (n == per_pass)
        busy_count.add();
    return n;
}

template <poll_source... Sources>
void worker_loop<Sources...>::run() noexcept
{
    for (;;)
    {
        wake.wait();  // takes the signal first, so a signal posted during the drain below wakes us again
        wakeup_count.add();
        // A pass short of the budget found every source empty; stop() may interrupt a flood.
        while (!stopping() && pass() == per_pass)
        {
        }
        if (stopping())
            break;
    }

    // The final drain: every message sent before stop() was called is visible now (see stopping()).
    bool drained = false;
    for (std::size_t passes = 0; passes < final_passes && !drained; ++passes)
        drained = pass() < per_pass;
    final_drained = drained;
}

}  // namespace courier
