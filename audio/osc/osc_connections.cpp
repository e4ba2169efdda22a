// SPDX-License-Identifier: MIT
// The OSC TCP connection table of osc_connections.h (the endpoint's clients, the router's controllers and nodes) (docs/osc.md, "TCP").
#include "osc_connections.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace courier::osc {

void open_listeners(const std::string& bind_address, std::span<const tcp_listener> wanted,
                    std::vector<listener_socket>& into)
{
    const std::size_t before = into.size();
    try
    {
        for (const tcp_listener& l : wanted)
        {
            const int fd = open_tcp(bind_address, l.port);
            into.push_back(listener_socket{fd, bound_port(fd), l.kind});
        }
    }
    catch (...)
    {
        for (std::size_t i = before; i < into.size(); ++i)
            ::close(into[i].fd);
        into.resize(before);
        throw;
    }
}

void poll_list::reserve(std::size_t most)
{
    fds.reserve(most);
    owner.reserve(most);
}

void poll_list::restart(std::initializer_list<int> sockets, std::span<const listener_socket> listeners) noexcept
{
    fds.clear();
    owner.clear();
    for (const int fd : sockets)
        if (fd >= 0)
        {
            fds.push_back(pollfd{fd, POLLIN, 0});
            owner.push_back(nullptr);
        }
    for (const listener_socket& l : listeners)
    {
        fds.push_back(pollfd{l.fd, POLLIN, 0});
        owner.push_back(nullptr);
    }
}

void poll_list::add(connection& c, short events) noexcept
{
    fds.push_back(pollfd{c.fd, events, 0});
    owner.push_back(&c);
}

connection::connection(std::size_t buffer_bytes, std::size_t max_packet)
    : deframer(framing::size_prefix, max_packet), in(buffer_bytes), out(buffer_bytes)
{
}

connection_table::connection_table(std::size_t max_connections, std::size_t buffer_bytes, std::size_t max_packet,
                                   counter& open_gauge)
    : gauge(&open_gauge)
{
    if (max_connections == 0 || max_connections > 255)
        throw std::invalid_argument("OSC: max_connections must be from 1 to 255");
    if (buffer_bytes < max_encoded_bytes(framing::slip, max_packet))
        throw std::invalid_argument("OSC: connection_buffer_bytes must hold one SLIP-framed packet of the largest "
                                    "size (" + std::to_string(max_encoded_bytes(framing::slip, max_packet)) + ")");
    table.reserve(max_connections);
    for (std::size_t i = 0; i < max_connections; ++i)
        table.emplace_back(buffer_bytes, max_packet);
    closed.reserve(2 * max_connections);
}

connection_table::~connection_table()
{
    for (connection& c : table)
        if (c.open())
            ::close(c.fd);
}

connection* connection_table::free_slot() noexcept COURIER_REALTIME
{
    for (connection& c : table)
        if (!c.open())
            return &c;
    return nullptr;
}

connection* connection_table::accept_from(const listener_socket& l, int socket_buffer_bytes, bool authenticated,
                                          counter& refused, bool& was_refused) noexcept
{
    was_refused = false;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = ::accept4(l.fd, reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return nullptr;  // EAGAIN: no more waiting (or the client gave up already)
    connection* slot = free_slot();
    if (slot == nullptr)
    {
        refused.add();  // before the close: the client may look at once
        ::close(fd);        // the limit: the client sees the connection closed
        was_refused = true;
        return nullptr;
    }
    const int on = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // replies are small: send each now
    if (socket_buffer_bytes > 0)
    {
        (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
    }
    open(*slot, fd, l.kind, address, length, authenticated);
    return slot;
}

bool connection_table::read_more(connection& c, bool& got_any) noexcept
{
    const ssize_t got = ::recv(c.fd, c.in.data(), c.in.size(), MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
    {
        close(c);  // the peer closed (or reset) the connection
        return false;
    }
    got_any = got > 0;
    if (got_any)
    {
        c.in_at = 0;
        c.in_end = static_cast<std::size_t>(got);
    }
    return true;
}

void connection_table::open(connection& c, int fd, framing kind, const sockaddr_storage& address, socklen_t length,
                            bool authenticated) noexcept COURIER_REALTIME
{
    const auto slot = static_cast<std::uint32_t>(&c - table.data());
    c.fd = fd;
    c.generation = (c.generation + 1) & 0xFFFFFFU;
    c.self = peer{};
    c.self.fd = fd;
    c.self.address = address;
    c.self.length = length;
    c.self.stream = (c.generation << 8U) | (slot + 1U);  // never 0: the slot part is 1..255
    c.authenticated = authenticated;
    c.paused = false;
    c.deframer.reset(kind);
    c.in_at = 0;
    c.in_end = 0;
    c.out_end = 0;
    ++opened;
    gauge->set(opened);  // a gauge; nothing is read through it
}

connection* connection_table::find(std::uint32_t id) noexcept COURIER_REALTIME
{
    const std::uint32_t slot = id & 0xFFU;
    if (slot == 0 || slot > table.size())
        return nullptr;
    connection& c = table[slot - 1];
    return c.open() && c.self.stream == id ? &c : nullptr;
}

bool connection_table::queue(connection& c, std::span<const std::byte> packet) noexcept
{
    const std::size_t n = encode_frame(c.deframer.kind(), packet, std::span<std::byte>(c.out).subspan(c.out_end));
    if (n == 0)
        return false;
    c.out_end += n;
    (void)flush(c);
    return true;
}

bool connection_table::flush(connection& c) noexcept
{
    std::size_t sent = 0;
    while (sent < c.out_end)
    {
        const ssize_t n = ::send(c.fd, c.out.data() + sent, c.out_end - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0)
        {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;  // the kernel's buffer is full: the rest waits for POLLOUT
        std::memmove(c.out.data(), c.out.data() + sent, c.out_end - sent);
        c.out_end -= sent;
        close(c);  // EPIPE, ECONNRESET: the client is gone
        return false;
    }
    std::memmove(c.out.data(), c.out.data() + sent, c.out_end - sent);
    c.out_end -= sent;
    return true;
}

void connection_table::close(connection& c) noexcept
{
    if (!c.open())
        return;
    --opened;
    gauge->set(opened);  // before the close: a client seeing it sees the count
    ::close(c.fd);
    c.fd = -1;
    c.out_end = 0;
    c.in_at = 0;
    c.in_end = 0;
    c.paused = false;
    if (closed.size() < closed.capacity())
        closed.push_back(c.self.stream);
}

}  // namespace courier::osc
