// SPDX-License-Identifier: MIT
// The message-health panel: per-channel depth, high-water mark, refused sends and in-flight credits, plus the
// callback's load, as a table of live numbers (gui/README.md).
#pragma once

#include <courier/lane_stats.h>

#include <juce_gui_basics/juce_gui_basics.h>

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace courier::gui {

/// One line of the panel: a channel (a lane or pattern) and its counters as they are now.
struct health_row
{
    juce::String channel;          ///< "params", "osc in", ...
    std::uint64_t depth = 0;       ///< messages queued now (or buffers / credits in flight)
    std::uint64_t capacity = 0;    ///< the most it can hold (0: not applicable)
    std::uint64_t high_water = 0;  ///< the most seen queued at once (a lane's is sampled: see lane_stats)
    std::uint64_t refused = 0;     ///< sends refused (full lane, no credit, starved)
    std::uint64_t sent = 0;        ///< messages sent so far
    juce::String note;             ///< anything else worth a glance
};

/// The row of a plain lane.
/// Thread: any. Real-time: no (builds strings).
inline health_row row_from(juce::String channel, const lane_stats& s, juce::String note = {})
{
    return {std::move(channel), s.depth(), s.capacity, s.high_water, s.refused, s.sent, std::move(note)};
}

/// A table of health rows with a header line on top (free text: the callback's load, say). The owner
/// rebuilds the rows on a timer from the patterns' stats() (all wait-free, lock-free reads) and calls
/// set_rows(). Rows from elsewhere, such as an OSC endpoint's counters, join through set_extra_rows().
/// Thread: the message thread (a juce::Component). Real-time: no.
class health_panel : public juce::Component
{
public:
    /// A source of more rows, called at every set_rows(): the hook for another subsystem's lanes (the OSC
    /// endpoint of courier::osc, for one), so the panel needs no header of theirs.
    using extra_source = std::function<void(std::vector<health_row>&)>;

    /// Installs `source` (replacing any earlier one; empty removes it).
    /// Thread: message thread. Real-time: no.
    void set_extra_rows(extra_source source) { extra = std::move(source); }

    /// Shows `header` and `rows` (plus the extra source's rows) from now on.
    /// Thread: message thread. Real-time: no (allocates, repaints).
    void set_rows(juce::String header, std::vector<health_row> rows)
    {
        if (extra)
            extra(rows);
        title = std::move(header);
        lines = std::move(rows);
        repaint();
    }

    /// The rows shown now (for tests and logs).
    /// Thread: message thread. Real-time: no.
    [[nodiscard]] const std::vector<health_row>& rows() const noexcept { return lines; }

    /// The header line shown now.
    /// Thread: message thread. Real-time: no.
    [[nodiscard]] const juce::String& header() const noexcept { return title; }

    /// Draws the component (juce::Component).
    /// Thread: message thread. Real-time: no.
    void paint(juce::Graphics& g) override
    {
        g.fillAll(juce::Colour(0xff161a20));
        auto area = getLocalBounds().reduced(6);
        g.setFont(juce::Font(juce::Font::getDefaultMonospacedFontName(), 13.0F, juce::Font::plain));
        g.setColour(juce::Colour(0xffffd040));
        g.drawText("message health  " + title, area.removeFromTop(18), juce::Justification::centredLeft);
        const int widths[] = {200, 70, 80, 80, 90, 0};
        const char* headings[] = {"channel", "depth", "cap", "high", "refused", "sent / notes"};
        auto heading_line = area.removeFromTop(18);
        g.setColour(juce::Colours::lightgrey);
        for (int i = 0; i < 6; ++i)
            g.drawText(headings[i], i < 5 ? heading_line.removeFromLeft(widths[i]) : heading_line,
                       juce::Justification::centredLeft);
        g.setColour(juce::Colours::white);
        for (const auto& r : lines)
        {
            auto line = area.removeFromTop(17);
            if (line.getHeight() <= 0)
                break;
            g.drawText(r.channel, line.removeFromLeft(widths[0]), juce::Justification::centredLeft);
            g.drawText(juce::String(static_cast<juce::int64>(r.depth)), line.removeFromLeft(widths[1]),
                       juce::Justification::centredLeft);
            g.drawText(r.capacity == 0 ? juce::String("-") : juce::String(static_cast<juce::int64>(r.capacity)),
                       line.removeFromLeft(widths[2]), juce::Justification::centredLeft);
            g.drawText(juce::String(static_cast<juce::int64>(r.high_water)), line.removeFromLeft(widths[3]),
                       juce::Justification::centredLeft);
            g.setColour(r.refused > 0 ? juce::Colours::orangered : juce::Colours::white);
            g.drawText(juce::String(static_cast<juce::int64>(r.refused)), line.removeFromLeft(widths[4]),
                       juce::Justification::centredLeft);
            g.setColour(juce::Colours::white);
            g.drawText(juce::String(static_cast<juce::int64>(r.sent)) + "  " + r.note, line,
                       juce::Justification::centredLeft);
        }
    }

private:
    juce::String title;
    std::vector<health_row> lines;
    extra_source extra;
};

}  // namespace courier::gui
