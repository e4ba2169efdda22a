// SPDX-License-Identifier: MIT
// Runs every real-time entry point of core/ from a simulated audio callback marked COURIER_REALTIME. In the
// RealtimeSanitizer build the callback is a nonblocking scope, so any allocation, free, lock or blocking
// syscall on these paths aborts the test binary; in other builds the allocation counter checks the same.
#include <courier/byte_ring.h>
#include <courier/command_lane.h>
#include <courier/lane.h>
#include <courier/mailbox.h>
#include <courier/object_pool.h>
#include <courier/wakeup.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <memory>

namespace {

struct audio_side
{
    courier::lane_receiver<int> from_control;
    courier::lane_sender<int> to_control;
    courier::mailbox_receiver<int> inbox;
    courier::command_receiver<void(int&), 32> commands;
    courier::byte_ring_reader events;
    courier::byte_ring_writer reports;
    courier::object_pool<std::array<float, 64>>* scope_pool = nullptr;
    courier::lane_sender<courier::pool_ptr<std::array<float, 64>>> scope_out;
    courier::lane_receiver<std::unique_ptr<int>> owned_in;
    courier::lane_sender<std::unique_ptr<int>> owned_back;
    courier::wakeup* worker = nullptr;
    int state = 0;
    int handled = 0;
};

// One "audio callback": touches every real-time entry point once or more.
void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    while (auto v = a.from_control.try_receive())
    {
        a.state += *v;
        ++a.handled;
        (void)a.to_control.try_send(*v);  // echo back; a refusal is counted by the lane
    }
    a.handled += static_cast<int>(a.inbox.drain([&](int v) { a.state += v; }, 16));
    a.handled += static_cast<int>(a.commands.poll(a.state, 16));
    while (auto m = a.events.peek())
    {
        a.state += static_cast<int>(m->tag);
        a.events.release();
        ++a.handled;
    }
    (void)a.reports.try_write_value(1, a.state);
    if (auto buffer = a.scope_pool->try_make())
    {
        (*buffer)[0] = static_cast<float>(a.state);
        (void)a.scope_out.try_send(std::move(buffer));  // if refused, the handle returns to the pool here
    }
    a.scope_pool->collect();
    a.handled += static_cast<int>(
        a.owned_in.drain([&](std::unique_ptr<int>&& p) { (void)a.owned_back.try_send(std::move(p)); }, 8));
    a.worker->signal();
    (void)a.from_control.stats();
}

}  // namespace

TEST_CASE("realtime paths: one simulated callback touches every real-time entry point without allocating")
{
    courier::lane<int> control_to_audio(16), audio_to_control(16);
    courier::mailbox<int> box(2, 16);
    courier::command_lane<void(int&), 32> command_lane(16);
    courier::byte_ring events(256), reports(256);
    courier::object_pool<std::array<float, 64>> scope_pool(4);
    courier::lane<courier::pool_ptr<std::array<float, 64>>> scope_lane(4);
    courier::lane<std::unique_ptr<int>> owned(4), owned_return(4);
    courier::wakeup worker;

    audio_side a;
    a.from_control = control_to_audio.receiver();
    a.to_control = audio_to_control.sender();
    a.inbox = box.receiver();
    a.commands = command_lane.receiver();
    a.events = events.reader();
    a.reports = reports.writer();
    a.scope_pool = &scope_pool;
    a.scope_out = scope_lane.sender();
    a.owned_in = owned.receiver();
    a.owned_back = owned_return.sender();
    a.worker = &worker;

    auto to_audio = control_to_audio.sender();
    auto from_audio = audio_to_control.receiver();
    auto producer = box.add_producer();
    auto command_tx = command_lane.sender();
    auto event_tx = events.writer();
    auto report_rx = reports.reader();
    auto scope_rx = scope_lane.receiver();
    auto owned_tx = owned.sender();
    auto owned_rx = owned_return.receiver();

    int expected_state = 0;
    for (int block = 0; block < 50; ++block)
    {
        // Control side: may allocate; the audio side must not.
        REQUIRE(to_audio.try_send(block));
        REQUIRE(producer.try_send(2));
        REQUIRE(command_tx.try_send([](int& s) { s += 3; }));
        REQUIRE(event_tx.try_write_value(4, block) == courier::send_status::sent);
        REQUIRE(owned_tx.try_send(std::make_unique<int>(block)));
        expected_state += block + 2 + 3 + 4;

        const courier::test::allocation_counter allocations;
        process_block(a);
        CHECK(allocations.count() == 0);

        CHECK(from_audio.try_receive() == block);
        auto report = report_rx.peek();
        REQUIRE(report.has_value());
        CHECK(courier::byte_ring_reader::value_of<int>(*report) == expected_state);
        report_rx.release();
        auto scope = scope_rx.try_receive();
        REQUIRE(scope.has_value());
        CHECK((**scope)[0] == static_cast<float>(expected_state));
        scope.reset();  // dropped on the control thread: travels back to the audio-side pool
        auto returned = owned_rx.try_receive();
        REQUIRE(returned.has_value());
        CHECK(**returned == block);  // freed here, on the control thread, where it was made
    }
    CHECK(a.handled == 50 * 5);
    CHECK(worker.wait_for(std::chrono::seconds(0)));
}
