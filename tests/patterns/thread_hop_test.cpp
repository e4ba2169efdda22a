// SPDX-License-Identifier: MIT
// The audio thread is a role, not an OS thread: a simulated host runs the audio side on a different worker thread
// each block, one block at a time, while a control thread works the other ends all along. With checks on, no
// role guard may report anything, and ThreadSanitizer must find no race (docs/contracts.md, "Role guards").
#include <courier/byte_ring.h>
#include <courier/lane.h>
#include <courier/mailbox.h>
#include <courier/object_pool.h>
#include <courier/patterns/buffer_pool.h>
#include <courier/patterns/deferred_delete.h>
#include <courier/experimental/shared_message.h>
#include <courier/patterns/state_observer.h>
#include <courier/patterns/swap_and_retire.h>

#include "tests/support/hopping_host.h"
#include "tests/support/overlapping_threads.h"
#include "tests/support/stress_scale.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

struct table
{
    std::uint64_t generation = 0;
};

struct meters
{
    std::uint64_t block = 0;
};

// Every end the audio side of a plugin typically holds, with the control side's ends beside them.
struct plugin_state
{
    courier::mailbox<std::uint64_t> commands{1, 64};
    courier::lane_sender<std::uint64_t> commands_out = commands.add_producer();
    courier::mailbox_receiver<std::uint64_t> commands_in = commands.receiver();

    courier::state_observer<meters> meter_cell{meters{}};
    courier::state_publisher<meters> meters_out = meter_cell.publisher();
    courier::state_reader<meters> meters_in = meter_cell.reader();

    courier::buffer_pool<std::vector<float>> scope{4, std::vector<float>(32, 0.0F)};
    courier::buffer_lease<std::vector<float>> scope_fill;  // held across blocks, as the engine does

    courier::object_pool<std::uint64_t> notes{8};
    courier::lane<courier::pool_ptr<std::uint64_t>> note_lane{8};
    courier::lane_sender<courier::pool_ptr<std::uint64_t>> notes_out = note_lane.sender();
    courier::lane_receiver<courier::pool_ptr<std::uint64_t>> notes_in = note_lane.receiver();

    courier::shared_message_pool<table> samples{4};
    courier::lane<courier::shared_message<table>> sample_lane{4};
    courier::lane_sender<courier::shared_message<table>> samples_out = sample_lane.sender();
    courier::lane_receiver<courier::shared_message<table>> samples_in = sample_lane.receiver();
    courier::shared_message<table> playing;  // the audio side's reference, dropped on some worker

    courier::swap_and_retire<table> tables{std::make_unique<table>(), 4};

    courier::byte_ring log{1024};
    courier::byte_ring_writer log_out = log.writer();
    courier::byte_ring_reader log_in = log.reader();
};

// One audio block: the same calls, whichever worker thread runs it.
void audio_block(plugin_state& s, std::uint64_t block, std::uint64_t& commands_seen)
{
    (void)s.notes.collect();  // first, so this block's drops find the source on this thread
    commands_seen += s.commands_in.drain([](std::uint64_t) {}, 64);
    s.meters_out.publish(meters{block});
    (void)s.tables.acquire();

    if (!s.scope_fill)
        s.scope_fill = s.scope.try_acquire();
    if (s.scope_fill && block % 2 == 1)
        s.scope.send(std::move(s.scope_fill));  // filled over two blocks, on two threads

    if (auto note = s.notes.try_make(block))
        (void)s.notes_out.try_send(std::move(note));  // if refused, it dies at once, on the source
    auto scratch = s.notes.try_make(block);           // dropped at the end of the block, on the source

    while (auto sample = s.samples_in.try_receive())
    {
        const courier::shared_message<table> copy = *sample;  // the holder role copies and drops
        s.playing = std::move(*sample);
    }
    (void)s.log_out.try_write_value(1, block);
}

