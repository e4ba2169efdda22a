// SPDX-License-Identifier: MIT
// Poll sources: a receiving end and its handler as one source (drain_source), audio_poll's shared budget over
// several sources, and the counters timer_poll and worker_loop keep (docs/patterns/delivery.md).
#pragma once

#include <courier/contracts.h>

#include <cstddef>
#include <cstdint>
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

/// What a timer_poll or a worker_loop has done so far: both drain their sources in rounds (a timer tick, a
/// worker's wake-up) of one or more budgeted passes. Each field is exact for some moment during the call.
struct poll_stats
{
    std::uint64_t rounds = 0;   ///< timer_poll: tick() calls. worker_loop: times the worker woke
    std::uint64_t handled = 0;  ///< messages handled in all
    std::uint64_t busy = 0;     ///< passes that used their whole budget: messages may have been left waiting
                                ///< (a timer_poll's next tick takes them; a worker_loop goes round again)
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

}  // namespace courier
