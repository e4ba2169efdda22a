// SPDX-License-Identifier: MIT
// What the OSC load programs share (osc_load, osc_tcp_load): the audio side they drive (an engine on the
// offline driver) and their "--name value" command lines.
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/audio/engine.h>
#include <courier/audio/offline_driver.h>

#include <memory>
#include <string>
#include <utility>

namespace courier::osc::testing {

/// The audio side of a load test: an engine with one producer lane (4096 messages, 1024 applied per block at
/// most) on `graph`, and an offline driver at 48 kHz in 256-frame blocks, not started yet.
/// Thread: setup (built, started and stopped by the test's main thread).
class load_rig
{
public:
    explicit load_rig(std::unique_ptr<audio::audio_graph> graph)
        : engine(std::move(graph), engine_shape()), driver(stream_shape())
    {
    }

    audio::engine engine;          // ✗ dies after the driver (declared first), on the main thread
    audio::offline_driver driver;  // ✗ stopped and joined in its destructor at the latest, on the main thread

private:
    static audio::engine_config engine_shape()
    {
        audio::engine_config config;
        config.max_producers = 1;
        config.mailbox_capacity = 4096;
        config.message_budget = 1024;
        return config;
    }
    static audio::stream_config stream_shape()
    {
        audio::stream_config shape;
        shape.sample_rate = 48000.0;
        shape.block_size = 256;
        return shape;
    }
};

/// Calls `take(name, value)` for each "--name value" pair of the command line, in order (a last lone word is
/// ignored).
/// Thread: main. Real-time: no.
template <class Take>
void for_each_option(int argc, char** argv, Take take)
{
    for (int i = 1; i + 1 < argc; i += 2)
        take(std::string(argv[i]), std::string(argv[i + 1]));
}

}  // namespace courier::osc::testing
