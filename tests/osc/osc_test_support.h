// SPDX-License-Identifier: MIT
// Helpers for the OSC tests: building OSC packets byte by byte (valid or not), a UDP client socket, and a graph
// that records the frame each event is applied at (docs/osc.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/contracts.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier::osc::testing {

using bytes = std::vector<std::byte>;

inline void append(bytes& out, const bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

/// An OSC string: the characters, a NUL, and NULs up to a multiple of 4.
inline bytes str(std::string_view s)
{
    bytes out;
    for (const char c : s)
        out.push_back(static_cast<std::byte>(c));
    out.push_back(std::byte{0});
    while (out.size() % 4 != 0)
        out.push_back(std::byte{0});
    return out;
}

/// Raw bytes, no padding.
inline bytes raw(std::string_view s)
{
    bytes out;
    for (const char c : s)
        out.push_back(static_cast<std::byte>(c));
    return out;
}

inline bytes u32(std::uint32_t v)
{
    return {static_cast<std::byte>(v >> 24U), static_cast<std::byte>(v >> 16U), static_cast<std::byte>(v >> 8U),
            static_cast<std::byte>(v)};
}
inline bytes i32(std::int32_t v) { return u32(std::bit_cast<std::uint32_t>(v)); }
inline bytes f32(float v) { return u32(std::bit_cast<std::uint32_t>(v)); }

/// An OSC message: address, type tags (without the comma) and the already-encoded arguments.
inline bytes msg(std::string_view address, std::string_view tags, std::initializer_list<bytes> args = {})
{
    bytes out = str(address);
    // Built by append, not `std::string(",") + ...`: g++ 12 at -O3 reports a false -Wrestrict in operator+.
    std::string type_tags(",");
    type_tags.append(tags);
    append(out, str(type_tags));
    for (const bytes& a : args)
        append(out, a);
    return out;
}

/// A bundle with time tag `tag` holding `elements`, each preceded by its size.
inline bytes bundle(std::uint64_t tag, std::initializer_list<bytes> elements)
{
    bytes out = raw(std::string_view("#bundle\0", 8));
    append(out, u32(static_cast<std::uint32_t>(tag >> 32U)));
    append(out, u32(static_cast<std::uint32_t>(tag)));
    for (const bytes& e : elements)
    {
        append(out, u32(static_cast<std::uint32_t>(e.size())));
        append(out, e);
    }
    return out;
}

/// A UDP socket on 127.0.0.1 (any port) that sends to `port` and reads replies.
class udp_client
{
public:
    explicit udp_client(std::uint16_t to_port)
    {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me);
        target.sin_family = AF_INET;
        target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        target.sin_port = htons(to_port);
        int size = 8 << 20;
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)  // root only
            (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);      // capped by rmem_max
        const int on = 1;
        (void)::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);  // count what the kernel drops
    }
    ~udp_client() { ::close(fd); }
    udp_client(const udp_client&) = delete;
    udp_client& operator=(const udp_client&) = delete;

    bool send(const bytes& packet) const
    {
        return ::sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&target),
                        sizeof target) == static_cast<ssize_t>(packet.size());
    }

    /// The next datagram, or nothing after `timeout_ms`.
    std::optional<bytes> receive(int timeout_ms) const
    {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0)
            return std::nullopt;
        bytes buffer(65536);
        iovec io{buffer.data(), buffer.size()};
        std::array<char, CMSG_SPACE(sizeof(std::uint32_t))> control{};
        msghdr header{};
        header.msg_iov = &io;
        header.msg_iovlen = 1;
        header.msg_control = control.data();
        header.msg_controllen = control.size();
        const ssize_t got = ::recvmsg(fd, &header, 0);
        if (got < 0)
            return std::nullopt;
        for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
                std::memcpy(&kernel_dropped, CMSG_DATA(c), sizeof kernel_dropped);
        buffer.resize(static_cast<std::size_t>(got));
        return buffer;
    }

    /// The local port (for "reply to" arguments).
    std::uint16_t port() const
    {
        sockaddr_in me{};
        socklen_t length = sizeof me;
        (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &length);
        return ntohs(me.sin_port);
    }

    int fd = -1;
    sockaddr_in target{};
    mutable std::uint32_t kernel_dropped = 0;  ///< replies the kernel dropped before receive() read them (last seen)
};

