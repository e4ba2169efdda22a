// SPDX-License-Identifier: MIT
// The OSC endpoint's TCP load test (docs/osc.md, "Testing"): 4 clients (two size-prefixed, two SLIP) each send
// their share of N messages over TCP as fast as the connection takes them, to an engine on the offline driver
// paced in real time. Over TCP nothing may be lost: the endpoint stops reading a connection while the engine's
// lane is full (backpressure), so every message must be applied, and in the order its connection sent it.
//   courier_osc_tcp_load [--messages N] [--clients C]
#include <courier/audio/engine.h>
#include <courier/audio/offline_driver.h>
#include <courier/osc/address_map.h>
#include <courier/osc/osc_endpoint.h>
#include <courier/patterns/port_table.h>
#include "tests/osc/load_rig.h"
#include "tests/osc/osc_test_support.h"
#include "tests/osc/tcp_test_client.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace courier;
using namespace courier::osc::testing;

namespace {

constexpr std::size_t max_clients = 8;
constexpr std::uint16_t sequence_event = 1;

// Checks, on the audio thread, that each client's sequence numbers arrive in order with none missing.
class sequence_graph final : public audio::audio_graph
{
public:
    void prepare(double, std::size_t) override {}
    void apply(const audio::engine_event& e) noexcept COURIER_REALTIME override
    {
        if (e.type != sequence_event || e.channel >= max_clients)
        {
            ++strays;
            return;
        }
        if (e.tag != next[e.channel])
            ++out_of_order;
        next[e.channel] = e.tag + 1;
        applied.store(applied.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer
    }
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        for (std::size_t c = 0; c < channels; ++c)
            for (std::size_t i = 0; i < frames; ++i)
                out[c][offset + i] = 0.0F;
    }
    std::array<std::uint32_t, max_clients> next{};  // read after the stream stops
    std::uint64_t out_of_order = 0;
    std::uint64_t strays = 0;
    std::atomic<std::uint64_t> applied{0};
};

}  // namespace

int main(int argc, char** argv)
{
    std::uint64_t total = 100000;
    std::size_t clients = 4;
    for_each_option(argc, argv, [&](const std::string& name, const std::string& value) {
        if (name == "--messages")
            total = static_cast<std::uint64_t>(std::atoll(value.c_str()));
        else if (name == "--clients")
            clients = std::min<std::size_t>(static_cast<std::size_t>(std::atoi(value.c_str())), max_clients);
    });
    const std::uint64_t per_client = total / clients;
    total = per_client * clients;

    auto owned = std::make_unique<sequence_graph>();
    sequence_graph& graph = *owned;
    load_rig rig(std::move(owned));
    audio::engine& engine = rig.engine;
    audio::offline_driver& driver = rig.driver;

    port_table table(4, 4);
    osc::endpoint_config e;
    // /load/seq i client, i sequence number: the client goes to the event's channel, the number to its tag.
    e.addresses.add("/load/seq", sequence_event,
                    {{osc::int_arg(osc::arg_target::channel, 0.0, 7.0),
                      osc::int_arg(osc::arg_target::tag, 0, 2147483647.0)}});
    e.tcp = {osc::tcp_listener{0, osc::framing::size_prefix}, osc::tcp_listener{0, osc::framing::slip}};
    osc::endpoint endpoint(engine, engine.add_producer(), table, e);
    driver.start(engine, audio::pacing::real_time);
    endpoint.start();

    std::atomic<std::uint64_t> send_failures{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> senders;
    for (std::size_t c = 0; c < clients; ++c)
        senders.emplace_back([&, c] {
            const osc::framing kind = c % 2 == 0 ? osc::framing::size_prefix : osc::framing::slip;
            tcp_client client(endpoint.tcp_port(c % 2), kind);
            if (!client.connected())
            {
                send_failures.fetch_add(per_client, std::memory_order_relaxed);
                return;
            }
            for (std::uint64_t n = 0; n < per_client; ++n)
                if (!client.send(msg("/load/seq", "ii", {i32(static_cast<std::int32_t>(c)),
                                                          i32(static_cast<std::int32_t>(n))})))
                    send_failures.fetch_add(1, std::memory_order_relaxed);
            // Stay connected until every message is applied: a close now could reset what is still unread.
            while (graph.applied.load(std::memory_order_relaxed) < total &&
                   std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
        });
    for (std::thread& t : senders)
        t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    endpoint.stop();
    driver.stop();

    const osc::endpoint_stats s = endpoint.stats();
    const lane_stats lane = engine.mailbox_stats(0);
    const std::uint64_t applied = graph.applied.load(std::memory_order_relaxed);
    std::printf("osc_tcp_load: %zu clients (size_prefix and slip) sent %llu messages over TCP (send failures %llu); "
                "all applied after %.2f s (%.0f messages/s)\n",
                clients, static_cast<unsigned long long>(total),
                static_cast<unsigned long long>(send_failures.load()), seconds, static_cast<double>(applied) / seconds);
    std::printf("osc_tcp_load: endpoint frames %llu, applied %llu, refused %llu, rejected %llu, frame errors %llu, "
                "backpressure pauses %llu, connections %llu (cut %llu, refused %llu)\n",
                static_cast<unsigned long long>(s.frames), static_cast<unsigned long long>(s.applied),
                static_cast<unsigned long long>(s.refused), static_cast<unsigned long long>(s.rejected),
                static_cast<unsigned long long>(s.frame_errors), static_cast<unsigned long long>(s.backpressure),
                static_cast<unsigned long long>(s.connections), static_cast<unsigned long long>(s.connections_cut),
                static_cast<unsigned long long>(s.connections_refused));
    std::printf("osc_tcp_load: engine lane sent %llu, refused %llu (each a retry later); graph applied %llu, out of "
                "order %llu, strays %llu; engine callbacks %llu\n",
                static_cast<unsigned long long>(lane.sent), static_cast<unsigned long long>(lane.refused),
                static_cast<unsigned long long>(applied), static_cast<unsigned long long>(graph.out_of_order),
                static_cast<unsigned long long>(graph.strays),
                static_cast<unsigned long long>(engine.stats().callbacks));
    bool in_order = graph.out_of_order == 0 && graph.strays == 0;
    for (std::size_t c = 0; c < clients; ++c)
        in_order = in_order && graph.next[c] == per_client;
    const bool ok = send_failures.load() == 0 && s.frames == total && s.applied == total && s.refused == 0 &&
                    s.rejected == 0 && s.frame_errors == 0 && lane.sent == total && applied == total && in_order;
    std::printf("osc_tcp_load: %s\n", ok ? "PASS (sent = applied by the graph, nothing lost, order kept per connection)"
                                         : "FAIL (messages lost, refused or out of order)");
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
