// SPDX-License-Identifier: MIT
// The courier demo plugin's AudioProcessor: JUCE glue around plugin::audio_side (an engine running plugin_graph),
// whose processBlock talks to the editor only through courier patterns (demos/plugin/README.md).
#pragma once

#include "demos/plugin/plugin_core.h"
#include <courier/gui/block_events.h>
#include <courier/gui/parameter_bridge.h>
#if COURIER_PLUGIN_OSC
#include "demos/plugin/plugin_osc.h"
#endif

#include <juce_audio_processors/juce_audio_processors.h>

#include <memory>
#include <string>
#include <vector>

namespace courier::plugin {

/// Stereo in and out plus MIDI: the input goes through a low-pass and a gain, the courier-synth voices play
/// from MIDI. The parameters live in an AudioProcessorValueTreeState (automation, presets, the editor's
/// attachments); processBlock reads their values at the start of each block (gui::parameter_bridge: one
/// relaxed atomic load each) and hands them, with the host's MIDI (gui::block_events), to the engine as block
/// events. No value tree, no listener, no lock on the audio thread; automation is block-accurate, also in an
/// offline bounce.
/// With COURIER_PLUGIN_OSC_PORT=<port> in the environment (and liblo at build time) it also runs an OSC
/// endpoint on UDP 127.0.0.1:<port> (0: any free port) whose events reach processBlock through the core's OSC
/// inbox (demos/plugin/README.md, "OSC").
class processor final : public juce::AudioProcessor, private juce::Timer
{
public:
    /// Builds the parameters, the courier channels and the first synth graph, and starts the OSC endpoint when
    /// COURIER_PLUGIN_OSC_PORT asks for one (a socket that cannot be opened is reported on stderr and in
    /// osc_error(); the plugin then runs without OSC).
    /// Thread: message thread. Real-time: no (allocates).
    processor();
    /// Stops the timer; the channels and graphs die here, on the message thread, after the host stopped audio.
    /// Thread: message thread. Real-time: no (frees).
    ~processor() override;

    /// Sizes the audio side for `rate`, `block` and the buses' channels.
    /// Thread: setup (the host; the stream is stopped). Real-time: no (allocates).
    void prepareToPlay(double rate, int block) override;
    void releaseResources() override {}
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;

    /// One block: the parameters that changed and the MIDI become block events (what does not fit is carried
    /// or counted), and the engine runs them at their frames.
    /// Thread: audio. Real-time: wait-free.
    void processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) override;
    using AudioProcessor::processBlock;

    /// The JUCE boilerplate: the editor, the names, MIDI in, one program, the state as the value tree's XML.
    /// Thread: message thread (the host's). Real-time: no.
    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }
    const juce::String getName() const override { return "courier plugin"; }
    bool acceptsMidi() const override { return true; }
    bool producesMidi() const override { return false; }
    bool isMidiEffect() const override { return false; }
    double getTailLengthSeconds() const override { return 0.1; }
    int getNumPrograms() override { return 1; }
    int getCurrentProgram() override { return 0; }
    void setCurrentProgram(int) override {}
    const juce::String getProgramName(int) override { return "default"; }
    void changeProgramName(int, const juce::String&) override {}
    void getStateInformation(juce::MemoryBlock& destination) override;
    void setStateInformation(const void* data, int size) override;

    /// Sets the host parameters that changed over OSC (/synth/gain, /synth/waveform; the next block reads them
    /// like any other) and destroys replaced graphs. The processor's timer calls it every 20 ms; tests call it
    /// directly.
    /// Thread: message thread. Real-time: no.
    void control_tick();

    /// The courier core (the editor's meters, scope, commands and health come from here).
    /// Thread: message thread. Real-time: no.
    audio_side& core() noexcept { return side; }

    /// The parameters, for the editor's attachments.
    /// Thread: message thread. Real-time: no.
    juce::AudioProcessorValueTreeState& parameter_tree() noexcept { return tree; }

    /// The parameters as the audio side read them, and the MIDI events' counters (for the editor).
    /// Thread: any. Real-time: wait-free.
    const gui::parameter_bridge& parameters_read() const noexcept { return bridge; }
    [[nodiscard]] gui::block_events_stats midi_stats() const noexcept { return events.stats(); }

    static constexpr std::size_t events_per_block = 2048;  ///< block events one block holds (and carries)

#if COURIER_PLUGIN_OSC
    /// The OSC endpoint, or null when none runs.
    /// Thread: message thread (its stats(): any). Real-time: no.
    osc_service* osc() noexcept { return osc_endpoint.get(); }
#endif

    /// Why the OSC endpoint asked for does not run (empty when it runs or was not asked for).
    /// Thread: message thread. Real-time: no.
    const std::string& osc_error() const noexcept { return osc_failure; }

private:
    void timerCallback() override { control_tick(); }
    void set_parameter_from_osc(const audio::engine_event& change);
    static juce::AudioProcessorValueTreeState::ParameterLayout layout();

    juce::AudioProcessorValueTreeState tree;
    audio_side side;
    gui::parameter_bridge bridge;  // bound at setup; read on the audio thread
    gui::block_events events;      // the audio thread's; reserved at setup
#if COURIER_PLUGIN_OSC
    std::unique_ptr<osc_service> osc_endpoint;  // ✗ stops and dies before `side`, on the message thread
#endif
    std::string osc_failure;
};

}  // namespace courier::plugin
