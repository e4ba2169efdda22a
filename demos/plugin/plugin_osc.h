// SPDX-License-Identifier: MIT
// The courier plugin's OSC endpoint: courier::osc::endpoint driving plugin::audio_side through an engine_link
// (demos/plugin/README.md, "OSC"; docs/osc.md).
#pragma once

#include "audio/osc/osc_endpoint.h"
#include "demos/plugin/plugin_core.h"
#include "patterns/port_table.h"

#include <cstdint>
#include <memory>
#include <optional>

namespace courier::plugin {

/// The engine_link of the plugin: immediate events into audio_side's OSC inbox (an SPSC lane whose one
/// producer is the endpoint's network thread), the plugin's frame clock, blocks and sample rate for /status.
/// No timed lane: bundles are refused (/fail #bundle no_timed_lane). No meters of its own: the editor hands them
/// over with osc_service::publish_meters.
class osc_link final : public osc::engine_link
{
public:
    /// Takes `side`'s OSC sender (so at most one link per audio_side). `side` must outlive the link.
    /// Thread: setup. Real-time: no (may throw std::logic_error: the sender was taken).
    explicit osc_link(audio_side& side);

    /// engine_link over audio_side (see osc::engine_link for each).
    /// Thread: the endpoint's network thread. Real-time: wait-free.
    [[nodiscard]] bool try_send(const audio::engine_event& event) noexcept override;
    [[nodiscard]] osc::link_status status() const noexcept override;

private:
    audio_side* side;
    lane_sender<audio::engine_event> inbox;
};

/// The plugin's OSC endpoint on 127.0.0.1: its port table, its link and the endpoint, started at construction
/// and stopped at destruction. Made by the processor only when COURIER_PLUGIN_OSC_PORT is set (hosts load
/// plugins without command lines).
/// Threads: setup (the message thread) for the constructor and destructor; any for stats() and udp_port();
/// the message thread for publish_meters().
class osc_service
{
public:
    /// The UDP port COURIER_PLUGIN_OSC_PORT asks for (0: any free port), or std::nullopt when it is unset,
    /// empty or not a number from 0 to 65535.
    /// Thread: setup. Real-time: no (reads the environment).
    [[nodiscard]] static std::optional<int> port_from_environment();

    /// Opens UDP `udp_port` on 127.0.0.1 and starts the endpoint's threads. Throws std::runtime_error when the
    /// socket cannot be opened (another instance has the port, say), std::logic_error when `side`'s OSC sender
    /// was taken already. `side` must outlive the service.
    /// Thread: setup. Real-time: no (allocates, makes syscalls, starts threads).
    osc_service(audio_side& side, int udp_port);

    /// Stops and joins the endpoint's threads; the endpoint, its port and the link die here, on this thread.
    /// Thread: setup. Real-time: no (joins, frees).
    ~osc_service();

    osc_service(const osc_service&) = delete;
    osc_service& operator=(const osc_service&) = delete;

    /// The endpoint's counters (relaxed atomic loads).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] osc::endpoint_stats stats() const noexcept;

    /// The UDP port bound.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint16_t udp_port() const noexcept;

    /// Hands the endpoint the newest meters (for /status and /meters subscribers).
    /// Thread: message thread (the one publisher). Real-time: wait-free.
    void publish_meters(const meter_frame& meters) noexcept;

private:
    audio_side* core;
    port_table table;
    osc_link link;
    std::unique_ptr<osc::endpoint> endpoint;  // ✗ dies first in ~osc_service (stopped), on the setup thread
};

}  // namespace courier::plugin
