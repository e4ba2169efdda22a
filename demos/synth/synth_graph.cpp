// SPDX-License-Identifier: MIT
// The synth DSP: voices, oscillators, envelope, low-pass and gain (demos/synth/README.md).
#include "demos/synth/synth_graph.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace courier::synth {

audio::engine_event make_note_on(std::uint32_t note, float velocity) noexcept
{
    return {note_on, 0, note, velocity, 0};
}

audio::engine_event make_note_off(std::uint32_t note) noexcept
{
    return {note_off, 0, note, 0.0F, 0};
}

audio::engine_event make_gain(float gain) noexcept
{
    return {set_gain, 0, 0, gain, 0};
}

audio::engine_event make_cutoff(float hertz) noexcept
{
    return {set_cutoff, 0, 0, hertz, 0};
}

audio::engine_event make_waveform(waveform shape) noexcept
{
    return {set_waveform, 0, static_cast<std::uint32_t>(shape), 0.0F, 0};
}

synth_graph::synth_graph(const synth_settings& settings) : current(settings)
{
    if (settings.max_voices == 0)
        throw std::invalid_argument("courier::synth::synth_graph: max_voices must be at least 1");
    voices.resize(settings.max_voices);
    prepare(rate, 0);
}

void synth_graph::prepare(double sample_rate, std::size_t max_frames)
{
    static_cast<void>(max_frames);  // the synth renders any block length
    if (!(sample_rate > 0.0))
        throw std::invalid_argument("courier::synth::synth_graph: the sample rate must be positive");
    rate = sample_rate;
    attack_step = static_cast<float>(1.0 / std::max(1.0, static_cast<double>(current.attack_seconds) * rate));
    release_step = static_cast<float>(1.0 / std::max(1.0, static_cast<double>(current.release_seconds) * rate));
    for (voice& v : voices)
        v = voice{};
    filter_state = 0.0F;
    update_filter();
}

void synth_graph::apply(const audio::engine_event& event) noexcept
{
    switch (event.type)
    {
    case note_on:
        if (event.value > 0.0F)
            start_note(event.key, std::min(event.value, 1.0F));
        else
            release_note(event.key);
        break;
    case note_off:
        release_note(event.key);
        break;
    case set_gain:
        current.gain = std::clamp(event.value, 0.0F, 4.0F);
        break;
    case set_cutoff:
        current.cutoff = event.value;
        update_filter();
        break;
    case set_waveform:
        if (event.key <= static_cast<std::uint32_t>(waveform::square))
            current.shape = static_cast<waveform>(event.key);
        break;
    case all_notes_off:
        for (voice& v : voices)
            v.held = false;
        break;
    default:
        break;
    }
}

void synth_graph::render(float* const* out, std::size_t channels, std::size_t offset, std::size_t frames) noexcept
{
    for (std::size_t i = offset; i < offset + frames; ++i)
    {
        float sum = 0.0F;
        for (voice& v : voices)
        {
            if (v.level <= 0.0F && !v.held)
                continue;
            v.level = v.held ? std::min(1.0F, v.level + attack_step) : std::max(0.0F, v.level - release_step);
            sum += oscillator(v.phase) * v.level * v.velocity * 0.25F;
            v.phase += v.increment;
            if (v.phase >= 1.0F)
                v.phase -= 1.0F;
        }
        filter_state += filter_coefficient * (sum - filter_state);
        const float sample = filter_state * current.gain;
        for (std::size_t c = 0; c < channels; ++c)
            out[c][i] = sample;
    }
}

std::span<const std::string_view> synth_graph::processors() const noexcept
{
    static constexpr std::string_view names[] = {"synth"};
    return names;
}

std::uint32_t synth_graph::activity() const noexcept
{
    return static_cast<std::uint32_t>(
        std::count_if(voices.begin(), voices.end(), [](const voice& v) { return v.held || v.level > 0.0F; }));
}

void synth_graph::start_note(std::uint32_t note, float velocity) noexcept
{
    // A free voice, else the oldest one (stolen: it restarts from its current level, so no click).
    voice* chosen = &voices.front();
    for (voice& v : voices)
    {
        const bool v_free = !v.held && v.level <= 0.0F;
        const bool chosen_free = !chosen->held && chosen->level <= 0.0F;
        if (v_free && !chosen_free)
            chosen = &v;
        else if (v_free == chosen_free && v.started < chosen->started)
            chosen = &v;
    }
    const double hertz = 440.0 * std::exp2((static_cast<double>(std::min(note, 127U)) - 69.0) / 12.0);
    chosen->note = note;
    chosen->increment = static_cast<float>(hertz / rate);
    chosen->velocity = velocity;
    chosen->held = true;
    chosen->started = ++note_counter;
    if (chosen->level <= 0.0F)
        chosen->phase = 0.0F;
}

void synth_graph::release_note(std::uint32_t note) noexcept
{
    for (voice& v : voices)
        if (v.held && v.note == note)
            v.held = false;
}

void synth_graph::update_filter() noexcept
{
    const double hertz = std::clamp(static_cast<double>(current.cutoff), 10.0, 0.45 * rate);
    current.cutoff = static_cast<float>(hertz);
    filter_coefficient = static_cast<float>(1.0 - std::exp(-2.0 * std::numbers::pi * hertz / rate));
}

float synth_graph::oscillator(float phase) const noexcept
{
    switch (current.shape)
    {
    case waveform::sine:
        return std::sin(2.0F * std::numbers::pi_v<float> * phase);
    case waveform::saw:
        return 2.0F * phase - 1.0F;
    case waveform::square:
        return phase < 0.5F ? 1.0F : -1.0F;
    }
    return 0.0F;
}

}  // namespace courier::synth
