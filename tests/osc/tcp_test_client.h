// SPDX-License-Identifier: MIT
// A TCP client for the OSC tests: connects to 127.0.0.1, frames packets (size prefix or SLIP), reads framed
// replies and notices when the endpoint closes the connection (docs/osc.md, "TCP").
#pragma once

#include <courier/osc/stream_deframer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace courier::osc::testing {

/// A blocking TCP client on loopback.
class tcp_client
{
public:
    /// Connects to 127.0.0.1:`port`; `receive_buffer` > 0 shrinks the socket's receive buffer first (a client
    /// that reads slowly). connected() says whether it worked.
    tcp_client(std::uint16_t port, framing framed_as, int receive_buffer = 0)
        : kind(framed_as), deframer(framed_as, 1U << 16U)
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (receive_buffer > 0)
            (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        const int on = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        to.sin_port = htons(port);
        ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0;
    }
    ~tcp_client() { ::close(fd); }
    tcp_client(const tcp_client&) = delete;
    tcp_client& operator=(const tcp_client&) = delete;

    [[nodiscard]] bool connected() const { return ok; }

    /// Sends raw bytes, all of them (false when the connection is gone).
    bool send_raw(std::span<const std::byte> data) const
    {
        while (!data.empty())
        {
            const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            data = data.subspan(static_cast<std::size_t>(n));
        }
        return true;
    }

    /// Frames `packet` and sends it.
    bool send(const std::vector<std::byte>& packet) const
    {
        std::vector<std::byte> framed(max_encoded_bytes(kind, packet.size()));
        framed.resize(encode_frame(kind, packet, framed));
        return send_raw(framed);
    }

    /// The next packet, or nothing after `timeout_ms` or when the connection closed (see closed()).
    std::optional<std::vector<std::byte>> receive(int timeout_ms)
    {
        for (;;)
        {
            std::span<const std::byte> in(pending.data() + pending_at, pending.size() - pending_at);
            const deframe_status s = deframer.next(in);
            pending_at = pending.size() - in.size();
            if (s == deframe_status::frame)
                return std::vector<std::byte>(deframer.frame().begin(), deframer.frame().end());
            if (s != deframe_status::need_more)
                return std::nullopt;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, timeout_ms) <= 0)
                return std::nullopt;
            pending.resize(65536);
            const ssize_t got = ::recv(fd, pending.data(), pending.size(), 0);
            if (got <= 0)
            {
                pending.clear();
                pending_at = 0;
                is_closed = true;
                return std::nullopt;
            }
            pending.resize(static_cast<std::size_t>(got));
            pending_at = 0;
        }
    }

    /// Reads (and drops) everything until the endpoint closes the connection; false after `timeout_ms` without
    /// it closing.
    bool wait_closed(int timeout_ms)
    {
        while (!is_closed)
            if (!receive(timeout_ms) && !is_closed)
                return false;
        return true;
    }

    int fd = -1;

private:
    framing kind;
    stream_deframer deframer;
    std::vector<std::byte> pending;
    std::size_t pending_at = 0;
    bool ok = false;
    bool is_closed = false;
};

}  // namespace courier::osc::testing
