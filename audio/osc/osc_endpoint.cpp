// SPDX-License-Identifier: MIT
// The OSC endpoint of osc_endpoint.h: sockets, the network thread, replies built with liblo, subscriptions and
// the /load disk worker (docs/osc.md).
#include "audio/osc/osc_endpoint.h"

#include "core/counter.h"
#include "core/object_pool.h"
#include "core/wakeup.h"
#include "patterns/protocol/multi_reply.h"
#include "patterns/state_observer.h"

#include <lo/lo.h>
#include <sndfile.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace courier::osc {

// ---------------------------------------------------------------------------------------------------------
// Free functions

std::optional<audio::engine_event> to_engine_event(const parsed_message& m) noexcept COURIER_REALTIME
{
    audio::engine_event e;
    switch (m.what)
    {
    case command::gain: e.type = event_gain; e.value = m.value; break;
    case command::cutoff: e.type = event_cutoff; e.value = m.value; break;
    case command::waveform: e.type = event_waveform; e.key = static_cast<std::uint32_t>(m.key); break;
    case command::note_on:
        e.type = event_note_on;
        e.key = static_cast<std::uint32_t>(m.key);
        e.value = m.value;
        break;
    case command::note_off: e.type = event_note_off; e.key = static_cast<std::uint32_t>(m.key); break;
    case command::all_notes_off: e.type = event_all_notes_off; break;
    default: return std::nullopt;
    }
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

// ---------------------------------------------------------------------------------------------------------
// engine_adapter

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

// ---------------------------------------------------------------------------------------------------------
// The endpoint's state

namespace {

enum class load_error : std::uint8_t
{
    none,
    cannot_open,
    too_long,
    read_error,
};

const char* load_error_name(load_error e) noexcept
{
    switch (e)
    {
    case load_error::none: return "none";
    case load_error::cannot_open: return "cannot_open";
    case load_error::too_long: return "too_long";
    case load_error::read_error: return "read_error";
    }
    return "unknown";
}

// A sender's address: which socket it came in on and where to answer.
struct peer
{
    int fd = -1;
    sockaddr_storage address{};
    socklen_t length = 0;

    [[nodiscard]] bool answerable() const noexcept
    {
        return length > static_cast<socklen_t>(sizeof(sa_family_t));  // an unnamed Unix socket has no address
    }
    friend bool operator==(const peer& a, const peer& b) noexcept
    {
        return a.fd == b.fd && a.length == b.length && std::memcmp(&a.address, &b.address, a.length) == 0;
    }
};

// A /load request (protocol C4, request/multi-reply): made in the network thread's pool (the client's credits),
// read by the disk worker, and destroyed back on the network thread.
struct load_request
{
    load_request(std::filesystem::path p, std::uint64_t most) noexcept : path(std::move(p)), max_frames(most) {}
    std::filesystem::path path;
    std::uint64_t max_frames = 0;
};

// The disk worker's replies: progress (fraction), then one final reply (done, or the error). Made in the worker's
// pool and destroyed back on the worker.
struct load_reply
{
    float fraction = 0.0F;  // progress: how much is read
    load_error error = load_error::none;
    std::uint64_t frames = 0;
    std::int32_t channels = 0;
    double sample_rate = 0.0;
};

struct subscription
{
    peer to;
    bool meters = true;  // else /events
    std::chrono::steady_clock::duration period{};
    std::chrono::steady_clock::time_point next{};
};

struct counters
{
    // Written by the network thread only (count_up); read by stats() from any thread.
    std::atomic<std::uint64_t> datagrams{0}, kernel_dropped{0}, messages{0}, bundles{0}, applied{0}, scheduled{0},
        late_bundles{0}, refused{0}, verbs{0}, rejected{0}, replies{0}, replies_failed{0}, notifications{0},
        subscribers{0}, loads_done{0}, loads_failed{0}, events_forwarded{0}, last_bundle_frame{0};
    std::array<std::atomic<std::uint64_t>, reject_reason_count> rejected_by{};
};

void set(std::atomic<std::uint64_t>& c, std::uint64_t v) noexcept
{
    c.store(v, std::memory_order_relaxed);  // a counter; nothing is read through it
}

int open_udp(const std::string& bind_address, int port, std::size_t buffer_bytes)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, bind_address.c_str(), &a.sin_addr) != 1)
        throw std::runtime_error("OSC: '" + bind_address + "' is not an IPv4 address");
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

