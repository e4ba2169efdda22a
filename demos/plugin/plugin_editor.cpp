// SPDX-License-Identifier: MIT
// The courier demo plugin's editor (demos/plugin/plugin_editor.h).
#include "demos/plugin/plugin_editor.h"

#include <courier/gui/health_rows.h>

#include <cmath>

namespace courier::plugin {

namespace {
constexpr std::uint32_t held_note = 69;  // A4, 440 Hz

using gui::count_text;

const juce::StringArray graph_choices{"saw, 8 voices", "square, 16 voices", "sine, 4 voices"};
}  // namespace

editor::editor(plugin::processor& owner)
    : AudioProcessorEditor(owner), audio(owner),
      swap_panel(graph_choices, [this](int choice) {
          const synth::waveform shapes[] = {synth::waveform::saw, synth::waveform::square, synth::waveform::sine};
          const std::size_t voices[] = {8, 16, 4};
          const auto i = static_cast<std::size_t>(std::clamp(choice, 0, 2));
          return audio.core().try_swap_graph(shapes[i], voices[i]);
      }),
      feeds(owner.core().engine(), meter, scope)
{
    auto& tree = audio.parameter_tree();
    const auto setup = [this](juce::Slider& s, juce::Label& l, const char* name) {
        s.setSliderStyle(juce::Slider::LinearHorizontal);
        s.setTextBoxStyle(juce::Slider::TextBoxRight, false, 80, 20);
        l.setText(name, juce::dontSendNotification);
        addAndMakeVisible(s);
        addAndMakeVisible(l);
    };
    setup(gain_slider, gain_label, "Gain");
    setup(cutoff_slider, cutoff_label, "Cutoff");
    setup(level_slider, level_label, "Synth level");
    gain_slider.setName("gain");
    gain_attachment = std::make_unique<slider_attachment>(tree, "gain", gain_slider);
    cutoff_attachment = std::make_unique<slider_attachment>(tree, "cutoff", cutoff_slider);
    level_attachment = std::make_unique<slider_attachment>(tree, "synth_level", level_slider);
    waveform_box.addItemList({"sine", "saw", "square"}, 1);
    addAndMakeVisible(waveform_box);
    waveform_attachment =
        std::make_unique<juce::AudioProcessorValueTreeState::ComboBoxAttachment>(tree, "waveform", waveform_box);

    // The buttons send events through the editor's lane into the engine's mailbox; a refusal (full) is counted.
    hold_button.setClickingTogglesState(true);
    hold_button.onClick = [this] {
        const bool sent = audio.core().commands().try_send(
            hold_button.getToggleState() ? synth::make_note_on(held_note, 0.8F) : synth::make_note_off(held_note));
        if (!sent)
            ++commands_refused;
    };
    panic_button.onClick = [this] {
        hold_button.setToggleState(false, juce::dontSendNotification);
        audio::engine_event off;
        off.type = synth::all_notes_off;
        if (!audio.core().commands().try_send(off))
            ++commands_refused;
    };
    addAndMakeVisible(hold_button);
    addAndMakeVisible(panic_button);
    addAndMakeVisible(meter);
    addAndMakeVisible(scope);
    addAndMakeVisible(swap_panel);
    addAndMakeVisible(health_view);
    addAndMakeVisible(status);
    // The OSC rows join the panel through its extra-rows hook (every refresh, read lock-free).
    health_view.set_extra_rows([this](std::vector<gui::health_row>& rows) { add_osc_rows(rows); });
    setSize(900, 620);
    startTimerHz(30);
}

editor::~editor() { stopTimer(); }

void editor::paint(juce::Graphics& g)
{
    g.fillAll(juce::Colour(0xff20262e));
    g.setColour(juce::Colours::white);
    g.setFont(18.0F);
    g.drawText("courier plugin: every arrow between this window and processBlock is a courier lane",
               getLocalBounds().removeFromTop(30).reduced(8, 0), juce::Justification::centredLeft);
}

void editor::resized()
{
    auto area = getLocalBounds().reduced(8);
    area.removeFromTop(26);
    auto top = area.removeFromTop(230);
    meter.setBounds(top.removeFromRight(110).reduced(2));
    auto controls = top.removeFromLeft(430);
    const auto row = [&controls](juce::Label& l, juce::Component& c) {
        auto r = controls.removeFromTop(32);
        l.setBounds(r.removeFromLeft(90));
        c.setBounds(r.reduced(2));
    };
    row(gain_label, gain_slider);
    row(cutoff_label, cutoff_slider);
    row(level_label, level_slider);
    waveform_box.setBounds(controls.removeFromTop(32).removeFromLeft(200).reduced(2));
    auto buttons = controls.removeFromTop(40);
    hold_button.setBounds(buttons.removeFromLeft(120).reduced(2));
    panic_button.setBounds(buttons.removeFromLeft(100).reduced(2));
    swap_panel.setBounds(controls.removeFromTop(34));
    scope.setBounds(top.reduced(4));
    status.setBounds(area.removeFromTop(22));
    health_view.setBounds(area);
}

void editor::timerCallback()
{
    feeds.tick();  // the engine's meters and scope into their views
#if COURIER_PLUGIN_OSC
    if (osc_service* osc = audio.osc(); osc != nullptr && feeds.meters_read() != meters_seen)
        osc->publish_meters(feeds.meters());  // the editor is the meter reader; the endpoint gets them for /status
#endif
    meters_seen = feeds.meters_read();
    audio.control_tick();
    refresh_health();
}

void editor::refresh_health()
{
    const audio::engine& engine = audio.core().engine();
    const float gain_read = audio.parameters_read().applied(gain_key);
    std::vector<gui::health_row> rows;
    rows.push_back({"params (read per block)", 0, 0, 0, 0, audio.parameters_read().changes_read(),
                    "changes the audio side took from the host's values"});
    rows.push_back(gui::row_from("commands (mailbox lane)", engine.mailbox_stats(audio_side::commands_index),
                                 "GUI refused " + count_text(commands_refused)));
    rows.push_back(gui::row_from("midi (block_events)", audio.midi_stats()));
    gui::add_engine_rows(engine, rows);
    health_view.set_rows(gui::engine_header(engine.stats(), engine.meters_published(), feeds.meters_read()),
                         std::move(rows));
    const float gain_now = audio.parameter_tree().getRawParameterValue("gain")->load(std::memory_order_relaxed);
    status.setText("parameters at the audio side: gain " +
                       (std::isnan(gain_read) ? juce::String("-") : juce::String(gain_read, 2)) +
                       (gain_read == gain_now ? " (synced)" : " (next block)"),
                   juce::dontSendNotification);
}

void editor::add_osc_rows(std::vector<gui::health_row>& rows) const
{
#if COURIER_PLUGIN_OSC
    if (const osc_service* osc = audio.osc())  // `audio` is a reference: not const here
    {
        // The endpoint's counters and the inbox's: relaxed atomic loads, no lock.
        const osc::endpoint_stats s = osc->stats();
        const osc_inbox_stats inbox = audio.core().osc_stats();
        rows.push_back({"osc udp :" + juce::String(osc->udp_port()), 0, 0, 0, s.refused, s.datagrams,
                        "recv, applied " + count_text(s.applied) + ", rejected " + count_text(s.rejected) + ", replies " +
                            count_text(s.replies)});
        rows.push_back(gui::row_from("osc inbox (mailbox lane)", inbox.lane, "applied " + count_text(inbox.applied)));
        rows.push_back(gui::row_from("osc params (lane)", osc->parameter_lane_stats(),
                                     "set on host parameters " + count_text(osc->parameter_changes_applied())));
        rows.push_back({"osc rejected (total)", 0, 0, 0, s.rejected, s.messages,
                        "msgs accepted; by reason:" + juce::String(s.rejected == 0 ? " none" : "")});
        for (std::size_t i = 1; i < osc::reject_reason_count; ++i)  // one row per reason seen, in enum order
            if (s.rejected_by[i] > 0)
                rows.push_back({"  - " + juce::String(std::string(osc::reason_name(static_cast<osc::reject_reason>(i)))),
                                0, 0, 0, s.rejected_by[i], s.rejected_by[i], "rejected"});
        return;
    }
#endif
    if (!audio.osc_error().empty())
        rows.push_back({"osc: off", 0, 0, 0, 0, 0, juce::String(audio.osc_error())});
}

}  // namespace courier::plugin
