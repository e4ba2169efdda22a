// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of the protocols (<courier/protocol/...>), with the audio
// thread as either party, from a simulated callback marked COURIER_REALTIME: under RealtimeSanitizer any
// allocation, free or lock inside it aborts; elsewhere the allocation counter checks the same.
#include <courier/protocol/request_reply.h>
#include <courier/experimental/send.h>
#include <courier/protocol/stream.h>
#include <courier/protocol/subscription.h>

#include "tests/support/audio_thread.h"

#include <doctest/doctest.h>

#include <cstdint>

namespace cp = courier::protocol;

namespace {

// Every protocol twice: in `first` the audio thread is party A (sender, writer, client, subscriber, requester),
// in `second` party B (receiver, reader, server, publisher, worker). The control thread plays the other party.
struct links
{
    explicit links(courier::port_table& t)
        : send(t, 4), stream(t, 4), request(t, 4), progress(t, 2, 4), subscription(t, 4), future(t, 4)
    {
    }
    cp::send_link<float> send;
    cp::stream<float> stream;
    cp::request_reply<int, float> request;
    cp::request_reply<int, float> progress;  // with progress replies
    cp::subscription<float> subscription;
    cp::request_reply<int, float> future;
};

struct audio_state
{
    links* first = nullptr;
    links* second = nullptr;
    std::uint64_t work = 0;  // what the callback saw, so nothing is optimised away
};

void audio_as_party_a(links& l, audio_state& s) noexcept COURIER_REALTIME
{
    auto& tx = l.send.sender();
    s.work += courier::to_string(tx.try_send(0.5f))[0] == 's' ? 1u : 0u;
    s.work += tx.collect() + tx.in_flight() + tx.credits() + tx.stats().sent;

    auto& w = l.stream.writer();
    if (!w.ended())
    {
        (void)w.try_write(0.25f);
        if (w.items() >= 3)
            (void)w.try_end();
    }
    s.work += w.collect() + w.in_flight() + w.stats().sent;

    auto& client = l.request.client();
    (void)client.try_request(3);
    client.drain([&](std::uint64_t id, cp::reply_status, float*) { s.work += id; }, 8);
    s.work += client.outstanding() + client.collect() + client.stats().sent;

    auto& mc = l.progress.client();
    (void)mc.try_request(1);
    mc.drain([&](std::uint64_t id, cp::reply_status, float*) { s.work += id; }, 8);
    s.work += mc.outstanding() + mc.collect() + mc.stats().sent;

    auto& sub = l.subscription.subscribing();
    if (sub.state() == cp::subscriber_state::idle)
        (void)sub.try_subscribe();
    else if (sub.state() == cp::subscriber_state::subscribed)
        (void)sub.try_unsubscribe();
    sub.drain([&](std::uint64_t id, cp::subscription_event, float*) { s.work += id; }, 8);
    s.work += sub.id();

    auto& req = l.future.client();
    const auto t = req.try_request(7);
    if (t.id % 2 == 0)
        (void)req.try_cancel(t.id);
    req.drain([&](std::uint64_t id, cp::reply_status, float*) { s.work += id; }, 8);
    s.work += req.outstanding() + req.collect() + req.in_flight() + req.stats().sent;
}

void audio_as_party_b(links& l, audio_state& s) noexcept COURIER_REALTIME
{
    l.send.receiver().drain([&](std::uint64_t id, float&) { s.work += id; }, 8);

    auto& r = l.stream.reader();
    r.drain([&](std::uint64_t i, float&) { s.work += i; }, [&](std::uint64_t n) { s.work += n; }, 8);
    s.work += r.finished() ? 1u : 0u;

    auto& server = l.request.server();
    server.poll([](std::uint64_t, int& q) { return static_cast<float>(q); }, 8);
    s.work += server.collect() + server.stats().sent;

    auto& ms = l.progress.server();
    std::uint64_t started = 0;
    ms.drain([&](std::uint64_t id, const int&) { started = id; }, 8);
    if (started != 0 && ms.pending(started) != nullptr)
    {
        (void)ms.try_progress(started, 0.5f);
        (void)ms.try_finish(started, 1.0f);
    }
    s.work += ms.pending_count() + ms.collect() + ms.stats().sent;

    auto& pub = l.subscription.publishing();
    pub.poll(8);
    if (pub.subscribed())
        (void)pub.try_notify(-6.0f);
    s.work += pub.collect() + pub.in_flight() + pub.stats().sent;

    auto& worker = l.future.server();
    std::uint64_t asked = 0;
    worker.drain([&](std::uint64_t id, const int&) { asked = id; }, 8);
    if (asked != 0 && worker.pending(asked) != nullptr && asked % 3 != 0)
        (void)worker.try_finish(asked, 2.0f);
    s.work += worker.pending_count() + worker.late_cancels() + worker.collect() + worker.stats().sent;
}

void process_block(audio_state& s) noexcept COURIER_REALTIME
{
    audio_as_party_a(*s.first, s);
    audio_as_party_b(*s.second, s);
}

// The control thread's half of one block: the other party of every link.
void control_side(links& audio_is_a, links& audio_is_b)
{
    audio_is_a.send.receiver().drain([](std::uint64_t, float&) {}, 8);
    audio_is_a.stream.reader().drain([](std::uint64_t, float&) {}, [](std::uint64_t) {}, 8);
    audio_is_a.request.server().poll([](std::uint64_t, int& q) { return static_cast<float>(q); }, 8);
    std::uint64_t id = 0;
    audio_is_a.progress.server().drain([&](std::uint64_t i, const int&) { id = i; }, 8);
    if (id != 0)
    {
        (void)audio_is_a.progress.server().try_progress(id, 0.5f);  // the audio client sees progress too
        (void)audio_is_a.progress.server().try_finish(id, 1.0f);
    }
    audio_is_a.subscription.publishing().poll(8);
    if (audio_is_a.subscription.publishing().subscribed())
        (void)audio_is_a.subscription.publishing().try_notify(1.0f);
    id = 0;
    audio_is_a.future.server().drain([&](std::uint64_t i, const int&) { id = i; }, 8);
    if (id != 0)
        (void)audio_is_a.future.server().try_finish(id, 1.0f);

    (void)audio_is_b.send.sender().try_send(1.0f);
    (void)audio_is_b.stream.writer().try_write(1.0f);
    (void)audio_is_b.request.client().try_request(1);
    audio_is_b.request.client().drain([](std::uint64_t, cp::reply_status, float*) {}, 8);
    (void)audio_is_b.progress.client().try_request(1);
    audio_is_b.progress.client().drain([](std::uint64_t, cp::reply_status, float*) {}, 8);
    auto& sub = audio_is_b.subscription.subscribing();
    if (sub.state() == cp::subscriber_state::idle)
        (void)sub.try_subscribe();
    else if (sub.state() == cp::subscriber_state::subscribed && sub.id() % 2 == 0)
        (void)sub.try_unsubscribe();
    sub.drain([](std::uint64_t, cp::subscription_event, float*) {}, 8);
    const auto t = audio_is_b.future.client().try_request(1);
    if (t.id % 3 == 0)
        (void)audio_is_b.future.client().try_cancel(t.id);
    audio_is_b.future.client().drain([](std::uint64_t, cp::reply_status, float*) {}, 8);
}

}  // namespace

TEST_CASE("protocol realtime: one simulated callback plays either party of every protocol without allocating")
{
    courier::port_table table(32, 1);
    links audio_is_a(table);
    links audio_is_b(table);
    audio_state state{&audio_is_a, &audio_is_b, 0};
    {
        courier::test::audio_thread audio([&] { process_block(state); });
        for (int block = 0; block < 40; ++block)
        {
            CHECK(audio.run_block() == 0);
            control_side(audio_is_a, audio_is_b);
        }
    }  // the audio thread has stopped; the links close below, on this thread
    CHECK(state.work > 0);
    CHECK(audio_is_a.send.sender().stats().sent > 0);
    CHECK(audio_is_b.future.server().stats().sent > 0);
    CHECK(audio_is_a.subscription.subscribing().id() > 1);  // it went round subscribe, unsubscribe, ack
}
