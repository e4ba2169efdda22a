// SPDX-License-Identifier: MIT
// The OSC endpoint's load test (docs/osc.md, "Testing"): a loopback client sends N messages per second for S
// seconds to an endpoint whose engine runs on the offline driver paced in real time. At the end the counts must
// add up exactly: sent = read by the endpoint + dropped by the kernel (SO_RXQ_OVFL), read = applied + refused +
// rejected, applied = applied by the engine's graph, refused = /fail replies received.
//   courier_osc_load [--rate N] [--seconds S] [--receive-buffer BYTES]
#include <courier/audio/engine.h>
#include <courier/audio/offline_driver.h>
#include <courier/osc/osc_endpoint.h>
#include <courier/patterns/port_table.h>
#include "demos/synth/synth_osc_map.h"
#include "tests/osc/load_rig.h"
#include "tests/osc/osc_test_support.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

using namespace courier;
using namespace courier::osc::testing;

int main(int argc, char** argv)
{
    double rate = 100000.0;
    double seconds = 10.0;
    std::size_t receive_buffer = 16U << 20U;
    for_each_option(argc, argv, [&](const std::string& name, const std::string& value) {
        if (name == "--rate")
            rate = std::atof(value.c_str());
        else if (name == "--seconds")
            seconds = std::atof(value.c_str());
        else if (name == "--receive-buffer")  // small: the kernel drops datagrams, which must still add up
            receive_buffer = static_cast<std::size_t>(std::atol(value.c_str()));
    });

    auto owned = std::make_unique<recording_graph>();
    recording_graph& graph = *owned;
    load_rig rig(std::move(owned));
    audio::engine& engine = rig.engine;
    audio::offline_driver& driver = rig.driver;

    port_table table(4, 4);  // the endpoint: its port and its /load link (three slots)
    osc::endpoint_config e;
    e.addresses = synth::osc_address_map();
    e.udp_port = 0;
    e.receive_buffer_bytes = receive_buffer;
    osc::endpoint endpoint(engine, engine.add_producer(), table, e);
    driver.start(engine, audio::pacing::real_time);
    endpoint.start();

    udp_client client(endpoint.udp_port());
    std::atomic<bool> sending_done{false};
    std::atomic<std::uint64_t> fail_replies{0};
    std::atomic<std::uint64_t> status_replies{0};
    std::atomic<std::uint64_t> other_replies{0};
    std::thread replies([&] {
        // Reads /fail replies until the sender is done and nothing has come for a second.
        for (;;)
        {
            const auto reply = client.receive(1000);
            if (!reply)
            {
                if (sending_done.load(std::memory_order_acquire))  // pairs with the sender's release store
                    return;
                continue;
            }
            const auto words = strings_of(*reply);
            if (!words.empty() && words[0] == "/fail" && words.size() >= 3 && words[2] == "lane_full")
                fail_replies.fetch_add(1, std::memory_order_relaxed);
            else if (!words.empty() && words[0] == "/status")
                status_replies.fetch_add(1, std::memory_order_release);  // pairs with the main thread's acquire
            else
                other_replies.fetch_add(1, std::memory_order_relaxed);
        }
    });

    const bytes message = msg("/synth/note_off", "i", {i32(60)});
    const auto total = static_cast<std::uint64_t>(rate * seconds);
    const std::uint64_t per_ms = static_cast<std::uint64_t>(rate / 1000.0);
    std::uint64_t sent = 0;
    std::uint64_t send_errors = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t ms = 0; sent + send_errors < total; ++ms)
    {
        std::this_thread::sleep_until(start + std::chrono::milliseconds(ms));
        for (std::uint64_t k = 0; k < per_ms && sent + send_errors < total; ++k)
            (client.send(message) ? sent : send_errors) += 1;
    }
    const double send_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // The kernel reports its drop count (SO_RXQ_OVFL) with the next datagram it delivers, so datagrams dropped
    // after the last one delivered are invisible until another arrives: send /status requests (counted as verbs)
    // until one is answered; the datagram that carried it also carried the final drop count.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::uint64_t sentinels = 0;
    while (status_replies.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < deadline)
    {
        if (client.send(msg("/status", "")))
            ++sentinels;
        for (int i = 0; i < 40 && status_replies.load(std::memory_order_acquire) == 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // Then wait until the endpoint has accounted for every datagram, and the engine has drained its lane.
    auto accounted = [&] {
        const osc::endpoint_stats s = endpoint.stats();
        return s.datagrams + s.kernel_dropped >= sent + sentinels;
    };
    while (!accounted() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    while (engine.mailbox_stats(0).depth() != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    sending_done.store(true, std::memory_order_release);  // pairs with the reply reader's acquire load
    replies.join();
    endpoint.stop();
    driver.stop();

    const osc::endpoint_stats s = endpoint.stats();
    const lane_stats lane = engine.mailbox_stats(0);
    const std::uint64_t graph_applied = graph.count.load(std::memory_order_relaxed);
    std::printf("osc_load: %.0f messages/s for %.1f s: client sent %llu (send errors %llu) in %.2f s\n", rate, seconds,
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(send_errors), send_seconds);
    std::printf("osc_load: + %llu /status requests at the end; endpoint read %llu, kernel dropped %llu; applied %llu + "
                "refused %llu + rejected %llu + verbs %llu\n",
                static_cast<unsigned long long>(sentinels), static_cast<unsigned long long>(s.datagrams),
                static_cast<unsigned long long>(s.kernel_dropped), static_cast<unsigned long long>(s.applied),
                static_cast<unsigned long long>(s.refused), static_cast<unsigned long long>(s.rejected),
                static_cast<unsigned long long>(s.verbs));
    std::printf("osc_load: engine lane sent %llu, received %llu, refused %llu; graph applied %llu; "
                "/fail lane_full replies received %llu + dropped by the client's kernel %u (other replies %llu); engine callbacks %llu, budget reached %llu\n",
                static_cast<unsigned long long>(lane.sent), static_cast<unsigned long long>(lane.received),
                static_cast<unsigned long long>(lane.refused), static_cast<unsigned long long>(graph_applied),
                static_cast<unsigned long long>(fail_replies.load()), client.kernel_dropped,
                static_cast<unsigned long long>(other_replies.load()),
                static_cast<unsigned long long>(engine.stats().callbacks),
                static_cast<unsigned long long>(engine.stats().budget_exhausted));
    const bool ok = send_errors == 0 && sent == total && s.datagrams + s.kernel_dropped == sent + sentinels &&
                    s.datagrams == s.applied + s.refused + s.rejected + s.verbs && s.rejected == 0 &&
                    s.applied == lane.sent && lane.sent == lane.received && lane.received == graph_applied &&
                    s.refused == lane.refused &&
                    fail_replies.load() + status_replies.load() + client.kernel_dropped == s.refused + s.verbs &&
                    other_replies.load() == 0;
    std::printf("osc_load: %s\n", ok ? "PASS (sent = read + dropped, read = applied + refused + verbs, applied = applied by "
                                       "the graph, refused + verbs = replies received + client drops)"
                                     : "FAIL (the counts do not add up)");
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
