// SPDX-License-Identifier: MIT
// courier-router's command line of router_options.h.
#include "demos/router/router_options.h"

#include <cstdlib>

namespace courier::router_demo {

namespace {

int port_number(const std::string& option, const std::string& text, int lowest)
{
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < lowest || v > 65535)
        throw usage_error(option + " wants a port from " + std::to_string(lowest) + " to 65535, got '" + text + "'");
    return static_cast<int>(v);
}

}  // namespace

const char* usage() noexcept
{
    return "usage: courier-router [options] --route PREFIX=TRANSPORT:HOST:PORT ...\n"
           "Receives OSC and sends each message on to the node its address prefix names, prefix removed:\n"
           "/node1/synth/note_on -> /synth/note_on at node1. Bundles are split per node and keep their time tag.\n"
           "  --route P=T:H:N   a node: prefix P (/node1), transport T (udp, tcp = size prefix, slip), IPv4 host H,\n"
           "                    port N; give one per node\n"
           "  --broadcast P     messages under P go to every node (default /all; 'none' for no broadcast)\n"
           "  --udp N           UDP port to receive on (default 0: any free port, printed; -1: none)\n"
           "  --tcp N           TCP port (size-prefix framing) to receive on\n"
           "  --tcp-slip N      TCP port (SLIP framing) to receive on\n"
           "  --bind ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
           "  --duration S      stop after S seconds (default: at SIGINT or SIGTERM)\n";
}

osc::route parse_route(const std::string& text)
{
    const std::size_t eq = text.find('=');
    const std::size_t colon1 = text.find(':', eq == std::string::npos ? 0 : eq);
    const std::size_t colon2 = colon1 == std::string::npos ? colon1 : text.find(':', colon1 + 1);
    if (eq == std::string::npos || colon1 == std::string::npos || colon2 == std::string::npos)
        throw usage_error("--route wants PREFIX=TRANSPORT:HOST:PORT, got '" + text + "'");
    osc::route r;
    r.prefix = text.substr(0, eq);
    const std::string transport = text.substr(eq + 1, colon1 - eq - 1);
    if (transport == "udp")
        r.transport = osc::route_transport::udp;
    else if (transport == "tcp")
        r.transport = osc::route_transport::tcp;
    else if (transport == "slip")
        r.transport = osc::route_transport::tcp_slip;
    else
        throw usage_error("--route: the transport must be udp, tcp or slip, got '" + transport + "'");
    r.host = text.substr(colon1 + 1, colon2 - colon1 - 1);
    r.port = port_number("--route", text.substr(colon2 + 1), 1);
    return r;
}

router_options parse_router_options(int argc, char** argv)
{
    router_options o;
    for (int i = 1; i < argc; ++i)
    {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h")
        {
            o.help = true;
            continue;
        }
        if (i + 1 >= argc)
            throw usage_error(arg == "--route" || arg.starts_with("--") ? arg + " wants a value" : "unknown argument '" + arg + "'");
        const std::string value = argv[++i];
        if (arg == "--route")
            o.config.routes.push_back(parse_route(value));
        else if (arg == "--broadcast")
            o.config.broadcast_prefix = value == "none" ? std::string() : value;
        else if (arg == "--udp")
            o.config.udp_port = value == "-1" ? -1 : port_number(arg, value, 0);
        else if (arg == "--tcp")
            o.config.tcp.push_back(osc::tcp_listener{port_number(arg, value, 0), osc::framing::size_prefix});
        else if (arg == "--tcp-slip")
            o.config.tcp.push_back(osc::tcp_listener{port_number(arg, value, 0), osc::framing::slip});
        else if (arg == "--bind")
            o.config.bind_address = value;
        else if (arg == "--duration")
        {
            char* end = nullptr;
            o.duration = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0' || !(o.duration > 0.0 && o.duration <= 1.0e6))
                throw usage_error("--duration wants seconds from 0 to 1e6, got '" + value + "'");
        }
        else
            throw usage_error("unknown option '" + arg + "'");
    }
    if (!o.help && o.config.routes.empty())
        throw usage_error("no --route given");
    return o;
}

}  // namespace courier::router_demo
