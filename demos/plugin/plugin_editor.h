// SPDX-License-Identifier: MIT
// The courier demo plugin's editor: controls, meters, scope, the message-health panel and the graph swap,
// all fed through courier channels (demos/plugin/README.md).
#pragma once

#include "demos/plugin/plugin_processor.h"
#include <courier/gui/engine_feeds.h>
#include <courier/gui/graph_swap_panel.h>
#include <courier/gui/health_panel.h>
#include <courier/gui/meter_scope.h>

#include <juce_audio_processors/juce_audio_processors.h>

#include <memory>
#include <vector>

namespace courier::plugin {

/// Layout: sliders attached to the value tree (the audio side reads them every block), a "Hold A4" button and a
/// "Panic" button that send events through the engine's mailbox, the engine's meters and scope
/// (gui::engine_feeds), the graph swap, and the health panel (gui/health_rows.h), refreshed at 30 Hz.
/// Thread: the message thread.
class editor final : public juce::AudioProcessorEditor, private juce::Timer
{
public:
    /// Builds the controls, attaches the sliders to `owner`'s value tree and starts the 30 Hz refresh.
    /// Thread: message thread. Real-time: no.
    explicit editor(plugin::processor& owner);
    ~editor() override;

    /// juce::Component's drawing and layout.
    /// Thread: message thread. Real-time: no.
    void paint(juce::Graphics& g) override;
    void resized() override;

    /// The health panel. The editor installs its OSC rows through health().set_extra_rows(...) itself (the
    /// endpoint's and the inbox's counters); a caller that installs another source replaces them.
    /// Thread: message thread. Real-time: no.
    gui::health_panel& health() noexcept { return health_view; }

private:
    void timerCallback() override;
    void refresh_health();
    // The OSC endpoint's rows (installed with health_view.set_extra_rows), or one "osc: off" row with the
    // reason when an endpoint was asked for and could not start.
    void add_osc_rows(std::vector<gui::health_row>& rows) const;

    plugin::processor& audio;
    juce::Slider gain_slider, cutoff_slider, level_slider;
    juce::Label gain_label, cutoff_label, level_label;
    juce::ComboBox waveform_box;
    using slider_attachment = juce::AudioProcessorValueTreeState::SliderAttachment;
    std::unique_ptr<slider_attachment> gain_attachment, cutoff_attachment, level_attachment;
    std::unique_ptr<juce::AudioProcessorValueTreeState::ComboBoxAttachment> waveform_attachment;
    juce::TextButton hold_button{"Hold A4"};
    juce::TextButton panic_button{"Panic"};
    gui::level_meter meter;
    gui::scope_view scope;
    gui::graph_swap_panel swap_panel;
    gui::health_panel health_view;
    juce::Label status;
    gui::engine_feeds feeds;  // after `meter` and `scope`, which it draws into
    std::uint64_t meters_seen = 0;
    std::uint64_t commands_refused = 0;
};

}  // namespace courier::plugin
