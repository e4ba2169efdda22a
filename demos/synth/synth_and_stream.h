// SPDX-License-Identifier: MIT
// synth_and_stream, the graph courier-synth runs with --stream: the synth with a file streamed from disk mixed
// in (demos/synth/README.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/audio/disk_streamer.h>
#include <courier/contracts.h>
#include "demos/synth/synth_graph.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace courier::synth {

/// The synth with a streamed file mixed in. Two processors with a port each: "synth" (notes and parameters) and
/// "stream" (set_gain: the file's level).
class synth_and_stream final : public audio::audio_graph
{
public:
    /// Allocates the synth's voices; `s` must outlive this graph.
    /// Thread: setup (control). Real-time: no (allocates).
    synth_and_stream(const synth_settings& settings, audio::disk_streamer& s) : synth(settings), stream(&s) {}

    /// Prepares the synth for the rate (the streamer is told the rate by its owner).
    /// Thread: setup. Real-time: no (may throw).
    void prepare(double rate, std::size_t frames) override { synth.prepare(rate, frames); }

    /// Applies an event from the mailbox or the timed lane to the synth.
    /// Thread: audio. Real-time: wait-free.
    void apply(const audio::engine_event& e) noexcept COURIER_REALTIME override { synth.apply(e); }

    /// The names "synth" and "stream", in the order of apply_to's index.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::span<const std::string_view> processors() const noexcept COURIER_REALTIME override
    {
        static constexpr std::string_view names[] = {"synth", "stream"};
        return names;
    }

    /// Applies an event sent by name: to the synth (index 0), or a set_gain to the stream (index 1).
    /// Thread: audio. Real-time: wait-free.
    void apply_to(std::size_t index, const audio::engine_event& e) noexcept COURIER_REALTIME override
    {
        if (index == 0)
            synth.apply(e);
        else if (e.type == set_gain)
            stream->set_gain(e.value);
    }

    /// Renders the synth, then adds the streamed file (silence on an underrun).
    /// Thread: audio. Real-time: wait-free.
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        synth.render(out, channels, offset, frames);
        static_cast<void>(stream->mix(out, channels, offset, frames));  // adds; silence on an underrun
    }

    /// The synth's voices sounding now.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::uint32_t activity() const noexcept COURIER_REALTIME override { return synth.activity(); }

private:
    synth_graph synth;
    audio::disk_streamer* stream;  // outlives the engine and its graphs
};

}  // namespace courier::synth
