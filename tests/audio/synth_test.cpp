// SPDX-License-Identifier: MIT
// Tests for demos/synth: the synth DSP (voices, waveforms, filter, gain), the score parser with its line-numbered
// Errors, and an offline render compared sample-exact with the checked-in reference (demos/synth/README.md).
#include "demos/synth/score.h"
#include "demos/synth/synth_graph.h"

#include <courier/audio/engine.h>
#include <courier/audio/offline_driver.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

using courier::synth::make_cutoff;
using courier::synth::make_gain;
using courier::synth::make_note_off;
using courier::synth::make_note_on;
using courier::synth::make_waveform;
using courier::synth::synth_graph;
using courier::synth::synth_settings;
using courier::synth::waveform;

namespace {

// Renders `frames` frames of one channel from `graph`.
std::vector<float> render(synth_graph& graph, std::size_t frames)
{
    std::vector<float> out(frames, 99.0F);
    float* channels[] = {out.data()};
    graph.render(channels, 1, 0, frames);
    return out;
}

float peak(const std::vector<float>& v)
{
    float p = 0.0F;
    for (float x : v)
        p = std::max(p, std::fabs(x));
    return p;
}

courier::synth::score parse(const std::string& text)
{
    std::istringstream in(text);
    return courier::synth::parse_score(in, "test.score");
}

std::string parse_error(const std::string& text)
{
    try
    {
        static_cast<void>(parse(text));
    }
    catch (const courier::synth::score_error& e)
    {
        return e.what();
    }
    return "no error";
}

// The short score whose render is checked in: every command, two waveform changes, a stolen voice (3 voices).
constexpr const char* reference_score = R"(0 gain 0.8
0 cutoff 3000
0 wave saw
0.000 on C4 0.9
0.020 on E4 0.7
0.040 on G4 0.6
0.060 on C5 0.5   # a fourth note on three voices: steals C4
0.080 wave square
0.100 cutoff 800
0.120 off E4
0.140 wave sine
0.160 alloff
0.250 end
)";
constexpr double reference_rate = 16000.0;
constexpr const char* reference_file = COURIER_SYNTH_REFERENCE_DIR "/synth_short.f32";

// Renders the reference score through the engine and the offline driver (stereo, 64-frame blocks); returns
// channel 0.
std::vector<float> render_reference()
{
    const courier::synth::score s = parse(reference_score);
    synth_settings settings;
    settings.max_voices = 3;
    courier::audio::engine engine(std::make_unique<synth_graph>(settings));
    auto sequencer = engine.timed_sender();
    for (const auto& e : s.events)
        REQUIRE(sequencer.try_send(courier::synth::score::frame_of(e.seconds, reference_rate), e.event));
    courier::audio::offline_driver driver({reference_rate, 64, 0, 2});
    const auto frames = static_cast<std::size_t>(s.length_seconds * reference_rate);
    const courier::audio::interleaved_audio audio = driver.render(engine, frames);
    std::vector<float> left(audio.frames());
    for (std::size_t i = 0; i < left.size(); ++i)
        left[i] = audio.samples[2 * i];
    return left;
}

}  // namespace

