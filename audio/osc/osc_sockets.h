// SPDX-License-Identifier: MIT
// The OSC endpoint's sockets: opening and binding the UDP, Unix datagram and TCP listening sockets, reading a
// datagram and sending one back (docs/osc.md). Private to courier_osc: no public header includes it.
#pragma once

#include <courier/contracts.h>

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <netinet/in.h>

#include <optional>
#include <span>
#include <string>

namespace courier::osc {

/// A sender's address: which socket it came in on and where to answer; or, for a TCP connection, which
/// connection (replies go back over it).
struct peer
{
    int fd = -1;
    sockaddr_storage address{};
    socklen_t length = 0;
    std::uint32_t stream = 0;  ///< 0: a datagram sender; else the connection's id (connection_table)

    /// Whether a reply can be sent to it.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] bool answerable() const noexcept COURIER_REALTIME
    {
        // an unnamed Unix socket has no address; a connection always has its way back
        return stream != 0 || length > static_cast<socklen_t>(sizeof(sa_family_t));
    }
    /// The same connection, or the same socket and address.
    /// Thread: any. Real-time: wait-free.
    friend bool operator==(const peer& a, const peer& b) noexcept COURIER_REALTIME
    {
        if (a.stream != 0 || b.stream != 0)
            return a.stream == b.stream;
        return a.fd == b.fd && a.length == b.length && std::memcmp(&a.address, &b.address, a.length) == 0;
    }
};

/// One datagram read by try_receive.
struct datagram
{
    peer from;
    std::size_t size = 0;  ///< the datagram's whole size: larger than the buffer when it was cut short
    std::optional<std::uint32_t> kernel_dropped;  ///< the kernel's running drop total for the socket, if it said
};

/// The IPv4 socket address `host`:`port`, or std::nullopt when `host` is not a dotted IPv4 address.
/// Thread: any. Real-time: no (inet_pton).
[[nodiscard]] std::optional<sockaddr_in> ipv4_address(const std::string& host, int port) noexcept;

/// Opens a non-blocking UDP socket bound to `bind_address`:`port` (0: any free port), asks for a receive buffer of
/// `buffer_bytes` and for the kernel's drop count with each datagram. Throws std::runtime_error with the reason.
/// Thread: setup. Real-time: no (syscalls, allocates).
[[nodiscard]] int open_udp(const std::string& bind_address, int port, std::size_t buffer_bytes);

/// The port a UDP or TCP socket is bound to, or 0 when it cannot be read.
/// Thread: setup. Real-time: no (syscall).
[[nodiscard]] std::uint16_t bound_port(int fd) noexcept;

/// Opens a non-blocking TCP listening socket bound to `bind_address`:`port` (0: any free port). Throws
/// std::runtime_error with the reason.
/// Thread: setup. Real-time: no (syscalls, allocates).
[[nodiscard]] int open_tcp(const std::string& bind_address, int port);

/// Opens a non-blocking Unix datagram socket bound to `path` (mode 0600), replacing a socket file an earlier run
/// left there, and asks for a receive buffer of `buffer_bytes`. Throws std::runtime_error with the reason.
/// Changes the process-wide umask for the moment of the bind, so no other thread may create files meanwhile.
/// Thread: setup. Real-time: no (syscalls, allocates).
[[nodiscard]] int open_unix(const std::string& path, std::size_t buffer_bytes);

/// Reads the next datagram waiting on `fd` into `buffer` (the part that fits); std::nullopt when none waits.
/// Thread: the network thread. Real-time: no (syscall).
[[nodiscard]] std::optional<datagram> try_receive(int fd, std::span<std::byte> buffer) noexcept;

/// Sends `bytes` to `to` without waiting; false unless the whole datagram was taken.
/// Thread: the network thread. Real-time: no (syscall).
[[nodiscard]] bool send_to(const peer& to, std::span<const char> bytes) noexcept;

/// Where to answer `from`: the same address, or for UDP the port `reply_port` instead when it is not 0; a
/// connection is always answered over itself.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] peer reply_peer(const peer& from, std::int32_t reply_port) noexcept COURIER_REALTIME;

}  // namespace courier::osc
