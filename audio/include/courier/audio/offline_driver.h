// SPDX-License-Identifier: MIT
// Runs an audio_callback without a device: into memory, into a WAV file, or paced on its own thread
// (audio/README.md).
#pragma once

#include <courier/audio/audio_callback.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <thread>
#include <vector>

namespace courier::audio {

/// Interleaved float samples with their shape: what render() returns and read_wav() reads.
struct interleaved_audio
{
    double sample_rate = 0.0;
    std::size_t channels = 0;
    std::vector<float> samples;  ///< frame after frame, `channels` samples each

    /// The number of whole frames held.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t frames() const noexcept COURIER_REALTIME
    {
        return channels == 0 ? 0 : samples.size() / channels;
    }
};

/// How render_to_file() stores samples in the WAV file.
enum class wav_format
{
    float32,  ///< IEEE float: exactly the samples process() wrote, bit for bit (the default)
    pcm24,    ///< 24-bit integer: libsndfile scales ±1.0 to full scale and clips (never wraps) beyond it
};

/// How a started offline driver spends time between blocks.
enum class pacing
{
    real_time,           ///< block n starts when n blocks' worth of wall-clock time has passed since start()
    as_fast_as_possible  ///< no waiting at all
};

/// The embedded default where no audio device exists. It runs the same audio_callback a device driver
/// runs, block after block, with a simulated clock (a frame counter) instead of a device:
///   - render() runs it on the calling thread as fast as possible and returns the output, and
///     render_to_file() writes the output to a WAV file through libsndfile as it goes. For the same
///     callback state and input, two runs give the same samples, and two files the same bytes (no
///     timestamped PEAK chunk is written).
///   - start()/stop() run it on a thread of its own, paced like a device or flat out, discarding the output:
///     a drop-in for a program whose device could not be opened.
/// Input is de-interleaved from the span given to render() (silence past its end, and always when
/// started); the output channels are cleared before every process() call, so a callback that leaves a
/// sample unwritten still renders deterministically. Every block has config().block_size frames except a
/// render's last, which holds what remains.
class offline_driver
{
public:
    /// Prepares buffers for `config` (allocates them now). Throws driver_error when the block size or
    /// the sample rate is not positive.
    /// Thread: control. Real-time: no (allocates).
    explicit offline_driver(const stream_config& config);

    /// Stops the thread if started.
    /// Thread: control. Real-time: no (joins a thread).
    ~offline_driver();

    offline_driver(const offline_driver&) = delete;
    offline_driver& operator=(const offline_driver&) = delete;

    /// The stream configuration, as given to the constructor and to every prepare().
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] const stream_config& config() const noexcept COURIER_REALTIME { return shape; }

    /// Calls `callback.prepare(config())`, then runs it for `frames` frames on the calling thread, which is
    /// the audio thread until this returns, and returns the output interleaved. `input` holds interleaved
    /// frames of config().input_channels. Throws driver_error while started.
    /// Thread: control (acts as the audio thread until it returns). Real-time: no (allocates the result).
    [[nodiscard]] interleaved_audio render(audio_callback& callback, std::size_t frames,
                                           std::span<const float> input = {});

    /// Like render(), but writes the output to a WAV file at `path` (created or overwritten) block by block.
    /// `between_blocks`, when given, is called on this thread after each block, outside the audio callback:
    /// the control side's turn in a simulation where one thread plays both (read meters and scope, publish
    /// a graph, wait for a disk worker), so the render stays deterministic and the callback real-time clean.
    /// Throws driver_error, naming the path and giving libsndfile's text, when the file cannot be opened
    /// or written (a partly written file stays), when the sample rate is not a whole number, or while started.
    /// Thread: control (acts as the audio thread until it returns). Real-time: no (writes a file).
    void render_to_file(audio_callback& callback, std::size_t frames, const std::filesystem::path& path,
                        wav_format format = wav_format::float32, std::span<const float> input = {},
                        const std::function<void()>& between_blocks = {});