// A reply message under construction (liblo), serialised into a buffer and sent with sendto.
class reply_builder
{
public:
    reply_builder() : m(lo_message_new()) {}
    ~reply_builder() { lo_message_free(m); }
    reply_builder(const reply_builder&) = delete;
    reply_builder& operator=(const reply_builder&) = delete;

    reply_builder& s(std::string_view v)
    {
        const std::string text(v);
        lo_message_add_string(m, text.c_str());
        return *this;
    }
    reply_builder& i(std::int32_t v)
    {
        lo_message_add_int32(m, v);
        return *this;
    }
    reply_builder& h(std::uint64_t v)
    {
        lo_message_add_int64(m, static_cast<std::int64_t>(v));
        return *this;
    }
    reply_builder& f(double v)
    {
        lo_message_add_float(m, static_cast<float>(v));
        return *this;
    }
    // Serialises the message for `path` into `buffer`; returns the size, 0 when it does not fit.
    std::size_t serialise(const char* path, std::vector<char>& buffer)
    {
        const std::size_t size = lo_message_length(m, path);
        if (size == 0 || size > buffer.size())
            return 0;
        std::size_t written = buffer.size();
        if (lo_message_serialise(m, path, buffer.data(), &written) == nullptr)
            return 0;
        return written;
    }

private:
    lo_message m;
};

}  // namespace

struct endpoint::state
{
    state(std::unique_ptr<engine_adapter> adapter, engine_link& l, port_table& table, const endpoint_config& c)
        : owned_adapter(std::move(adapter)), link(&l), config(c),
          own(table, std::max<std::size_t>(c.port_lanes, 1), c.port_capacity), loads(table, 1, 4),
          meters_out(meter_cell.publisher()), meters_in(meter_cell.reader()), reply_buffer(2048),
          receive_buffer(65536)
    {
    }

    // --- set at setup
    std::unique_ptr<engine_adapter> owned_adapter;  // the engine constructor's link; ✗ dies in ~state, on setup
    engine_link* link;                              // used by the network thread only
    endpoint_config config;
    int udp_fd = -1;
    int unix_fd = -1;
    std::uint16_t bound_port = 0;
    port<audio::engine_event> own;               // ✗ closed in ~state (after the threads stopped), on setup
    // /load: the network thread is the client, the disk worker the server; one load at a time, four progress
    // replies out at most. ✗ Requests and replies die in ~state at the latest (after both threads stopped).
    protocol::multi_reply<load_request, load_reply> loads;

    // publish_meters() -> the network thread, when config.read_meters is false.
    state_observer<audio::engine_meters> meter_cell;
    state_publisher<audio::engine_meters> meters_out;  // the publishing control thread
    state_reader<audio::engine_meters> meters_in;      // the network thread

    // --- the network thread's own
    object_pool<parsed_packet> packets{1};       // the parse target, one at a time
    std::vector<char> reply_buffer;
    std::vector<std::byte> receive_buffer;
    std::vector<subscription> subscribers;
    audio::engine_meters meters{};
    std::uint64_t load_id = 0;  // the running load's id (0: none)
    peer load_peer;
    std::string load_name;

    // --- the disk worker's own
    wakeup worker_wake;
    std::uint64_t progress_dropped = 0;  // progress replies refused for room (droppable; the final never is)