TEST_CASE("synth_graph")
{
    synth_settings settings;
    settings.max_voices = 2;
    settings.shape = waveform::saw;
    synth_graph graph(settings);
    graph.prepare(48000.0, 256);

    SUBCASE("render writes silence to every frame when no note is on")
    {
        const auto out = render(graph, 256);
        CHECK(std::all_of(out.begin(), out.end(), [](float x) { return x == 0.0F; }));
        CHECK(graph.activity() == 0);
    }

    SUBCASE("apply note_on makes the next rendered frame sound, and note_off fades it to silence")
    {
        graph.apply(make_note_on(69, 1.0F));
        const auto on = render(graph, 4800);
        CHECK(on[0] != 0.0F);
        CHECK(peak(on) > 0.05F);
        CHECK(graph.activity() == 1);
        graph.apply(make_note_off(69));
        static_cast<void>(render(graph, 4800));  // 100 ms > the 80 ms release
        CHECK(graph.activity() == 0);
        const auto after = render(graph, 4800);
        CHECK(peak(after) < 1e-3F);  // only the filter's decaying tail
    }

    SUBCASE("apply note_on with velocity 0 releases the note like note_off")
    {
        graph.apply(make_note_on(60, 1.0F));
        static_cast<void>(render(graph, 64));
        graph.apply(make_note_on(60, 0.0F));
        static_cast<void>(render(graph, 9600));
        CHECK(graph.activity() == 0);
    }

    SUBCASE("apply note_on beyond max_voices steals the oldest voice, so activity stays at max_voices")
    {
        graph.apply(make_note_on(60, 1.0F));
        graph.apply(make_note_on(64, 1.0F));
        graph.apply(make_note_on(67, 1.0F));
        static_cast<void>(render(graph, 64));
        CHECK(graph.activity() == 2);
        graph.apply(make_note_off(60));  // stolen: nothing to release
        static_cast<void>(render(graph, 9600));
        CHECK(graph.activity() == 2);
        graph.apply({courier::synth::all_notes_off, 0, 0, 0.0F, 0});
        static_cast<void>(render(graph, 9600));
        CHECK(graph.activity() == 0);
    }

    SUBCASE("apply set_gain, set_cutoff and set_waveform change the settings, clamped to their ranges")
    {
        graph.apply(make_gain(9.0F));
        graph.apply(make_cutoff(1.0F));
        graph.apply(make_waveform(waveform::square));
        CHECK(graph.settings().gain == 4.0F);
        CHECK(graph.settings().cutoff == 10.0F);
        CHECK(graph.settings().shape == waveform::square);
        graph.apply(make_cutoff(1e6F));
        CHECK(graph.settings().cutoff == doctest::Approx(0.45 * 48000.0));
        graph.apply({courier::synth::set_waveform, 0, 7, 0.0F, 0});  // unknown shape: ignored
        CHECK(graph.settings().shape == waveform::square);
    }

    SUBCASE("render scales the output by the gain: gain 0 is silence, double gain doubles every sample")
    {
        synth_graph twice(settings);
        twice.prepare(48000.0, 256);
        twice.apply(make_gain(2.0F * settings.gain));
        graph.apply(make_note_on(57, 1.0F));
        twice.apply(make_note_on(57, 1.0F));
        const auto a = render(graph, 512);
        const auto b = render(twice, 512);
        for (std::size_t i = 0; i < a.size(); ++i)
            REQUIRE(b[i] == doctest::Approx(2.0F * a[i]));
        graph.apply(make_gain(0.0F));
        CHECK(peak(render(graph, 512)) == 0.0F);
    }

    SUBCASE("render with a lower cutoff gives a quieter saw (the low-pass removes harmonics)")
    {
        synth_graph dark(settings);
        dark.prepare(48000.0, 256);
        dark.apply(make_cutoff(200.0F));
        graph.apply(make_cutoff(12000.0F));
        graph.apply(make_note_on(81, 1.0F));
        dark.apply(make_note_on(81, 1.0F));
        CHECK(peak(render(dark, 4800)) < 0.5F * peak(render(graph, 4800)));
    }

    SUBCASE("each waveform renders its own shape: sine starts at 0, square at +1, saw at -1")
    {
        for (const auto& [shape, sign] : {std::pair{waveform::saw, -1.0F}, std::pair{waveform::square, 1.0F}})
        {
            synth_graph g(settings);
            g.prepare(48000.0, 256);
            g.apply(make_waveform(shape));
            g.apply(make_note_on(60, 1.0F));
            CHECK(render(g, 1)[0] * sign > 0.0F);
        }
        synth_graph sine(settings);
        sine.prepare(48000.0, 256);
        sine.apply(make_waveform(waveform::sine));
        sine.apply(make_note_on(60, 1.0F));
        CHECK(render(sine, 1)[0] == 0.0F);
    }

    SUBCASE("apply and render neither allocate nor free")
    {
        std::vector<float> out(256);
        float* channels[] = {out.data()};
        courier::test::allocation_counter heap;
        graph.apply(make_note_on(60, 1.0F));
        graph.apply(make_cutoff(500.0F));
        graph.render(channels, 1, 0, 256);
        static_cast<void>(graph.activity());
        CHECK(heap.count() == 0);
    }

    SUBCASE("the constructor and prepare throw std::invalid_argument for 0 voices or a rate <= 0")
    {
        synth_settings none;
        none.max_voices = 0;
        CHECK_THROWS_AS(synth_graph{none}, std::invalid_argument);
        CHECK_THROWS_AS(graph.prepare(0.0, 256), std::invalid_argument);
    }
}

