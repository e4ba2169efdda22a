// SPDX-License-Identifier: MIT
// The courier plugin's audio core without JUCE: its audio_graph (input filter, gain, the courier-synth voices)
// and the engine that runs it from the host's processBlock (demos/plugin/README.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/audio/engine.h>
#include <courier/contracts.h>
#include <courier/lane_stats.h>
#include "demos/synth/synth_graph.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace courier::plugin {

/// The engine_event type of a host parameter change (gui::parameter_bridge makes them at the start of each
/// block); `key` says which parameter, `value` is its plain value.
inline constexpr std::uint16_t set_parameter = 0x100;
enum parameter_key : std::uint32_t
{
    gain_key = 0,      ///< linear output gain (input path and synth), 0..2; ramps over gain_ramp_frames
    cutoff_key = 1,    ///< input low-pass cutoff in Hz
    level_key = 2,     ///< the synth's linear gain, 0..1
    waveform_key = 3,  ///< 0 sine, 1 saw, 2 square
};

/// The plugin's graph: stereo input through a one-pole low-pass, plus the courier-synth voices, through a
/// gain. It understands MIDI (audio::midi_event_type), the synth's own events (synth::event_type: the editor's
/// buttons and OSC) and set_parameter. When the engine swaps in a new one (other voices), adopt() carries the
/// held notes, the parameters, the filter and the old voices' last sample (decaying, so there is no step).
class plugin_graph final : public audio::audio_graph
{
public:
    static constexpr std::size_t gain_ramp_frames = 64;  ///< a gain change ramps linearly over this many frames

    /// A graph with `voices` voices of `shape`. Throws what synth_graph throws.
    /// Thread: setup (control). Real-time: no (allocates).
    plugin_graph(synth::waveform shape, std::size_t voices);

    /// audio_graph (audio/engine/include/courier/audio/audio_graph.h) for each of these.
    /// Thread: as audio_graph says. Real-time: as audio_graph says.
    void prepare(double sample_rate, std::size_t max_frames) override;
    void apply(const audio::engine_event& event) noexcept COURIER_REALTIME override;
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override;
    void render_with_input(const float* const* in, std::size_t in_channels, float* const* out, std::size_t channels,
                           std::size_t offset, std::size_t frames) noexcept COURIER_REALTIME override;
    void adopt(audio::audio_graph& previous) noexcept COURIER_REALTIME override;
    [[nodiscard]] std::uint32_t activity() const noexcept COURIER_REALTIME override { return voices.activity(); }

private:
    void note_on(std::uint32_t note, float velocity) noexcept COURIER_REALTIME;
    void note_off(std::uint32_t note) noexcept COURIER_REALTIME;
    void all_off() noexcept COURIER_REALTIME;
    void set(parameter_key key, float value) noexcept COURIER_REALTIME;

    synth::synth_graph voices;
    std::array<float, 128> held{};        // velocity of each held note, replayed into the next graph
    std::array<float, 2> filter_state{};
    std::array<float, 2> declick{};       // a replaced graph's last sample, decaying to 0
    std::array<float, 2> last_synth{};    // the synth's last rendered sample, for the next graph's declick
    std::vector<float> synth_buffer[2];   // sized in prepare()
    float gain = 1.0F;                    // applied now
    float gain_target = 1.0F;
    float gain_step = 0.0F;
    std::size_t ramp_left = 0;
    float cutoff = 20000.0F;
    float filter_coefficient = 1.0F;
    float level = 0.5F;
    double rate = 48000.0;
};

/// The OSC inbox's counters (its lane into the engine's mailbox; demos/plugin/plugin_osc.h).
struct osc_inbox_stats
{
    lane_stats lane;           ///< the OSC sender's mailbox lane (refused: it was full)
    std::uint64_t applied = 0; ///< events the engine took from it and applied
};

/// The plugin's audio core: an audio::engine running plugin_graph, and its senders. The engine does the rest:
/// block events at their frames, the message budget, meters, scope, load statistics, graph swaps.
/// Threads: the audio thread calls process(); the message thread the rest, except the OSC sender (its one
/// producer thread) and the functions marked "any".
class audio_side
{
public:
    static constexpr std::size_t mailbox_capacity = 256;  ///< events each sender's lane holds
    static constexpr std::size_t message_budget = 128;    ///< mailbox events applied per block at most
    static constexpr std::size_t commands_index = 0;      ///< the editor's mailbox lane
    static constexpr std::size_t osc_index = 1;           ///< the OSC endpoint's mailbox lane

    /// Builds the engine around a first graph (saw, 8 voices) and the editor's sender.
    /// Thread: setup. Real-time: no (allocates).
    audio_side();

    /// Prepares the engine for `inputs` and `outputs` channels at `sample_rate`, blocks of up to `max_frames`.
    /// Thread: setup (the stream is stopped). Real-time: no (allocates).
    void prepare(double sample_rate, std::size_t max_frames, std::size_t inputs, std::size_t outputs);

    /// One host block: engine::process_block. Thread: audio. Real-time: wait-free.
    void process(const float* const* in, float* const* out, std::size_t frames,
                 std::span<const audio::block_event> events) noexcept COURIER_REALTIME
    {
        run.process_block(in, out, frames, events);
    }

    /// The engine (meters, scope, stats for the editor).
    /// Thread: as each engine call says. Real-time: as each engine call says.
    audio::engine& engine() noexcept { return run; }
    [[nodiscard]] const audio::engine& engine() const noexcept { return run; }

    /// The editor's sender: synth::make_note_on/off and all_notes_off events for the audio side.
    /// Thread: message thread. Real-time: wait-free (its try_send).
    audio::engine_sender& commands() noexcept { return editor_sender; }

    /// Builds a graph with `shape` and `voices`, prepares and publishes it; false when the engine's in-flight
    /// limit is reached (collect and retry).
    /// Thread: message thread. Real-time: no (allocates).
    bool try_swap_graph(synth::waveform shape, std::size_t voices);

    /// Destroys the graphs the audio side replaced, here; returns how many.
    /// Thread: message thread. Real-time: no (frees).
    std::size_t collect() noexcept { return run.collect_graphs(); }

    /// The OSC endpoint's sender (mailbox lane osc_index). Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] audio::engine_sender take_osc_sender();

    /// The engine's clock, blocks and sample rate (for OSC /status).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t frames_processed() const noexcept COURIER_REALTIME { return run.stats().frames; }
    [[nodiscard]] std::uint64_t blocks_processed() const noexcept COURIER_REALTIME { return run.stats().callbacks; }
    [[nodiscard]] double sample_rate() const noexcept COURIER_REALTIME { return run.config().sample_rate; }

    /// The OSC inbox's counters (zero before take_osc_sender).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] osc_inbox_stats osc_stats() const noexcept COURIER_REALTIME;

private:
    audio::engine run;  // ✗ the graphs and queued events die with it, on the message thread
    audio::engine_sender editor_sender;
    bool osc_taken = false;
};

}  // namespace courier::plugin
