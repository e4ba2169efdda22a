// SPDX-License-Identifier: MIT
// The courier plugin's audio core without JUCE: its processBlock's work and every courier channel between it
// and the editor (demos/plugin/README.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/lane_stats.h>
#include "demos/synth/synth_graph.h"
#include <courier/patterns/buffer_pool.h>
#include <courier/patterns/cached_state.h>
#include <courier/patterns/state_commands.h>
#include <courier/patterns/state_observer.h>
#include <courier/patterns/swap_and_retire.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace courier::plugin {

/// The parameters the audio side uses, as one trivially copyable block (cached_state: the editor and the
/// host's automation write it whole; the audio side adopts the newest at the start of a block).
struct parameters
{
    float gain = 1.0F;            ///< linear output gain (input path and synth), 0..2
    float cutoff = 20000.0F;      ///< input low-pass cutoff in Hz
    float synth_level = 0.5F;     ///< the synth's linear gain, 0..1 (synth_graph's own gain)
    std::uint32_t waveform = 1;   ///< 0 sine, 1 saw, 2 square
};

class audio_side;

/// Commands from the editor's buttons (state_commands): typed, trivially copyable, applied in order. Each
/// apply() runs on the audio thread, at the start of a block. Thread: audio. Real-time: wait-free.
struct play_note
{
    std::uint32_t note = 60;
    float velocity = 0.8F;
    void apply(audio_side& side) const noexcept;
};
struct release_note
{
    std::uint32_t note = 60;
    void apply(audio_side& side) const noexcept;
};
struct panic
{
    void apply(audio_side& side) const noexcept;
};

/// What the audio side publishes after every block (state_observer, latest value wins).
struct meter_frame
{
    std::uint64_t blocks = 0;     ///< blocks processed so far
    std::array<float, 2> peak{};  ///< |sample| maximum of the block, left and right
    std::array<float, 2> rms{};   ///< root mean square of the block
    std::uint32_t voices = 0;     ///< synth voices sounding
    float load = 0.0F;            ///< this block's duration as a fraction of its period
};

/// The audio side's own counters: one writer (the audio thread), read by the editor without locks.
struct callback_stats
{
    std::uint64_t blocks = 0;
    std::uint64_t over_budget = 0;  ///< blocks that took longer than their period
    double mean_load = 0.0;
    double max_load = 0.0;
    std::uint64_t midi_events = 0;
    std::uint64_t graphs_adopted = 0;
};

/// The inbox of engine_event messages from the OSC endpoint's network thread (demos/plugin/plugin_osc.h): its
/// lane and what the audio side did with what it took.
struct osc_inbox_stats
{
    lane_stats lane;                      ///< the SPSC lane (refused: sends refused because it was full)
    std::uint64_t applied = 0;            ///< events applied (note on/off, all notes off, gain, cutoff, waveform)
    std::uint64_t ignored = 0;            ///< events of a type the plugin does not know (type 0, or above 6)
    std::uint64_t budget_exhausted = 0;   ///< blocks that stopped draining at the budget (the rest waits)
};

/// Everything the health panel shows, collected on the control side without locks.
struct health_snapshot
{
    cached_state_stats params;
    state_commands_stats commands;
    swap_and_retire_stats graphs;
    buffer_pool_stats scope;
    std::uint64_t meters_published = 0;
    std::uint64_t meters_read = 0;
    callback_stats callback;
    osc_inbox_stats osc;
};

/// One MIDI message for process(): the frame it happens at and the three bytes.
struct midi_event
{
    std::uint32_t frame = 0;
    std::array<std::uint8_t, 3> bytes{};
};

using command_channel = state_commands<audio_side, play_note, release_note, panic>;

