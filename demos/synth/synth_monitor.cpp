// SPDX-License-Identifier: MIT
// synth_monitor's poll: the meters, the scope and the retired graphs, read on the main thread
// (demos/synth/README.md, "How it runs").
#include "demos/synth/synth_monitor.h"

#include <algorithm>

namespace courier::synth {

synth_monitor::synth_monitor(audio::engine& engine_, std::size_t scope_frames)
    : engine(engine_), scope_view(scope_frames)
{
}

void synth_monitor::poll()
{
    audio::engine_meters m;
    if (engine.try_read_meters(m))
    {
        ++meters_read;
        loudest = std::max({loudest, m.peak[0], m.peak[1]});
    }
    while (engine.try_read_scope(scope_view) > 0)
        ++scope_read;  // a GUI would draw it
    engine.collect_graphs();
}

}  // namespace courier::synth
