// SPDX-License-Identifier: MIT
// courier-router's command line (docs/osc.md, "Several nodes").
#pragma once

#include <courier/osc/osc_router.h>

#include <stdexcept>
#include <string>

namespace courier::router_demo {

/// A bad command line; main prints it with the usage hint and exits 2.
struct usage_error : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

/// What the command line asks for.
struct router_options
{
    osc::router_config config;
    double duration = 0.0;  ///< --duration S; 0: until SIGINT or SIGTERM
    bool help = false;
};

/// Reads one route, "PREFIX=TRANSPORT:HOST:PORT" with TRANSPORT udp, tcp (size prefix) or slip, as in
/// "/node1=udp:127.0.0.2:9000". Throws usage_error for a malformed one.
/// Thread: setup. Real-time: no.
[[nodiscard]] osc::route parse_route(const std::string& text);

/// Parses the command line (see usage()). Throws usage_error.
/// Thread: setup. Real-time: no.
[[nodiscard]] router_options parse_router_options(int argc, char** argv);

/// The --help text.
/// Thread: any. Real-time: no.
[[nodiscard]] const char* usage() noexcept;

}  // namespace courier::router_demo
