// SPDX-License-Identifier: MIT
// courier's console demo: a control thread drives a simulated 48 kHz audio callback through lanes and prints
// what crossed in each direction (README.md, "Set up").
#include "demos/console/control_side.h"
#include "demos/console/simulated_device.h"
#include "demos/console/toy_engine.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

int main(int argc, char** argv)
{
    const double seconds = demo::parse_seconds(argc, argv);  // exits with usage on --help or bad input

    // Setup, on this thread: every queue and pool is allocated here, once.
    demo::voice_commands commands(32);
    courier::mailbox<demo::nudge> nudges(2, 16);
    courier::lane<demo::audio_event> events(256);
    courier::object_pool<demo::scope_buffer> scope_pool(8);  // outlives the lane its handles travel in
    courier::lane<courier::pool_ptr<demo::scope_buffer>> scope(8);
    demo::toy_engine engine(commands, nudges, events, scope_pool, scope);
    demo::control_side control(commands.sender(), events.receiver(), scope.receiver());

    std::printf("courier console demo: a simulated %.0f Hz audio callback, %zu frames a block, for %.1f s\n",
                demo::sample_rate, demo::block_frames, seconds);
    const auto period = std::chrono::nanoseconds(static_cast<long long>(1e9 * demo::block_frames / demo::sample_rate));
    demo::simulated_device device(period, [&engine](std::uint64_t block) { engine.process_block(block); });
    std::thread network([sender = nudges.add_producer(), seconds]() mutable { demo::send_nudges(sender, seconds); });

    control.run_for(seconds);  // the "GUI timer": sends commands, prints what came back
    network.join();
    device.stop();  // from here on nothing runs on the audio side
    control.finish(device.blocks_rendered(), engine.scope_frames_skipped());
    control.print_lane_table({{"control -> audio commands", commands.stats()},
                              {"network -> audio nudges", nudges.stats(0)},
                              {"audio -> control events", events.stats()},
                              {"audio -> control scope", scope.stats()}});
    return EXIT_SUCCESS;
}
