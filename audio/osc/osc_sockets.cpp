// SPDX-License-Identifier: MIT
// The OSC endpoint's sockets of osc_sockets.h: UDP, Unix datagram and TCP listening sockets opened, read and
// answered with the plain socket calls (docs/osc.md).
#include "osc_sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>

namespace courier::osc {

std::optional<sockaddr_in> ipv4_address(const std::string& host, int port) noexcept
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
        return std::nullopt;
    return a;
}

namespace {

sockaddr_in bind_address_of(const std::string& bind_address, int port)
{
    const std::optional<sockaddr_in> a = ipv4_address(bind_address, port);
    if (!a)
        throw std::runtime_error("OSC: '" + bind_address + "' is not an IPv4 address");
    return *a;
}

}  // namespace

int open_udp(const std::string& bind_address, int port, std::size_t buffer_bytes)
{
    const sockaddr_in a = bind_address_of(bind_address, port);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error(std::string("OSC: socket: ") + std::strerror(errno));
    int size = static_cast<int>(std::min<std::size_t>(buffer_bytes, 1U << 30U));
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);  // capped by rmem_max
    const int on = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);  // the kernel's drop count, per datagram
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0)
    {
        const int e = errno;
        ::close(fd);
        throw std::runtime_error("OSC: cannot bind UDP " + bind_address + ":" + std::to_string(port) + ": " +
                                 std::strerror(e));
    }
    return fd;
}

std::uint16_t bound_port(int fd) noexcept
{
    sockaddr_in bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0)
        return ntohs(bound.sin_port);
    return 0;
}

int open_tcp(const std::string& bind_address, int port)
{
    const sockaddr_in a = bind_address_of(bind_address, port);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error(std::string("OSC: socket: ") + std::strerror(errno));
    const int on = 1;
    (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // a restart finds the port free
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0)
    {
        const int e = errno;
        ::close(fd);
        throw std::runtime_error("OSC: cannot listen on TCP " + bind_address + ":" + std::to_string(port) + ": " +
                                 std::strerror(e));
    }
    return fd;
}

int open_unix(const std::string& path, std::size_t buffer_bytes)
{
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path)
        throw std::runtime_error("OSC: the socket path '" + path + "' is too long");
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0)
    {
        if (!S_ISSOCK(st.st_mode))
            throw std::runtime_error("OSC: '" + path + "' exists and is not a socket; not removing it");
        ::unlink(path.c_str());  // a socket left by an earlier run
    }
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error(std::string("OSC: socket: ") + std::strerror(errno));
    int size = static_cast<int>(std::min<std::size_t>(buffer_bytes, 1U << 30U));
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    // umask is process-wide: this runs at setup (the constructor), before other threads create files.
    const mode_t old_mask = ::umask(0077);  // the socket file is owner-only from the start (0700), ...
    const int bound = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    const int e = errno;
    ::umask(old_mask);
    if (bound == 0)
        (void)::chmod(path.c_str(), 0600);  // ... then 0600: only this user may send (connecting needs write)
    if (bound != 0)
    {
        ::close(fd);
        throw std::runtime_error("OSC: cannot bind the Unix socket '" + path + "': " + std::strerror(e));
    }
    return fd;
}

std::optional<datagram> try_receive(int fd, std::span<std::byte> buffer) noexcept
{
    datagram d;
    d.from.fd = fd;
    iovec io{buffer.data(), buffer.size()};
    std::array<char, CMSG_SPACE(sizeof(std::uint32_t))> control{};
    msghdr header{};
    header.msg_name = &d.from.address;
    header.msg_namelen = sizeof d.from.address;
    header.msg_iov = &io;
    header.msg_iovlen = 1;
    header.msg_control = control.data();
    header.msg_controllen = control.size();
    const ssize_t got = ::recvmsg(fd, &header, MSG_TRUNC | MSG_DONTWAIT);
    if (got < 0)
        return std::nullopt;  // EAGAIN: nothing more now
    d.from.length = header.msg_namelen;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
        {
            std::uint32_t dropped = 0;
            std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
            d.kernel_dropped = dropped;  // the kernel's running total for this socket
        }
    d.size = static_cast<std::size_t>(got);
    return d;
}

bool send_to(const peer& to, std::span<const char> bytes) noexcept
{
    return ::sendto(to.fd, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                    reinterpret_cast<const sockaddr*>(&to.address), to.length) == static_cast<ssize_t>(bytes.size());
}

peer reply_peer(const peer& from, std::int32_t reply_port) noexcept COURIER_REALTIME
{
    peer to = from;
    if (reply_port != 0 && from.stream == 0 && from.address.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in*>(&to.address)->sin_port = htons(static_cast<std::uint16_t>(reply_port));
    return to;
}

}  // namespace courier::osc