    counters count;
    std::atomic<bool> stop_requested{false};  // set by stop(); read by both threads (a flag; joins synchronise)
    std::thread network;
    std::thread worker;

    void network_loop() noexcept;
    void receive_from(int fd) noexcept;
    void handle_datagram(const peer& from, std::span<const std::byte> bytes) noexcept;
    void handle_verb(const peer& from, const parsed_message& m) noexcept;
    void handle_bundle(const peer& from, const parsed_packet& p) noexcept;
    void drain_port() noexcept;
    void take_load_replies() noexcept;
    void notify_due() noexcept;
    void send(const peer& to, const char* path, reply_builder& b) noexcept;
    void fail(const peer& to, std::string_view address, std::string_view reason) noexcept;
    void reject(const peer& to, const parsed_packet& p) noexcept;
    [[nodiscard]] peer reply_peer(const peer& from, std::int32_t reply_port) const noexcept;
    void worker_loop() noexcept;
    void run_load(std::uint64_t id, const std::filesystem::path& path, std::uint64_t max_frames) noexcept;
};

// ---------------------------------------------------------------------------------------------------------
// The network thread

void endpoint::state::send(const peer& to, const char* path, reply_builder& b) noexcept
{
    try
    {
        const std::size_t size = b.serialise(path, reply_buffer);
        if (!to.answerable() || size == 0 ||
            ::sendto(to.fd, reply_buffer.data(), size, MSG_DONTWAIT | MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr*>(&to.address), to.length) != static_cast<ssize_t>(size))
        {
            count_up(count.replies_failed);
            return;
        }
        count_up(count.replies);
    }
    catch (...)
    {
        count_up(count.replies_failed);
    }
}

void endpoint::state::fail(const peer& to, std::string_view address, std::string_view reason) noexcept
{
    try
    {
        reply_builder b;
        b.s(address).s(reason);
        send(to, "/fail", b);
    }
    catch (...)
    {
        count_up(count.replies_failed);
    }
}

void endpoint::state::reject(const peer& to, const parsed_packet& p) noexcept
{
    count_up(count.rejected);
    count_up(count.rejected_by[static_cast<std::size_t>(p.reason)]);
    fail(to, p.failed_address.data(), reason_name(p.reason));
}

