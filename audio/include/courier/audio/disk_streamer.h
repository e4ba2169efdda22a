// SPDX-License-Identifier: MIT
// Disk streaming: a worker thread reads a sound file ahead of the audio callback, which mixes it in without ever
// waiting; buffers circulate in a closed loop and an underrun is counted and heard as silence (audio/README.md).
#pragma once

#include <courier/contracts.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace courier::audio {

namespace detail {
struct disk_streamer_state;  // the patterns and libsndfile, in disk_streamer.cpp only
}  // namespace detail

/// How a disk_streamer reads and buffers.
struct disk_streamer_config
{
    std::size_t block_frames = 4096;  ///< frames per buffer the worker reads at once
    std::size_t buffers = 4;          ///< buffers in the closed loop (read-ahead = buffers × block_frames)
    bool loop = false;                ///< start again at the file's beginning after its end
    float gain = 1.0F;                ///< applied when mixing
    /// Test hook: the worker sleeps this long before each block it reads, to simulate a slow disk.
    std::chrono::microseconds worker_delay{0};
    /// Test hook (the soak test's disk fault): before every `stall_every`-th block it reads, the worker sleeps
    /// `stall` as well, a disk that stops now and then for longer than the read-ahead. 0: never.
    std::size_t stall_every = 0;
    std::chrono::microseconds stall{0};
};

/// A snapshot of a disk_streamer's counters; each field is exact for some moment during the call.
struct disk_streamer_stats
{
    std::uint64_t requests = 0;         ///< blocks the audio side asked the worker for
    std::uint64_t requests_refused = 0; ///< requests that found the request lane full (never, by its sizing)
    std::uint64_t blocks_read = 0;      ///< blocks the worker read and sent
    std::uint64_t blocks_received = 0;  ///< blocks the audio side took (blocks_read - blocks_received are ready)
    std::uint64_t frames_mixed = 0;     ///< file frames the audio side mixed in
    std::uint64_t underruns = 0;        ///< mix() calls that found no buffer ready and played silence
    std::uint64_t underrun_frames = 0;  ///< frames of silence those calls played
    bool finished = false;              ///< the audio side has played the whole file (never, when looping)
};

/// Streams one sound file (anything libsndfile reads) to the audio callback. The audio side's mix() takes the
/// next frames from buffers the worker filled ahead of time and adds them to its output; each buffer it
/// finishes goes back to the worker through the closed loop (buffer_pool) with a request for the next block
/// (a lane, plus a wait-free signal to the worker_loop's wakeup). The worker reads the file and answers
/// through the loop's send lane (the completion lane). When no buffer is ready, mix() adds nothing: the
/// stream is silent for that stretch, the underrun is counted, and the audio side never waits. Frames are
/// not dropped: after an underrun the stream continues where it was.
///
/// The file's channels map to the output's: channel c of the output gets file channel c % file channels.
class disk_streamer
{
public:
    /// Opens `path` and prepares the loop; no thread runs yet. Throws driver_error naming the path and
    /// giving libsndfile's text when the file cannot be opened, std::invalid_argument for a zero size.
    /// Thread: setup. Real-time: no (opens a file, allocates).
    disk_streamer(const std::filesystem::path& path, const disk_streamer_config& config = {});

    /// Stops the worker (see stop()) and closes the file.
    /// Thread: setup. Real-time: no (joins the worker).
    ~disk_streamer();

    disk_streamer(const disk_streamer&) = delete;
    disk_streamer& operator=(const disk_streamer&) = delete;

    /// Plays the file at `rate` frames a second (the stream's rate): when it differs from the file's own rate,
    /// the worker resamples (linear interpolation) so the file keeps its pitch and length; mix() then counts
    /// frames at `rate`. 0 or the file's rate: no resampling (the default). Throws std::logic_error after
    /// start() and std::invalid_argument for a negative rate.
    /// Thread: setup (before start()). Real-time: no (allocates).
    void set_output_rate(double rate);

    /// Starts the worker, which fills every buffer ahead of the first mix().
    /// Thread: control. Real-time: no (creates a thread).
    void start();

    /// Waits until the worker has filled every buffer, or `timeout` passes; returns true when it has.
    /// Thread: control. Real-time: no (sleeps).
    bool wait_until_primed(std::chrono::milliseconds timeout);

    /// Stops the worker and joins it. The audio side must not call mix() any more.
    /// Thread: control. Real-time: no (joins a thread).
    void stop();

    /// Adds the next `frames` frames of the file, times the gain, to frames [offset, offset + frames) of
    /// `channels` outputs; adds nothing for the frames no buffer holds yet (an underrun, counted) or after
    /// the end. Returns the file frames mixed.
    /// Thread: audio. Real-time: wait-free.
    std::size_t mix(float* const* out, std::size_t channels, std::size_t offset,
                    std::size_t frames) noexcept COURIER_REALTIME;

    /// Sets the gain mix() applies from its next call (clamped to [0, 4]; starts at disk_streamer_config::gain).
    /// Thread: audio. Real-time: wait-free.
    void set_gain(float linear) noexcept COURIER_REALTIME;

    /// The gain mix() applies now.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] float gain() const noexcept COURIER_REALTIME;

    /// How many frames mix() can add now without an underrun, as far as the audio side can tell (the rest of
    /// the buffer it plays, plus the full blocks waiting); SIZE_MAX once the file has ended. An offline
    /// render, which may wait for the disk, polls it before each block; a device callback must not wait.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::size_t frames_ready() const noexcept COURIER_REALTIME;

    /// The file's sample rate, channels and length in frames.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] double sample_rate() const noexcept COURIER_REALTIME;
    [[nodiscard]] std::size_t channels() const noexcept COURIER_REALTIME;
    [[nodiscard]] std::uint64_t length_frames() const noexcept COURIER_REALTIME;

    /// The counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] disk_streamer_stats stats() const noexcept COURIER_REALTIME;

private:
    std::unique_ptr<detail::disk_streamer_state> state;  // ✗ dies in ~disk_streamer, on the control thread
};

}  // namespace courier::audio
