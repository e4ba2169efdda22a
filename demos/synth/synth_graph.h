// SPDX-License-Identifier: MIT
// The synth DSP shared by courier-synth and a plugin: polyphonic voices, three waveforms, a low-pass, a gain
// (demos/synth/README.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/contracts.h>
#include "demos/synth/synth_events.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace courier::synth {

/// The oscillator shapes (naive, not band-limited: simple and deterministic).
enum class waveform : std::uint8_t
{
    sine = 0,
    saw = 1,
    square = 2
};

/// Build the engine_event of each command (note on, note off, gain, cutoff, waveform), for the engine's
/// senders or for apply().
/// Thread: any. Real-time: wait-free.
[[nodiscard]] audio::engine_event make_note_on(std::uint32_t note, float velocity) noexcept COURIER_REALTIME;
[[nodiscard]] audio::engine_event make_note_off(std::uint32_t note) noexcept COURIER_REALTIME;
[[nodiscard]] audio::engine_event make_gain(float gain) noexcept COURIER_REALTIME;
[[nodiscard]] audio::engine_event make_cutoff(float hertz) noexcept COURIER_REALTIME;
[[nodiscard]] audio::engine_event make_waveform(waveform shape) noexcept COURIER_REALTIME;

/// The settings a synth_graph starts with.
struct synth_settings
{
    std::size_t max_voices = 8;      ///< voices preallocated; a ninth note steals the oldest voice
    waveform shape = waveform::saw;
    float gain = 0.5F;               ///< linear
    float cutoff = 4000.0F;          ///< Hz
    float attack_seconds = 0.005F;
    float release_seconds = 0.08F;
};

/// A polyphonic synthesizer as an audio_graph: `max_voices` voices (allocated in the constructor), each an
/// oscillator with a linear attack/release envelope, summed, low-passed by a one-pole filter, scaled by the
/// gain and written to every output channel. Deterministic: the same events at the same frames give the
/// same samples on the same build.
class synth_graph final : public audio::audio_graph
{
public:
    /// Allocates the voices. Throws std::invalid_argument when max_voices is 0.
    /// Thread: setup. Real-time: no (allocates).
    explicit synth_graph(const synth_settings& settings = {});

    /// Sets the sample rate (envelope and filter coefficients follow it); all voices fall silent.
    /// Throws std::invalid_argument when the rate is not positive.
    /// Thread: setup. Real-time: no (may throw).
    void prepare(double sample_rate, std::size_t max_frames) override;

    /// Applies a note or parameter event (see event_type); unknown types are ignored.
    /// Thread: audio. Real-time: wait-free.
    void apply(const audio::engine_event& event) noexcept COURIER_REALTIME override;

    /// Renders the voices into frames [offset, offset + frames) of every channel.
    /// Thread: audio. Real-time: wait-free.
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override;

    /// One processor, "synth": the engine opens a port for it (audio::engine::open_processor_ports), and what
    /// arrives there is applied like any other event.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::span<const std::string_view> processors() const noexcept COURIER_REALTIME override;

    /// Voices sounding now (attacking, held or releasing).
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::uint32_t activity() const noexcept COURIER_REALTIME override;

    /// The current settings (gain, cutoff and waveform as last applied).
    /// Thread: audio (or control while the graph is not running). Real-time: wait-free.
    [[nodiscard]] const synth_settings& settings() const noexcept COURIER_REALTIME { return current; }

private:
    struct voice
    {
        std::uint32_t note = 0;
        float phase = 0.0F;       // [0, 1)
        float increment = 0.0F;   // cycles per frame
        float level = 0.0F;       // envelope, 0..1
        float velocity = 0.0F;
        bool held = false;
        std::uint64_t started = 0;  // note-on order, for stealing the oldest voice
    };

    void start_note(std::uint32_t note, float velocity) noexcept COURIER_REALTIME;
    void release_note(std::uint32_t note) noexcept COURIER_REALTIME;
    void update_filter() noexcept COURIER_REALTIME;
    [[nodiscard]] float oscillator(float phase) const noexcept COURIER_REALTIME;

    synth_settings current;
    std::vector<voice> voices;  // sized in the constructor; never resized after
    double rate = 48000.0;
    float attack_step = 0.0F;   // envelope change per frame
    float release_step = 0.0F;
    float filter_coefficient = 1.0F;
    float filter_state = 0.0F;
    std::uint64_t note_counter = 0;
};

}  // namespace courier::synth
