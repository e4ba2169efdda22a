// SPDX-License-Identifier: MIT
// The engine's meters and scope, fed into a level_meter and a scope_view on the editor's timer (timer_poll: a
// budget per tick, busy ticks counted), so an editor has no meter or scope code of its own (gui/README.md).
#pragma once

#include <courier/audio/engine.h>
#include <courier/gui/meter_scope.h>
#include <courier/patterns/timer_poll.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace courier::gui {

/// Polls an engine's meters (state_observer: the newest value wins) and scope buffers (buffer_pool: each
/// buffer goes back to the loop as soon as it is copied) from a GUI timer, and shows them. It is the engine's
/// one meter reader and one scope reader. Each tick() handles at most `budget_per_tick` values (shared between
/// the two as audio_poll shares a budget); the newest scope buffer taken in a tick is the one drawn.
///
/// Threads: the message thread (the timer's); the engine and both components must outlive it.
class engine_feeds
{
public:
    /// Feeds `meter` and `scope` from `engine`. Throws std::invalid_argument for a budget of 0.
    /// Thread: setup (message thread). Real-time: no (allocates).
    engine_feeds(audio::engine& engine, level_meter& meter, scope_view& scope, std::size_t budget_per_tick = 8)
        : poll(budget_per_tick, meter_source{this}, scope_source{this}), source(&engine), meter_view(&meter),
          scope_out(&scope), samples(engine.settings().scope_frames)
    {
    }

    engine_feeds(const engine_feeds&) = delete;
    engine_feeds& operator=(const engine_feeds&) = delete;

    /// Takes what the engine published since the last tick (within the budget) and repaints what changed.
    /// Returns how many values it took.
    /// Thread: message thread. Real-time: no (repaints).
    std::size_t tick()
    {
        fresh_scope = false;
        const std::size_t n = poll.tick();
        if (fresh_scope)
            scope_out->set_samples(std::span<const float>(samples.data(), scope_frames));
        return n;
    }

    /// The meters taken last (all zero before the first), for whoever else shows them (an OSC endpoint).
    /// Thread: message thread. Real-time: wait-free.
    [[nodiscard]] const audio::engine_meters& meters() const noexcept { return latest; }

    /// Meter values taken so far (against engine::meters_published(): the rest were overwritten unseen).
    /// Thread: message thread. Real-time: wait-free.
    [[nodiscard]] std::uint64_t meters_read() const noexcept { return meters_taken; }

    /// The timer's counters (`rounds`: ticks; `handled`: values taken; `busy`: ticks that used the whole budget).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] poll_stats stats() const noexcept { return poll.stats(); }

private:
    struct meter_source
    {
        engine_feeds* feeds;
        std::size_t operator()(std::size_t max) noexcept
        {
            if (max == 0 || !feeds->source->try_read_meters(feeds->latest))
                return 0;  // state_observer: one newest value at most
            ++feeds->meters_taken;
            feeds->meter_view->set_levels(feeds->latest.peak, feeds->latest.rms);
            return 1;
        }
    };
    struct scope_source
    {
        engine_feeds* feeds;
        std::size_t operator()(std::size_t max) noexcept
        {
            std::size_t n = 0;
            for (; n < max; ++n)
            {
                const std::size_t frames = feeds->source->try_read_scope(feeds->samples);
                if (frames == 0)
                    break;
                feeds->scope_frames = frames;
                feeds->fresh_scope = true;
            }
            return n;
        }
    };

    timer_poll<meter_source, scope_source> poll;
    audio::engine* source;
    level_meter* meter_view;
    scope_view* scope_out;
    std::vector<float> samples;  // the newest scope buffer's copy
    std::size_t scope_frames = 0;
    bool fresh_scope = false;
    audio::engine_meters latest;
    std::uint64_t meters_taken = 0;
};

}  // namespace courier::gui