// The control side, on its own thread for the whole run.
void control_loop(plugin_state& s, const std::atomic<bool>& done, std::uint64_t& published)
{
    std::uint64_t sent = 0;
    for (;;)
    {
        const bool last = done.load(std::memory_order_acquire);  // pairs with the host's release store
        if (s.commands_out.try_send(sent))
            ++sent;
        (void)s.meters_in.poll();
        while (auto lease = s.scope.try_receive())
            lease.reset();  // received: back through the return lane
        s.notes_in.drain([](courier::pool_ptr<std::uint64_t>&&) {}, 8);  // each handle travels home
        (void)s.samples.collect();
        if (auto sample = s.samples.try_make(table{sent}))
            (void)s.samples_out.try_send(std::move(sample));
        (void)s.tables.collect();
        if (s.tables.try_publish(std::make_unique<table>(table{sent})))
            ++published;
        while (const auto message = s.log_in.peek())
            s.log_in.release();
        if (last)
            return;
        std::this_thread::yield();
    }
}

}  // namespace

TEST_CASE("thread_hop: the audio side runs on a different worker thread each block without a role violation" *
          doctest::test_suite("stress"))
{
    const courier::test::violation_recorder violations;
    const std::size_t blocks = courier::test::stress_count(3000);
    plugin_state state;
    courier::test::hopping_host host(3);
    std::atomic<bool> done{false};
    std::uint64_t published = 0;
    std::uint64_t commands_seen = 0;
    std::thread control([&] { control_loop(state, done, published); });
    host.run(blocks, [&](std::size_t block) { audio_block(state, block, commands_seen); });
    done.store(true, std::memory_order_release);
    control.join();

    CHECK(host.threads_seen() == 3);
    CHECK(violations.count() == 0);
    (void)state.meters_in.poll();
    CHECK(state.meters_in.value().block == blocks - 1);  // the control loop's last pass came after the last block
    CHECK(commands_seen > 0);
    CHECK(published > 0);

    // Teardown on this thread, which never ran a block: every role changes hands once more, without a report.
    state.scope_fill.reset();  // acquired by a worker, never sent: straight back to the producer's free list
    state.playing.reset();     // the holder's last reference: back through the return lane
    (void)state.samples.collect();
    (void)state.notes.collect();
    CHECK(state.notes.in_use() == 0);
    CHECK(state.scope.stats().out == 0);
    CHECK(violations.count() == 0);
}

TEST_CASE("thread_hop: two workers inside the same end at once are still reported" * doctest::test_suite("stress"))
{
    // A host that broke its promise (two blocks at once) or a plugin that ran its audio side on a second thread.
    const courier::test::violation_recorder violations;
    plugin_state state;
    std::uint64_t seen_a = 0;
    std::uint64_t seen_b = 0;
    courier::test::run_overlapping([&] { seen_a += state.commands_in.drain([](std::uint64_t) {}, 64); },
                                   [&] { seen_b += state.commands_in.drain([](std::uint64_t) {}, 64); });
    CHECK(violations.count() == 1);
    CHECK(violations.last().find("receiver") != std::string::npos);

    courier::test::run_overlapping([&] { state.meters_out.publish(meters{1}); },
                                   [&] { state.meters_out.publish(meters{2}); });
    CHECK(violations.count() == 2);
    CHECK(violations.last().find("courier::state_observer<") != std::string::npos);

    courier::buffer_lease<std::vector<float>> first;
    courier::buffer_lease<std::vector<float>> second;
    courier::test::run_overlapping([&] { first = state.scope.try_acquire(); },
                                   [&] { second = state.scope.try_acquire(); });
    CHECK(violations.count() == 3);
    CHECK(violations.last().find("courier::buffer_pool<") != std::string::npos);
    CHECK(violations.last().find("producer") != std::string::npos);
    first.reset();  // one after the other now: back to the producer's free list
    second.reset();
    CHECK(state.scope.stats().out == 0);
    CHECK(violations.count() == 3);
}
