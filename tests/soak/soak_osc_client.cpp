// SPDX-License-Identifier: MIT
// The soak test's OSC clients (tests/soak/soak.sh, docs/testing.md "Soak"), each a process of its own over UDP on
// 127.0.0.1, printing its counts as `client <mode>: <name> <value>` lines for the script to add up:
//   soak_osc_client flood PORT SECONDS RATE   /synth/ messages, bundles, malformed packets and /status at RATE
//                                             datagrams a second; counts every /fail reply by reason
//   soak_osc_client subscribe PORT SECONDS    opens and closes /meters and /events subscriptions in a loop;
//                                             counts notifications after the final acknowledgement (must be 0)
//   soak_osc_client vanish-subscribe PORT     subscribes to /meters, then exits without unsubscribing
//   soak_osc_client vanish-load PORT PATH     asks /load PATH, then exits at its first progress reply
//   soak_osc_client status PORT               a /status request, answered within 1 s (up to 5 tries; exit 1 if not)
//   soak_osc_client fill-subscribers PORT     subscribes from one new socket after another until the endpoint's
//                                             subscriber cap answers /fail too_many_subscribers (twice, two
//                                             sockets), then unsubscribes every one it holds
//   soak_osc_client fill-connections PORT     opens TCP connections (size prefix) one after another, each asking
//                                             /status, until the endpoint's connection cap closes two at once
//                                             (connections_refused); then closes every one it holds
//   soak_osc_client load-busy PORT PATH       asks /load PATH twice at once until the second is answered
//                                             /fail /load busy (the disk worker takes one load at a time); waits
//                                             for every final reply
#include "tests/osc/osc_test_support.h"
#include "tests/osc/tcp_test_client.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace courier::osc::testing;
using clock_type = std::chrono::steady_clock;

namespace {

// A malformed packet and the reason the endpoint must reject it with (docs/osc.md, "Error codes").
struct malformed
{
    const char* reason;
    bytes packet;
};

std::vector<malformed> malformed_packets()
{
    bytes truncated = str("/synth/gain");
    append(truncated, str(",f"));  // announces a float, ends
    return {
        {"empty", {}},
        {"not_aligned", raw("abc")},
        {"bad_address", msg("synth", "")},
        {"unknown_address", msg("/nope", "")},
        {"pattern_unsupported", msg("/synth/*", "f", {f32(1.0F)})},
        {"wrong_arg_type", msg("/synth/gain", "i", {i32(1)})},
        {"wrong_arg_count", msg("/synth/gain", "ff", {f32(1.0F), f32(1.0F)})},
        {"out_of_range", msg("/synth/gain", "f", {f32(9.0F)})},
        {"truncated", truncated},
        {"verb_in_bundle", bundle(1, {msg("/status", "")})},
    };
}

void figure(const char* mode, const std::string& name, std::uint64_t value)
{
    std::printf("client %s: %s %llu\n", mode, name.c_str(), static_cast<unsigned long long>(value));
}

// Replies read by a thread of their own while the main thread sends.
struct reply_counter
{
    std::map<std::string, std::uint64_t> fails;  // by reason
    std::uint64_t status = 0;
    std::uint64_t other = 0;
    std::atomic<std::uint64_t> status_seen{0};
    std::atomic<bool> stop{false};

    void run(const udp_client& client)
    {
        while (!stop.load(std::memory_order_acquire))
            while (auto packet = client.receive(20))
                take(*packet);
        while (auto packet = client.receive(0))
            take(*packet);
    }

