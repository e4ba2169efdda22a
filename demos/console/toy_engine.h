// SPDX-License-Identifier: MIT
// The console demo's audio side: a sine voice whose gain and pitch are set through courier, reporting back.
#pragma once

#include <courier/command_lane.h>
#include <courier/lane.h>
#include <courier/mailbox.h>
#include <courier/object_pool.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

namespace demo {

inline constexpr double sample_rate = 48000.0;
inline constexpr std::size_t block_frames = 256;

/// What the audio side owns and the commands change.
struct voice_state
{
    float gain = 0.0f;
    double frequency = 440.0;
    double phase = 0.0;
};

/// A report from the audio side: which block applied what, or the level it measured.
struct audio_event
{
    enum class kind : std::uint8_t { command_applied, nudge_applied, meter };
    kind what;
    std::uint64_t block;
    float value;
};

/// A note from a second producer (a stand-in for a network thread), fanned in through the mailbox.
struct nudge
{
    float semitones;
};

using scope_buffer = std::array<float, block_frames>;
using voice_commands = courier::command_lane<void(voice_state&), 32>;

/// The audio side's ends of every lane, and the one function the device calls per block.
class toy_engine
{
public:
    /// Takes the audio side's ends. `scope_pool` must outlive `scope`, whose handles return to it.
    /// Thread: setup. Real-time: no (may throw).
    toy_engine(voice_commands& commands, courier::mailbox<nudge>& nudges, courier::lane<audio_event>& events,
               courier::object_pool<scope_buffer>& scope_pool, courier::lane<courier::pool_ptr<scope_buffer>>& scope)
        : from_control(commands.receiver()), inbox(nudges.receiver()), to_control(events.sender()),
          scope_out(scope.sender()), scope_buffers(scope_pool)
    {
    }

    /// Renders one block: applies pending commands first (so they take effect in this block), then synthesises.
    /// Thread: audio. Real-time: wait-free.
    void process_block(std::uint64_t block) noexcept COURIER_REALTIME
    {
        const std::size_t applied = from_control.poll(voice, 16);
        for (std::size_t i = 0; i < applied; ++i)
            report({audio_event::kind::command_applied, block, voice.gain});
        inbox.drain(
            [&](nudge&& n) {
                voice.frequency *= std::pow(2.0, static_cast<double>(n.semitones) / 12.0);
                report({audio_event::kind::nudge_applied, block, static_cast<float>(voice.frequency)});
            },
            16);

        auto buffer = scope_buffers.try_make();  // from the audio side's own pool: no allocation
        float peak = 0.0f;
        for (std::size_t i = 0; i < block_frames; ++i)
        {
            const float sample = voice.gain * static_cast<float>(std::sin(voice.phase));
            voice.phase += 2.0 * std::numbers::pi * voice.frequency / sample_rate;
            if (voice.phase > 2.0 * std::numbers::pi)
                voice.phase -= 2.0 * std::numbers::pi;
            peak = std::max(peak, std::fabs(sample));
            if (buffer)
                (*buffer)[i] = sample;
        }
        if (block % 16 == 0)
            report({audio_event::kind::meter, block, peak});
        if (!buffer || !scope_out.try_send(std::move(buffer)))
            ++scope_frames_dropped;  // no free buffer, or the control side is behind: never waited for
    }

    /// How many scope frames were not sent because the control side had not handed enough buffers back.
    /// Thread: control, once the audio thread has stopped. Real-time: wait-free.
    [[nodiscard]] std::uint64_t scope_frames_skipped() const noexcept COURIER_REALTIME { return scope_frames_dropped; }

private:
    void report(const audio_event& e) noexcept COURIER_REALTIME
    {
        (void)to_control.try_send(audio_event(e));  // a refusal is counted in the lane's stats
    }

    courier::command_receiver<void(voice_state&), 32> from_control;
    courier::mailbox_receiver<nudge> inbox;
    courier::lane_sender<audio_event> to_control;
    courier::lane_sender<courier::pool_ptr<scope_buffer>> scope_out;
    courier::object_pool<scope_buffer>& scope_buffers;  // the audio thread is its source
    voice_state voice;
    std::uint64_t scope_frames_dropped = 0;  // written by the audio thread, read after it stops
};

}  // namespace demo
