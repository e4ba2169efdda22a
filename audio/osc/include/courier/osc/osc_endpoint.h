// SPDX-License-Identifier: MIT
// The OSC endpoint: a network thread that receives OSC over UDP, a Unix datagram socket and TCP, converts each
// message through the application's address map and sends it to the engine through a lane of its own
// (docs/osc.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/audio/engine.h>
#include <courier/osc/osc_packet.h>
#include <courier/osc/stream_deframer.h>
#include <courier/patterns/port.h>
#include <courier/patterns/port_registry.h>
#include <courier/patterns/port_table.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace courier::osc {

/// The engine_event of an application message (command::event: type, channel, key, value and tag as parsed from
/// the address map); std::nullopt for a protocol verb.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::optional<audio::engine_event> to_engine_event(const parsed_message& message) noexcept
    COURIER_REALTIME;

/// The OSC time tag of a moment of the system clock (NTP era 0: seconds since 1900-01-01 in the high 32 bits).
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::uint64_t time_tag_from_unix_nanoseconds(std::int64_t nanoseconds) noexcept COURIER_REALTIME;

/// The OSC time tag of now (system clock).
/// Thread: any. Real-time: no (reads the clock: a vDSO call, no syscall on Linux, but not promised).
[[nodiscard]] std::uint64_t time_tag_now() noexcept;

/// The engine frame a bundle with time tag `tag` is scheduled at (docs/osc.md, "Time tags"):
/// `engine_frame + round((tag - now) * sample_rate)`, but never before `engine_frame + margin_frames`;
/// `immediately` (1) is scheduled at `engine_frame + margin_frames`. Returns std::nullopt when the tag is more
/// than `max_ahead_seconds` ahead of `now`. `late` is set when the tag asked for an earlier frame than the
/// earliest one.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::optional<std::uint64_t> frame_of_time_tag(std::uint64_t tag, std::uint64_t now,
                                                            std::uint64_t engine_frame, double sample_rate,
                                                            std::uint64_t margin_frames, double max_ahead_seconds,
                                                            bool& late) noexcept COURIER_REALTIME;

/// How an endpoint listens and what it allows. Security defaults: UDP and TCP bind to 127.0.0.1 only; a wider
/// bind needs `bind_address` set explicitly (courier-synth: --osc-bind); the Unix socket is made mode 0600; /load
/// reads only regular files under `load_root`, by relative paths without ".."; TCP connections are bounded in
/// number and buffer size, and can be asked for a shared secret.
struct endpoint_config
{
    address_map addresses;                    ///< the application's vocabulary (empty: only the endpoint's verbs)
    int udp_port = -1;                        ///< -1: no UDP socket; 0: any free port (see endpoint::udp_port())
    std::string bind_address = "127.0.0.1";   ///< IPv4 address to bind the UDP socket and the TCP listeners to
    std::string unix_path;                    ///< empty: no Unix datagram socket
    std::size_t receive_buffer_bytes = 4U << 20U;  ///< SO_RCVBUF asked for (the kernel may give less)
    std::size_t max_subscribers = 8;          ///< subscriptions at once, over all topics
    float default_rate = 10.0F;               ///< notifications per second when /subscribe gives none
    double subscription_lease_seconds = 30.0; ///< a datagram subscriber's subscriptions end when nothing came
                                              ///< from it for this long (re-send /subscribe, or anything, to
                                              ///< renew); 0: never. A connection's end with the connection
    std::uint64_t margin_frames = 1024;       ///< bundles: the earliest frame is the engine clock + this
    double max_ahead_seconds = 60.0;          ///< bundles: time tags further ahead are rejected (out_of_range)
    std::size_t timed_room = 256;             ///< timed events the endpoint lets be in flight (<= the engine's lane)
    std::filesystem::path load_root = ".";    ///< /load paths are relative to this directory
    std::uint64_t max_load_frames = 48000ULL * 600ULL;  ///< /load refuses longer files (too_long)
    std::size_t port_lanes = 4;               ///< senders the endpoint's own port takes (one per registry reader)
    bool read_meters = true;                  ///< the network thread reads the engine's meters itself (it is then
                                              ///< the engine's one meter reader); false: call publish_meters()
    std::size_t port_capacity = 256;          ///< messages per lane of that port
    std::vector<tcp_listener> tcp;            ///< TCP listeners (none by default), each with its framing
    std::size_t max_connections = 8;          ///< TCP connections at once over all listeners (1..255); more are
                                              ///< closed at once (connections_refused)
    std::size_t connection_buffer_bytes = 64U << 10U;  ///< per connection: bytes read ahead, and replies waiting
                                                       ///< for the client (full: replies dropped and counted)
    int connection_socket_buffer_bytes = 0;   ///< SO_SNDBUF and SO_RCVBUF of each connection (0: the kernel's)
    std::string tcp_secret;                   ///< non-empty: a TCP connection's first message must be
                                              ///< `/auth s <secret>`, else it is answered /fail and closed
    double tcp_idle_seconds = 0.0;            ///< > 0: a TCP connection that brings no whole packet for this
                                              ///< long (silent, or trickling bytes with no frame end) is closed
                                              ///< (connections_idle); 0: never
};

