// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/port_table.h>, channel.h, port.h, port_registry.h and
// requester.h from a simulated callback marked COURIER_REALTIME: the RealtimeSanitizer build aborts on any
// allocation, free or lock inside it, and the allocation counter checks the same in the other builds.
#include <courier/patterns/channel.h>
#include <courier/patterns/port.h>
#include <courier/patterns/port_registry.h>
#include <courier/patterns/port_table.h>
#include <courier/patterns/requester.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>

namespace {

using meter_ask = courier::requester<int, float>;  // the GUI asks a processor for a level

// Longer than any small-string buffer, so a lookup that built a std::string would allocate (and be caught).
constexpr const char* meters = "/gui/meters/master/level-left-and-right";

struct audio_side
{
    courier::port_table* table = nullptr;
    courier::port<meter_ask::request_type>* processor = nullptr;  // a stand-in processor's own port
    courier::registry_reader<int>* names = nullptr;                // the audio thread's view of the names
    courier::channel<int> to_osc;                                  // kept from a lookup
    courier::channel<int> to_closed;                               // a port that has closed since
    meter_ask* asks_worker = nullptr;                              // the audio side asks a worker too
    courier::channel<meter_ask::request_type> to_worker;
    courier::channel<meter_ask::reply_type> worker_replies_here;
    float level = 0.5f;
    std::uint64_t counted = 0;
};

// One audio callback: names first, then the processor's port, then reports and requests out.
void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    (void)a.names->refresh();
    a.processor->drain(
        [&](meter_ask::request_type&& request) {
            a.level += static_cast<float>(request.body);
            a.counted += courier::try_reply(request, float{a.level}) == courier::send_status::sent ? 1u : 0u;
        },
        16);
    a.counted += a.names->try_send(meters, 1) == courier::send_status::sent ? 1u : 0u;
    a.counted += a.names->try_send("/nowhere", 2) == courier::send_status::gone ? 1u : 0u;
    if (const auto osc = a.names->find("/osc/out"))
        a.to_osc = *osc;
    a.counted += a.to_osc.try_send(3) == courier::send_status::sent ? 1u : 0u;
    a.counted += a.to_closed.try_send(4) == courier::send_status::gone ? 1u : 0u;
    a.counted += a.to_osc.is_open() && !a.to_closed.address().is_open() ? 1u : 0u;

    const auto ticket = a.asks_worker->try_request(a.to_worker, a.worker_replies_here, 5);
    a.counted += ticket.result == courier::send_status::sent ? 1u : 0u;
    a.asks_worker->drain([&](std::uint64_t, float v) { a.level = v; }, 4);
    a.counted += a.asks_worker->outstanding() + a.names->unknown_names() + a.names->size();
    a.counted += a.table->gone() + a.processor->stats(0).sent;
}

}  // namespace

TEST_CASE("realtime paths: ports, channels, the registry and request/reply in a callback without allocating")
{
    courier::port_table table(16, 2);
    courier::port<meter_ask::request_type> processor(table, 2, 16);
    courier::port<int> gui(table, 2, 64), osc(table, 2, 64);
    auto closed = std::make_unique<courier::port<int>>(table, 1, 4);

    courier::port_registry<int> names;
    auto on_audio = names.add_reader();
    names.add(meters, gui);
    names.add("/osc/out", osc);
    REQUIRE(names.publish());

    meter_ask gui_asks(table, 1, 16);  // the GUI's requests to the processor, answered by the audio thread
    const auto gui_to_processor = processor.connect();
    const auto reply_from_audio = gui_asks.reply_channel();

    meter_ask audio_asks(table, 1, 16);  // the audio thread's requests to a worker
    courier::port<meter_ask::request_type> worker(table, 1, 16);

    audio_side a;
    a.table = &table;
    a.processor = &processor;
    a.names = &on_audio;
    a.to_closed = closed->connect();
    closed.reset();
    a.asks_worker = &audio_asks;
    a.to_worker = worker.connect();
    a.worker_replies_here = audio_asks.reply_channel();

    for (int block = 0; block < 20; ++block)
    {
        const auto ticket = gui_asks.try_request(gui_to_processor, reply_from_audio, int{block});
        REQUIRE(ticket.result == courier::send_status::sent);
        {
            const courier::test::allocation_counter allocations;
            process_block(a);
            CHECK(allocations.count() == 0);
        }
        // The worker (here, this thread) answers the audio thread's request; the GUI drains its replies.
        worker.drain([](meter_ask::request_type&& r) { (void)courier::try_reply(r, 0.25f); }, 16);
        CHECK(gui_asks.drain([](std::uint64_t, float) {}, 16) == 1);
        (void)gui.drain([](int) {}, 64);
        (void)osc.drain([](int) {}, 64);
    }
    CHECK(a.level == 0.25f);
    CHECK(gui_asks.outstanding() == 0);
    CHECK(a.counted > 0);
}
