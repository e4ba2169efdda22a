// SPDX-License-Identifier: MIT
// The courier demo plugin's editor (demos/plugin/plugin_editor.h).
#include "demos/plugin/plugin_editor.h"

#include <cstdio>

namespace courier::plugin {

namespace {
constexpr std::uint32_t held_note = 69;  // A4, 440 Hz

juce::String percent(double fraction) { return juce::String(fraction * 100.0, 1) + "%"; }
juce::String number(std::uint64_t n) { return juce::String(static_cast<juce::int64>(n)); }

const juce::StringArray graph_choices{"saw, 8 voices", "square, 16 voices", "sine, 4 voices"};
}  // namespace

editor::editor(plugin::processor& owner)
    : AudioProcessorEditor(owner), audio(owner),
      swap_panel(graph_choices, [this](int choice) {
          const synth::waveform shapes[] = {synth::waveform::saw, synth::waveform::square, synth::waveform::sine};
          const std::size_t voices[] = {8, 16, 4};
          const auto i = static_cast<std::size_t>(std::clamp(choice, 0, 2));
          return audio.core().try_swap_graph(shapes[i], voices[i]);
      })
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

    // The buttons send typed commands through the state_commands lane; a refusal (full lane) is counted.
    hold_button.setClickingTogglesState(true);
    hold_button.onClick = [this] {
        const bool sent = hold_button.getToggleState() ? audio.core().commands().try_send(play_note{held_note, 0.8F})
                                                       : audio.core().commands().try_send(release_note{held_note});
        if (!sent)
            ++commands_refused;
    };
    panic_button.onClick = [this] {
        hold_button.setToggleState(false, juce::dontSendNotification);
        if (!audio.core().commands().try_send(panic{}))
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
    meter_frame m;
    if (audio.core().read_meters(m))
    {
        meter.set_levels(m.peak, m.rms);
#if COURIER_PLUGIN_OSC
        if (osc_service* osc = audio.osc())
            osc->publish_meters(m);  // the editor is the meter reader; the endpoint gets them for /status
#endif
    }
    while (audio.core().read_scope(scope_samples))  // take every waiting buffer, show the newest
    {
    }
    if (!scope_samples.empty())
        scope.set_samples(scope_samples);
    audio.control_tick();
    refresh_health();
}

void editor::refresh_health()
{
    const health_snapshot h = audio.core().health();
    std::vector<gui::health_row> rows;
    rows.push_back(gui::row_from("params (cached_state)", h.params.lane,
                                 "deferred " + number(h.params.deferred) + ", applied v" +
                                     number(h.params.applied_version)));
    rows.push_back(gui::row_from("commands (state_cmds)", h.commands.lane,
                                 "applied " + number(h.commands.applied) + ", over budget " +
                                     number(h.commands.over_budget)));
    rows.push_back({"graphs (swap_and_retire)", h.graphs.returns.outstanding, h.graphs.returns.capacity,
                    h.graphs.publications.high_water, h.graphs.returns.refused, h.graphs.publications.sent,
                    "adopted " + number(h.graphs.publications.received) + ", destroyed " +
                        number(h.graphs.returns.destroyed)});
    rows.push_back({"scope credits (buffer_pool)", h.scope.in_flight, h.scope.count, h.scope.high_water,
                    h.scope.starved, h.scope.sent, "returned " + number(h.scope.returned)});
    rows.push_back({"meters (state_observer)", 0, 0, 0, 0, h.meters_published,
                    "read " + number(h.meters_read) + ", skipped " +
                        number(h.meters_published - std::min(h.meters_published, h.meters_read))});
    const juce::String header = "blocks " + number(h.callback.blocks) + "  load mean " +
                                percent(h.callback.mean_load) + " max " + percent(h.callback.max_load) +
                                "  over budget " + number(h.callback.over_budget) + "  MIDI " +
                                number(h.callback.midi_events) + "  GUI refused " + number(commands_refused);
    health_view.set_rows(header, std::move(rows));
    status.setText("parameters at the audio side: gain " + juce::String(audio.core().params().get().gain, 2) +
                       (audio.core().params().synced() ? " (synced)" : " (in flight)"),
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
                        "recv, applied " + number(s.applied) + ", rejected " + number(s.rejected) + ", replies " +
                            number(s.replies)});
        rows.push_back(gui::row_from("osc inbox (lane)", inbox.lane,
                                     "applied " + number(inbox.applied) + ", ignored " + number(inbox.ignored) +
                                         ", at budget " + number(inbox.budget_exhausted)));
        rows.push_back(gui::row_from("osc params (lane)", osc->parameter_lane_stats(),
                                     "set on host parameters " + number(osc->parameter_changes_applied())));
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
