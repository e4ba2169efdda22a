// SPDX-License-Identifier: MIT
// Lists PortAudio's host APIs and devices and runs an audio_callback on a real device's thread
// (audio/README.md).
#pragma once

#include <courier/audio/audio_callback.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace courier::audio {

/// One of PortAudio's host APIs ("ALSA", "JACK Audio Connection Kit", "OSS", ...).
struct host_api_info
{
    std::string name;
    std::size_t device_count = 0;
    bool is_default = false;  ///< what host_api "default" (or "") opens
};

/// One device, as PortAudio describes it.
struct device_info
{
    std::string name;
    std::string host_api;
    std::size_t max_input_channels = 0;
    std::size_t max_output_channels = 0;
    double default_sample_rate = 0.0;
    bool is_default_input = false;   ///< the host API's default input device
    bool is_default_output = false;  ///< the host API's default output device
};

/// Which device to open and how.
struct device_request
{
    /// A host API: "" or "default" for PortAudio's default, else matched case-insensitively as a substring
    /// of the host API's name, so "jack" opens "JACK Audio Connection Kit".
    std::string host_api = "default";
    /// A device of that host API: "" for the host API's default device, else an exact (case-insensitive)
    /// name, or a substring that matches exactly one device.
    std::string device;
    stream_config config;
};

/// What an open stream really runs at.
struct stream_info
{
    stream_config config;              ///< the sample rate PortAudio reports; channels and block size as asked
    double input_latency = 0.0;        ///< seconds, as PortAudio reports them
    double output_latency = 0.0;       ///< seconds
    std::string host_api;              ///< full names of what was opened
    std::string device;
};

namespace detail {

// What the PortAudio callback reaches through its user pointer: the callback to forward to, and the count of
// blocks PortAudio flagged as an xrun. Written at setup, read and counted on the device's thread.
struct portaudio_link
{
    audio_callback* callback = nullptr;
    std::atomic<std::uint64_t> xruns{0};
    std::atomic<std::uint64_t> blocks{0};  // released after each block; acquired by stop() on a lost stream
};

}  // namespace detail

/// Runs one audio_callback on a PortAudio stream: 32-bit float, non-interleaved, a fixed block size. The
/// PortAudio callback is a thin trampoline marked COURIER_REALTIME that forwards each block to
/// audio_callback::process and counts the blocks PortAudio flags as an xrun; nothing else (no allocation,
/// lock, copy or syscall of its own).
/// Every other call is setup: it may throw driver_error, and calls on one driver must not overlap.
///
/// Each driver holds one PortAudio initialisation (PortAudio counts them), so the host APIs and devices
/// it lists are those present when it was constructed: JACK, for one, is listed only while a JACK server
/// runs. Debian's PortAudio 19.6 has ALSA, OSS and JACK but no PulseAudio host API: on a PulseAudio or
/// PipeWire desktop, open host API "ALSA" with device "pulse" (or "pipewire"), or use JACK.
class portaudio_driver
{
public:
    /// Initialises PortAudio. Throws driver_error with PortAudio's text when that fails. Must not overlap
    /// the construction or destruction of another portaudio_driver (PortAudio's own rule).
    /// Thread: control. Real-time: no (initialises PortAudio, allocates).
    portaudio_driver();

    /// Stops and closes the stream if one is open, then releases PortAudio (not after a lost stream was
    /// abandoned: see stream_lost()).
    /// Thread: control. Real-time: no (blocks until the device's thread is done).
    ~portaudio_driver();

    portaudio_driver(const portaudio_driver&) = delete;
    portaudio_driver& operator=(const portaudio_driver&) = delete;

    /// PortAudio's version text, e.g. "PortAudio V19.6.0-devel, revision ...".
    /// Thread: control. Real-time: no (allocates).
    [[nodiscard]] static std::string version();

    /// The host APIs PortAudio found, in its order.
    /// Thread: control. Real-time: no (allocates).
    [[nodiscard]] std::vector<host_api_info> host_apis() const;

    /// Every device of every host API, in PortAudio's order.
    /// Thread: control. Real-time: no (allocates).
    [[nodiscard]] std::vector<device_info> devices() const;

