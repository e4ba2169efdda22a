// SPDX-License-Identifier: MIT
// The courier plugin's audio core (demos/plugin/plugin_core.h, demos/plugin/README.md).
#include "demos/plugin/plugin_core.h"

#include <courier/counter.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>

namespace courier::plugin {

namespace {
constexpr std::size_t graphs_in_flight = 4;
constexpr std::size_t min_synth_capacity = 4096;  // frames the synth renders per block at most
constexpr float declick_decay = 0.995F;           // per frame: the swap's step halves in about 140 frames

synth::synth_settings settings_for(synth::waveform shape, std::size_t voices, float level)
{
    synth::synth_settings s;
    s.shape = shape;
    s.max_voices = voices;
    s.gain = level;
    return s;
}

synth::waveform clamp_waveform(std::uint32_t w) noexcept COURIER_REALTIME
{
    return static_cast<synth::waveform>(std::min<std::uint32_t>(w, 2));
}
}  // namespace

void play_note::apply(audio_side& side) const noexcept { side.note_on(note, velocity); }
void release_note::apply(audio_side& side) const noexcept { side.note_off(note); }
void panic::apply(audio_side& side) const noexcept { side.all_off(); }

audio_side::audio_side()
    : param_cell(parameters{}, 64),
      command_cell(256),
      graphs(std::make_unique<synth::synth_graph>(settings_for(synth::waveform::saw, 8, 0.5F)), graphs_in_flight),
      meter_cell(meter_frame{}),
      scope_loop(scope_buffers, std::vector<float>(scope_frames, 0.0F)),
      osc_lane(osc_capacity),
      param_proxy(param_cell.proxy()),
      command_sender(command_cell.sender()),
      meter_reader(meter_cell.reader()),
      param_target(param_cell.target()),
      command_receiver(command_cell.receiver()),
      meter_publisher(meter_cell.publisher()),
      osc_receiver(osc_lane.receiver())
{
}

void audio_side::prepare(double sample_rate, std::size_t max_frames)
{
    rate = sample_rate;
    max_block = std::max(max_frames, min_synth_capacity);
    for (auto& b : synth_buffer)
        b.assign(max_block, 0.0F);
    prepared_rate.store(rate, std::memory_order_relaxed);
    prepared_block.store(max_block, std::memory_order_relaxed);
    graphs.current().prepare(rate, max_block);
    graph = nullptr;  // the next block treats the current graph as adopted and gives it the parameters
    last_cutoff = -1.0F;
    scope_fill.reset();
    graphs.reset_thread_roles();
    scope_loop.reset_thread_roles();
    osc_receiver.reset_thread_role();
}

bool audio_side::try_swap_graph(synth::waveform shape, std::size_t voices)
{
    graphs.collect();  // ✗ graphs the audio side replaced die here, on the control thread
    auto fresh = std::make_unique<synth::synth_graph>(settings_for(shape, voices, param_proxy.get().synth_level));
    fresh->prepare(prepared_rate.load(std::memory_order_relaxed), prepared_block.load(std::memory_order_relaxed));
    return graphs.try_publish(std::move(fresh));  // refused: `fresh` dies here, on the control thread
}

bool audio_side::read_meters(meter_frame& into) noexcept
{
    if (!meter_reader.update())
        return false;
    into = meter_reader.value();
    ++meters_taken;
    return true;
}

bool audio_side::read_scope(std::vector<float>& into) noexcept
{
    buffer_lease<std::vector<float>> lease = scope_loop.try_receive();
    if (!lease)
        return false;
    into.assign(lease->begin(), lease->end());  // control side: `into` may allocate the first time
    return true;  // the lease dies here, on the control thread: the buffer goes back through the return lane
}

health_snapshot audio_side::health() const noexcept
{
    health_snapshot h;
    h.params = param_cell.stats();
    h.commands = command_cell.stats();
    h.graphs = graphs.stats();
    h.scope = scope_loop.stats();
    h.meters_published = meter_cell.published();
    h.meters_read = meters_taken;
    // Counters written by the audio thread: relaxed loads, nothing is read through them.
    h.callback.blocks = blocks.load(std::memory_order_relaxed);
    h.callback.over_budget = over_budget.load(std::memory_order_relaxed);
    h.callback.midi_events = midi_count.load(std::memory_order_relaxed);
    h.callback.graphs_adopted = adopted.load(std::memory_order_relaxed);
    h.callback.max_load = load_max.load(std::memory_order_relaxed);
    h.callback.mean_load =
        h.callback.blocks == 0 ? 0.0 : load_sum.load(std::memory_order_relaxed) / static_cast<double>(h.callback.blocks);
    h.osc = osc_stats();
    return h;
}

osc_inbox_stats audio_side::osc_stats() const noexcept
{
    osc_inbox_stats s;  // counters written by the audio thread: relaxed loads, nothing is read through them
    s.lane = osc_lane.stats();
    s.applied = osc_applied.load(std::memory_order_relaxed);
    s.ignored = osc_ignored.load(std::memory_order_relaxed);
    s.budget_exhausted = osc_budget_hits.load(std::memory_order_relaxed);
    return s;
}

// ===================================================================================================
// Implementation: the audio thread
// ===================================================================================================

void audio_side::note_on(std::uint32_t note, float velocity) noexcept
{
    if (note >= held.size())
        return;
    held[note] = velocity;
    graph->apply(synth::make_note_on(note, velocity));
}

void audio_side::note_off(std::uint32_t note) noexcept
{
    if (note >= held.size())
        return;
    held[note] = 0.0F;
    graph->apply(synth::make_note_off(note));
}

void audio_side::all_off() noexcept
{
    held.fill(0.0F);
    audio::engine_event e;
    e.type = synth::all_notes_off;
    graph->apply(e);
}

void audio_side::apply_midi(const midi_event& event) noexcept
{
    count_up(midi_count);
    const std::uint8_t status = event.bytes[0] & 0xF0U;
    const std::uint32_t key = event.bytes[1] & 0x7FU;
    const std::uint8_t velocity = event.bytes[2] & 0x7FU;
    if (status == 0x90U && velocity > 0)
        note_on(key, static_cast<float>(velocity) / 127.0F);
    else if (status == 0x80U || status == 0x90U)
        note_off(key);
    else if (status == 0xB0U && (key == 120 || key == 123))  // all sound off, all notes off
        all_off();
}

void audio_side::apply_osc(const audio::engine_event& e) noexcept
{
    // The OSC endpoint's /synth/ types (<courier/osc/osc_endpoint.h>) are the synth's event types
    // (demos/synth/osc_control.cpp checks that at compile time): notes go through the held-note book, the
    // synth's gain, cutoff and waveform straight to the current graph (demos/plugin/README.md, "OSC").
    switch (e.type)
    {
    case synth::note_on: note_on(e.key, e.value); break;
    case synth::note_off: note_off(e.key); break;
    case synth::all_notes_off: all_off(); break;
    case synth::set_gain:
    case synth::set_cutoff:
    case synth::set_waveform: graph->apply(e); break;
    default: count_up(osc_ignored); return;
    }
    count_up(osc_applied);
}

void audio_side::apply_parameters(synth::synth_graph& g) noexcept
{
    const parameters& p = param_target.value();
    if (p.synth_level != last_level)
    {
        g.apply(synth::make_gain(p.synth_level));
        last_level = p.synth_level;
    }
    if (p.waveform != last_waveform)
    {
        g.apply(synth::make_waveform(clamp_waveform(p.waveform)));
        last_waveform = p.waveform;
    }
    if (p.cutoff != last_cutoff)
    {
        const double hz = std::clamp(static_cast<double>(p.cutoff), 10.0, 0.49 * rate);
        filter_coefficient = static_cast<float>(1.0 - std::exp(-2.0 * std::numbers::pi * hz / rate));
        last_cutoff = p.cutoff;
    }
}

void audio_side::process(const float* const* in, std::size_t in_channels, float* const* out, std::size_t channels,
                         std::size_t frames, std::span<const midi_event> midi) noexcept
{
    const auto started = std::chrono::steady_clock::now();

    // 1. The newest parameters, the newest graph, then the editor's commands (which play on that graph).
    param_target.update();
    synth::synth_graph& g = graphs.acquire();  // O(1): a replaced graph goes back to the control side
    if (&g != graph)
    {
        if (graph != nullptr)
        {
            // The old graph stops mid-waveform: carry its last samples as a decaying offset (no step).
            for (std::size_t c = 0; c < 2 && last_synth_frames > 0; ++c)
                declick[c] += synth_buffer[c][last_synth_frames - 1];
            count_up(adopted);
        }
        graph = &g;
        last_level = -1.0F;  // the new graph takes the current level; it keeps its own waveform until the
                             // waveform parameter changes
        for (std::uint32_t note = 0; note < held.size(); ++note)  // held notes keep sounding on the new graph
            if (held[note] > 0.0F)
                g.apply(synth::make_note_on(note, held[note]));
    }
    apply_parameters(g);
    command_receiver.apply_pending(*this);
    // The OSC inbox, with a budget: whatever is left waits for the next block.
    if (osc_receiver.drain([this](audio::engine_event&& e) { apply_osc(e); }, osc_budget) == osc_budget)
        count_up(osc_budget_hits);

    // 2. The synth, in sub-blocks cut at the MIDI events' frames.
    const std::size_t synth_frames = std::min(frames, max_block);
    float* synth_out[2] = {synth_buffer[0].data(), synth_buffer[1].data()};
    std::size_t position = 0;
    for (const midi_event& event : midi)
    {
        const std::size_t at = std::min<std::size_t>(event.frame, synth_frames);
        if (at > position)
        {
            g.render(synth_out, 2, position, at - position);
            position = at;
        }
        apply_midi(event);
    }
    if (synth_frames > position)
        g.render(synth_out, 2, position, synth_frames - position);
    last_synth_frames = synth_frames;

    // 3. Input through the low-pass, plus the synth, through the smoothed gain (in and out may alias).
    const float target_gain = std::clamp(param_target.value().gain, 0.0F, 2.0F);
    const float gain_step = frames == 0 ? 0.0F : (target_gain - applied_gain) / static_cast<float>(frames);
    for (std::size_t c = 0; c < 2 && c < channels; ++c)
    {
        const float* source = (in != nullptr && in_channels > 0) ? in[std::min(c, in_channels - 1)] : nullptr;
        float* dest = out[c];
        float state = filter_state[c];
        float offset = declick[c];
        float gain = applied_gain;
        for (std::size_t i = 0; i < frames; ++i)
        {
            const float x = source != nullptr ? source[i] : 0.0F;
            state += filter_coefficient * (x - state);
            const float synth_sample = i < synth_frames ? synth_buffer[c][i] : 0.0F;
            gain += gain_step;
            dest[i] = gain * (state + synth_sample + offset);
            offset *= declick_decay;
        }
        filter_state[c] = std::abs(state) < 1e-20F ? 0.0F : state;
        declick[c] = std::abs(offset) < 1e-9F ? 0.0F : offset;
    }
    applied_gain = target_gain;
    for (std::size_t c = 2; c < channels; ++c)
        std::fill(out[c], out[c] + frames, 0.0F);
    if (channels == 1)  // a mono host: only the left channel was written
        filter_state[1] = 0.0F;

    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    publish(out, std::min<std::size_t>(channels, 2), frames, took.count());
}

void audio_side::publish(float* const* out, std::size_t channels, std::size_t frames, double seconds) noexcept
{
    meter_frame m;
    m.blocks = blocks.load(std::memory_order_relaxed) + 1;
    for (std::size_t c = 0; c < channels; ++c)
    {
        float peak = 0.0F;
        double sum = 0.0;
        for (std::size_t i = 0; i < frames; ++i)
        {
            peak = std::max(peak, std::abs(out[c][i]));
            sum += static_cast<double>(out[c][i]) * out[c][i];
        }
        m.peak[c] = peak;
        m.rms[c] = frames == 0 ? 0.0F : static_cast<float>(std::sqrt(sum / static_cast<double>(frames)));
    }
    m.voices = graph->activity();
    const double period = frames == 0 ? 1.0 : static_cast<double>(frames) / rate;
    const double load = seconds / period;
    m.load = static_cast<float>(load);
    meter_publisher.publish(m);

    // The scope: channel 0 into the leased buffer; a full buffer goes to the editor. With no free buffer
    // (the editor holds them all) the block is skipped: buffer_pool counts it as starved.
    for (std::size_t i = 0; i < frames && channels > 0;)
    {
        if (!scope_fill)
        {
            scope_fill = scope_loop.try_acquire();
            scope_used = 0;
            if (!scope_fill)
                break;
        }
        const std::size_t n = std::min(frames - i, scope_frames - scope_used);
        std::copy(out[0] + i, out[0] + i + n, scope_fill->data() + scope_used);
        scope_used += n;
        i += n;
        if (scope_used == scope_frames)
            scope_loop.send(std::move(scope_fill));
    }

    // Statistics: single writer, loads and stores (relaxed: counters, nothing is read through them).
    count_up(blocks);
    count_up(frames_done, frames);
    load_sum.store(load_sum.load(std::memory_order_relaxed) + load, std::memory_order_relaxed);
    if (load > load_max.load(std::memory_order_relaxed))
        load_max.store(load, std::memory_order_relaxed);
    if (load > 1.0)
        count_up(over_budget);
}

}  // namespace courier::plugin