/// The endpoint's counters, read from any thread without locks; each field is exact for some moment during the
/// call. Every datagram read is counted once in `datagrams`, every TCP packet once in `frames`; each message in
/// either ends in exactly one of `applied`, `scheduled`, `refused`, `verbs` or (a whole packet) `rejected`, except
/// packets of a connection refused by the shared-secret check (`auth_failed`).
struct endpoint_stats
{
    std::uint64_t datagrams = 0;        ///< datagrams read from the sockets
    std::uint64_t kernel_dropped = 0;   ///< datagrams the kernel dropped because the receive buffer was full (UDP)
    std::uint64_t messages = 0;         ///< messages in accepted packets
    std::uint64_t bundles = 0;          ///< accepted bundles
    std::uint64_t applied = 0;          ///< mapped messages queued in the engine's mailbox lane
    std::uint64_t scheduled = 0;        ///< mapped messages of bundles queued in the engine's timed lane
    std::uint64_t late_bundles = 0;     ///< bundles whose time tag had passed (scheduled at the earliest frame)
    std::uint64_t refused = 0;          ///< messages refused by a full lane or missing room (replied /fail)
    std::uint64_t verbs = 0;            ///< protocol verbs handled (/status, /subscribe, /unsubscribe, /load)
    std::uint64_t rejected = 0;         ///< packets rejected (sum of `rejected_by`)
    std::array<std::uint64_t, reject_reason_count> rejected_by{};  ///< per reject_reason
    std::uint64_t replies = 0;          ///< replies and notifications sent
    std::uint64_t replies_failed = 0;   ///< replies the socket refused, or to a sender with no address
    std::uint64_t notifications = 0;    ///< /meters and /event notifications sent (also in `replies`)
    std::uint64_t subscribers = 0;      ///< subscriptions now
    std::uint64_t subscribers_refused = 0; ///< /subscribe refused: max_subscribers were taken (too_many_subscribers)
    std::uint64_t subscribers_expired = 0; ///< datagram subscriptions ended: the lease ran out (sender vanished)
    std::uint64_t loads_done = 0;       ///< /load requests that ended in /done
    std::uint64_t loads_failed = 0;     ///< /load requests that ended in /fail (refused, unreadable, ...)
    std::uint64_t events_forwarded = 0; ///< events sent to the endpoint's port and forwarded to /events subscribers
    std::uint64_t last_bundle_frame = 0;///< the engine frame the last bundle was scheduled at
    std::uint64_t connections = 0;      ///< TCP connections accepted
    std::uint64_t connections_open = 0; ///< TCP connections open now
    std::uint64_t connections_refused = 0; ///< TCP connections closed at once: max_connections were open
    std::uint64_t connections_cut = 0;  ///< TCP connections closed for an oversize packet (or endless bytes)
    std::uint64_t auth_failed = 0;      ///< TCP connections closed for a missing or wrong shared secret
    std::uint64_t connections_idle = 0; ///< TCP connections closed after endpoint_config::tcp_idle_seconds
                                        ///< without a whole packet
    std::uint64_t frames = 0;           ///< packets read from TCP connections
    std::uint64_t frame_errors = 0;     ///< TCP framing errors that kept the connection (size 0, bad SLIP escape)
    std::uint64_t backpressure = 0;     ///< times a connection stopped being read: the audio side's lane was full
    std::uint64_t stream_replies_dropped = 0; ///< replies a connection's buffer had no room for (also in
                                              ///< replies_failed): the client does not read
};

