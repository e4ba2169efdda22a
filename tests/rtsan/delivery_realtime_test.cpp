// SPDX-License-Identifier: MIT
// Runs the audio side of <courier/patterns/delivery.h> from a simulated callback marked COURIER_REALTIME: audio_poll over
// several sources, and a wait-free signal to a worker_loop. The RealtimeSanitizer build aborts on any
// allocation, free, lock or syscall inside it; other builds count allocations.
#include <courier/patterns/delivery.h>

#include <courier/lane.h>
#include <courier/mailbox.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <chrono>

namespace {

// One "audio callback": polls its two sources with one budget, then asks a disk worker for more and signals it.
template <class Gui, class Midi, class Worker>
int process_block(Gui& from_gui, Midi& from_midi, courier::lane_sender<int>& to_disk, Worker& disk) noexcept
    COURIER_REALTIME
{
    const auto handled = static_cast<int>(courier::audio_poll(8, from_gui, from_midi));
    (void)from_gui.receiver().stats();
    if (to_disk.try_send(handled))  // ask the worker for the next block of a file...
        disk.signal();              // ...then signal it: a flag store, no syscall
    return handled;
}

}  // namespace

TEST_CASE("delivery: audio_poll and worker_loop::signal run in a COURIER_REALTIME callback without allocating")
{
    courier::lane<int> gui_lane(16);
    courier::mailbox<int> midi_box(2, 16);
    courier::lane<int> disk_lane(64);
    auto gui = gui_lane.sender();
    auto midi = midi_box.add_producer();
    auto to_disk = disk_lane.sender();

    int gain_steps = 0;
    int notes = 0;
    courier::drain_source gui_source(gui_lane.receiver(), [&gain_steps](int&&) { ++gain_steps; });
    courier::drain_source midi_source(midi_box.receiver(), [&notes](int&&) { ++notes; });

    int requests = 0;  // written by the worker only; read after stop()
    courier::worker_loop disk(64, std::chrono::microseconds(200),
                              courier::drain_source(disk_lane.receiver(), [&requests](int&&) { ++requests; }));
    disk.start();

    int handled = 0;
    for (int block = 0; block < 20; ++block)
    {
        REQUIRE(gui.try_send(1));  // control side: may allocate; the audio side must not
        REQUIRE(midi.try_send(60));
        REQUIRE(midi.try_send(64));

        const courier::test::allocation_counter allocations;
        handled += process_block(gui_source, midi_source, to_disk, disk);
        CHECK(allocations.count() == 0);
    }
    CHECK(disk.stop());
    CHECK(handled == 20 * 3);
    CHECK(gain_steps == 20);
    CHECK(notes == 40);
    CHECK(requests == 20);
}
