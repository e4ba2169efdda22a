// SPDX-License-Identifier: MIT
// osc::engine_adapter of osc_endpoint.h: the endpoint's engine_link over an audio::engine (docs/osc.md, "Any audio
// side").
#include <courier/osc/osc_endpoint.h>

#include <utility>

namespace courier::osc {

engine_adapter::engine_adapter(audio::engine& e, audio::engine_sender s) noexcept : engine(&e), immediate(std::move(s))
{
}

void engine_adapter::set_timed_sender(audio::engine_timed_sender t) noexcept
{
    timed = std::move(t);
    has_timed = true;
}

bool engine_adapter::try_send(const audio::engine_event& event) noexcept
{
    return immediate.try_send(event);
}

std::optional<std::uint64_t> engine_adapter::timed_in_flight() const noexcept
{
    if (!has_timed)
        return std::nullopt;
    const timed_events_stats t = engine->timed_stats();
    return t.lane.sent - t.lane.received + t.scheduled;  // in the lane, plus taken and waiting for their frame
}

bool engine_adapter::try_send_at(std::uint64_t frame, const audio::engine_event& event) noexcept
{
    return has_timed && timed.try_send(frame, event);
}

link_status engine_adapter::status() const noexcept
{
    const audio::engine_stats s = engine->stats();
    link_status l;
    l.frames = s.frames;
    l.callbacks = s.callbacks;
    l.sample_rate = engine->config().sample_rate;
    l.immediate_applied = s.immediate_applied;
    l.timed_applied = s.timed_applied;
    l.late_events = s.late_events;
    return l;
}

bool engine_adapter::try_read_meters(audio::engine_meters& into) noexcept
{
    return engine->try_read_meters(into);
}

}  // namespace courier::osc