peer endpoint::state::reply_peer(const peer& from, std::int32_t reply_port) const noexcept
{
    peer to = from;
    if (reply_port != 0 && from.address.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in*>(&to.address)->sin_port = htons(static_cast<std::uint16_t>(reply_port));
    return to;
}

void endpoint::state::network_loop() noexcept
{
    std::array<pollfd, 2> fds{};
    nfds_t n = 0;
    for (const int fd : {udp_fd, unix_fd})
        if (fd >= 0)
            fds[n++] = pollfd{fd, POLLIN, 0};
    while (!stop_requested.load(std::memory_order_relaxed))  // a flag; stop() joins after setting it
    {
        if (::poll(fds.data(), n, 2) > 0)
            for (nfds_t i = 0; i < n; ++i)
                if ((fds[i].revents & POLLIN) != 0)
                    receive_from(fds[i].fd);
        audio::engine_meters fresh;
        if (config.read_meters && link->try_read_meters(fresh))
            meters = fresh;
        else if (!config.read_meters && meters_in.update())
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
        peer from;
        from.fd = fd;
        iovec io{receive_buffer.data(), receive_buffer.size()};
        std::array<char, CMSG_SPACE(sizeof(std::uint32_t))> control{};
        msghdr header{};
        header.msg_name = &from.address;
        header.msg_namelen = sizeof from.address;
        header.msg_iov = &io;
        header.msg_iovlen = 1;
        header.msg_control = control.data();
        header.msg_controllen = control.size();
        const ssize_t got = ::recvmsg(fd, &header, MSG_TRUNC | MSG_DONTWAIT);
        if (got < 0)
            return;  // EAGAIN: nothing more now
        from.length = header.msg_namelen;
        for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
            {
                std::uint32_t dropped = 0;
                std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
                set(count.kernel_dropped, dropped);  // the kernel's running total for this socket
            }
        count_up(count.datagrams);
        const auto size = static_cast<std::size_t>(got);
        if (size > receive_buffer.size())
        {
            parsed_packet too_big;
            too_big.reason = reject_reason::oversize;
            too_big.failed_address = {'?'};
            reject(from, too_big);
            continue;
        }
        handle_datagram(from, std::span<const std::byte>(receive_buffer.data(), size));
    }
}

void endpoint::state::handle_datagram(const peer& from, std::span<const std::byte> bytes) noexcept
{
    pool_ptr<parsed_packet> packet = packets.try_make();  // the typed message, in the network thread's pool
    if (!packet)
        return;  // cannot happen: one packet at a time, and it returns before the next
    parsed_packet& p = *packet;
    if (parse_packet(bytes, p) != reject_reason::none)
    {
        reject(from, p);
        return;
    }
    count_up(count.messages, p.count);
    if (p.bundle)
    {
        count_up(count.bundles);
        handle_bundle(from, p);
        return;
    }
    const parsed_message& m = p.messages[0];
    if (const auto event = to_engine_event(m))
    {
        if (link->try_send(*event))
            count_up(count.applied);
        else
        {
            count_up(count.refused);
            fail(from, p.failed_address.data(), "lane_full");
        }
        return;
    }
    count_up(count.verbs);
    handle_verb(from, m);
}  // ✗ the packet goes back to its slot here, on the network thread

void endpoint::state::handle_bundle(const peer& from, const parsed_packet& p) noexcept
{
    if (p.count == 0)
        return;  // an empty bundle: nothing to do
    const std::optional<std::uint64_t> in_flight = link->timed_in_flight();
    if (!in_flight)
    {
        count_up(count.refused, p.count);
        fail(from, "#bundle", "no_timed_lane");
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
        count_up(count.refused, p.count);
        fail(from, "#bundle", "timed_lane_full");
        return;
    }
    for (std::uint32_t i = 0; i < p.count; ++i)
    {
        const auto event = to_engine_event(p.messages[i]);
        if (event && link->try_send_at(*frame, *event))
            count_up(count.scheduled);
        else
        {
            count_up(count.refused);  // only if the engine's lane is smaller than timed_room
            fail(from, "#bundle", "timed_lane_full");
        }
    }
    if (late)
        count_up(count.late_bundles);
    set(count.last_bundle_frame, *frame);
}

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
            b.s("late").h(s.late_events).s("osc_applied").h(count.applied.load(std::memory_order_relaxed));
            b.s("osc_scheduled").h(count.scheduled.load(std::memory_order_relaxed));
            b.s("osc_refused").h(count.refused.load(std::memory_order_relaxed));
            b.s("osc_rejected").h(count.rejected.load(std::memory_order_relaxed));
            b.s("last_bundle_frame").h(count.last_bundle_frame.load(std::memory_order_relaxed));
            send(to, "/status", b);
            return;
        }
        case command::subscribe:
        {
            const bool wants_meters = m.text_view() == "/meters";
            if (!wants_meters && m.text_view() != "/events")
            {
                fail(to, "/subscribe", "unknown_topic");
                return;
            }
            if (!to.answerable())
            {
                count_up(count.replies_failed);
                return;
            }
            const auto same = [&](const subscription& s) { return s.to == to && s.meters == wants_meters; };
            auto found = std::find_if(subscribers.begin(), subscribers.end(), same);
            if (found == subscribers.end())
            {
                if (subscribers.size() >= config.max_subscribers)
                {
                    fail(to, "/subscribe", "too_many_subscribers");
                    return;
                }
                subscribers.push_back(subscription{to, wants_meters, {}, {}});
                found = subscribers.end() - 1;
            }
            const float rate = m.rate > 0.0F ? m.rate : config.default_rate;
            found->period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(1.0 / static_cast<double>(rate)));
            found->next = std::chrono::steady_clock::now();
            set(count.subscribers, subscribers.size());
            reply_builder b;
            b.s("/subscribe").s(m.text_view()).f(static_cast<double>(rate));
            send(to, "/done", b);
            return;
        }
        case command::unsubscribe:
        {
            const bool wants_meters = m.text_view() == "/meters";
            const auto before = subscribers.size();
            std::erase_if(subscribers, [&](const subscription& s) { return s.to == to && s.meters == wants_meters; });
            set(count.subscribers, subscribers.size());
            if (subscribers.size() == before)
            {
                fail(to, "/unsubscribe", "not_subscribed");
                return;
            }
            reply_builder b;  // the final acknowledgement: nothing more comes for this topic after it
            b.s("/unsubscribe").s(m.text_view());
            send(to, "/done", b);
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
                count_up(count.loads_failed);
                fail(to, "/load", "path_not_allowed");
                return;
            }
            (void)loads.client().collect();  // ✗ finished requests die here, on the network thread
            const protocol::ticket t = loads.client().try_start(config.load_root / relative, config.max_load_frames);
            if (t.result != protocol::outcome::sent)
            {
                count_up(count.loads_failed);  // no_credit: one load is running
                fail(to, "/load", t.result == protocol::outcome::no_credit ? "busy" : protocol::to_string(t.result));
                return;
            }
            worker_wake.signal_and_wake();
            load_id = t.id;
            load_peer = to;
            load_name = std::string(m.text_view());
            return;
        }
        default: return;
        }
    }
    catch (...)
    {
        fail(to, "?", "internal_error");
    }
}

