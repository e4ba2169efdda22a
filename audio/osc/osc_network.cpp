// SPDX-License-Identifier: MIT
// The OSC endpoint's network thread: its loop over every socket, datagrams in, messages and bundles to the
// engine, and the notifications it sends out (/event, /meters, /load replies); TCP connections are served in
// osc_streams.cpp (docs/osc.md, "Threads and path of a message").
#include "osc_endpoint_state.h"

#include <courier/counter.h>

#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>

namespace courier::osc {

void endpoint::state::reject(const peer& to, const parsed_packet& p) noexcept
{
    count.rejected.count(p.reason);
    replies.fail(to, p.failed_address.data(), reason_name(p.reason));
}

void endpoint::state::network_loop() noexcept
{
    while (!stop_requested.load(std::memory_order_relaxed))  // a flag; stop() joins after setting it
    {
        // Every socket, every round: the datagram sockets, the listeners, and each connection for reading unless
        // it waits for room on the audio side, and for writing while replies wait for it.
        polled.restart({udp_fd, unix_fd}, listeners);
        for (connection& c : streams.slots())
            if (c.open())
                polled.add(c, static_cast<short>((c.paused ? 0 : POLLIN) | (c.out_end > 0 ? POLLOUT : 0)));
        const int ready = ::poll(polled.fds.data(), static_cast<nfds_t>(polled.fds.size()), 2);
        round_start = std::chrono::steady_clock::now();
        if (ready > 0)
            for (std::size_t i = 0; i < polled.fds.size(); ++i)
            {
                const pollfd& p = polled.fds[i];
                if (p.revents == 0)
                    continue;
                if (connection* c = polled.owner[i])
                {
                    if (!c->open() || c->fd != p.fd)
                        continue;  // closed (and maybe reopened) earlier in this round
                    if ((p.revents & POLLOUT) != 0 && !streams.flush(*c))
                        continue;
                    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0)
                        serve(*c, true);
                    continue;
                }
                const auto l = std::find_if(listeners.begin(), listeners.end(),
                                            [&](const listener_socket& x) { return x.fd == p.fd; });
                if (l != listeners.end())
                    accept_from(*l);
                else if ((p.revents & POLLIN) != 0)
                    receive_from(p.fd);
            }
        for (connection& c : streams.slots())
            if (c.open() && c.paused)
                serve(c, false);  // offer the waiting packet again: the audio side may have made room
        cut_idle();
        forget_closed();
        audio::engine_meters fresh;
        if (config.read_meters && link->try_read_meters(fresh))
            meters = fresh;
        else if (!config.read_meters && meters_in.poll())
            meters = meters_in.value();
        drain_port();
        take_load_replies();
        notify_due();
    }
}

void endpoint::state::receive_from(int fd) noexcept
{
    for (int batch = 0; batch < 512; ++batch)  // then look at the port and the subscriptions again
    {
        const std::optional<datagram> d = try_receive(fd, receive_buffer);
        if (!d)
            return;  // EAGAIN: nothing more now
        if (d->kernel_dropped)
            count.kernel_dropped.set(*d->kernel_dropped);  // the kernel's running total for this socket
        count.datagrams.add();
        if (d->size > receive_buffer.size())
        {
            parsed_packet too_big;
            too_big.reason = reject_reason::oversize;
            too_big.failed_address = {'?'};
            reject(d->from, too_big);
            continue;
        }
        (void)handle_packet(d->from, std::span<const std::byte>(receive_buffer.data(), d->size));  // always true
    }
}

bool endpoint::state::handle_packet(const peer& from, std::span<const std::byte> bytes) noexcept
{
    if (from.stream == 0 && subscribers.size() > 0)
        subscribers.heard(from, std::chrono::steady_clock::now());  // anything renews its sender's lease
    pool_ptr<parsed_packet> packet = packets.try_make();  // the typed message, in the network thread's pool
    if (!packet)
        return true;  // cannot happen: one packet at a time, and it returns before the next
    parsed_packet& p = *packet;
    if (parse_packet(bytes, config.addresses, p) != reject_reason::none)
    {
        reject(from, p);
        return true;
    }
    const bool stream = from.stream != 0;
    if (p.bundle)
    {
        if (stream && p.count > 0)
        {
            // A connection waits for room instead of being refused: its bytes stay in the kernel, and TCP's
            // flow control slows the client down.
            const std::optional<std::uint64_t> in_flight = link->timed_in_flight();
            if (in_flight && *in_flight + p.count > config.timed_room && p.count <= config.timed_room)
                return false;
        }
        count.messages.add(p.count);
        count.bundles.add();
        handle_bundle(from, p);
        return true;
    }
    const parsed_message& m = p.messages[0];
    if (const auto event = to_engine_event(m))
    {
        if (link->try_send(*event))
        {
            count.messages.add();
            count.applied.add();
            return true;
        }
        if (stream)
            return false;  // backpressure: offered again once the audio side has taken some
        count.messages.add();
        count.refused.add();
        replies.fail(from, p.failed_address.data(), "lane_full");
        return true;
    }
    count.messages.add();
    count.verbs.add();
    handle_verb(from, m);
    return true;
}  // ✗ the packet goes back to its slot here, on the network thread

