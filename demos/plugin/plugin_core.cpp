// SPDX-License-Identifier: MIT
// The courier plugin's audio core (demos/plugin/plugin_core.h, demos/plugin/README.md).
#include "demos/plugin/plugin_core.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>
#include <stdexcept>

namespace courier::plugin {

namespace {
constexpr float declick_decay = 0.995F;  // per frame: a swap's step halves in about 140 frames

synth::synth_settings settings_for(synth::waveform shape, std::size_t voices)
{
    synth::synth_settings s;
    s.shape = shape;
    s.max_voices = voices;
    return s;
}

audio::engine_config engine_settings()
{
    audio::engine_config c;
    c.max_producers = 2;  // the editor (commands_index) and the OSC endpoint (osc_index)
    c.mailbox_capacity = audio_side::mailbox_capacity;
    c.message_budget = audio_side::message_budget;
    return c;
}
}  // namespace

// ===================================================================================================
// plugin_graph
// ===================================================================================================

plugin_graph::plugin_graph(synth::waveform shape, std::size_t voice_count) : voices(settings_for(shape, voice_count))
{
}

void plugin_graph::prepare(double sample_rate, std::size_t max_frames)
{
    rate = sample_rate;
    voices.prepare(sample_rate, max_frames);
    for (auto& b : synth_buffer)
        b.assign(max_frames, 0.0F);
    set(cutoff_key, cutoff);  // the coefficient follows the rate
    voices.apply(synth::make_gain(level));
}

void plugin_graph::note_on(std::uint32_t note, float velocity) noexcept
{
    if (note >= held.size())
        return;
    if (velocity <= 0.0F)
        return note_off(note);
    held[note] = velocity;
    voices.apply(synth::make_note_on(note, velocity));
}

void plugin_graph::note_off(std::uint32_t note) noexcept
{
    if (note >= held.size())
        return;
    held[note] = 0.0F;
    voices.apply(synth::make_note_off(note));
}

void plugin_graph::all_off() noexcept
{
    held.fill(0.0F);
    audio::engine_event e;
    e.type = synth::all_notes_off;
    voices.apply(e);
}

void plugin_graph::set(parameter_key key, float value) noexcept
{
    switch (key)
    {
    case gain_key:
        gain_target = std::clamp(value, 0.0F, 2.0F);
        gain_step = (gain_target - gain) / static_cast<float>(gain_ramp_frames);
        ramp_left = gain_ramp_frames;
        break;
    case cutoff_key:
    {
        cutoff = value;
        const double hz = std::clamp(static_cast<double>(value), 10.0, 0.49 * rate);
        filter_coefficient = static_cast<float>(1.0 - std::exp(-2.0 * std::numbers::pi * hz / rate));
        break;
    }
    case level_key:
        level = value;
        voices.apply(synth::make_gain(value));
        break;
    case waveform_key:
        voices.apply(synth::make_waveform(static_cast<synth::waveform>(std::clamp(value, 0.0F, 2.0F))));
        break;
    }
}

void plugin_graph::apply(const audio::engine_event& e) noexcept
{
    switch (e.type)
    {
    case audio::midi_event_type:
    {
        const audio::midi_bytes m(e);
        const std::uint8_t status = m.status & 0xF0U;
        if (status == 0x90U && m.data2 > 0)
            note_on(m.data1, static_cast<float>(m.data2) / 127.0F);
        else if (status == 0x80U || status == 0x90U)
            note_off(m.data1);
        else if (status == 0xB0U && (m.data1 == 120 || m.data1 == 123))  // all sound off, all notes off
            all_off();
        break;
    }
    case synth::note_on: note_on(e.key, e.value); break;
    case synth::note_off: note_off(e.key); break;
    case synth::all_notes_off: all_off(); break;
    case synth::set_gain:
    case synth::set_cutoff:
    case synth::set_waveform: voices.apply(e); break;
    case set_parameter:
        if (e.key <= waveform_key)
            set(static_cast<parameter_key>(e.key), e.value);
        break;
    default: break;  // not ours
    }
}

void plugin_graph::render(float* const* out, std::size_t channels, std::size_t offset, std::size_t frames) noexcept
{
    render_with_input(nullptr, 0, out, channels, offset, frames);
}

void plugin_graph::render_with_input(const float* const* in, std::size_t in_channels, float* const* out,
                                     std::size_t channels, std::size_t offset, std::size_t frames) noexcept
{
    float* synth_out[2] = {synth_buffer[0].data(), synth_buffer[1].data()};
    voices.render(synth_out, 2, offset, frames);
    // Input through the low-pass, plus the synth, through the ramped gain (in and out may alias: each frame is
    // read before it is written).
    float end_gain = gain;
    std::size_t end_ramp = ramp_left;
    for (std::size_t c = 0; c < channels; ++c)
    {
        if (c >= 2)
        {
            std::fill(out[c] + offset, out[c] + offset + frames, 0.0F);
            continue;
        }
        const float* source = in_channels > 0 ? in[std::min(c, in_channels - 1)] : nullptr;
        float state = filter_state[c];
        float carry = declick[c];
        float g = gain;
        std::size_t ramp = ramp_left;
        for (std::size_t i = offset; i < offset + frames; ++i)
        {
            const float x = source != nullptr ? source[i] : 0.0F;
            state += filter_coefficient * (x - state);
            if (ramp > 0)
                g = --ramp == 0 ? gain_target : g + gain_step;
            out[c][i] = g * (state + synth_buffer[c][i] + carry);
            carry *= declick_decay;
        }
        filter_state[c] = std::abs(state) < 1e-20F ? 0.0F : state;
        declick[c] = std::abs(carry) < 1e-9F ? 0.0F : carry;
        end_gain = g;
        end_ramp = ramp;
    }
    gain = end_gain;
    ramp_left = end_ramp;
    if (frames > 0)
        for (std::size_t c = 0; c < 2; ++c)
            last_synth[c] = synth_buffer[c][offset + frames - 1];
}

void plugin_graph::adopt(audio::audio_graph& previous) noexcept
{
    // The engine runs plugin_graphs only (audio_side publishes nothing else).
    const auto& old = static_cast<const plugin_graph&>(previous);
    for (std::size_t c = 0; c < 2; ++c)
        declick[c] = old.declick[c] + old.last_synth[c];  // the old voices stop mid-waveform: no step
    filter_state = old.filter_state;
    gain = old.gain;
    gain_target = old.gain_target;
    gain_step = old.gain_step;
    ramp_left = old.ramp_left;
    cutoff = old.cutoff;
    filter_coefficient = old.filter_coefficient;
    level = old.level;
    voices.apply(synth::make_gain(level));  // the new voices keep their own waveform until the parameter moves
    for (std::uint32_t note = 0; note < held.size(); ++note)
        if (old.held[note] > 0.0F)
            note_on(note, old.held[note]);
}

// ===================================================================================================
// audio_side
// ===================================================================================================

audio_side::audio_side()
    : run(std::make_unique<plugin_graph>(synth::waveform::saw, 8), engine_settings()),
      editor_sender(run.add_producer())
{
}

void audio_side::prepare(double sample_rate, std::size_t max_frames, std::size_t inputs, std::size_t outputs)
{
    run.prepare({sample_rate, std::max<std::size_t>(max_frames, 1), inputs, outputs});
}

bool audio_side::try_swap_graph(synth::waveform shape, std::size_t voice_count)
{
    run.collect_graphs();  // ✗ graphs the audio side replaced die here, on the message thread
    std::unique_ptr<audio::audio_graph> fresh = std::make_unique<plugin_graph>(shape, voice_count);
    return run.try_publish_graph(fresh);  // refused: `fresh` dies here, on the message thread
}

audio::engine_sender audio_side::take_osc_sender()
{
    if (osc_taken)
        throw std::logic_error("courier::plugin::audio_side: take_osc_sender() called twice");
    osc_taken = true;
    return run.add_producer();  // mailbox lane osc_index: the editor's was added first
}

osc_inbox_stats audio_side::osc_stats() const noexcept
{
    osc_inbox_stats s;
    if (run.producer_count() > osc_index)
    {
        s.lane = run.mailbox_stats(osc_index);
        s.applied = s.lane.received;  // the engine applies every event it takes
    }
    return s;
}

}  // namespace courier::plugin