void endpoint::state::drain_port() noexcept
{
    (void)own.drain(
        [this](audio::engine_event&& e) {
            try
            {
                count_up(count.events_forwarded);
                for (const subscription& s : subscribers)
                    if (!s.meters)
                    {
                        reply_builder b;
                        b.i(e.type).i(e.channel).i(static_cast<std::int32_t>(e.key)).f(static_cast<double>(e.value));
                        b.i(static_cast<std::int32_t>(e.tag));
                        send(s.to, "/event", b);
                        count_up(count.notifications);
                    }
            }
            catch (...)
            {
                count_up(count.replies_failed);
            }
        },
        256);
}

void endpoint::state::take_load_replies() noexcept
{
    (void)loads.client().take_replies(
        [this](std::uint64_t id, protocol::multi_status status, load_reply* reply) {
            if (id != load_id)
                return;
            try
            {
                reply_builder b;
                if (status == protocol::multi_status::progress)
                {
                    b.s(load_name).f(static_cast<double>(reply->fraction));
                    send(load_peer, "/load/progress", b);
                    return;
                }
                load_id = 0;
                if (status == protocol::multi_status::final_reply && reply->error == load_error::none)
                {
                    count_up(count.loads_done);
                    b.s("/load").s(load_name).h(reply->frames).i(reply->channels).f(reply->sample_rate);
                    send(load_peer, "/done", b);
                    return;
                }
                count_up(count.loads_failed);
                b.s("/load").s(status == protocol::multi_status::server_gone ? "worker_gone"
                                                                             : load_error_name(reply->error));
                send(load_peer, "/fail", b);
            }
            catch (...)
            {
                count_up(count.replies_failed);
            }
        },
        64);  // each reply goes home to the worker's pool after its call
}

