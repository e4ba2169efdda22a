// SPDX-License-Identifier: MIT
// patcher: builds each `patch` line's graph on the control side and publishes it when due
// (demos/synth/README.md, "Graph swaps").
#include "demos/synth/patcher.h"

#include "demos/synth/synth_and_stream.h"

#include <algorithm>

namespace courier::synth {

patcher::patcher(const score& s, const synth_settings& base, double sample_rate, audio::disk_streamer* stream_)
    : stream(stream_)
{
    for (const score_patch& p : s.patches)
        due.push_back({score::frame_of(p.seconds, sample_rate), p.line, settings_at(s, base, p)});
    std::sort(due.begin(), due.end(), [](const pending& a, const pending& b) {
        return a.frame != b.frame ? a.frame < b.frame : a.line < b.line;  // same frame: in the order written
    });
}

void patcher::publish_due(audio::engine& engine, std::uint64_t frame)
{
    while (next < due.size() && due[next].frame < frame)
    {
        std::unique_ptr<audio::audio_graph> fresh = build(due[next].settings);
        if (!engine.try_publish_graph(fresh))
            return;  // graphs in flight: the caller collects them, and the next call tries again
        ++next;
    }
}

synth_settings patcher::settings_at(const score& s, synth_settings settings, const score_patch& p)
{
    settings.max_voices = p.voices;
    for (const score_event& e : s.events)
    {
        if (e.seconds > p.seconds || (e.seconds == p.seconds && e.line > p.line))
            continue;
        if (e.event.type == set_gain)
            settings.gain = e.event.value;
        else if (e.event.type == set_cutoff)
            settings.cutoff = e.event.value;
        else if (e.event.type == set_waveform)
            settings.shape = static_cast<waveform>(e.event.key);
    }
    return settings;
}

std::unique_ptr<audio::audio_graph> patcher::build(const synth_settings& settings) const
{
    if (stream != nullptr)
        return std::make_unique<synth_and_stream>(settings, *stream);
    return std::make_unique<synth_graph>(settings);
}

}  // namespace courier::synth
