// SPDX-License-Identifier: MIT
// chatter, the control thread of --control-rate: a steady stream of no-op messages to the engine, as a load test
// (demos/synth/README.md, "How it runs").
#pragma once

#include <courier/audio/engine.h>
#include <courier/patterns/port_registry.h>

#include <atomic>
#include <cstdint>

namespace courier::synth {

/// The control thread of --control-rate: N no-op messages a second, alternately through the engine's mailbox
/// (its own lane) and by name to the "/synth" processor port (its registry reader's lane).
struct chatter
{
    std::atomic<bool> stop{false};   // written by the main thread
    std::atomic<bool> done{false};   // set by run() as it returns (release: its counters and sends are final)
    // Written by the control thread in run(); read by the main thread after joining it.
    std::uint64_t sent = 0;          // through the mailbox
    std::uint64_t sent_by_name = 0;  // to "/synth" through the registry
    std::uint64_t refused = 0;       // either way: a full lane, or (by name) an unknown name or a closed port

    /// Sends `per_second` messages a second through `to_audio` and `names` until `stop` is set.
    /// Thread: control (the --control-rate thread). Real-time: no (sleeps).
    void run(audio::engine_sender to_audio, registry_reader<audio::engine_event> names, double per_second);
};

}  // namespace courier::synth
