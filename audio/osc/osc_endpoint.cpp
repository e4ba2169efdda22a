// SPDX-License-Identifier: MIT
// The OSC endpoint of osc_endpoint.h: opening and closing its sockets, starting and stopping its two threads, and
// its counters (docs/osc.md). The threads' work is in osc_network.cpp, osc_verbs.cpp and osc_load_worker.cpp.
#include <courier/osc/osc_endpoint.h>

#include "osc_endpoint_state.h"
#include "osc_sockets.h"

#include <unistd.h>

#include <stdexcept>

namespace courier::osc {

endpoint::endpoint(audio::engine& engine, audio::engine_sender immediate, port_table& table,
                   const endpoint_config& config)
    : endpoint(std::make_unique<engine_adapter>(engine, std::move(immediate)), nullptr, table, config)
{
}

endpoint::endpoint(engine_link& link, port_table& table, const endpoint_config& config)
    : endpoint(nullptr, &link, table, config)
{
}

endpoint::endpoint(std::unique_ptr<engine_adapter> adapter, engine_link* link, port_table& table,
                   const endpoint_config& config)
{
    engine_link& used = adapter ? *adapter : *link;
    impl = std::make_unique<state>(std::move(adapter), used, table, config);
    if (config.udp_port < -1 || config.udp_port > 65535)
        throw std::invalid_argument("OSC: the UDP port must be from 0 to 65535");
    if (config.udp_port < 0 && config.unix_path.empty() && config.tcp.empty())
        throw std::invalid_argument("OSC: neither a UDP port, a Unix socket path nor a TCP listener was given");
    for (const tcp_listener& l : config.tcp)
        if (l.port < 0 || l.port > 65535)
            throw std::invalid_argument("OSC: a TCP port must be from 0 to 65535");
    if (!(config.tcp_idle_seconds >= 0.0 && config.tcp_idle_seconds <= 1.0e6))  // NaN too
        throw std::invalid_argument("OSC: the TCP idle time must be from 0 (never) to 1e6 seconds");
    if (!(config.subscription_lease_seconds >= 0.0 && config.subscription_lease_seconds <= 1.0e6))  // NaN too
        throw std::invalid_argument("OSC: the subscription lease must be from 0 (never) to 1e6 seconds");
    if (config.udp_port >= 0)
    {
        impl->udp_fd = open_udp(config.bind_address, config.udp_port, config.receive_buffer_bytes);
        impl->bound_port = bound_port(impl->udp_fd);
    }
    try
    {
        if (!config.unix_path.empty())
            impl->unix_fd = open_unix(config.unix_path, config.receive_buffer_bytes);
        open_listeners(config.bind_address, config.tcp, impl->listeners);
    }
    catch (...)
    {
        close_sockets();
        throw;
    }
}

void endpoint::close_sockets() noexcept
{
    if (impl->udp_fd >= 0)
        ::close(impl->udp_fd);
    impl->udp_fd = -1;
    if (impl->unix_fd >= 0)
    {
        ::close(impl->unix_fd);
        ::unlink(impl->config.unix_path.c_str());
    }
    impl->unix_fd = -1;
    for (const listener_socket& l : impl->listeners)
        ::close(l.fd);
    impl->listeners.clear();
}

endpoint::~endpoint()
{
    stop();
    close_sockets();  // the connections close with the state's connection table
    // The /load link dies with the state: both inboxes close, then the pools (every body dies here at the latest).
}

void endpoint::set_timed_sender(audio::engine_timed_sender timed) noexcept
{
    if (impl->owned_adapter)
        impl->owned_adapter->set_timed_sender(std::move(timed));
}

void endpoint::register_in(port_registry<audio::engine_event>& registry, std::string name)
{
    registry.add(std::move(name), impl->own);
}

port<audio::engine_event>& endpoint::own_port() noexcept
{
    return impl->own;
}

void endpoint::start()
{
    if (impl->network.joinable())
        throw std::logic_error("OSC: the endpoint is already started");
    impl->stop_requested.store(false, std::memory_order_relaxed);  // before the threads exist
    impl->worker = std::thread([s = impl.get()] { s->loader.run(); });
    impl->network = std::thread([s = impl.get()] { s->network_loop(); });
}

void endpoint::stop() noexcept
{
    if (!impl->network.joinable())
        return;
    impl->stop_requested.store(true, std::memory_order_relaxed);  // a flag; the joins below synchronise
    impl->loader.wake();
    impl->network.join();
    impl->worker.join();
}

void endpoint::publish_meters(const audio::engine_meters& m) noexcept
{
    impl->meters_out.publish(m);
}

endpoint_stats endpoint::stats() const noexcept
{
    const counters& c = impl->count;
    endpoint_stats s;
    s.datagrams = c.datagrams.load();
    s.kernel_dropped = c.kernel_dropped.load();
    s.messages = c.messages.load();
    s.bundles = c.bundles.load();
    s.applied = c.applied.load();
    s.scheduled = c.scheduled.load();
    s.late_bundles = c.late_bundles.load();
    s.refused = c.refused.load();
    s.verbs = c.verbs.load();
    c.rejected.load_into(s.rejected, s.rejected_by);
    s.replies = c.replies.load();
    s.replies_failed = c.replies_failed.load();
    s.notifications = c.notifications.load();
    s.subscribers = c.subscribers.load();
    s.subscribers_refused = c.subscribers_refused.load();
    s.subscribers_expired = c.subscribers_expired.load();
    s.loads_done = c.loads_done.load();
    s.loads_failed = c.loads_failed.load();
    s.events_forwarded = c.events_forwarded.load();
    s.last_bundle_frame = c.last_bundle_frame.load();
    s.connections = c.connections.load();
    s.connections_open = c.connections_open.load();
    s.connections_refused = c.connections_refused.load();
    s.connections_cut = c.connections_cut.load();
    s.connections_idle = c.connections_idle.load();
    s.auth_failed = c.auth_failed.load();
    s.frames = c.frames.load();
    s.frame_errors = c.frame_errors.load();
    s.backpressure = c.backpressure.load();
    s.stream_replies_dropped = c.stream_replies_dropped.load();
    return s;
}

std::uint16_t endpoint::udp_port() const noexcept
{
    return impl->bound_port;
}

std::uint16_t endpoint::tcp_port(std::size_t index) const noexcept
{
    return index < impl->listeners.size() ? impl->listeners[index].port : 0;
}

}  // namespace courier::osc