    /// A human-readable listing of version(), host_apis() and devices(), one line each.
    /// Thread: control. Real-time: no (allocates).
    [[nodiscard]] std::string describe() const;

    /// Opens a stream on the requested device and calls `callback.prepare()` with the configuration it
    /// really runs at; the stream does not run until start(). Throws driver_error, naming what was asked
    /// for, when a stream is already open, the host API or device does not exist (the message lists the
    /// ones that do) or is ambiguous, it has too few channels, it refuses the sample rate, or PortAudio
    /// fails (its error text). `callback` must outlive the stream (until close() or the destructor).
    /// Thread: control. Real-time: no (opens the device, allocates).
    void open(const device_request& request, audio_callback& callback);

    /// Starts the open stream: process() runs on the device's thread from now until stop().
    /// Throws driver_error when no stream is open or PortAudio fails.
    /// Thread: control. Real-time: no (starts the device).
    void start();

    /// Stops the stream and returns once process() will not run again (PortAudio waits for the device's
    /// thread). Does nothing when the stream is not running. Throws driver_error when PortAudio fails.
    /// A lost stream (stream_lost()) is not stopped but abandoned: the host calls process() no more, and
    /// PortAudio could not stop it anyway; stop() then returns at once, and close() and the destructor leave
    /// PortAudio's stream and library state as they are (see stream_lost()).
    /// Thread: control. Real-time: no (blocks).
    void stop();

    /// Stops the stream if it runs and closes it; afterwards the callback may be destroyed. Does nothing
    /// when no stream is open. A lost stream is abandoned instead (see stop()), and the callback may be
    /// destroyed as well.
    /// Thread: control. Real-time: no (blocks, closes the device).
    void close() noexcept;

    /// True when the host stopped calling the running stream on its own and never will again: the JACK
    /// server died (PortAudio's JACK host marks the stream inactive from JACK's shutdown callback, after its
    /// last process cycle). Such a stream cannot be stopped or closed through PortAudio 19.6: its JACK host
    /// waits up to 10 minutes for a process cycle that never comes in Pa_StopStream, Pa_AbortStream,
    /// Pa_CloseStream and Pa_Terminate alike. So stop(), close() and the destructor abandon it instead: they
    /// return at once, the callback may then be destroyed, and PortAudio's own memory for the stream stays
    /// reachable from its library state until the process exits (not a leak LeakSanitizer reports). Only
    /// JACK streams are ever lost; other host APIs stop as usual.
    /// Thread: control. Real-time: no (asks PortAudio).
    [[nodiscard]] bool stream_lost() const noexcept;

    /// True once a lost stream was abandoned by stop() or close(): PortAudio was not released.
    /// Thread: control. Real-time: no (control-side state).
    [[nodiscard]] bool abandoned_stream() const noexcept { return abandoned; }

    /// True between a successful open() and close().
    /// Thread: control. Real-time: no (control-side state).
    [[nodiscard]] bool is_open() const noexcept { return stream != nullptr; }

    /// True between start() and stop() (or close()).
    /// Thread: control. Real-time: no (control-side state).
    [[nodiscard]] bool is_running() const noexcept { return running; }

    /// The open stream's real sample rate and latencies. Throws driver_error when no stream is open.
    /// Thread: control. Real-time: no (allocates).
    [[nodiscard]] stream_info info() const;

    /// How many blocks since open() PortAudio flagged as an xrun (input overflow or output underflow: the
    /// device's thread, or the JACK server, fell behind and audio was lost). The engine's statistics can
    /// read it; the driver keeps no others.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t xruns() const noexcept COURIER_REALTIME
    {
        return link.xruns.load(std::memory_order_relaxed);  // a counter: nothing is published through it
    }

private:
    // Written and read by the control thread only; the device's thread sees nothing but `link`, whose
    // address PortAudio was given at open().
    detail::portaudio_link link;
    void* stream = nullptr;  // PaStream*, kept opaque so that portaudio.h stays out of this header
    bool running = false;
    bool on_jack = false;    // the open stream is on PortAudio's JACK host API
    bool abandoned = false;  // a lost stream was left to PortAudio (stream_lost()); no Pa_Terminate then
    stream_info opened;
};

}  // namespace courier::audio
