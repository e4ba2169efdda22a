// SPDX-License-Identifier: MIT
// Health-panel rows from the counters of courier's lanes, pools, graph swaps, block events and the engine, so an
// editor builds its panel in a few lines (gui/README.md).
#pragma once

#include <courier/audio/engine.h>
#include <courier/gui/block_events.h>
#include <courier/gui/health_panel.h>
#include <courier/patterns/buffer_pool.h>
#include <courier/patterns/swap_and_retire.h>

#include <juce_gui_basics/juce_gui_basics.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace courier::gui {

/// A counter as text.
/// Thread: any. Real-time: no (builds a string).
inline juce::String count_text(std::uint64_t n) { return juce::String(static_cast<juce::int64>(n)); }

/// The row of a limit on things in flight (a buffer_pool's loop): out of capacity, refusals, how many were
/// taken and returned.
/// Thread: any. Real-time: no (builds strings).
inline health_row row_from(juce::String channel, const in_flight_stats& s, juce::String note = {})
{
    return {std::move(channel), s.out, s.capacity, s.high_water, s.refused, s.taken,
            note.isEmpty() ? "returned " + count_text(s.returned) : note};
}

/// The row of a graph swap: structures in flight, refused publications, adopted and sent back.
/// Thread: any. Real-time: no (builds strings).
inline health_row row_from(juce::String channel, const swap_and_retire_stats& s)
{
    return row_from(std::move(channel), s.returns,
                    "adopted " + count_text(s.publications.received) + ", returned " + count_text(s.returns.returned));
}

/// The row of a block_events: events carried now, dropped ones as refusals (never silent).
/// Thread: any. Real-time: no (builds strings).
inline health_row row_from(juce::String channel, const block_events_stats& s)
{
    return {std::move(channel), s.carrying, s.capacity, s.high_water, s.dropped, s.midi + s.other,
            "carried " + count_text(s.carried) + ", dropped " + count_text(s.dropped) + ", not channel msgs " +
                count_text(s.ignored)};
}

/// The panel's header line for an engine: blocks, load, over-budget blocks, events applied, meters seen.
/// Thread: any. Real-time: no (builds strings).
inline juce::String engine_header(const audio::engine_stats& s, std::uint64_t meters_published, std::uint64_t meters_read)
{
    const auto percent = [](double fraction) { return juce::String(fraction * 100.0, 1) + "%"; };
    return "blocks " + count_text(s.callbacks) + "  load mean " + percent(s.mean_load) + " max " + percent(s.max_load) +
           "  over budget " + count_text(s.over_budget) + "  events " +
           count_text(s.immediate_applied + s.port_applied + s.timed_applied + s.host_events_applied) + "  meters " +
           count_text(meters_read) + "/" + count_text(meters_published);
}

/// The engine's own rows: its graph swap and its scope loop.
/// Thread: any. Real-time: no (allocates).
inline void add_engine_rows(const audio::engine& e, std::vector<health_row>& rows)
{
    rows.push_back(row_from("graphs (swap_and_retire)", e.graph_stats()));
    rows.push_back(row_from("scope credits (buffer_pool)", e.scope_stats()));
}

}  // namespace courier::gui
