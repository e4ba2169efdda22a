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

/// The engine_event type that carries a MIDI channel message, the one type courier itself gives a meaning:
/// `key` holds the status byte and the two data bytes (make_midi_event, midi_bytes). Graphs choose their own
/// types below it; a graph that plays MIDI handles this one in apply().
inline constexpr std::uint16_t midi_event_type = 0xFFFF;

/// An engine_event carrying the MIDI message `status`, `data1`, `data2` (channel = status & 0x0F).
/// Thread: any. Real-time: wait-free.
[[nodiscard]] constexpr engine_event make_midi_event(std::uint8_t status, std::uint8_t data1,
                                                     std::uint8_t data2) noexcept COURIER_REALTIME
{
    engine_event e;
    e.type = midi_event_type;
    e.channel = static_cast<std::uint16_t>(status & 0x0FU);
    e.key = static_cast<std::uint32_t>(status) | (static_cast<std::uint32_t>(data1) << 8U) |
            (static_cast<std::uint32_t>(data2) << 16U);
    return e;
}

/// The MIDI bytes of an event made by make_midi_event: status, data1, data2.
/// Thread: any. Real-time: wait-free.
struct midi_bytes
{
    std::uint8_t status = 0;
    std::uint8_t data1 = 0;
    std::uint8_t data2 = 0;

    constexpr explicit midi_bytes(const engine_event& e) noexcept
        : status(static_cast<std::uint8_t>(e.key & 0xFFU)), data1(static_cast<std::uint8_t>((e.key >> 8U) & 0x7FU)),
          data2(static_cast<std::uint8_t>((e.key >> 16U) & 0x7FU))
    {
    }
};

/// One event of a host's block, for engine::process_block: an engine_event (a MIDI message, a parameter
/// change, any type the graph knows) and the frame of the block it takes effect at.
struct block_event
{
    std::uint32_t frame = 0;  ///< 0 = the block's first frame
    engine_event event;
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

    /// Like render(), for a graph that processes input: reads frames [offset, offset + frames) of each of
    /// `in_channels` input channels (`in` is null when there are none) and writes the same frames of `out`.
    /// `in[c]` may be `out[c]` (a host processing in place): read frame i of the input before writing frame i
    /// of the output. Default: ignores the input and calls render() (a synth).
    /// Thread: audio. Real-time: wait-free (every implementation must be).
    virtual void render_with_input(const float* const* in, std::size_t in_channels, float* const* out,
                                   std::size_t channels, std::size_t offset, std::size_t frames) noexcept COURIER_REALTIME
    {
        static_cast<void>(in);
        static_cast<void>(in_channels);
        render(out, channels, offset, frames);
    }

    /// Called by the engine on the audio thread when it swaps this graph in for `previous`, before `previous`
    /// travels back to the control side to die: the place to carry over what must go on sounding (held notes,
    /// filter state, a declick offset, the parameters the host set). Every graph one engine runs is of the
    /// type its owner publishes, so an override may static_cast `previous` to it. Default: nothing.
    /// Thread: audio. Real-time: wait-free (every implementation must be).
    virtual void adopt(audio_graph& previous) noexcept COURIER_REALTIME { static_cast<void>(previous); }

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