    void take(const bytes& packet)
    {
        const std::vector<std::string> s = strings_of(packet);
        if (s.size() >= 3 && s[0] == "/fail")
            ++fails[s[2]];
        else if (!s.empty() && s[0] == "/status")
        {
            ++status;
            status_seen.fetch_add(1, std::memory_order_release);  // pairs with the acquire of the waiting sender
        }
        else
            ++other;
    }
};

int flood(std::uint16_t port, double seconds, double rate)
{
    udp_client client(port);
    reply_counter replies;
    std::thread reader([&] { replies.run(client); });
    const std::vector<malformed> bad = malformed_packets();
    const bytes gain = msg("/synth/gain", "f", {f32(0.5F)});
    const bytes note_on = msg("/synth/note_on", "ii", {i32(60), i32(0)});  // velocity 0: a note off, silent
    const bytes cutoff = msg("/synth/cutoff", "f", {f32(3000.0F)});
    const bytes one_bundle = bundle(1, {msg("/synth/gain", "f", {f32(0.4F)}), msg("/synth/cutoff", "f", {f32(2000.0F)})});
    const bytes status = msg("/status", "");
    std::uint64_t sent = 0, valid = 0, bundles = 0, statuses = 0, send_failed = 0;
    std::map<std::string, std::uint64_t> bad_sent;
    const auto start = clock_type::now();
    for (std::uint64_t n = 0;;)
    {
        const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
        if (elapsed >= seconds)
            break;
        if (rate > 0.0 && static_cast<double>(n) > elapsed * rate)
        {
            std::this_thread::sleep_for(std::chrono::microseconds(200));  // pacing: ahead of the rate
            continue;
        }
        ++n;
        const std::uint64_t slot = n % 100;
        const bytes* packet = nullptr;
        const char* reason = nullptr;
        if (slot == 0)
        {
            const malformed& m = bad[(n / 100) % bad.size()];
            packet = &m.packet;
            reason = m.reason;
        }
        else if (slot == 1 || slot == 2)
            packet = &one_bundle;
        else if (slot == 3 && n % 1000 == 3)
            packet = &status;
        else
            packet = slot % 3 == 0 ? &gain : slot % 3 == 1 ? &note_on : &cutoff;
        if (!client.send(*packet))
        {
            ++send_failed;  // the client's own socket buffer is full: not sent, not counted as sent
            continue;
        }
        ++sent;
        if (reason != nullptr)
            ++bad_sent[reason];
        else if (packet == &one_bundle)
            ++bundles;
        else if (packet == &status)
            ++statuses;
        else
            ++valid;
    }
    // The final /status: the endpoint answers in order, so once it is answered every earlier reply has been sent;
    // it also carries the endpoint's final kernel drop count (docs/osc.md, "Statistics"). Resent until answered.
    const auto deadline = clock_type::now() + std::chrono::seconds(10);
    const std::uint64_t before = replies.status_seen.load(std::memory_order_acquire);
    bool answered = false;
    while (!answered && clock_type::now() < deadline)
    {
        if (client.send(status))
        {
            ++sent;
            ++statuses;
        }
        for (int i = 0; i < 50 && !answered; ++i)
        {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            answered = replies.status_seen.load(std::memory_order_acquire) > before;
        }
    }
    replies.stop.store(true, std::memory_order_release);  // pairs with the reader's acquire
    reader.join();
    figure("flood", "sent", sent);
    figure("flood", "valid", valid);
    figure("flood", "bundles", bundles);
    figure("flood", "status", statuses);
    figure("flood", "send_failed", send_failed);
    std::uint64_t malformed_total = 0;
    for (const auto& [reason, count] : bad_sent)
    {
        figure("flood", "malformed " + reason, count);
        malformed_total += count;
    }
    figure("flood", "malformed", malformed_total);
    std::uint64_t fails = 0;
    for (const auto& [reason, count] : replies.fails)
    {
        figure("flood", "fail " + reason, count);
        fails += count;
    }
    figure("flood", "fails", fails);
    figure("flood", "status_replies", replies.status);
    figure("flood", "other_replies", replies.other);
    figure("flood", "reply_drops", client.kernel_dropped);
    figure("flood", "final_status_answered", answered ? 1 : 0);
    std::printf("client flood: %.0f datagrams/s sent\n", static_cast<double>(sent) / seconds);
    return answered ? 0 : 1;
}

// Waits up to `ms` for a reply whose strings start with `want` (address, then string arguments); every
// notification on the way is counted in `notifications`.
bool await(const udp_client& client, const std::vector<std::string>& want, int ms, std::uint64_t& notifications,
           std::uint64_t& fails)
{
    const auto until = clock_type::now() + std::chrono::milliseconds(ms);
    while (clock_type::now() < until)
    {
        auto packet = client.receive(10);
        if (!packet)
            continue;
        const std::vector<std::string> s = strings_of(*packet);
        if (s.size() >= want.size() && std::equal(want.begin(), want.end(), s.begin()))
            return true;
        if (!s.empty() && (s[0] == "/meters" || s[0] == "/event"))
            ++notifications;
        else if (!s.empty() && s[0] == "/fail")
            ++fails;
    }
    return false;
}

// Sends `request` until the reply starting with `want` comes (1 s per try, 5 tries): under the flood the
// endpoint's receive buffer can be full and the kernel drops a request (the endpoint counts it as kernel_dropped).
// After a resend, a `/fail <address> <refusal>` also settles it: the first request did arrive, its reply was lost.
bool request(const udp_client& client, const bytes& packet, const std::vector<std::string>& want, const char* refusal,
             std::uint64_t& sent, std::uint64_t& resent, std::uint64_t& notifications, std::uint64_t& fails)
{
    for (int attempt = 0; attempt < 5; ++attempt)
    {
        if (attempt > 0)
            ++resent;
        sent += client.send(packet) ? 1U : 0U;
        std::uint64_t refused = 0;
        if (await(client, want, 1000, notifications, refused))
            return true;
        if (attempt > 0 && refused > 0 && refusal != nullptr)
            return true;  // e.g. /fail /unsubscribe not_subscribed: an earlier try did it
        fails += refused;
    }
    return false;
}

int subscribe_loop(std::uint16_t port, double seconds)
{
    udp_client client(port);
    std::uint64_t opened = 0, closed = 0, notifications = 0, after_ack = 0, fails = 0, lost_acks = 0, sent = 0;
    std::uint64_t resent = 0;
    const bytes meters_on = msg("/subscribe", "sf", {str("/meters"), f32(100.0F)});
    const bytes events_on = msg("/subscribe", "s", {str("/events")});
    const bytes meters_off = msg("/unsubscribe", "s", {str("/meters")});
    const bytes events_off = msg("/unsubscribe", "s", {str("/events")});
    const auto start = clock_type::now();
    while (std::chrono::duration<double>(clock_type::now() - start).count() < seconds)
    {
        const bool on =
            request(client, meters_on, {"/done", "/subscribe", "/meters"}, nullptr, sent, resent, notifications,
                    fails) &&
            request(client, events_on, {"/done", "/subscribe", "/events"}, nullptr, sent, resent, notifications, fails);
        opened += on ? 1U : 0U;
        std::uint64_t ignored = 0;
        await(client, {"/never"}, 200, notifications, ignored);  // notifications flow for 200 ms
        const bool off = request(client, meters_off, {"/done", "/unsubscribe", "/meters"}, "not_subscribed", sent,
                                 resent, notifications, fails) &&
                         request(client, events_off, {"/done", "/unsubscribe", "/events"}, "not_subscribed", sent,
                                 resent, notifications, fails);
        closed += off ? 1U : 0U;
        lost_acks += (on && off) ? 0U : 1U;
        // After both final acknowledgements, nothing of either topic may come (the protocol's promise).
        std::uint64_t late = 0;
        await(client, {"/never"}, 50, late, ignored);
        if (on && off)
            after_ack += late;
    }
    figure("subscribe", "sent", sent);
    figure("subscribe", "resent", resent);
    figure("subscribe", "opened", opened);
    figure("subscribe", "closed", closed);
    figure("subscribe", "notifications", notifications);
    figure("subscribe", "after_ack", after_ack);
    figure("subscribe", "fails", fails);
    figure("subscribe", "lost_acks", lost_acks);
    return opened > 0 && lost_acks == 0 && after_ack == 0 ? 0 : 1;
}

int vanish_subscribe(std::uint16_t port)
{
    udp_client client(port);
    std::uint64_t notifications = 0, fails = 0;
    const bool sent = client.send(msg("/subscribe", "sf", {str("/meters"), f32(100.0F)}));
    const bool on = await(client, {"/done", "/subscribe", "/meters"}, 2000, notifications, fails);
    figure("vanish-subscribe", "sent", sent ? 1 : 0);
    figure("vanish-subscribe", "subscribed", on ? 1 : 0);
    std::fflush(stdout);
    std::_Exit(on ? 0 : 1);  // vanishes: no /unsubscribe, the socket closes with the process
}

int vanish_load(std::uint16_t port, const char* path)
{
    udp_client client(port);
    std::uint64_t notifications = 0, fails = 0;
    const bool sent = client.send(msg("/load", "s", {str(path)}));
    const bool progress = await(client, {"/load/progress"}, 5000, notifications, fails);
    figure("vanish-load", "sent", sent ? 1 : 0);
    figure("vanish-load", "progress_seen", progress ? 1 : 0);
    std::fflush(stdout);
    std::_Exit(progress ? 0 : 1);  // vanishes mid-/load: its final reply goes to a closed port
}

int status_once(std::uint16_t port)
{
    udp_client client(port);
    std::uint64_t notifications = 0, fails = 0, sent = 0;
    bool answered = false;
    // Up to 5 tries, 1 s apart: under the flood the endpoint's receive buffer can be full, and the kernel drops
    // the request (counted by the endpoint as kernel_dropped); a lost datagram is UDP's, not the endpoint's.
    for (int attempt = 0; attempt < 5 && !answered; ++attempt)
    {
        sent += client.send(msg("/status", "")) ? 1U : 0U;
        answered = await(client, {"/status"}, 1000, notifications, fails);
    }
    figure("status", "sent", sent);
    figure("status", "answered", answered ? 1U : 0U);
    return answered ? 0 : 1;
}

// Waits up to `ms` for a reply starting with `address` then `what` (e.g. "/done" "/subscribe" or "/fail"
// "/subscribe"); returns its strings, or nothing. Notifications on the way are skipped.
std::optional<std::vector<std::string>> await_any(const udp_client& client, const std::string& what, int ms)
{
    const auto until = clock_type::now() + std::chrono::milliseconds(ms);
    while (clock_type::now() < until)
    {
        auto packet = client.receive(10);
        if (!packet)
            continue;
        std::vector<std::string> s = strings_of(*packet);
        if (s.size() >= 2 && (s[0] == "/done" || s[0] == "/fail") && s[1] == what)
            return s;
    }
    return std::nullopt;
}

int fill_subscribers(std::uint16_t port)
{
    std::vector<std::unique_ptr<udp_client>> held;
    std::uint64_t sent = 0, resent = 0, refused = 0, other = 0, released = 0, lost = 0;
    const bytes on = msg("/subscribe", "s", {str("/events")});
    const bytes off = msg("/unsubscribe", "s", {str("/events")});
    // One new socket after another, each a subscriber of its own, until two in a row are refused: the cap.
    for (int i = 0; i < 64 && refused < 2; ++i)
    {
        auto client = std::make_unique<udp_client>(port);
        std::optional<std::vector<std::string>> reply;
        for (int attempt = 0; attempt < 5 && !reply; ++attempt)
        {
            resent += attempt > 0 ? 1U : 0U;
            sent += client->send(on) ? 1U : 0U;
            reply = await_any(*client, "/subscribe", 1000);
        }
        if (!reply)
            ++lost;
        else if ((*reply)[0] == "/done")
            held.push_back(std::move(client));
        else if (reply->size() >= 3 && (*reply)[2] == "too_many_subscribers")
            ++refused;
        else
            ++other;
    }
    for (const auto& client : held)  // every slot given back, each with its final acknowledgement
    {
        std::optional<std::vector<std::string>> reply;
        for (int attempt = 0; attempt < 5 && !reply; ++attempt)
        {
            resent += attempt > 0 ? 1U : 0U;
            sent += client->send(off) ? 1U : 0U;
            reply = await_any(*client, "/unsubscribe", 1000);
        }
        released += reply && (*reply)[0] == "/done" ? 1U : 0U;
    }
    figure("fill-subscribers", "sent", sent);
    figure("fill-subscribers", "resent", resent);
    figure("fill-subscribers", "held", held.size());
    figure("fill-subscribers", "refused", refused);
    figure("fill-subscribers", "released", released);
    figure("fill-subscribers", "other", other);
    figure("fill-subscribers", "lost", lost);
    return refused == 2 && released == held.size() && other == 0 && lost == 0 ? 0 : 1;
}

int fill_connections(std::uint16_t port)
{
    std::vector<std::unique_ptr<tcp_client>> held;
    std::uint64_t refused = 0, lost = 0;
    const bytes status = msg("/status", "");
    for (int i = 0; i < 64 && refused < 2; ++i)
    {
        auto c = std::make_unique<tcp_client>(port, courier::osc::framing::size_prefix);
        if (!c->connected())
        {
            ++lost;
            continue;
        }
        // A connection within the cap is served (its /status answered); one over it is accepted and closed at
        // once: the refusal reaches the client as the end of the stream.
        if (c->send(status) && c->receive(2000).has_value())
            held.push_back(std::move(c));
        else if (c->wait_closed(1000))
            ++refused;
        else
            ++lost;
    }
    figure("fill-connections", "held", held.size());
    figure("fill-connections", "refused", refused);
    figure("fill-connections", "lost", lost);
    return refused == 2 && lost == 0 ? 0 : 1;
}

int load_busy(std::uint16_t port, const char* path)
{
    udp_client client(port);
    std::uint64_t sent = 0, done = 0, busy = 0, other = 0, lost = 0;
    const bytes load = msg("/load", "s", {str(path)});
    for (int attempt = 0; attempt < 5 && busy == 0; ++attempt)
    {
        // Two requests back to back: the network thread reads the second while the disk worker reads the file
        // for the first, so the second finds no credit (one load at a time) and is answered at once.
        sent += client.send(load) ? 1U : 0U;
        sent += client.send(load) ? 1U : 0U;
        for (int answers = 0; answers < 2; ++answers)  // each request gets exactly one final reply
        {
            const auto reply = await_any(client, "/load", 20000);
            if (!reply)
                ++lost;
            else if ((*reply)[0] == "/done")
                ++done;
            else if (reply->size() >= 3 && (*reply)[2] == "busy")
                ++busy;
            else
                ++other;
        }
    }
    figure("load-busy", "sent", sent);
    figure("load-busy", "done", done);
    figure("load-busy", "busy", busy);
    figure("load-busy", "other", other);
    figure("load-busy", "lost", lost);
    return busy > 0 && other == 0 && lost == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "";
    const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 0);
    if (mode == "flood" && argc == 5)
        return flood(port, std::atof(argv[3]), std::atof(argv[4]));
    if (mode == "subscribe" && argc == 4)
        return subscribe_loop(port, std::atof(argv[3]));
    if (mode == "vanish-subscribe" && argc == 3)
        return vanish_subscribe(port);
    if (mode == "vanish-load" && argc == 4)
        return vanish_load(port, argv[3]);
    if (mode == "status" && argc == 3)
        return status_once(port);
    if (mode == "fill-subscribers" && argc == 3)
        return fill_subscribers(port);
    if (mode == "fill-connections" && argc == 3)
        return fill_connections(port);
    if (mode == "load-busy" && argc == 4)
        return load_busy(port, argv[3]);
    std::fprintf(stderr, "usage: soak_osc_client flood PORT SECONDS RATE | subscribe PORT SECONDS | "
                         "vanish-subscribe PORT | vanish-load PORT PATH | status PORT | fill-subscribers PORT | "
                         "fill-connections PORT | load-busy PORT PATH\n");
    return 2;
}