/// What the endpoint reads of the audio side for /status and for scheduling bundles; each field is exact for
/// some moment during the call.
struct link_status
{
    std::uint64_t frames = 0;             ///< frames rendered so far (the clock bundles are scheduled on)
    std::uint64_t callbacks = 0;          ///< audio callbacks (blocks) so far
    double sample_rate = 0.0;             ///< the stream's sample rate
    std::uint64_t immediate_applied = 0;  ///< immediate events applied by the audio side
    std::uint64_t timed_applied = 0;      ///< timed events applied (0 without a timed lane)
    std::uint64_t late_events = 0;        ///< timed events applied late (0 without a timed lane)
};

/// What the endpoint needs of the audio side it drives, so that it is not bound to audio::engine: a lane of its
/// own for immediate engine_event messages, optionally a timed lane, the clock and counters, and meters.
/// engine_adapter implements it over audio::engine; the JUCE plugin implements it over its own core
/// (demos/plugin/plugin_osc.h). The endpoint calls every function on its network thread only (after start()),
/// so an implementation's send functions have exactly one producer thread.
class engine_link
{
public:
    virtual ~engine_link() = default;

    /// Queues `event` for the audio side, to be applied as soon as it can; false when the lane is full (the
    /// endpoint counts it as refused and replies /fail ... lane_full).
    /// Thread: the endpoint's network thread. Real-time: wait-free if the implementation is.
    [[nodiscard]] virtual bool try_send(const audio::engine_event& event) noexcept = 0;

    /// Timed events queued and not yet applied, or std::nullopt when there is no timed lane (bundles are then
    /// refused with /fail #bundle no_timed_lane). This default has none.
    /// Thread: the endpoint's network thread. Real-time: wait-free if the implementation is.
    [[nodiscard]] virtual std::optional<std::uint64_t> timed_in_flight() const noexcept { return std::nullopt; }

    /// Queues `event` to take effect at frame `frame` of link_status::frames' clock; false when the lane is
    /// full. Called only when timed_in_flight() has a value. This default refuses.
    /// Thread: the endpoint's network thread. Real-time: wait-free if the implementation is.
    [[nodiscard]] virtual bool try_send_at(std::uint64_t frame, const audio::engine_event& event) noexcept
    {
        (void)frame;
        (void)event;
        return false;
    }

    /// The clock and counters now (for /status and bundles).
    /// Thread: the endpoint's network thread. Real-time: wait-free if the implementation is.
    [[nodiscard]] virtual link_status status() const noexcept = 0;

    /// Takes the newest meters when new ones came (used with endpoint_config::read_meters); false otherwise.
    /// This default has none (publish them with endpoint::publish_meters instead).
    /// Thread: the endpoint's network thread. Real-time: wait-free if the implementation is.
    [[nodiscard]] virtual bool try_read_meters(audio::engine_meters& into) noexcept
    {
        (void)into;
        return false;
    }

protected:
    engine_link() = default;
    engine_link(const engine_link&) = default;
    engine_link& operator=(const engine_link&) = default;
};

/// The engine_link of an audio::engine: immediate events through one of its producer lanes, bundles through its
/// timed sender once set_timed_sender() gave one, status from engine::stats(), meters from
/// engine::try_read_meters (so the thread calling it must be the engine's one meter reader).
class engine_adapter final : public engine_link
{
public:
    /// Links `engine` through `immediate` (engine::add_producer()); no timed lane yet. `engine` must outlive
    /// the adapter.
    /// Thread: setup. Real-time: wait-free.
    engine_adapter(audio::engine& engine, audio::engine_sender immediate) noexcept;

    /// Gives the adapter the engine's one timed sender (bundles are refused until then).
    /// Thread: setup (before the endpoint starts). Real-time: wait-free.
    void set_timed_sender(audio::engine_timed_sender timed) noexcept;

    /// engine_link over the engine (see engine_link for each).
    /// Thread: the endpoint's network thread. Real-time: wait-free.
    [[nodiscard]] bool try_send(const audio::engine_event& event) noexcept override;
    [[nodiscard]] std::optional<std::uint64_t> timed_in_flight() const noexcept override;
    [[nodiscard]] bool try_send_at(std::uint64_t frame, const audio::engine_event& event) noexcept override;
    [[nodiscard]] link_status status() const noexcept override;
    [[nodiscard]] bool try_read_meters(audio::engine_meters& into) noexcept override;

private:
    audio::engine* engine;
    audio::engine_sender immediate;
    audio::engine_timed_sender timed;
    bool has_timed = false;
};