/// Reads the OSC string at `at` in `packet` into `s` and moves `at` past its NUL and padding; false when the
/// packet ends first.
inline bool read_osc_string(const bytes& packet, std::size_t& at, std::string& s)
{
    s.clear();
    while (at < packet.size() && packet[at] != std::byte{0})
        s.push_back(static_cast<char>(packet[at++]));
    if (at >= packet.size())
        return false;
    at = (at + 4) / 4 * 4;  // past the NUL and the padding
    return true;
}

/// The address and the string arguments of an OSC message, in order (numbers are skipped): enough to read
/// /fail and /done replies. Empty for a packet it cannot read.
inline std::vector<std::string> strings_of(const bytes& packet)
{
    std::vector<std::string> out;
    std::size_t at = 0;
    auto read_string = [&](std::string& s) { return read_osc_string(packet, at, s); };
    std::string address;
    std::string tags;
    if (!read_string(address) || !read_string(tags) || tags.empty() || tags[0] != ',')
        return out;
    out.push_back(address);
    for (const char t : tags.substr(1))
    {
        std::string s;
        if (t == 's')
        {
            if (!read_string(s))
                return out;
            out.push_back(s);
        }
        else
            at += (t == 'h' || t == 'd' || t == 't') ? 8 : 4;
    }
    return out;
}

/// The value after the string argument `name` in a /status reply (pairs of a name and an i, h or f value).
inline std::optional<double> status_value(const bytes& packet, std::string_view name)
{
    std::size_t at = 0;
    auto read_string = [&](std::string& s) { return read_osc_string(packet, at, s); };
    auto read_u32 = [&](std::uint32_t& v) {
        if (at + 4 > packet.size())
            return false;
        v = 0;
        for (std::size_t i = 0; i < 4; ++i)
            v = (v << 8U) | std::to_integer<std::uint32_t>(packet[at + i]);
        at += 4;
        return true;
    };
    std::string address;
    std::string tags;
    if (!read_string(address) || !read_string(tags))
        return std::nullopt;
    bool wanted = false;
    for (const char t : tags.substr(1))
    {
        std::uint32_t high = 0;
        std::uint32_t low = 0;
        std::string text;
        if (t == 's')
        {
            if (!read_string(text))
                return std::nullopt;
            wanted = text == name;
            continue;
        }
        if (!read_u32(high) || (t == 'h' && !read_u32(low)))
            return std::nullopt;
        if (wanted)
        {
            if (t == 'i')
                return static_cast<double>(std::bit_cast<std::int32_t>(high));
            if (t == 'f')
                return static_cast<double>(std::bit_cast<float>(high));
            return static_cast<double>((std::uint64_t{high} << 32U) | low);
        }
    }
    return std::nullopt;
}

/// A graph that records each event with the frame it took effect at (frames rendered before it).
class recording_graph final : public audio::audio_graph
{
public:
    struct applied_event
    {
        std::uint64_t frame = 0;
        audio::engine_event event{};
    };
    void prepare(double, std::size_t) override {}
    void apply(const audio::engine_event& e) noexcept COURIER_REALTIME override
    {
        if (logged < log.size())
            log[logged++] = {rendered, e};
        count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // one writer; a counter
    }
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        for (std::size_t c = 0; c < channels; ++c)
            std::memset(out[c] + offset, 0, frames * sizeof(float));
        rendered += frames;
    }
    std::array<applied_event, 64> log{};  // the first 64 events; read after the stream stops
    std::size_t logged = 0;
    std::uint64_t rendered = 0;
    std::atomic<std::uint64_t> count{0};
};

}  // namespace courier::osc::testing