TEST_CASE("parse_score")
{
    SUBCASE("parse_score reads every command, note names and numbers, comments and the end line")
    {
        const auto s = parse("# a comment\n\n0 gain 0.5\n0.25 on C4 0.9 # trailing\n0.5 off 60\n"
                             "0.5 cutoff 1200\n1 wave square\n1 alloff\n2 end\n");
        REQUIRE(s.events.size() == 6);
        CHECK(s.events[1].seconds == 0.25);
        CHECK(s.events[1].event.type == courier::synth::note_on);
        CHECK(s.events[1].event.key == 60);
        CHECK(s.events[1].event.value == 0.9F);
        CHECK(s.events[1].line == 4);
        CHECK(s.events[2].event.key == 60);
        CHECK(s.events[4].event.key == static_cast<std::uint32_t>(waveform::square));
        CHECK(s.length_seconds == 2.0);
    }

    SUBCASE("parse_score keeps patch lines apart from the events, with their time, voices and line")
    {
        const auto s = parse("0 on 60\n1 alloff\n1.5 patch 4\n");
        CHECK(s.events.size() == 2);
        REQUIRE(s.patches.size() == 1);
        CHECK(s.patches[0].seconds == 1.5);
        CHECK(s.patches[0].voices == 4);
        CHECK(s.patches[0].line == 3);
        CHECK(s.length_seconds == 1.5);
    }

    SUBCASE("parse_score takes the last event's time as the length when there is no end line")
    {
        CHECK(parse("0 on 60\n1.5 off 60\n").length_seconds == 1.5);
    }

    SUBCASE("parse_score throws score_error naming the source and line of the first bad line")
    {
        CHECK(parse_error("0 on 60\n\nsoon on 60\n") == "test.score:3: 'soon' is not a time in seconds (a number >= 0)");
        CHECK(parse_error("0 on H4\n") == "test.score:1: 'H4' is not a note (0..127 or a name like C4, F#3, Bb2)");
        CHECK(parse_error("0 on 60 1.5\n") == "test.score:1: '1.5' is not a number from 0 to 1");
        CHECK(parse_error("0 wave triangle\n") == "test.score:1: 'triangle' is not a waveform (sine, saw, square)");
        CHECK(parse_error("# x\n0 jump\n") ==
              "test.score:2: unknown command 'jump' (on, off, gain, cutoff, wave, alloff, patch, end)");
        CHECK(parse_error("0 off\n") == "test.score:1: 'off' takes 1 argument(s), got 0");
        CHECK(parse_error("-1 on 60\n") == "test.score:1: '-1' is not a time in seconds (a number >= 0)");
        CHECK(parse_error("1\n") ==
              "test.score:1: a command must follow the time (on, off, gain, cutoff, wave, alloff, patch, end)");
        CHECK(parse_error("0 patch 2.5\n") == "test.score:1: '2.5' is not a whole number of voices");
        CHECK(parse_error("0 patch 0\n") == "test.score:1: '0' is not a number from 1 to 128");
    }

    SUBCASE("parse_note reads MIDI numbers and names with sharps and flats, and rejects the rest")
    {
        CHECK(courier::synth::parse_note("60") == 60);
        CHECK(courier::synth::parse_note("C4") == 60);
        CHECK(courier::synth::parse_note("A4") == 69);
        CHECK(courier::synth::parse_note("F#3") == 54);
        CHECK(courier::synth::parse_note("Bb2") == 46);
        CHECK(courier::synth::parse_note("C-1") == 0);
        CHECK(courier::synth::parse_note("128") == -1);
        CHECK(courier::synth::parse_note("C") == -1);
        CHECK(courier::synth::parse_note("") == -1);
        CHECK(courier::synth::parse_note("G9x") == -1);
    }

    SUBCASE("demo_score_text parses into a score of several seconds")
    {
        const auto s = parse(std::string(courier::synth::demo_score_text()));
        CHECK(s.events.size() > 20);
        CHECK(s.patches.size() == 1);
        CHECK(s.length_seconds > 5.0);
    }

    SUBCASE("frame_of rounds seconds times rate to the nearest frame")
    {
        CHECK(courier::synth::score::frame_of(0.5, 48000.0) == 24000);
        CHECK(courier::synth::score::frame_of(1.0 / 3.0, 3.0) == 1);
    }
}

// The reference render: regenerate on purpose with COURIER_REGENERATE_REFERENCE=1 (demos/synth/README.md).
TEST_CASE("synth reference render")
{
    SUBCASE("an offline render of the short score equals the checked-in reference sample for sample")
    {
        const std::vector<float> rendered = render_reference();
        REQUIRE(rendered.size() == 4000);
        CHECK(peak(rendered) > 0.05F);  // audible

        const char* regenerate = std::getenv("COURIER_REGENERATE_REFERENCE");
        if (regenerate != nullptr && std::string(regenerate) == "1")
        {
            std::ofstream out(reference_file, std::ios::binary);
            out.write(reinterpret_cast<const char*>(rendered.data()),
                      static_cast<std::streamsize>(rendered.size() * sizeof(float)));
            REQUIRE(out.good());
            MESSAGE("regenerated " << reference_file);
        }

        std::ifstream in(reference_file, std::ios::binary);
        REQUIRE_MESSAGE(in.good(), "missing " << reference_file << ": run with COURIER_REGENERATE_REFERENCE=1");
        const std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        REQUIRE(bytes.size() == rendered.size() * sizeof(float));
        std::vector<float> reference(rendered.size());
        std::memcpy(reference.data(), bytes.data(), bytes.size());
        std::size_t differing = 0;
        std::size_t first = rendered.size();
        for (std::size_t i = 0; i < rendered.size(); ++i)
            if (std::memcmp(&rendered[i], &reference[i], sizeof(float)) != 0)
            {
                ++differing;
                first = std::min(first, i);
            }
        CHECK_MESSAGE(differing == 0, differing << " samples differ, the first at frame " << first);
    }
}
