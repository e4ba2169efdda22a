// SPDX-License-Identifier: MIT
// The courier plugin's OSC endpoint (demos/plugin/plugin_osc.h, demos/plugin/README.md "OSC").
#include "demos/plugin/plugin_osc.h"

#include "demos/synth/synth_osc_map.h"

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace courier::plugin {

osc_link::osc_link(audio_side& s, lane_sender<audio::engine_event> parameter_changes,
                   const std::atomic<std::uint64_t>& applied)
    : side(&s), inbox(s.take_osc_sender()), to_parameters(std::move(parameter_changes)), parameters_applied(&applied)
{
}

bool osc_link::is_parameter_change(const audio::engine_event& event) noexcept
{
    return event.type == synth::set_gain || event.type == synth::set_waveform;
}

bool osc_link::try_send(const audio::engine_event& event) noexcept
{
    // Refused (full) is counted by the lane and by the endpoint, which answers /fail.
    if (is_parameter_change(event))
        return to_parameters.try_send(event);
    return inbox.try_send(event);
}

osc::link_status osc_link::status() const noexcept
{
    osc::link_status s;
    s.frames = side->frames_processed();
    s.callbacks = side->blocks_processed();
    s.sample_rate = side->sample_rate();
    s.immediate_applied = side->osc_stats().applied + parameters_applied->load(std::memory_order_relaxed);
    return s;
}

std::optional<int> osc_service::port_from_environment()
{
    const char* text = std::getenv("COURIER_PLUGIN_OSC_PORT");
    if (text == nullptr || *text == '\0')
        return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const long port = std::strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || port < 0 || port > 65535)
        return std::nullopt;
    return static_cast<int>(port);
}

namespace {
osc::endpoint_config plugin_config(int udp_port)
{
    osc::endpoint_config c;
    c.addresses = synth::osc_address_map();  // the same /synth/* vocabulary as courier-synth
    c.udp_port = udp_port;
    c.bind_address = "127.0.0.1";  // loopback only; the plugin offers no wider bind
    c.read_meters = false;         // the editor is the meter reader; it publishes to the endpoint
    return c;
}
}  // namespace

osc_service::osc_service(audio_side& side, int udp_port)
    : parameter_lane(parameter_capacity), parameter_receiver(parameter_lane.receiver()),
      table(4, 4),  // the endpoint's port and its /load link: three slots
      link(side, parameter_lane.sender(), parameters_applied),
      endpoint(std::make_unique<osc::endpoint>(link, table, plugin_config(udp_port)))
{
    endpoint->start();
}

osc_service::~osc_service()
{
    endpoint->stop();
    endpoint.reset();  // its port and /load link close before the table dies
}

osc::endpoint_stats osc_service::stats() const noexcept { return endpoint->stats(); }

std::uint16_t osc_service::udp_port() const noexcept { return endpoint->udp_port(); }

void osc_service::publish_meters(const audio::engine_meters& m) noexcept
{
    endpoint->publish_meters(m);
}

}  // namespace courier::plugin
