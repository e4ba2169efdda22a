// SPDX-License-Identifier: MIT
// Delivery styles: the audio callback polls with a budget, a worker drains when woken, a GUI timer polls
// With a budget per tick (docs/patterns/delivery.md).
#pragma once

#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/wakeup.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>

namespace courier {

/// A poll source: a callable `std::size_t(std::size_t max)` that handles at most `max` queued messages and
/// returns how many. It returns fewer than `max` only when it found nothing more queued. Any receiving end
/// with a `drain(handler, max)` becomes one through drain_source; a lambda around
/// `command_receiver::poll(state, max)` is one too.
template <class S>
concept poll_source = std::is_invocable_r_v<std::size_t, S&, std::size_t>;

/// A receiving end and its handler, as one poll source. It owns the end (ends are move-only and cheap), so a
/// source moved into a worker_loop or a timer_poll takes the end with it; the queue behind the end must outlive
/// the source.
template <class Receiver, class Handler>
class drain_source
{
public:
    /// Takes over `receiver` and pairs it with `handle`.
    /// Thread: setup. Real-time: wait-free if Handler's move constructor is.
    drain_source(Receiver receiver, Handler handle) noexcept(std::is_nothrow_move_constructible_v<Handler>)
        : from(std::move(receiver)), handler(std::move(handle))
    {
    }

    /// Drains up to `max` messages from the end into the handler and returns how many.
    /// Thread: the end's consumer. Real-time: wait-free if the end's drain and the handler are.
    std::size_t operator()(std::size_t max) noexcept
    {
        const auto result = from.drain(handler, max);
        if constexpr (std::is_convertible_v<decltype(result), std::size_t>)
            return result;
        else
            return result.total();  // a report per lane, such as priority_report
    }

    /// The receiving end, for its own calls (stats, reset_thread_role).
    /// Thread: the end's consumer, or as the end's call says. Real-time: wait-free.
    [[nodiscard]] Receiver& receiver() noexcept COURIER_REALTIME { return from; }

private:
    Receiver from;
    Handler handler;
};

/// Drains `sources` with one total `budget`, for the start of an audio callback: at most `budget` messages
/// in all, and each source with messages waiting gets at least budget / (number of sources) of them, so
/// none can starve another. Returns how many messages it handled; equal to `budget` means more may wait.
/// Two passes: each source up to its share, then each in turn up to what is left of the budget, so the
/// work is at most 2 × sources calls and `budget` messages. Never waits, allocates or frees by itself.
/// Thread: audio (any single consumer of all the sources). Real-time: wait-free if every source is.
template <poll_source... Sources>
std::size_t audio_poll(std::size_t budget, Sources&&... sources) noexcept;

/// What a timer_poll has done so far; each field is exact for some moment during the call.
struct timer_poll_stats
{
    std::uint64_t ticks = 0;       ///< tick() calls
    std::uint64_t handled = 0;     ///< messages handled over all ticks
    std::uint64_t busy_ticks = 0;  ///< ticks that used their whole budget: messages may have been left waiting
};

/// Polling on a GUI timer: each tick() drains `sources` with a budget per tick (shared as audio_poll shares
/// it), so a burst from the audio side is spread over several ticks instead of freezing the GUI for one.
/// Framework-free: call tick() from a juce::Timer's timerCallback, a Qt timer or a plain loop. Busy ticks
/// are counted, so a GUI can show that it is falling behind.
template <poll_source... Sources>
class timer_poll
{
    static_assert(sizeof...(Sources) > 0, "courier::timer_poll: give at least one source");

public:
    /// Drains `sources` with at most `budget_per_tick` messages per tick. Throws std::invalid_argument for 0.
    /// Thread: setup. Real-time: no (may throw).
    explicit timer_poll(std::size_t budget_per_tick, Sources... sources)
        : from(std::move(sources)...), per_tick(checked(budget_per_tick))
    {
    }

    /// Drains up to the budget and returns how many messages were handled.
    /// Thread: the timer's thread (the one consumer of the sources). Real-time: wait-free if every source is.
    std::size_t tick() noexcept;

    /// The most messages one tick handles.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t budget() const noexcept COURIER_REALTIME { return per_tick; }

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] timer_poll_stats stats() const noexcept COURIER_REALTIME
    {
        return {ticks.load(), handled.load(), busy_ticks.load()};
    }

private:
    static std::size_t checked(std::size_t budget)
    {
        if (budget == 0)
            throw std::invalid_argument("courier::timer_poll: budget_per_tick must be at least 1");
        return budget;
    }

    std::tuple<Sources...> from;
    const std::size_t per_tick;

    // Written by the timer's thread only.
    counter ticks;
    counter handled;
    counter busy_ticks;
};

/// How a worker_loop is run.
struct worker_options
{
    std::size_t budget = 64;  ///< messages per drain pass (shared among the sources as audio_poll does)
    std::chrono::microseconds poll_interval = std::chrono::milliseconds(1);  ///< see wakeup: signal()'s delay
    std::size_t stop_passes = 1024;  ///< the most drain passes stop() waits for before giving up
};

/// What stop() found.
struct worker_stop_report
{
    std::uint64_t handled = 0;  ///< messages handled by the final drain, after stop() was called
    bool drained = false;       ///< true: the final drain found every source empty. False: the sources kept
                                ///< filling for `stop_passes` passes (or the loop never started), so
                                ///< messages may be left; they die with their lanes
};

