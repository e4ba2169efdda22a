// SPDX-License-Identifier: MIT
// A level meter and an oscilloscope for values the audio side sends through courier (state_observer meters,
// buffer_pool scope buffers); both only draw what the control side hands them (gui/README.md).
#pragma once

#include <juce_gui_basics/juce_gui_basics.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace courier::gui {

/// Vertical peak/RMS bars for up to two channels, with the figures in dBFS under them. Feed it from a
/// state_reader on a timer: set_levels() then repaints.
/// Thread: the message thread (a juce::Component). Real-time: no.
class level_meter : public juce::Component
{
public:
    /// Shows `peak` and `rms` (linear, per channel) from now on.
    /// Thread: message thread. Real-time: no (repaints).
    void set_levels(std::array<float, 2> peak, std::array<float, 2> rms)
    {
        peaks = peak;
        rmss = rms;
        repaint();
    }

    /// Linear amplitude to dBFS, floored at -90.
    /// Thread: any. Real-time: wait-free.
    static float decibels(float linear) noexcept { return linear > 3.2e-5F ? 20.0F * std::log10(linear) : -90.0F; }

    /// Draws the component (juce::Component).
    /// Thread: message thread. Real-time: no.
    void paint(juce::Graphics& g) override
    {
        g.fillAll(juce::Colour(0xff101418));
        const auto area = getLocalBounds().reduced(4);
        const int text_height = 16;
        const int bar_width = (area.getWidth() - 4) / 2;
        for (std::size_t c = 0; c < 2; ++c)
        {
            auto bar = juce::Rectangle<int>(area.getX() + static_cast<int>(c) * (bar_width + 4), area.getY(), bar_width,
                                            area.getHeight() - 2 * text_height);
            g.setColour(juce::Colour(0xff2a3038));
            g.fillRect(bar);
            const auto fraction = [](float linear) { return std::clamp((decibels(linear) + 60.0F) / 60.0F, 0.0F, 1.0F); };
            const int rms_height = static_cast<int>(fraction(rmss[c]) * static_cast<float>(bar.getHeight()));
            const int peak_height = static_cast<int>(fraction(peaks[c]) * static_cast<float>(bar.getHeight()));
            g.setColour(juce::Colour(0xff3fbf5f));
            g.fillRect(bar.withTop(bar.getBottom() - rms_height));
            g.setColour(juce::Colour(0xffffd040));
            g.fillRect(bar.getX(), bar.getBottom() - peak_height, bar.getWidth(), 3);
            g.setColour(juce::Colours::white);
            g.setFont(12.0F);
            g.drawText(juce::String(decibels(peaks[c]), 1), bar.getX(), bar.getBottom() + 2, bar.getWidth(), text_height,
                       juce::Justification::centred);
            g.drawText(c == 0 ? "L pk" : "R pk", bar.getX(), bar.getBottom() + 2 + text_height, bar.getWidth(),
                       text_height, juce::Justification::centred);
        }
    }

private:
    std::array<float, 2> peaks{};
    std::array<float, 2> rmss{};
};

/// An oscilloscope: draws the last buffer it was given (one channel), triggered on a rising zero crossing.
/// Thread: the message thread (a juce::Component). Real-time: no.
class scope_view : public juce::Component
{
public:
    /// Draws `samples` from now on (copied).
    /// Thread: message thread. Real-time: no (allocates the first time, repaints).
    void set_samples(std::span<const float> samples)
    {
        shown.assign(samples.begin(), samples.end());
        ++buffers;
        repaint();
    }

    /// How many buffers it has been given.
    /// Thread: message thread. Real-time: wait-free.
    [[nodiscard]] std::size_t buffers_shown() const noexcept { return buffers; }

    /// Draws the component (juce::Component).
    /// Thread: message thread. Real-time: no.
    void paint(juce::Graphics& g) override
    {
        g.fillAll(juce::Colour(0xff081008));
        const auto area = getLocalBounds().toFloat().reduced(2.0F);
        g.setColour(juce::Colour(0xff204020));
        g.drawHorizontalLine(static_cast<int>(area.getCentreY()), area.getX(), area.getRight());
        g.setColour(juce::Colours::white);
        g.setFont(12.0F);
        g.drawText("scope (buffer_pool) #" + juce::String(static_cast<juce::int64>(buffers)), getLocalBounds().reduced(4),
                   juce::Justification::topLeft);
        if (shown.size() < 2)
            return;
        std::size_t start = 0;
        for (std::size_t i = 1; i < shown.size() / 2; ++i)
            if (shown[i - 1] <= 0.0F && shown[i] > 0.0F)
            {
                start = i;
                break;
            }
        const std::size_t count = shown.size() - start;
        const std::size_t visible = std::min<std::size_t>(count, shown.size() / 2);
        juce::Path trace;
        for (std::size_t i = 0; i < visible; ++i)
        {
            const float x = area.getX() + area.getWidth() * static_cast<float>(i) / static_cast<float>(visible - 1);
            const float y = area.getCentreY() - std::clamp(shown[start + i], -1.0F, 1.0F) * area.getHeight() * 0.48F;
            if (i == 0)
                trace.startNewSubPath(x, y);
            else
                trace.lineTo(x, y);
        }
        g.setColour(juce::Colour(0xff60ff60));
        g.strokePath(trace, juce::PathStrokeType(1.5F));
    }

private:
    std::vector<float> shown;
    std::size_t buffers = 0;
};

}  // namespace courier::gui
