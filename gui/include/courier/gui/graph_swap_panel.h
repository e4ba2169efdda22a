// SPDX-License-Identifier: MIT
// The graph-swap panel: picks a new voice graph (or wavetable) and hands it to the audio side through a
// swap_and_retire, while audio plays (gui/README.md).
#pragma once

#include <juce_gui_basics/juce_gui_basics.h>

#include <cstdint>
#include <functional>
#include <utility>

namespace courier::gui {

/// A choice box and a "Swap" button. The button calls the owner's `publish(choice)`, which builds the new
/// structure on this (control) thread, however large, and try_publish()es it; the audio side adopts it in
/// O(1) at its next block, and the old one comes back to be destroyed on the control thread. The panel shows
/// how many swaps were accepted and refused (refused: the in-flight limit; it is retried by a new click).
/// Thread: the message thread (a juce::Component). Real-time: no.
class graph_swap_panel : public juce::Component
{
public:
    /// What the Swap button does: builds and publishes structure number `choice` (0-based); true if accepted.
    using publisher = std::function<bool(int choice)>;

    /// A panel offering `choices`, publishing through `publish`.
    /// Thread: message thread. Real-time: no.
    graph_swap_panel(const juce::StringArray& choices, publisher publish) : send(std::move(publish))
    {
        picker.addItemList(choices, 1);
        picker.setSelectedItemIndex(0, juce::dontSendNotification);
        swap.onClick = [this] { swap_now(); };
        addAndMakeVisible(picker);
        addAndMakeVisible(swap);
        addAndMakeVisible(status);
        status.setText("no swap yet", juce::dontSendNotification);
    }

    /// Publishes the chosen structure now (what the button does).
    /// Thread: message thread. Real-time: no (builds the structure).
    bool swap_now()
    {
        const bool ok = send(picker.getSelectedItemIndex());
        ++(ok ? accepted : refused);
        status.setText("swaps " + juce::String(static_cast<juce::int64>(accepted)) + ", refused " +
                           juce::String(static_cast<juce::int64>(refused)),
                       juce::dontSendNotification);
        return ok;
    }

    /// Lays the children out (juce::Component).
    /// Thread: message thread. Real-time: no.
    void resized() override
    {
        auto area = getLocalBounds();
        picker.setBounds(area.removeFromLeft(area.getWidth() / 2).reduced(2));
        swap.setBounds(area.removeFromLeft(70).reduced(2));
        status.setBounds(area.reduced(2));
    }

private:
    publisher send;
    juce::ComboBox picker;
    juce::TextButton swap{"Swap"};
    juce::Label status;
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;
};

}  // namespace courier::gui