void endpoint::state::notify_due() noexcept
{
    const auto now = std::chrono::steady_clock::now();
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
            send(s.to, "/meters", b);
            count_up(count.notifications);
        }
        catch (...)
        {
            count_up(count.replies_failed);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// The disk worker

void endpoint::state::worker_loop() noexcept
{
    while (!stop_requested.load(std::memory_order_relaxed))  // a flag; stop() joins after setting it
    {
        (void)worker_wake.wait_for(std::chrono::milliseconds(50));
        protocol::multi_server<load_request, load_reply>& server = loads.server();
        std::uint64_t id = 0;
        std::filesystem::path path;
        std::uint64_t max_frames = 0;
        try
        {
            // The request goes home after the call: copy what the load needs (the worker may allocate).
            (void)server.accept(
                [&](std::uint64_t started, load_request& r) {
                    id = started;
                    path = r.path;
                    max_frames = r.max_frames;
                },
                1);
        }
        catch (...)
        {
            if (id != 0)
                (void)server.try_finish(id, load_reply{0.0F, load_error::too_long, 0, 0, 0.0});
            continue;
        }
        if (id != 0)
            run_load(id, path, max_frames);
        (void)server.collect();  // ✗ replies the network thread has read die here, on the worker
    }
}

void endpoint::state::run_load(std::uint64_t id, const std::filesystem::path& path, std::uint64_t max_frames) noexcept
{
    protocol::multi_server<load_request, load_reply>& server = loads.server();
    auto finish = [&](load_reply r) { (void)server.try_finish(id, r); };  // room for it was reserved at start
    SF_INFO info{};
    SNDFILE* file = nullptr;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec))
        file = sf_open(path.c_str(), SFM_READ, &info);
    if (file == nullptr)
    {
        finish(load_reply{0.0F, load_error::cannot_open, 0, 0, 0.0});
        return;
    }
    const auto frames = static_cast<std::uint64_t>(std::max<sf_count_t>(info.frames, 0));
    if (frames > max_frames || info.channels <= 0)
    {
        sf_close(file);
        finish(load_reply{0.0F, load_error::too_long, 0, 0, 0.0});
        return;
    }
    try
    {
        const auto channels = static_cast<std::uint64_t>(info.channels);
        std::vector<float> samples(frames * channels);  // the loaded sound
        const std::uint64_t chunk = 16384;
        std::uint64_t done = 0;
        std::uint64_t next_tenth = 1;
        while (done < frames && !stop_requested.load(std::memory_order_relaxed))
        {
            const std::uint64_t want = std::min(chunk, frames - done);
            const sf_count_t got = sf_readf_float(file, samples.data() + done * channels, static_cast<sf_count_t>(want));
            if (got <= 0)
                break;
            done += static_cast<std::uint64_t>(got);
            for (; next_tenth <= 10 && done * 10 >= frames * next_tenth; ++next_tenth)
            {
                (void)server.collect();
                load_reply progress;
                progress.fraction = static_cast<float>(next_tenth) / 10.0F;
                if (server.try_progress(id, progress) != protocol::outcome::sent)
                    ++progress_dropped;  // progress is droppable: the client is behind; the final is not
            }
        }
        sf_close(file);
        if (done < frames)
        {
            finish(load_reply{0.0F, load_error::read_error, 0, 0, 0.0});
            return;
        }
        finish(load_reply{1.0F, load_error::none, frames, info.channels, static_cast<double>(info.samplerate)});
    }  // ✗ the samples die here, on the worker: no graph plays them yet (docs/osc.md, "/load")
    catch (...)
    {
        finish(load_reply{0.0F, load_error::too_long, 0, 0, 0.0});  // could not allocate
    }
}

// ---------------------------------------------------------------------------------------------------------
// endpoint

endpoint::endpoint(audio::engine& engine, audio::engine_sender immediate, port_table& table,
                   const endpoint_config& config)
    : endpoint(std::make_unique<engine_adapter>(engine, std::move(immediate)), nullptr, table, config)
{
}

endpoint::endpoint(engine_link& link, port_table& table, const endpoint_config& config)
    : endpoint(nullptr, &link, table, config)
{
}