/// The plugin's audio core: stereo input through a one-pole low-pass and a gain, plus the courier-synth
/// voices (demos/synth/synth_graph.h) played from MIDI and from the editor's commands. Its channels:
///   - parameters: cached_state<parameters> (editor and automation -> audio),
///   - commands: state_commands (editor buttons -> audio),
///   - the voice graph: swap_and_retire<synth_graph> (the graph-swap panel -> audio, O(1), old graph back),
///   - meters: state_observer<meter_frame> (audio -> editor),
///   - scope: buffer_pool of 1024-sample buffers (audio -> editor -> back: a closed loop of credits),
///   - OSC: a lane<engine_event> from the OSC endpoint's network thread (SPSC; take_osc_sender()), drained at
///     the start of each block with a budget of osc_budget events,
///   - statistics: relaxed single-writer atomics.
/// Threads: one audio thread (process, between prepare calls); one control thread (the JUCE message
/// thread) for everything else, except the OSC sender's end, which its one producer thread (the OSC endpoint's
/// network thread) uses, and the functions marked "any".
class audio_side
{
public:
    static constexpr std::size_t scope_frames = 1024;
    static constexpr std::size_t scope_buffers = 4;
    static constexpr std::size_t osc_capacity = 256;  ///< OSC events the inbox holds
    static constexpr std::size_t osc_budget = 64;     ///< OSC events applied per block at most

    /// Builds every channel and the first graph. Throws std::bad_alloc.
    /// Thread: setup. Real-time: no (allocates).
    audio_side();

    /// Sizes the graph and the filter for `sample_rate` and blocks of up to `max_frames`, publishing a fresh
    /// prepared graph, and lets a new audio thread take over the patterns that check roles.
    /// Thread: setup (the stream is stopped). Real-time: no (allocates).
    void prepare(double sample_rate, std::size_t max_frames);

    /// One block: applies new parameters and commands, adopts a new graph (declicked), applies the MIDI
    /// events at their frames, filters and scales the input, adds the synth, publishes meters and scope.
    /// `in` may be null (no input); `channels` outputs are written (the first two get the stereo signal).
    /// Thread: audio. Real-time: wait-free.
    void process(const float* const* in, std::size_t in_channels, float* const* out, std::size_t channels,
                 std::size_t frames, std::span<const midi_event> midi) noexcept COURIER_REALTIME;

    // ----- control side (the message thread) --------------------------------------------------------------

    /// The parameters' write-through proxy: get() answers without asking the audio side.
    /// Thread: control. Real-time: wait-free (its members).
    cached_state_proxy<parameters>& params() noexcept { return param_proxy; }

    /// The editor's command sender.
    /// Thread: control. Real-time: wait-free (its try_send).
    state_command_sender<audio_side, play_note, release_note, panic>& commands() noexcept { return command_sender; }

    /// Builds a synth graph with `shape` and `voices`, prepares it and publishes it; false when the swap's
    /// in-flight limit is reached (collect and retry).
    /// Thread: control. Real-time: no (allocates).
    bool try_swap_graph(synth::waveform shape, std::size_t voices);

    /// Destroys the graphs the audio side replaced, here; returns how many.
    /// Thread: control. Real-time: no (frees).
    std::size_t collect() noexcept { return graphs.collect(); }

    /// Takes the newest meters if new ones came; `into` gets them.
    /// Thread: control. Real-time: wait-free.
    bool read_meters(meter_frame& into) noexcept;

    /// Copies the oldest full scope buffer into `into` and returns it to the loop; false when none waits.
    /// Thread: control. Real-time: wait-free.
    bool read_scope(std::vector<float>& into) noexcept;

    /// The producer's end of the OSC inbox: events sent on it are applied at the start of a coming block
    /// (/synth/ meanings, demos/plugin/README.md, "OSC"). Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] lane_sender<audio::engine_event> take_osc_sender() { return osc_lane.sender(); }

    /// Frames processed so far (the clock the OSC endpoint reports in /status).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t frames_processed() const noexcept COURIER_REALTIME
    {
        return frames_done.load(std::memory_order_relaxed);  // a counter; nothing is read through it
    }

    /// Blocks processed so far.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t blocks_processed() const noexcept COURIER_REALTIME
    {
        return blocks.load(std::memory_order_relaxed);  // a counter; nothing is read through it
    }