void endpoint::state::handle_bundle(const peer& from, const parsed_packet& p) noexcept
{
    if (p.count == 0)
        return;  // an empty bundle: nothing to do
    const std::optional<std::uint64_t> in_flight = link->timed_in_flight();
    if (!in_flight)
    {
        count.refused.add(p.count);
        replies.fail(from, "#bundle", "no_timed_lane");
        return;
    }
    bool late = false;
    const link_status clock = link->status();
    const auto frame = frame_of_time_tag(p.time_tag, time_tag_now(), clock.frames, clock.sample_rate, config.margin_frames,
                                         config.max_ahead_seconds, late);
    if (!frame)
    {
        parsed_packet too_far;
        too_far.reason = reject_reason::out_of_range;
        too_far.failed_address = {'#', 'b', 'u', 'n', 'd', 'l', 'e'};
        reject(from, too_far);
        return;
    }
    // The transaction: every event of the bundle goes at the same frame, so the audio side applies them at the
    // same sub-block boundary. Room is checked first, so a bundle is queued whole or refused whole.
    if (*in_flight + p.count > config.timed_room)
    {
        count.refused.add(p.count);
        replies.fail(from, "#bundle", "timed_lane_full");
        return;
    }
    for (std::uint32_t i = 0; i < p.count; ++i)
    {
        const auto event = to_engine_event(p.messages[i]);
        if (event && link->try_send_at(*frame, *event))
            count.scheduled.add();
        else
        {
            count.refused.add();  // only if the engine's lane is smaller than timed_room
            replies.fail(from, "#bundle", "timed_lane_full");
        }
    }
    if (late)
        count.late_bundles.add();
    count.last_bundle_frame.set(*frame);
}

void endpoint::state::drain_port() noexcept
{
    (void)own.drain(
        [this](audio::engine_event&& e) {
            try
            {
                count.events_forwarded.add();
                for (const subscription& s : subscribers)
                    if (!s.meters)
                    {
                        reply_builder b;
                        b.i(e.type).i(e.channel).i(static_cast<std::int32_t>(e.key)).f(static_cast<double>(e.value));
                        b.i(static_cast<std::int32_t>(e.tag));
                        replies.send(s.to, "/event", b);
                        count.notifications.add();
                    }
            }
            catch (...)
            {
                count.replies_failed.add();
            }
        },
        256);
}

void endpoint::state::take_load_replies() noexcept
{
    (void)loads.client().drain(
        [this](std::uint64_t id, protocol::reply_status status, load_reply* reply) {
            if (id != load_id)
                return;
            try
            {
                reply_builder b;
                if (status == protocol::reply_status::progress)
                {
                    b.s(load_name).f(static_cast<double>(reply->fraction));
                    replies.send(load_peer, "/load/progress", b);
                    return;
                }
                load_id = 0;
                if (status == protocol::reply_status::answered && reply->error == load_error::none)
                {
                    count.loads_done.add();
                    b.s("/load").s(load_name).h(reply->frames).i(reply->channels).f(reply->sample_rate);
                    replies.send(load_peer, "/done", b);
                    return;
                }
                count.loads_failed.add();
                b.s("/load").s(status == protocol::reply_status::server_gone ? "worker_gone"
                                                                             : load_error_name(reply->error));
                replies.send(load_peer, "/fail", b);
            }
            catch (...)
            {
                count.replies_failed.add();
            }
        },
        64);  // each reply goes home to the worker's pool after its call
}

void endpoint::state::notify_due() noexcept
{
    const auto now = std::chrono::steady_clock::now();
    const auto lease = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(config.subscription_lease_seconds));
    if (const std::size_t expired = subscribers.expire(now, lease); expired > 0)
    {
        count.subscribers_expired.add(expired);
        count.subscribers.set(subscribers.size());
    }
    for (subscription& s : subscribers)
    {
        if (!s.meters || now < s.next)
            continue;
        s.next = std::max(s.next + s.period, now);
        try
        {
            reply_builder b;
            b.h(meters.frame).f(meters.peak[0]).f(meters.peak[1]).f(meters.rms[0]).f(meters.rms[1]);
            b.i(static_cast<std::int32_t>(meters.activity));
            replies.send(s.to, "/meters", b);
            count.notifications.add();
        }
        catch (...)
        {
            count.replies_failed.add();
        }
    }
}

}  // namespace courier::osc
