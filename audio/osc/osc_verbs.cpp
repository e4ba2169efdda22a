// SPDX-License-Identifier: MIT
// The OSC endpoint's protocol verbs, answered on the network thread: /status, /subscribe, /unsubscribe and the
// start of a /load (docs/osc.md, "/status and /subscribe" and "/load").
#include "osc_endpoint_state.h"

#include <courier/counter.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

namespace courier::osc {

void endpoint::state::handle_verb(const peer& from, const parsed_message& m) noexcept
{
    const peer to = reply_peer(from, m.reply_port);
    try
    {
        switch (m.what)
        {
        case command::status:
        {
            const link_status s = link->status();
            reply_builder b;
            b.s("frames").h(s.frames).s("callbacks").h(s.callbacks).s("sample_rate").f(s.sample_rate);
            b.s("voices").i(static_cast<std::int32_t>(meters.activity)).s("peak").f(std::max(meters.peak[0], meters.peak[1]));
            b.s("rms").f(std::max(meters.rms[0], meters.rms[1]));
            b.s("immediate_applied").h(s.immediate_applied).s("timed_applied").h(s.timed_applied);
            b.s("late").h(s.late_events).s("osc_applied").h(count.applied.load());
            b.s("osc_scheduled").h(count.scheduled.load());
            b.s("osc_refused").h(count.refused.load());
            b.s("osc_rejected").h(count.rejected.total.load());
            b.s("last_bundle_frame").h(count.last_bundle_frame.load());
            replies.send(to, "/status", b);
            return;
        }
        case command::subscribe:
        {
            const bool wants_meters = m.text_view() == "/meters";
            if (!wants_meters && m.text_view() != "/events")
            {
                replies.fail(to, "/subscribe", "unknown_topic");
                return;
            }
            if (!to.answerable())
            {
                count.replies_failed.add();
                return;
            }
            const float rate = m.rate > 0.0F ? m.rate : config.default_rate;
            if (!subscribers.subscribe(from, to, wants_meters, rate, std::chrono::steady_clock::now()))
            {
                count.subscribers_refused.add();
                replies.fail(to, "/subscribe", "too_many_subscribers");
                return;
            }
            count.subscribers.set(subscribers.size());
            reply_builder b;
            b.s("/subscribe").s(m.text_view()).f(static_cast<double>(rate));
            replies.send(to, "/done", b);
            return;
        }
        case command::unsubscribe:
        {
            const bool wants_meters = m.text_view() == "/meters";
            const bool removed = subscribers.unsubscribe(to, wants_meters);
            count.subscribers.set(subscribers.size());
            if (!removed)
            {
                replies.fail(to, "/unsubscribe", "not_subscribed");
                return;
            }
            reply_builder b;  // the final acknowledgement: nothing more comes for this topic after it
            b.s("/unsubscribe").s(m.text_view());
            replies.send(to, "/done", b);
            return;
        }
        case command::load:
        {
            const std::filesystem::path relative(std::string(m.text_view()));
            const bool escapes = relative.is_absolute() ||
                                 std::any_of(relative.begin(), relative.end(),
                                             [](const std::filesystem::path& part) { return part == ".."; });
            if (escapes)
            {
                count.loads_failed.add();
                replies.fail(to, "/load", "path_not_allowed");
                return;
            }
            (void)loads.client().collect();  // ✗ finished requests die here, on the network thread
            const ticket t = loads.client().try_request(config.load_root / relative, config.max_load_frames);
            if (t.result != courier::send_status::sent)
            {
                count.loads_failed.add();  // no_credit: one load is running
                replies.fail(to, "/load",
                             t.result == courier::send_status::no_credit ? "busy" : courier::to_string(t.result));
                return;
            }
            loader.wake();
            load_id = t.id;
            load_peer = to;
            load_name = std::string(m.text_view());
            return;
        }
        case command::auth:
        {
            if (to.stream == 0)
            {
                replies.fail(to, "/auth", "tcp_only");  // a shared secret guards TCP connections only
                return;
            }
            reply_builder b;  // a connection that passed the check, or needs none
            b.s("/auth");
            replies.send(to, "/done", b);
            return;
        }
        default: return;
        }
    }
    catch (...)
    {
        replies.fail(to, "?", "internal_error");
    }
}

}  // namespace courier::osc
