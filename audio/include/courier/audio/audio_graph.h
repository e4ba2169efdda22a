// SPDX-License-Identifier: MIT
// What the engine runs each block: the message it hands on and the graph interface it swaps (audio/README.md).
#pragma once

#include <courier/contracts.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace courier::audio {

/// One message for an audio graph: 16 bytes, trivially copyable, so it travels through lanes and
/// timed_events by copy and dies trivially wherever it is dropped. `type` and the meaning of `key` and
/// `value` belong to the graph (the synth: note on/off, gain, cutoff, waveform); the engine only carries it.
struct engine_event
{
    std::uint16_t type = 0;     ///< what to do; 0 is "nothing" for every graph
    std::uint16_t channel = 0;  ///< a part or MIDI channel, if the graph has them
    std::uint32_t key = 0;      ///< a note number or parameter index
    float value = 0.0F;         ///< a velocity or parameter value
    std::uint32_t tag = 0;      ///< free for the sender (a sequence number in tests)
};

/// The structure the engine runs every block and swaps as a whole (swap_and_retire): a synth's voices and
/// settings, a mixer, an effect chain. Built and prepared on the control side, adopted by the audio side in
/// O(1), and destroyed back on the control side. A graph is shared code: the synth DSP implements it, and a
/// plugin wrapper can drive the same graph without the engine.
class audio_graph
{
public:
    virtual ~audio_graph() = default;

    /// Sizes everything for `sample_rate` and blocks of up to `max_frames`, before the graph is run or
    /// published. Thread: setup (control). Real-time: no (may allocate).
    virtual void prepare(double sample_rate, std::size_t max_frames) = 0;

    /// Applies one message at the current position: the next render() starts with it in effect.
    /// Thread: audio. Real-time: wait-free (every implementation must be).
    virtual void apply(const engine_event& event) noexcept COURIER_REALTIME = 0;

    /// Writes (overwrites) frames [offset, offset + frames) of each of `channels` output channels.
    /// `offset + frames` is at most the `max_frames` given to prepare().
    /// Thread: audio. Real-time: wait-free (every implementation must be).
    virtual void render(float* const* out, std::size_t channels, std::size_t offset,
                        std::size_t frames) noexcept COURIER_REALTIME = 0;

    /// The graph's processors that can be addressed by name: the engine opens a port for each (engine.h,
    /// "Processors by name"), and a message sent to processor i's port reaches apply_to(i, ...). Every graph an
    /// engine runs must list the same names in the same order. Default: none (the mailbox and timed events
    /// still reach apply()).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] virtual std::span<const std::string_view> processors() const noexcept COURIER_REALTIME
    {
        return {};
    }

    /// Applies a message sent to the port of processor `index` (an index into processors()). Default: apply().
    /// Thread: audio. Real-time: wait-free (every implementation must be).
    virtual void apply_to(std::size_t index, const engine_event& event) noexcept COURIER_REALTIME
    {
        static_cast<void>(index);
        apply(event);
    }

    /// A small number the engine publishes with its meters (the synth: voices sounding).
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] virtual std::uint32_t activity() const noexcept COURIER_REALTIME { return 0; }

protected:
    audio_graph() = default;
    audio_graph(const audio_graph&) = default;
    audio_graph& operator=(const audio_graph&) = default;
};

}  // namespace courier::audio
