// SPDX-License-Identifier: MIT
// The OSC endpoint's TCP side on the network thread: accepting connections within the limit, reading and
// deframing each, backpressure when the audio side's lane is full, the shared-secret check, and cutting off a
// client that sends an oversize packet (docs/osc.md, "TCP").
#include "osc_endpoint_state.h"

#include <courier/counter.h>

#include <chrono>

namespace courier::osc {

namespace {

// Compares without stopping at the first difference, so the time taken says nothing about the secret.
bool same_secret(std::string_view given, std::string_view secret) noexcept
{
    if (secret.empty())
        return given.empty();
    unsigned char differ = given.size() == secret.size() ? 0 : 1;
    for (std::size_t i = 0; i < given.size(); ++i)
        differ |= static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
    return differ == 0;
}

}  // namespace

void endpoint::state::accept_from(const listener_socket& l) noexcept
{
    for (;;)
    {
        bool refused = false;
        connection* c = streams.accept_from(l, config.connection_socket_buffer_bytes, config.tcp_secret.empty(),
                                            count.connections_refused, refused);
        if (c == nullptr && !refused)
            return;  // none waiting
        if (c == nullptr)
            continue;
        c->last_packet = round_start;
        count.connections.add();
    }
}

void endpoint::state::serve(connection& c, bool readable) noexcept
{
    if (c.paused)
    {
        if (!handle_frame(c))
            return;  // still no room: the connection stays unread, the others go on
        c.paused = false;
        if (!c.open())
            return;
    }
    const stream_counters counts{&count.frames, &count.frame_errors, &count.connections_cut};
    const pump_result r = streams.pump(c, readable, counts, [this](connection& from) {
        from.last_packet = round_start;
        return handle_frame(from);
    });
    if (r == pump_result::paused)
    {
        c.paused = true;
        count.backpressure.add();
    }
}

bool endpoint::state::handle_frame(connection& c) noexcept
{
    if (!c.authenticated)
        return check_secret(c);
    return handle_packet(c.self, c.deframer.frame());
}

bool endpoint::state::check_secret(connection& c) noexcept
{
    pool_ptr<parsed_packet> packet = packets.try_make();
    if (!packet)
        return true;  // cannot happen: one packet at a time
    const bool parsed = parse_packet(c.deframer.frame(), config.addresses, *packet) == reject_reason::none;
    const parsed_message& m = packet->messages[0];
    const bool is_auth = parsed && !packet->bundle && m.what == command::auth;
    if (is_auth && same_secret(m.text_view(), config.tcp_secret))
    {
        c.authenticated = true;
        count.messages.add();
        count.verbs.add();
        try
        {
            reply_builder b;
            b.s("/auth");
            replies.send(c.self, "/done", b);
        }
        catch (...)
        {
            count.replies_failed.add();
        }
        return true;
    }
    count.auth_failed.add();
    replies.fail(c.self, "/auth", is_auth ? "bad_secret" : "auth_required");
    streams.close(c);  // the reply went to the kernel first (a new connection's buffer has room)
    return true;
}

void endpoint::state::cut_idle() noexcept
{
    if (config.tcp_idle_seconds <= 0.0)
        return;
    const auto limit = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(config.tcp_idle_seconds));
    for (connection& c : streams.slots())
        // A paused connection has a whole packet waiting for the audio side: it is our wait, not the client's.
        if (c.open() && !c.paused && round_start - c.last_packet >= limit)
        {
            count.connections_idle.add();  // before the close: a client that sees it closed sees the count
            streams.close(c);
        }
}

void endpoint::state::forget_closed() noexcept
{
    if (streams.closed_ids().empty())
        return;
    for (const std::uint32_t id : streams.closed_ids())
        (void)subscribers.forget_stream(id);
    streams.clear_closed();
    count.subscribers.set(subscribers.size());
}

}  // namespace courier::osc
