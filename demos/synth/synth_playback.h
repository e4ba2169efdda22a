// SPDX-License-Identifier: MIT
// courier-synth's two ways to run a score without the OSC endpoint: live on a device, or rendered offline to a
// WAV file (demos/synth/README.md, "How it runs").
#pragma once

#include <courier/audio/disk_streamer.h>
#include <courier/audio/engine.h>
#include <courier/audio/portaudio_driver.h>
#include "demos/synth/patcher.h"
#include "demos/synth/synth_monitor.h"
#include "demos/synth/synth_options.h"

#include <cstddef>
#include <string>

namespace courier::synth {

/// What both ways share: the engine with the whole score queued in its timed lane, and the main thread's parts.
struct playback
{
    audio::engine& engine;
    audio::stream_config actual;  ///< the stream as opened (a device may impose its own rate)
    std::size_t events;           ///< score events queued
    double seconds;               ///< the score's length plus --tail
    std::size_t total_frames;     ///< `seconds` at the actual rate
    patcher& patches;
    synth_monitor& monitor;
    audio::disk_streamer* stream;  ///< null without --stream
};

/// Plays on `device` (opened on p.engine) until p.total_frames have gone by, waking every 10 ms to read the
/// meters and scope, publish the patches due and print the peak level each second; then stops the device and
/// prints the xruns PortAudio reported.
/// Thread: setup (main). Real-time: no (sleeps, prints).
void play_on_device(const playback& p, audio::portaudio_driver& device);

/// Renders p.total_frames offline to the options' WAV file as fast as possible, saying first why there is no
/// device (`why_offline`). Between blocks the main thread reads the meters and scope, publishes the patch due in
/// the next block, and waits for the disk worker's frames, so the file is the same every run. Returns
/// EXIT_SUCCESS, or EXIT_FAILURE after printing why the file could not be written.
/// Thread: setup (main). Real-time: no (writes the file, prints).
[[nodiscard]] int render_offline(const playback& p, const synth_options& o, const std::string& why_offline);

}  // namespace courier::synth
