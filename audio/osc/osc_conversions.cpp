// SPDX-License-Identifier: MIT
// The OSC endpoint's pure conversions of osc_endpoint.h: a mapped message to an engine_event, and the clock to an
// OSC time tag to an engine frame (docs/osc.md, "Time tags").
#include <courier/osc/osc_endpoint.h>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace courier::osc {

std::optional<audio::engine_event> to_engine_event(const parsed_message& m) noexcept COURIER_REALTIME
{
    if (!is_event(m.what))
        return std::nullopt;
    audio::engine_event e;
    e.type = m.event_type;
    e.channel = m.channel;
    e.key = m.key;
    e.value = m.value;
    e.tag = m.tag;
    return e;
}

std::uint64_t time_tag_from_unix_nanoseconds(std::int64_t nanoseconds) noexcept COURIER_REALTIME
{
    constexpr std::uint64_t seconds_1900_to_1970 = 2208988800ULL;
    const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(nanoseconds, 0));
    const std::uint64_t seconds = ns / 1000000000ULL + seconds_1900_to_1970;
    const std::uint64_t fraction = ((ns % 1000000000ULL) << 32U) / 1000000000ULL;
    return (seconds << 32U) | fraction;
}

std::uint64_t time_tag_now() noexcept
{
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return time_tag_from_unix_nanoseconds(
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

std::optional<std::uint64_t> frame_of_time_tag(std::uint64_t tag, std::uint64_t now, std::uint64_t engine_frame,
                                               double sample_rate, std::uint64_t margin_frames,
                                               double max_ahead_seconds, bool& late) noexcept COURIER_REALTIME
{
    late = false;
    const std::uint64_t earliest = engine_frame + margin_frames;
    if (tag == immediately)
        return earliest;
    // Signed difference in seconds: 32.32 fixed point.
    const double ahead = (static_cast<double>(static_cast<std::int64_t>(tag - now))) / 4294967296.0;
    if (!(ahead <= max_ahead_seconds))
        return std::nullopt;
    const double frames = std::round(ahead * sample_rate);
    if (frames < static_cast<double>(margin_frames))
    {
        late = true;
        return earliest;
    }
    return engine_frame + static_cast<std::uint64_t>(frames);
}

}  // namespace courier::osc
