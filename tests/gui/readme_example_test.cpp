// SPDX-License-Identifier: MIT
// gui/README.md's walkthrough, compiled and run: the processor in its <!-- gui-example --> block (extracted into
// the build tree by tests/gui/CMakeLists.txt) applies a host's gain automation at the block it was set for.
#include "gui_readme_example.h"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

TEST_CASE("gui README example: the processor renders its input times the host's gain")
{
    const juce::ScopedJuceInitialiser_GUI juce_runtime;  // a message manager whose loop never runs here
    example_processor p;
    constexpr int block = 64;
    p.setPlayConfigDetails(2, 2, 48000.0, block);
    p.prepareToPlay(48000.0, block);
    juce::RangedAudioParameter* gain = p.parameters().getParameter("gain");
    REQUIRE(gain != nullptr);

    juce::AudioBuffer<float> buffer(2, block);
    juce::MidiBuffer midi;
    for (const float wanted : {1.0f, 0.5f, 1.5f})
    {
        gain->setValueNotifyingHost(gain->convertTo0to1(wanted));  // as a host does, right before the block
        for (int c = 0; c < 2; ++c)
            buffer.clear(c, 0, block), std::fill_n(buffer.getWritePointer(c), block, 1.0f);
        p.processBlock(buffer, midi);
        for (int c = 0; c < 2; ++c)
        {
            CHECK(buffer.getSample(c, 0) == doctest::Approx(wanted));  // from the block's first frame
            CHECK(buffer.getSample(c, block - 1) == doctest::Approx(wanted));
        }
    }
}
