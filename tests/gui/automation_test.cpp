// SPDX-License-Identifier: MIT
// Host automation is block-accurate in an offline render faster than real time: a host-like harness sets the
// gain parameter right before processBlock, as hosts do, never runs the message loop (so no timer ticks, as in a
// bounce), and finds each change starting at exactly the first frame of its block (tests/gui/README.md).
#include "demos/plugin/plugin_processor.h"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace {

constexpr int block = 256;
constexpr double rate = 48000.0;
constexpr std::size_t ramp = courier::plugin::plugin_graph::gain_ramp_frames;

// The first frame at or after `from` whose sample differs from `before` by more than a float's rounding.
std::size_t first_change(const std::vector<float>& out, std::size_t from, float before)
{
    for (std::size_t i = from; i < out.size(); ++i)
        if (std::abs(out[i] - before) > 1e-5F)
            return i;
    return out.size();
}

}  // namespace

TEST_CASE("plugin processor: automation is block-accurate in an offline render")
{
    ::unsetenv("COURIER_PLUGIN_OSC_PORT");
    const juce::ScopedJuceInitialiser_GUI juce_runtime;  // a message manager whose loop never runs here
    courier::plugin::processor p;
    p.setPlayConfigDetails(2, 2, rate, block);
    p.prepareToPlay(rate, block);
    p.parameter_tree().getParameter("synth_level")->setValueNotifyingHost(0.0F);
    juce::RangedAudioParameter* gain = p.parameter_tree().getParameter("gain");

    // The automation lane: gain 1 until block 10, a step to 0.5 there, a ramp up by 0.05 per block over blocks
    // 20 to 29, then 1 again.
    constexpr int blocks = 40;
    std::vector<float> lane(blocks, 1.0F);
    for (int b = 10; b < 20; ++b)
        lane[static_cast<std::size_t>(b)] = 0.5F;
    for (int b = 20; b < 30; ++b)
        lane[static_cast<std::size_t>(b)] = 0.5F + 0.05F * static_cast<float>(b - 19);

    // Input: DC 1.0 through the 20 kHz low-pass (settled after a few frames), so the output is the gain itself.
    std::vector<float> out;
    juce::AudioBuffer<float> buffer(2, block);
    juce::MidiBuffer midi;
    const auto started = std::chrono::steady_clock::now();
    for (int b = 0; b < blocks; ++b)
    {
        gain->setValueNotifyingHost(gain->convertTo0to1(lane[static_cast<std::size_t>(b)]));  // as a host does
        for (int c = 0; c < 2; ++c)
            std::fill_n(buffer.getWritePointer(c), block, 1.0F);
        p.processBlock(buffer, midi);
        out.insert(out.end(), buffer.getReadPointer(0), buffer.getReadPointer(0) + block);
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    const double audio_seconds = blocks * block / rate;

    // Every block whose value changed: the change starts at its first frame, ramps over `ramp` frames, and
    // lands on the automated value.
    std::size_t worst_error = 0;
    std::size_t changes = 0;
    for (int b = 1; b < blocks; ++b)
    {
        const float before = lane[static_cast<std::size_t>(b - 1)];
        const float after = lane[static_cast<std::size_t>(b)];
        if (before == after)
            continue;
        ++changes;
        const std::size_t expected = static_cast<std::size_t>(b) * block;
        const std::size_t found = first_change(out, expected - block / 2, before);
        const std::size_t error = found > expected ? found - expected : expected - found;
        worst_error = std::max(worst_error, error);
        CHECK(found == expected);
        CHECK(out[expected] == doctest::Approx(before + (after - before) / static_cast<float>(ramp)).epsilon(1e-5));
        CHECK(out[expected + ramp - 1] == doctest::Approx(after).epsilon(1e-6));
        CHECK(out[expected + block - 1] == doctest::Approx(after).epsilon(1e-6));
    }
    MESSAGE("automated changes " << changes << ", worst frame error " << worst_error << " frames; rendered "
                                 << audio_seconds << " s of audio in " << took.count() << " s ("
                                 << audio_seconds / took.count() << "x real time)");
    CHECK(changes >= 11);  // the step and the ramp's ten blocks
    CHECK(worst_error == 0);
    CHECK(p.parameters_read().changes_read() >= 4 + changes);  // the first block reads all 4, then the changes
}
