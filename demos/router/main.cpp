// SPDX-License-Identifier: MIT
// courier-router: one OSC controller drives several courier-synth nodes. It listens like a node (UDP, TCP) and
// sends each message on to the node its address prefix names, prefix removed; bundles are split per node and keep
// their time tag, so every node plays them at the same moment of the shared clock (docs/osc.md, "Several nodes").
// A control-side program: no audio thread here.
#include "demos/router/router_options.h"

#include <courier/osc/osc_router.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

namespace {

volatile std::sig_atomic_t stop_signal = 0;

extern "C" void on_stop_signal(int) { stop_signal = 1; }

const char* transport_name(courier::osc::route_transport t)
{
    switch (t)
    {
    case courier::osc::route_transport::udp: return "udp";
    case courier::osc::route_transport::tcp: return "tcp";
    case courier::osc::route_transport::tcp_slip: return "slip";
    }
    return "?";
}

void print_stats(const courier::osc::router_config& config, const courier::osc::router_stats& s)
{
    using ull = unsigned long long;
    std::printf("courier-router: received %llu packets, routed %llu (%llu messages to nodes), rejected %llu, "
                "lost %llu\n",
                static_cast<ull>(s.received), static_cast<ull>(s.routed), static_cast<ull>(s.messages_routed),
                static_cast<ull>(s.rejected), static_cast<ull>(s.lost));
    for (std::size_t i = 1; i < courier::osc::reject_reason_count; ++i)
        if (s.rejected_by[i] != 0)
            std::printf("  rejected %-20s %llu\n",
                        std::string(courier::osc::reason_name(static_cast<courier::osc::reject_reason>(i))).c_str(),
                        static_cast<ull>(s.rejected_by[i]));
    std::printf("  tcp controllers: connections %llu (refused %llu, cut %llu), framing errors %llu\n",
                static_cast<ull>(s.connections), static_cast<ull>(s.connections_refused),
                static_cast<ull>(s.connections_cut), static_cast<ull>(s.frame_errors));
    for (std::size_t i = 0; i < s.nodes.size(); ++i)
    {
        const courier::osc::route& r = config.routes[i];
        const courier::osc::router_node_stats& n = s.nodes[i];
        std::printf("  node %s (%s %s:%d): packets %llu, messages %llu, full %llu, failed %llu, connects %llu, "
                    "replies %llu\n",
                    r.prefix.c_str(), transport_name(r.transport), r.host.c_str(), r.port,
                    static_cast<ull>(n.packets), static_cast<ull>(n.messages), static_cast<ull>(n.full),
                    static_cast<ull>(n.failed), static_cast<ull>(n.connects), static_cast<ull>(n.replies));
    }
}

}  // namespace

// Exit status: 0 on success, 1 when a socket cannot be opened, 2 for a bad argument.
int main(int argc, char** argv)
{
    using namespace courier;
    try
    {
        const router_demo::router_options o = router_demo::parse_router_options(argc, argv);
        if (o.help)
        {
            std::fputs(router_demo::usage(), stdout);
            return 0;
        }
        osc::router router(o.config);
        struct sigaction action{};
        action.sa_handler = on_stop_signal;
        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, nullptr);
        sigaction(SIGTERM, &action, nullptr);
        router.start();

        std::printf("courier-router: listening on");
        if (o.config.udp_port >= 0)
            std::printf(" udp %s:%u", o.config.bind_address.c_str(), static_cast<unsigned>(router.udp_port()));
        for (std::size_t i = 0; i < o.config.tcp.size(); ++i)
            std::printf(" tcp %s:%u (%s)", o.config.bind_address.c_str(), static_cast<unsigned>(router.tcp_port(i)),
                        std::string(osc::framing_name(o.config.tcp[i].kind)).c_str());
        std::printf("; %zu nodes\n", o.config.routes.size());
        for (const osc::route& r : o.config.routes)
            std::printf("courier-router: %s/... -> %s %s:%d\n", r.prefix.c_str(), transport_name(r.transport),
                        r.host.c_str(), r.port);
        std::fflush(stdout);

        const auto started = std::chrono::steady_clock::now();
        while (stop_signal == 0 &&
               (o.duration <= 0.0 ||
                std::chrono::steady_clock::now() - started < std::chrono::duration<double>(o.duration)))
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        router.stop();
        std::printf("courier-router: stopped after %.1f s%s\n",
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                    stop_signal != 0 ? " (signal)" : "");
        print_stats(o.config, router.stats());
        std::fflush(stdout);
        return 0;
    }
    catch (const router_demo::usage_error& e)
    {
        std::fprintf(stderr, "courier-router: %s\nTry 'courier-router --help'.\n", e.what());
        return 2;
    }
    catch (const std::invalid_argument& e)
    {
        std::fprintf(stderr, "courier-router: %s\n", e.what());
        return 2;
    }
    catch (const std::exception& e)
    {
        std::fprintf(stderr, "courier-router: %s\n", e.what());
        return EXIT_FAILURE;
    }
}
