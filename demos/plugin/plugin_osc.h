// SPDX-License-Identifier: MIT
// The courier plugin's OSC endpoint: courier::osc::endpoint driving plugin::audio_side through an engine_link
// (demos/plugin/README.md, "OSC"; docs/osc.md).
#pragma once

#include <courier/osc/osc_endpoint.h>
#include <courier/lane.h>
#include "demos/plugin/plugin_core.h"
#include <courier/patterns/port_table.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace courier::plugin {

/// The engine_link of the plugin: immediate events into audio_side's OSC inbox (an SPSC lane whose one
/// producer is the endpoint's network thread), except the two that are host parameters (/synth/gain is
/// "synth_level", /synth/waveform is "waveform"): those go to the message thread (osc_service::
/// take_parameter_changes), which sets the parameter, so the host, the editor and automation see the change
/// and it reaches the audio side through the parameter bridge like any other. Also the plugin's frame clock,
/// blocks and sample rate for /status.
/// No timed lane: bundles are refused (/fail #bundle no_timed_lane). No meters of its own: the editor hands them
/// over with osc_service::publish_meters.
class osc_link final : public osc::engine_link
{
public:
    /// Takes `side`'s OSC sender (so at most one link per audio_side); parameter changes go to
    /// `parameter_changes`, and `parameters_applied` counts those the message thread has set (for /status).
    /// `side` and the counter must outlive the link.
    /// Thread: setup. Real-time: no (may throw std::logic_error: the sender was taken).
    osc_link(audio_side& side, lane_sender<audio::engine_event> parameter_changes,
             const std::atomic<std::uint64_t>& parameters_applied);

    /// True for the events osc_link sends to the message thread as host parameter changes.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] static bool is_parameter_change(const audio::engine_event& event) noexcept COURIER_REALTIME;

    /// engine_link over audio_side (see osc::engine_link for each).
    /// Thread: the endpoint's network thread. Real-time: wait-free.
    [[nodiscard]] bool try_send(const audio::engine_event& event) noexcept override;
    [[nodiscard]] osc::link_status status() const noexcept override;

private:
    audio_side* side;
    audio::engine_sender inbox;  // the network thread's lane into the engine's mailbox
    lane_sender<audio::engine_event> to_parameters;  // the network thread's end
    const std::atomic<std::uint64_t>* parameters_applied;
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
    void publish_meters(const audio::engine_meters& meters) noexcept;

    /// Calls `apply(const audio::engine_event&)` for up to `budget` host parameter changes that came in over
    /// OSC (osc_link::is_parameter_change), oldest first; returns how many. `apply` sets the parameter.
    /// Thread: message thread. Real-time: no (apply sets a juce parameter).
    template <class Apply>
    std::size_t take_parameter_changes(Apply&& apply, std::size_t budget)
    {
        const std::size_t n = parameter_receiver.drain([&](audio::engine_event&& e) { apply(e); }, budget);
        // A count for /status only: nothing is read through it.
        parameters_applied.fetch_add(n, std::memory_order_relaxed);
        return n;
    }

    /// The parameter change lane's counters and how many changes were applied.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] lane_stats parameter_lane_stats() const noexcept COURIER_REALTIME
    {
        return parameter_receiver.stats();
    }
    [[nodiscard]] std::uint64_t parameter_changes_applied() const noexcept COURIER_REALTIME
    {
        return parameters_applied.load(std::memory_order_relaxed);
    }

    static constexpr std::size_t parameter_capacity = 64;  ///< OSC parameter changes waiting for the timer

private:
    // Network thread -> message thread; events are trivially copyable: nothing to die anywhere.
    lane<audio::engine_event> parameter_lane;
    lane_receiver<audio::engine_event> parameter_receiver;  // the message thread's end
    std::atomic<std::uint64_t> parameters_applied{0};       // written by the message thread only
    port_table table;
    osc_link link;
    std::unique_ptr<osc::endpoint> endpoint;  // ✗ dies first in ~osc_service (stopped), on the setup thread
};

}  // namespace courier::plugin