    /// The OSC inbox's counters (also in health()).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] osc_inbox_stats osc_stats() const noexcept COURIER_REALTIME;

    /// The sample rate of the last prepare() (48000 before any).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] double sample_rate() const noexcept COURIER_REALTIME
    {
        return prepared_rate.load(std::memory_order_relaxed);  // one number, nothing is read through it
    }

    /// The counters of every channel.
    /// Thread: control. Real-time: wait-free.
    [[nodiscard]] health_snapshot health() const noexcept;

    // ----- used by the commands and MIDI, on the audio thread ----------------------------------------------

    /// Starts, releases or silences notes on the current graph (remembered, and replayed into a new graph).
    /// Thread: audio. Real-time: wait-free.
    void note_on(std::uint32_t note, float velocity) noexcept COURIER_REALTIME;
    void note_off(std::uint32_t note) noexcept COURIER_REALTIME;
    void all_off() noexcept COURIER_REALTIME;

private:
    void apply_midi(const midi_event& event) noexcept COURIER_REALTIME;
    void apply_osc(const audio::engine_event& event) noexcept COURIER_REALTIME;
    void apply_parameters(synth::synth_graph& graph) noexcept COURIER_REALTIME;
    void publish(float* const* out, std::size_t channels, std::size_t frames, double seconds) noexcept COURIER_REALTIME;

    cached_state<parameters> param_cell;
    command_channel command_cell;
    swap_and_retire<synth::synth_graph> graphs;  // ✗ replaced graphs die in collect(), on the control thread
    state_observer<meter_frame> meter_cell;
    buffer_pool<std::vector<float>> scope_loop;  // ✗ buffers die in ~audio_side, on the control thread
    lane<audio::engine_event> osc_lane;          // events are trivially copyable: nothing to die anywhere

    cached_state_proxy<parameters> param_proxy;
    state_command_sender<audio_side, play_note, release_note, panic> command_sender;
    state_reader<meter_frame> meter_reader;
    std::uint64_t meters_taken = 0;

    // Audio-thread state.
    cached_state_target<parameters> param_target;
    state_command_receiver<audio_side, play_note, release_note, panic> command_receiver;
    state_publisher<meter_frame> meter_publisher;
    lane_receiver<audio::engine_event> osc_receiver;
    buffer_lease<std::vector<float>> scope_fill;
    std::size_t scope_used = 0;
    synth::synth_graph* graph = nullptr;  // the graph adopted last (owned by `graphs`)
    std::array<float, 128> held{};        // velocity of each held note, replayed into an adopted graph
    std::array<float, 2> filter_state{};
    std::array<float, 2> declick{};       // the step left by a graph swap, decaying to 0
    std::vector<float> synth_buffer[2];   // sized in prepare()
    float applied_gain = 1.0F;            // smoothed towards the parameter
    float filter_coefficient = 1.0F;
    float last_cutoff = -1.0F;
    std::uint32_t last_waveform = 0xFFFFFFFFU;
    float last_level = -1.0F;
    double rate = 48000.0;
    std::size_t max_block = 512;
    // prepare()'s sizes for try_swap_graph on the control thread, which may run while a host prepares
    // (relaxed: two numbers, nothing else is read through them).
    std::atomic<double> prepared_rate{48000.0};
    std::atomic<std::size_t> prepared_block{512};
    std::size_t last_synth_frames = 0;    // frames the synth rendered in the last block

    // Statistics: written by the audio thread only (loads and stores), read relaxed by health().
    std::atomic<std::uint64_t> blocks{0};
    std::atomic<std::uint64_t> over_budget{0};
    std::atomic<std::uint64_t> midi_count{0};
    std::atomic<std::uint64_t> adopted{0};
    std::atomic<double> load_sum{0.0};
    std::atomic<double> load_max{0.0};
    std::atomic<std::uint64_t> frames_done{0};
    std::atomic<std::uint64_t> osc_applied{0};
    std::atomic<std::uint64_t> osc_ignored{0};
    std::atomic<std::uint64_t> osc_budget_hits{0};
};

}  // namespace courier::plugin