    /// Calls `callback.prepare(config())` and then runs it on a new thread, block after block, until
    /// stop(); the output is discarded. Throws driver_error when already started.
    /// Thread: control. Real-time: no (starts a thread).
    void start(audio_callback& callback, pacing mode = pacing::real_time);

    /// Like start(), but writes the output to a WAV file at `path` as it goes (on the driver's thread, after each
    /// block, outside the callback), so a program driven live (OSC, a control thread) leaves a render of what it
    /// played, frame 0 being the first frame of this run. stop() closes the file; recorded_all() then says
    /// whether every block reached it. Throws driver_error, naming the path, when the file cannot be opened or the
    /// sample rate is not a whole number, and when already started.
    /// Thread: control. Real-time: no (opens a file, starts a thread).
    void start(audio_callback& callback, pacing mode, const std::filesystem::path& path,
               wav_format format = wav_format::float32);

    /// When the thread of the last start() began, on the system clock (nanoseconds since 1970): the moment its
    /// clock's first frame is due, block n being due n blocks later with pacing::real_time. 0 until that thread
    /// has begun (start() may return first). What a program compares with wall-clock times from elsewhere (an
    /// OSC time tag, another machine's clock) to know which of its frames they fall on.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::int64_t started_unix_nanoseconds() const noexcept COURIER_REALTIME
    {
        return started_unix_ns.load(std::memory_order_relaxed);  // a value, read on its own: nothing else with it
    }

    /// After stop() of a recording start(): true when every block was written and the file closed cleanly.
    /// Thread: control. Real-time: no (control-side state).
    [[nodiscard]] bool recorded_all() const noexcept { return record_ok; }

    /// Asks the thread to finish and joins it: no process() runs after this returns. Does nothing when
    /// not started.
    /// Thread: control. Real-time: no (joins a thread).
    void stop() noexcept;

    /// True between start() and stop().
    /// Thread: control. Real-time: no (control-side state).
    [[nodiscard]] bool is_running() const noexcept { return worker.joinable(); }

    /// The simulated clock: frames processed by this driver since it was made, over every render and run.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t frames_processed() const noexcept COURIER_REALTIME
    {
        return clock.load(std::memory_order_relaxed);  // a counter: nothing is published through it
    }

private:
    // Runs one block of `frames` frames: de-interleaves input from `input` at `offset`, clears the outputs,
    // calls process(), advances the clock. Thread: whichever thread is the audio thread now.
    void run_block(audio_callback& callback, std::size_t frames, std::span<const float> input,
                   std::size_t offset) noexcept;
    void interleave_into(float* destination, std::size_t frames) const noexcept;
    void run_thread(audio_callback& callback, pacing mode) noexcept;
    void write_recording(std::size_t frames) noexcept;  // the block just run, to `recording` (driver thread)

    stream_config shape;
    // Block buffers, one per channel, and the pointer arrays process() receives. Written by whichever
    // thread is the audio thread (render's caller, or the worker); never by two at once, since render()
    // refuses to run while started.
    std::vector<std::vector<float>> inputs;
    std::vector<std::vector<float>> outputs;
    std::vector<const float*> input_pointers;
    std::vector<float*> output_pointers;
    std::atomic<std::uint64_t> clock{0};   // written by the audio thread, read by any
    std::atomic<bool> stop_requested{false};  // written by stop(), read by the worker
    std::atomic<std::int64_t> started_unix_ns{0};  // written by the worker as it begins (0: not begun), read by any
    std::thread worker;                    // the started thread; joined by stop() on the control thread
    // A recording start(): the open file (an SNDFILE*, opaque here so that no libsndfile header is public) and its
    // interleaving buffer, written by the worker; closed by stop() after the join. ✗ closed in stop(), on control.
    void* recording = nullptr;
    std::vector<float> recording_block;
    bool record_ok = true;                 // the worker's until the join, then stop()'s
};

/// Reads a WAV (or any libsndfile-readable) file as interleaved floats. Throws driver_error, naming the
/// path and giving libsndfile's text, when it cannot.
/// Thread: control. Real-time: no (reads a file, allocates).
[[nodiscard]] interleaved_audio read_wav(const std::filesystem::path& path);

}  // namespace courier::audio
