// SPDX-License-Identifier: MIT
// The stream deframer and frame encoders of stream_deframer.h: int32 size prefix and SLIP (docs/osc.md, "TCP").
#include <courier/osc/stream_deframer.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace courier::osc {

std::string_view framing_name(framing f) noexcept COURIER_REALTIME
{
    return f == framing::slip ? "slip" : "size_prefix";
}

stream_deframer::stream_deframer(framing kind, std::size_t max_frame_bytes) : mode(kind), buffer(max_frame_bytes)
{
    if (max_frame_bytes == 0)
        throw std::invalid_argument("stream_deframer: the packet limit must be at least 1 byte");
}

deframe_status stream_deframer::next(std::span<const std::byte>& input) noexcept COURIER_REALTIME
{
    if (complete)
    {
        complete = false;  // the caller is done with the last packet
        size = 0;
    }
    if (broken)
        return deframe_status::oversize;
    return mode == framing::slip ? next_slip(input) : next_size_prefix(input);
}

std::span<const std::byte> stream_deframer::frame() const noexcept COURIER_REALTIME
{
    return complete ? std::span<const std::byte>(buffer.data(), size) : std::span<const std::byte>();
}

std::size_t stream_deframer::held() const noexcept COURIER_REALTIME
{
    if (complete)
        return 0;
    return size + (mode == framing::size_prefix ? prefix_bytes : 0);
}

void stream_deframer::reset() noexcept COURIER_REALTIME
{
    size = 0;
    complete = false;
    broken = false;
    prefix = 0;
    prefix_bytes = 0;
    expected = 0;
    escaped = false;
    skipping = false;
}

deframe_status stream_deframer::next_size_prefix(std::span<const std::byte>& input) noexcept COURIER_REALTIME
{
    while (!input.empty())
    {
        if (prefix_bytes < 4)
        {
            prefix = (prefix << 8U) | std::to_integer<std::uint32_t>(input.front());
            input = input.subspan(1);
            if (++prefix_bytes < 4)
                continue;
            if (prefix > 0x7FFFFFFFU || prefix > buffer.size())
            {
                broken = true;  // the end of this packet is beyond what we hold: stop reading the stream
                return deframe_status::oversize;
            }
            if (prefix == 0)
            {
                prefix_bytes = 0;
                return deframe_status::empty_frame;
            }
            expected = prefix;
            size = 0;
            continue;
        }
        const std::size_t take = std::min(expected - size, input.size());
        std::memcpy(buffer.data() + size, input.data(), take);
        size += take;
        input = input.subspan(take);
        if (size == expected)
        {
            prefix = 0;
            prefix_bytes = 0;
            complete = true;
            return deframe_status::frame;
        }
    }
    return deframe_status::need_more;
}

deframe_status stream_deframer::next_slip(std::span<const std::byte>& input) noexcept COURIER_REALTIME
{
    while (!input.empty())
    {
        const std::byte b = input.front();
        input = input.subspan(1);
        if (b == slip_end)
        {
            const bool was_escaped = escaped;
            escaped = false;
            if (skipping)
            {
                skipping = false;  // the bad packet ends here; the next one starts clean
                size = 0;
                continue;
            }
            if (was_escaped)
            {
                size = 0;  // ESC END: the packet is damaged, and this END ends it
                return deframe_status::bad_escape;
            }
            if (size == 0)
                continue;  // END END: OSC 1.1 sends END before each packet too, so empty packets are normal
            complete = true;
            return deframe_status::frame;
        }
        if (skipping)
            continue;
        std::byte value = b;
        if (escaped)
        {
            escaped = false;
            if (b == slip_esc_end)
                value = slip_end;
            else if (b == slip_esc_esc)
                value = slip_esc;
            else
            {
                skipping = true;
                size = 0;
                return deframe_status::bad_escape;
            }
        }
        else if (b == slip_esc)
        {
            escaped = true;
            continue;
        }
        if (size == buffer.size())
        {
            broken = true;  // no END within the limit: a client sending endless bytes ends here
            return deframe_status::oversize;
        }
        buffer[size++] = value;
    }
    return deframe_status::need_more;
}

std::size_t max_encoded_bytes(framing kind, std::size_t packet_bytes) noexcept COURIER_REALTIME
{
    return kind == framing::slip ? 2 * packet_bytes + 2 : packet_bytes + 4;
}

std::size_t encode_frame(framing kind, std::span<const std::byte> packet, std::span<std::byte> out) noexcept
    COURIER_REALTIME
{
    if (packet.empty() || packet.size() > 0x7FFFFFFFU)
        return 0;
    if (kind == framing::size_prefix)
    {
        if (out.size() < packet.size() + 4)
            return 0;
        const auto n = static_cast<std::uint32_t>(packet.size());
        out[0] = static_cast<std::byte>(n >> 24U);
        out[1] = static_cast<std::byte>(n >> 16U);
        out[2] = static_cast<std::byte>(n >> 8U);
        out[3] = static_cast<std::byte>(n);
        std::memcpy(out.data() + 4, packet.data(), packet.size());
        return packet.size() + 4;
    }
    std::size_t need = 2;
    for (const std::byte b : packet)
        need += (b == slip_end || b == slip_esc) ? 2 : 1;
    if (out.size() < need)
        return 0;
    std::size_t at = 0;
    out[at++] = slip_end;
    for (const std::byte b : packet)
    {
        if (b == slip_end)
        {
            out[at++] = slip_esc;
            out[at++] = slip_esc_end;
        }
        else if (b == slip_esc)
        {
            out[at++] = slip_esc;
            out[at++] = slip_esc_esc;
        }
        else
            out[at++] = b;
    }
    out[at++] = slip_end;
    return at;
}

}  // namespace courier::osc
