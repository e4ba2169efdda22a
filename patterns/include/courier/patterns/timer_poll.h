// SPDX-License-Identifier: MIT
// Polling on a GUI timer: each tick drains the sources with a budget per tick (docs/patterns/delivery.md).
#pragma once

#include <courier/contracts.h>
#include <courier/counter.h>
#include <courier/patterns/drain_source.h>

#include <cstddef>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace courier {

/// Polling on a GUI timer: each tick() drains `sources` with a budget per tick (shared as audio_poll shares
/// it), so a burst from the audio side is spread over several ticks instead of freezing the GUI for one.
/// Framework-free: call tick() from a juce::Timer's timerCallback, a Qt timer or a plain loop. Ticks that
/// used the whole budget are counted (`stats().busy`), so a GUI can show that it is falling behind.
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

    /// A snapshot of the counters: `rounds` counts the ticks, and each tick is one pass, so `busy` counts the
    /// ticks that used their whole budget.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] poll_stats stats() const noexcept COURIER_REALTIME
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

// ---------------------------------------------------------------------------------------------------------
// Implementation

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

}  // namespace courier