/// A worker thread that sleeps on a wakeup and, each time it is woken, drains its sources until they are
/// empty. The audio side posts work into a lane, then calls signal(): wait-free, no syscall; the worker
/// notices within the poll interval. Control threads call signal_and_wake() to wake it at once.
///
/// A wake-up is never lost: the worker takes the signal before it drains, and drains until every source is
/// empty, so a message sent and signalled at any moment is handled by this drain or by the next wake-up.
/// stop() loses nothing queued before it: every message whose send happened before the call to stop() is
/// handled before stop() returns, unless the report says `drained == false`.
///
/// One start() and one stop() per object (a new thread would trip the sources' role guards). The sources
/// run on the worker thread and may allocate and block; they are destroyed with the worker_loop.
template <poll_source... Sources>
class worker_loop
{
    static_assert(sizeof...(Sources) > 0, "courier::worker_loop: give at least one source");

public:
    /// Keeps the sources; starts no thread yet. Throws std::invalid_argument when budget or stop_passes is 0.
    /// Thread: setup. Real-time: no (may allocate inside the wakeup, may throw).
    explicit worker_loop(worker_options options, Sources... sources)
        : from(std::move(sources)...), settings(checked(options)), wake(options.poll_interval)
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

    /// Asks the worker to finish, wakes it, waits for it to drain what is queued and exit, and reports the
    /// final drain. Later calls return the same report. Before start(), it stops nothing and reports
    /// `drained == false`.
    /// Thread: control. Real-time: no (blocks: joins the worker).
    worker_stop_report stop();

    /// Tells the worker that work is queued; it drains within the poll interval. Send first, then signal.
    /// Thread: any (the audio thread included). Real-time: wait-free.
    void signal() noexcept COURIER_REALTIME { wake.signal(); }

    /// Tells the worker that work is queued and wakes it now.
    /// Thread: control. Real-time: no (locks, syscall).
    void signal_and_wake() { wake.signal_and_wake(); }

    /// Messages the worker has handled so far.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t handled() const noexcept COURIER_REALTIME
    {
        return handled_count.load();
    }

    /// Times the worker woke to a signal.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t wakeups() const noexcept COURIER_REALTIME
    {
        return wakeup_count.load();
    }

private:
    enum class phase
    {
        ready,
        running,
        stopped
    };

    static worker_options checked(worker_options options)
    {
        if (options.budget == 0 || options.stop_passes == 0)
            throw std::invalid_argument("courier::worker_loop: budget and stop_passes must be at least 1");
        return options;
    }

    void run() noexcept;
    std::size_t pass() noexcept;
    bool stopping() const noexcept
    {
        return stop_requested.load(std::memory_order_acquire);  // pairs with the release store in stop()
    }

    // Used by the worker thread only.
    std::tuple<Sources...> from;
    const worker_options settings;

    wakeup wake;
    std::atomic<bool> stop_requested{false};  // written by stop(), read by the worker

    // Written by the worker thread only.
    counter handled_count;
    counter wakeup_count;
    worker_stop_report final_report;  // read by stop() after joining the worker

    // Used by the controlling thread only.
    std::thread worker;
    phase state = phase::ready;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

namespace detail {

template <class Source>
std::size_t drain_at_most(Source& source, std::size_t max) noexcept
{
    const std::size_t n = source(max);
    COURIER_EXPECTS(n <= max);  // a source that overran its share would break the caller's budget
    return n;
}

template <class... Sources>
std::size_t share_budget(std::size_t budget, Sources&... sources) noexcept
{
    constexpr std::size_t count = sizeof...(Sources);
    const std::size_t share = budget / count;
    std::size_t handled = 0;
    if (share > 0)
        ((handled += drain_at_most(sources, share)), ...);  // pass 1: every source up to its share
    // Pass 2: what is left, source by source.
    ((handled += handled < budget ? drain_at_most(sources, budget - handled) : 0), ...);
    return handled;
}

}  // namespace detail

template <poll_source... Sources>
std::size_t audio_poll(std::size_t budget, Sources&&... sources) noexcept
{
    static_assert(sizeof...(Sources) > 0, "courier::audio_poll: give at least one source");
    return detail::share_budget(budget, sources...);
}

template <poll_source... Sources>
std::size_t timer_poll<Sources...>::tick() noexcept
{
    const std::size_t n = std::apply([this](auto&... s) { return detail::share_budget(per_tick, s...); }, from);
    ticks.add();
    handled.add(n);
    if (n == per_tick)
        busy_ticks.add();
    return n;
}

template <poll_source... Sources>
void worker_loop<Sources...>::start()
{
    if (state != phase::ready)
        throw std::logic_error("courier::worker_loop: start() called twice; make a new worker_loop instead");
    worker = std::thread([this] { run(); });
    state = phase::running;
}

template <poll_source... Sources>
worker_stop_report worker_loop<Sources...>::stop()
{
    if (state == phase::running)
    {
        // Pairs with the acquire load in stopping(): every send that happened before this call is visible to
        // the worker's final drain.
        stop_requested.store(true, std::memory_order_release);
        wake.signal_and_wake();  // a plain signal() could leave the worker asleep for a whole poll interval
        worker.join();           // orders the worker's writes to final_report before our read
    }
    state = phase::stopped;
    return final_report;
}

template <poll_source... Sources>
std::size_t worker_loop<Sources...>::pass() noexcept
{
    const std::size_t n =
        std::apply([this](auto&... s) { return detail::share_budget(settings.budget, s...); }, from);
    handled_count.add(n);
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
        while (!stopping() && pass() == settings.budget)
        {
        }
        if (stopping())
            break;
    }

    // The final drain: every message sent before stop() was called is visible now (see stopping()).
    worker_stop_report report;
    for (std::size_t passes = 0; passes < settings.stop_passes && !report.drained; ++passes)
    {
        const std::size_t n = pass();
        report.handled += n;
        report.drained = n < settings.budget;
    }
    final_report = report;
}

}  // namespace courier