endpoint::endpoint(std::unique_ptr<engine_adapter> adapter, engine_link* link, port_table& table,
                   const endpoint_config& config)
{
    engine_link& used = adapter ? *adapter : *link;
    impl = std::make_unique<state>(std::move(adapter), used, table, config);
    if (config.udp_port < -1 || config.udp_port > 65535)
        throw std::invalid_argument("OSC: the UDP port must be from 0 to 65535");
    if (config.udp_port < 0 && config.unix_path.empty())
        throw std::invalid_argument("OSC: neither a UDP port nor a Unix socket path was given");
    if (config.udp_port >= 0)
    {
        impl->udp_fd = open_udp(config.bind_address, config.udp_port, config.receive_buffer_bytes);
        sockaddr_in bound{};
        socklen_t length = sizeof bound;
        if (::getsockname(impl->udp_fd, reinterpret_cast<sockaddr*>(&bound), &length) == 0)
            impl->bound_port = ntohs(bound.sin_port);
    }
    if (!config.unix_path.empty())
    {
        try
        {
            impl->unix_fd = open_unix(config.unix_path, config.receive_buffer_bytes);
        }
        catch (...)
        {
            if (impl->udp_fd >= 0)
                ::close(impl->udp_fd);
            throw;
        }
    }
}

endpoint::~endpoint()
{
    stop();
    if (impl->udp_fd >= 0)
        ::close(impl->udp_fd);
    if (impl->unix_fd >= 0)
    {
        ::close(impl->unix_fd);
        ::unlink(impl->config.unix_path.c_str());
    }
    // The /load link dies with the state: both inboxes close, then the pools (every body dies here at the latest).
}

void endpoint::set_timed_sender(audio::engine_timed_sender timed) noexcept
{
    if (impl->owned_adapter)
        impl->owned_adapter->set_timed_sender(std::move(timed));
}

void endpoint::register_in(port_registry<audio::engine_event>& registry, std::string name)
{
    registry.add(std::move(name), impl->own);
}

port<audio::engine_event>& endpoint::own_port() noexcept
{
    return impl->own;
}

void endpoint::start()
{
    if (impl->network.joinable())
        throw std::logic_error("OSC: the endpoint is already started");
    impl->stop_requested.store(false, std::memory_order_relaxed);  // before the threads exist
    impl->worker = std::thread([s = impl.get()] { s->worker_loop(); });
    impl->network = std::thread([s = impl.get()] { s->network_loop(); });
}

void endpoint::stop() noexcept
{
    if (!impl->network.joinable())
        return;
    impl->stop_requested.store(true, std::memory_order_relaxed);  // a flag; the joins below synchronise
    impl->worker_wake.signal_and_wake();
    impl->network.join();
    impl->worker.join();
}

void endpoint::publish_meters(const audio::engine_meters& m) noexcept
{
    impl->meters_out.publish(m);
}

endpoint_stats endpoint::stats() const noexcept
{
    const counters& c = impl->count;
    auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    endpoint_stats s;
    s.datagrams = get(c.datagrams);
    s.kernel_dropped = get(c.kernel_dropped);
    s.messages = get(c.messages);
    s.bundles = get(c.bundles);
    s.applied = get(c.applied);
    s.scheduled = get(c.scheduled);
    s.late_bundles = get(c.late_bundles);
    s.refused = get(c.refused);
    s.verbs = get(c.verbs);
    s.rejected = get(c.rejected);
    for (std::size_t i = 0; i < reject_reason_count; ++i)
        s.rejected_by[i] = get(c.rejected_by[i]);
    s.replies = get(c.replies);
    s.replies_failed = get(c.replies_failed);
    s.notifications = get(c.notifications);
    s.subscribers = get(c.subscribers);
    s.loads_done = get(c.loads_done);
    s.loads_failed = get(c.loads_failed);
    s.events_forwarded = get(c.events_forwarded);
    s.last_bundle_frame = get(c.last_bundle_frame);
    return s;
}

std::uint16_t endpoint::udp_port() const noexcept
{
    return impl->bound_port;
}

}  // namespace courier::osc
