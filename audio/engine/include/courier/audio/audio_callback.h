// SPDX-License-Identifier: MIT
// The interface a driver calls once per audio block, and the stream shape it runs at (audio/README.md).
#pragma once

#include <courier/contracts.h>

#include <cstddef>

namespace courier::audio {

/// The shape of an audio stream: what a caller asks a driver for, and what the driver reports back to the
/// callback's prepare() once the stream is open (a JACK server, for one, imposes its own sample rate).
struct stream_config
{
    double sample_rate = 48000.0;      ///< frames per second
    std::size_t block_size = 256;      ///< the most frames one process() call is given
    std::size_t input_channels = 0;    ///< 0: process() gets `in == nullptr`
    std::size_t output_channels = 2;   ///< 0: process() gets `out == nullptr`

    friend bool operator==(const stream_config&, const stream_config&) = default;
};

/// What a driver runs: the engine implements this. A driver calls prepare() on the control thread before
/// the stream starts, then process() once per block on its audio thread until the stream stops. The object
/// must outlive the stream it is attached to; the driver never owns or destroys it.
class audio_callback
{
public:
    virtual ~audio_callback() = default;

    /// Tells the callback the configuration the stream really runs at, before the first process() call and
    /// never while the stream runs: the place to size buffers and read the sample rate.
    /// Thread: setup. Real-time: no (may allocate).
    virtual void prepare(const stream_config& actual) { static_cast<void>(actual); }

    /// Reads `frames` frames of input and writes `frames` frames of output. `in[c]` and `out[c]` are one
    /// non-interleaved channel each (`config.input_channels` and `config.output_channels` of them, nullptr
    /// when there are none); `frames` is at most `config.block_size` and may be less (the offline driver's
    /// last block). Every output sample must be written: a device driver does not clear the buffers first.
    /// Overrides must be real-time safe and should be marked COURIER_REALTIME too; the drivers call this
    /// from a COURIER_REALTIME function, so the RealtimeSanitizer build checks every implementation.
    /// Thread: audio. Real-time: wait-free (every implementation must be).
    virtual void process(const float* const* in, float* const* out, std::size_t frames) noexcept COURIER_REALTIME = 0;

protected:
    audio_callback() = default;
    audio_callback(const audio_callback&) = default;
    audio_callback& operator=(const audio_callback&) = default;
};

}  // namespace courier::audio
