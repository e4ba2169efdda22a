// SPDX-License-Identifier: MIT
// The score parser and the demo sequence (demos/synth/README.md).
#include "demos/synth/score.h"

#include "demos/synth/synth_graph.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace courier::synth {
namespace {

bool parse_number(std::string_view text, double& into) noexcept
{
    const char* first = text.data();
    const char* last = text.data() + text.size();
    const auto [end, error] = std::from_chars(first, last, into);
    return error == std::errc{} && end == last && std::isfinite(into);
}

std::vector<std::string> words_of(const std::string& line)
{
    std::istringstream in(line.substr(0, line.find('#')));
    std::vector<std::string> words;
    for (std::string w; in >> w;)
        words.push_back(w);
    return words;
}

}  // namespace

std::uint64_t score::frame_of(double seconds, double sample_rate) noexcept
{
    return static_cast<std::uint64_t>(std::llround(seconds * sample_rate));
}

int parse_note(std::string_view text) noexcept
{
    if (text.empty())
        return -1;
    if (text.front() >= '0' && text.front() <= '9')
    {
        int n = -1;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
        return error == std::errc{} && end == text.data() + text.size() && n <= 127 ? n : -1;
    }
    static constexpr int semitones[] = {9, 11, 0, 2, 4, 5, 7};  // A B C D E F G
    const char letter = static_cast<char>(text.front() & ~0x20);
    if (letter < 'A' || letter > 'G')
        return -1;
    int n = semitones[letter - 'A'];
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '#' || text.front() == 'b'))
    {
        n += text.front() == '#' ? 1 : -1;
        text.remove_prefix(1);
    }
    int octave = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), octave);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size())
        return -1;
    n += (octave + 1) * 12;
    return n >= 0 && n <= 127 ? n : -1;
}

score parse_score(std::istream& text, const std::string& source)
{
    score result;
    bool has_end = false;
    std::string line;
    for (std::size_t number = 1; std::getline(text, line); ++number)
    {
        const std::vector<std::string> w = words_of(line);
        if (w.empty())
            continue;
        auto fail = [&](const std::string& reason) { throw score_error(source, number, reason); };
        double seconds = 0.0;
        if (!parse_number(w[0], seconds) || seconds < 0.0)
            fail("'" + w[0] + "' is not a time in seconds (a number >= 0)");
        if (w.size() < 2)
            fail("a command must follow the time (on, off, gain, cutoff, wave, alloff, patch, end)");
        const std::string& command = w[1];
        auto expect_args = [&](std::size_t least, std::size_t most) {
            const std::size_t n = w.size() - 2;
            if (n < least || n > most)
                fail("'" + command + "' takes " + std::to_string(least) +
                     (least == most ? "" : " to " + std::to_string(most)) + " argument(s), got " + std::to_string(n));
        };
        auto number_arg = [&](std::size_t i, double low, double high) {
            double v = 0.0;
            if (!parse_number(w[i], v) || v < low || v > high)
            {
                std::ostringstream why;
                why << "'" << w[i] << "' is not a number from " << low << " to " << high;
                fail(why.str());
            }
            return v;
        };
        audio::engine_event e;
        if (command == "on")
        {
            expect_args(1, 2);
            const int note = parse_note(w[2]);
            if (note < 0)
                fail("'" + w[2] + "' is not a note (0..127 or a name like C4, F#3, Bb2)");
            const double velocity = w.size() > 3 ? number_arg(3, 0.0, 1.0) : 0.8;
            e = make_note_on(static_cast<std::uint32_t>(note), static_cast<float>(velocity));
        }
        else if (command == "off")
        {
            expect_args(1, 1);
            const int note = parse_note(w[2]);
            if (note < 0)
                fail("'" + w[2] + "' is not a note (0..127 or a name like C4, F#3, Bb2)");
            e = make_note_off(static_cast<std::uint32_t>(note));
        }
        else if (command == "gain")
        {
            expect_args(1, 1);
            e = make_gain(static_cast<float>(number_arg(2, 0.0, 4.0)));
        }
        else if (command == "cutoff")
        {
            expect_args(1, 1);
            e = make_cutoff(static_cast<float>(number_arg(2, 10.0, 100000.0)));
        }
        else if (command == "wave")
        {
            expect_args(1, 1);
            if (w[2] == "sine")
                e = make_waveform(waveform::sine);
            else if (w[2] == "saw")
                e = make_waveform(waveform::saw);
            else if (w[2] == "square")
                e = make_waveform(waveform::square);
            else
                fail("'" + w[2] + "' is not a waveform (sine, saw, square)");
        }
        else if (command == "alloff")
        {
            expect_args(0, 0);
            e = audio::engine_event{all_notes_off, 0, 0, 0.0F, 0};
        }
        else if (command == "patch")
        {
            expect_args(1, 1);
            const double voices = number_arg(2, 1.0, 128.0);
            if (voices != std::floor(voices))
                fail("'" + w[2] + "' is not a whole number of voices");
            result.patches.push_back({seconds, static_cast<std::size_t>(voices), number});
            if (!has_end)
                result.length_seconds = std::max(result.length_seconds, seconds);
            continue;
        }
        else if (command == "end")
        {
            expect_args(0, 0);
            result.length_seconds = seconds;
            has_end = true;
            continue;
        }
        else
        {
            fail("unknown command '" + command + "' (on, off, gain, cutoff, wave, alloff, patch, end)");
        }
        e.tag = static_cast<std::uint32_t>(number);
        result.events.push_back({seconds, e, number});
        if (!has_end)
            result.length_seconds = std::max(result.length_seconds, seconds);
    }
    return result;
}

std::string_view demo_score_text() noexcept
{
    return R"(# courier-synth built-in demo: a short progression, a filter sweep, waveform changes and a graph swap.
0.00 gain 0.6
0.00 cutoff 900
0.00 wave saw
0.00 on C3 0.9
0.00 on G3 0.7
0.00 on E4 0.6
0.50 cutoff 1800
1.00 cutoff 3200
1.45 off C3
1.45 off G3
1.45 off E4
1.50 on A2 0.9
1.50 on E3 0.7
1.50 on C4 0.6
2.00 cutoff 1200
2.95 alloff
3.00 wave square
3.00 cutoff 2500
3.00 on F2 0.8
3.00 on C3 0.6
3.00 on A3 0.6
3.25 on C5 0.5
3.50 off C5
3.50 on A4 0.5
3.75 off A4
3.75 on F4 0.5
4.00 off F4
4.40 alloff
# A new graph with four voices, built on the control side and swapped in O(1) while the synth is silent.
4.49 patch 4
4.50 wave sine
4.50 on G2 0.9
4.50 on D3 0.7
4.50 on B3 0.6
4.50 on G4 0.5
5.60 alloff
6.20 end
)";
}

}  // namespace courier::synth
