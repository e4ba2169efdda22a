// SPDX-License-Identifier: MIT
// The courier demo plugin's AudioProcessor (demos/plugin/plugin_processor.h).
#include "demos/plugin/plugin_processor.h"

#include "demos/plugin/plugin_editor.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>

namespace courier::plugin {

juce::AudioProcessorValueTreeState::ParameterLayout processor::layout()
{
    juce::AudioProcessorValueTreeState::ParameterLayout l;
    l.add(std::make_unique<juce::AudioParameterFloat>(juce::ParameterID{"gain", 1}, "Gain",
                                                      juce::NormalisableRange<float>(0.0F, 2.0F), 1.0F));
    l.add(std::make_unique<juce::AudioParameterFloat>(juce::ParameterID{"cutoff", 1}, "Cutoff",
                                                      juce::NormalisableRange<float>(20.0F, 20000.0F, 0.0F, 0.25F),
                                                      20000.0F));
    l.add(std::make_unique<juce::AudioParameterFloat>(juce::ParameterID{"synth_level", 1}, "Synth level",
                                                      juce::NormalisableRange<float>(0.0F, 1.0F), 0.5F));
    l.add(std::make_unique<juce::AudioParameterChoice>(juce::ParameterID{"waveform", 1}, "Waveform",
                                                       juce::StringArray{"sine", "saw", "square"}, 1));
    return l;
}

processor::processor()
    : AudioProcessor(BusesProperties()
                         .withInput("Input", juce::AudioChannelSet::stereo(), true)
                         .withOutput("Output", juce::AudioChannelSet::stereo(), true)),
      tree(*this, nullptr, "courier_plugin", layout()), events(events_per_block)
{
    bridge.bind(tree.getRawParameterValue("gain"), set_parameter, gain_key);
    bridge.bind(tree.getRawParameterValue("cutoff"), set_parameter, cutoff_key);
    bridge.bind(tree.getRawParameterValue("synth_level"), set_parameter, level_key);
    bridge.bind(tree.getRawParameterValue("waveform"), set_parameter, waveform_key);
    startTimer(20);
#if COURIER_PLUGIN_OSC
    if (const auto port = osc_service::port_from_environment())
    {
        try
        {
            osc_endpoint = std::make_unique<osc_service>(side, *port);
            std::fprintf(stderr, "courier plugin: OSC endpoint listening on udp 127.0.0.1:%u\n",
                         static_cast<unsigned>(osc_endpoint->udp_port()));
        }
        catch (const std::exception& e)
        {
            osc_failure = e.what();
        }
    }
    else if (const char* asked = std::getenv("COURIER_PLUGIN_OSC_PORT"); asked != nullptr && *asked != '\0')
        osc_failure = std::string("COURIER_PLUGIN_OSC_PORT='") + asked + "' is not a port from 0 to 65535";
#else
    if (const char* asked = std::getenv("COURIER_PLUGIN_OSC_PORT"); asked != nullptr && *asked != '\0')
        osc_failure = "this plugin was built without liblo: no OSC endpoint";
#endif
    if (!osc_failure.empty())
        std::fprintf(stderr, "courier plugin: no OSC endpoint: %s\n", osc_failure.c_str());
}

processor::~processor()
{
    stopTimer();
#if COURIER_PLUGIN_OSC
    osc_endpoint.reset();  // ✗ the endpoint's threads stop and it dies here, on the message thread, before `side`
#endif
}

void processor::prepareToPlay(double rate, int block)
{
    side.prepare(rate, static_cast<std::size_t>(std::max(block, 1)),
                 static_cast<std::size_t>(getTotalNumInputChannels()),
                 static_cast<std::size_t>(getTotalNumOutputChannels()));
}

bool processor::isBusesLayoutSupported(const BusesLayout& layouts) const
{
    const auto out = layouts.getMainOutputChannelSet();
    const auto in = layouts.getMainInputChannelSet();
    const bool out_ok = out == juce::AudioChannelSet::stereo() || out == juce::AudioChannelSet::mono();
    const bool in_ok = in.isDisabled() || in == juce::AudioChannelSet::stereo();  // mono in would alias channel 0
    return out_ok && in_ok;
}

void processor::processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi)
{
    juce::ScopedNoDenormals no_denormals;
    const auto& shape = side.engine().config();
    const auto frames = buffer.getNumSamples();
    if (static_cast<std::size_t>(buffer.getNumChannels()) < std::max(shape.input_channels, shape.output_channels))
    {
        buffer.clear();  // not the layout prepareToPlay was given: nothing sensible to run
        return;
    }
    events.begin();
    bridge.read(events);  // the host set its parameters just before this call
    events.add_midi(midi, frames);
    // JUCE processes in place: the first input channels of `buffer` hold the input on entry.
    float* const* data = buffer.getArrayOfWritePointers();
    side.process(shape.input_channels > 0 ? data : nullptr, data, static_cast<std::size_t>(frames), events.events());
}

void processor::control_tick()
{
#if COURIER_PLUGIN_OSC
    if (osc_endpoint)
        (void)osc_endpoint->take_parameter_changes(
            [this](const audio::engine_event& change) { set_parameter_from_osc(change); },
            osc_service::parameter_capacity);
#endif
    side.collect();  // ✗ graphs the audio side replaced die here, on the message thread
}

void processor::set_parameter_from_osc(const audio::engine_event& change)
{
    // As a host or the editor would: a gesture around the change, so hosts that record automation see it.
    const bool level = change.type == synth::set_gain;
    juce::RangedAudioParameter* p = tree.getParameter(level ? "synth_level" : "waveform");
    const float value = level ? change.value : static_cast<float>(std::min<std::uint32_t>(change.key, 2));
    p->beginChangeGesture();
    p->setValueNotifyingHost(p->convertTo0to1(value));  // clamps to the parameter's range
    p->endChangeGesture();
}

juce::AudioProcessorEditor* processor::createEditor() { return new editor(*this); }

void processor::getStateInformation(juce::MemoryBlock& destination)
{
    if (auto xml = tree.copyState().createXml())
        copyXmlToBinary(*xml, destination);
}

void processor::setStateInformation(const void* data, int size)
{
    if (auto xml = getXmlFromBinary(data, size))
        if (xml->hasTagName(tree.state.getType()))
            tree.replaceState(juce::ValueTree::fromXml(*xml));  // the next block reads the new values
}

}  // namespace courier::plugin

/// JUCE's entry point: every format wrapper creates the processor through this.
juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() { return new courier::plugin::processor(); }