/// The OSC endpoint. Owns a network thread (start() to stop()) and a disk worker for /load, which talk through a
/// protocol::request_reply (<courier/protocol/request_reply.h>: the network thread starts a load, the worker sends
/// progress replies and exactly one final reply). It is also a port (the endpoint's own mailbox, engine_event
/// messages): list it in a port_registry under "/osc" and any thread holding a reader can send it an event, which
/// it forwards to its /events subscribers.
///
/// Threads: setup for the constructor, register_in, set_timed_sender, start, stop and the destructor; any for
/// stats() and udp_port(); control for publish_meters(). While it runs with endpoint_config::read_meters, the
/// network thread is the engine's one meter reader.
class endpoint
{
public:
    /// Opens the sockets (throws std::runtime_error with the reason when one cannot be opened), the port and the
    /// /load link in `table` (three free slots). `immediate` is the endpoint's own lane into the engine's mailbox (engine::add_producer()).
    /// Thread: setup. Real-time: no (allocates, makes syscalls).
    endpoint(audio::engine& engine, audio::engine_sender immediate, port_table& table, const endpoint_config& config);

    /// The same on any audio side: the endpoint drives `link` (which must outlive the endpoint) instead of an
    /// engine. Bundles go through the link's timed lane, if it has one; set_timed_sender() does nothing here.
    /// Thread: setup. Real-time: no (allocates, makes syscalls).
    endpoint(engine_link& link, port_table& table, const endpoint_config& config);

    /// Stops the threads if running, closes the sockets and removes the Unix socket's file.
    /// Thread: setup. Real-time: no (joins, frees).
    ~endpoint();

    endpoint(const endpoint&) = delete;
    endpoint& operator=(const endpoint&) = delete;

    /// Lets bundles through: they are sent on `timed` (the engine's one timed sender; see frame_of_time_tag).
    /// Without it bundles are refused with `/fail <address> no_timed_lane`. Only for an endpoint built on an
    /// engine (it does nothing on an endpoint built on an engine_link).
    /// Thread: setup (before start). Real-time: no.
    void set_timed_sender(audio::engine_timed_sender timed) noexcept;

    /// Lists the endpoint's port in `registry` under `name`. The registry's readers must have been declared
    /// (port_registry::add_reader), and they must be fewer than endpoint_config::port_lanes.
    /// Thread: setup. Real-time: no (allocates).
    void register_in(port_registry<audio::engine_event>& registry, std::string name = "/osc");

    /// The endpoint's own port (connect() a channel to it, or list it by name with register_in).
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] port<audio::engine_event>& own_port() noexcept;

    /// Starts the network thread and the disk worker. The engine (or link) must be prepared (its sample rate
    /// known).
    /// Throws std::logic_error when already started.
    /// Thread: setup. Real-time: no (starts threads).
    void start();

    /// Stops and joins both threads. Does nothing when not started.
    /// Thread: setup. Real-time: no (joins).
    void stop() noexcept;

    /// Hands the endpoint the newest meters (for /status and /meters) when endpoint_config::read_meters is false,
    /// so that the program's own meter reader (a GUI timer, courier-synth's main loop) stays the engine's one.
    /// Thread: control (one publishing thread). Real-time: wait-free.
    void publish_meters(const audio::engine_meters& meters) noexcept;

    /// The counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] endpoint_stats stats() const noexcept;

    /// The UDP port bound (useful with udp_port = 0), or 0 without UDP.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint16_t udp_port() const noexcept;

    /// The TCP port listener `index` of endpoint_config::tcp is bound to, or 0 when there is no such listener.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint16_t tcp_port(std::size_t index = 0) const noexcept;

    struct state;  // defined in osc_endpoint_state.h, which is private (no liblo or socket headers here)

private:
    // Both public constructors: the endpoint owns `adapter` when given one, else drives `link`.
    endpoint(std::unique_ptr<engine_adapter> adapter, engine_link* link, port_table& table,
             const endpoint_config& config);

    void close_sockets() noexcept;  // the datagram sockets and the listeners (setup thread)

    std::unique_ptr<state> impl;  // ✗ dies in ~endpoint, on the setup thread
};

}  // namespace courier::osc
