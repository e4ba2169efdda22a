// SPDX-License-Identifier: MIT
// OSC over a byte stream (TCP): cutting the stream into packets, with an int32 big-endian size before each packet
// (as scsynth does) or SLIP framing (as OSC 1.1 says), and the encoders for the way back (docs/osc.md, "TCP").
// Pure: no socket, no allocation after construction, so it is table-tested and fuzzed on its own.
#pragma once

#include <courier/contracts.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace courier::osc {

/// How packets are delimited on a stream.
enum class framing : std::uint8_t
{
    size_prefix,  ///< int32 big-endian byte count, then the packet (OSC 1.0 streams, scsynth, SuperCollider NetAddr)
    slip,         ///< SLIP (RFC 1055) with END before and after each packet (OSC 1.1)
};

/// One TCP listener (of an endpoint or a router): its port and how packets are framed on the connections it
/// accepts.
struct tcp_listener
{
    int port = 0;                         ///< 0: any free port (see endpoint::tcp_port())
    framing kind = framing::size_prefix;  ///< size_prefix (scsynth, SuperCollider NetAddr) or slip (OSC 1.1)
};

/// "size_prefix" or "slip".
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::string_view framing_name(framing f) noexcept COURIER_REALTIME;

/// What stream_deframer::next found.
enum class deframe_status : std::uint8_t
{
    need_more,    ///< every input byte was taken and no packet is complete yet
    frame,        ///< a packet is complete: frame() holds it until the next call
    empty_frame,  ///< size_prefix: a size of 0 (dropped; the stream stays in step)
    bad_escape,   ///< slip: ESC followed by a byte other than ESC_END or ESC_ESC (the packet is dropped up to END)
    oversize,     ///< a packet longer than the limit, or a size prefix that is negative: the stream cannot be
                  ///< trusted any more (a client sending endless bytes without a frame end ends here); every
                  ///< later call returns oversize too, until reset()
};

/// The SLIP special bytes (RFC 1055).
inline constexpr std::byte slip_end{0xC0};
inline constexpr std::byte slip_esc{0xDB};
inline constexpr std::byte slip_esc_end{0xDC};
inline constexpr std::byte slip_esc_esc{0xDD};

/// Cuts a byte stream into packets of at most `max_frame_bytes`, holding the bytes of the packet in progress in a
/// buffer of that size (allocated once). Feed it whatever recv() returned, in any pieces: the packets and errors
/// come out the same however the stream was split.
///
///     std::span<const std::byte> in = received;
///     for (;;) {
///         const deframe_status s = deframer.next(in);   // takes bytes from the front of `in`
///         if (s == deframe_status::need_more) break;
///         if (s == deframe_status::frame) handle(deframer.frame());
///         else if (s == deframe_status::oversize) { close(); break; }
///         else count_error(s);
///     }
class stream_deframer
{
public:
    /// A deframer for `kind` packets of 1 to `max_frame_bytes` bytes (at least 1).
    /// Thread: setup. Real-time: no (allocates).
    stream_deframer(framing kind, std::size_t max_frame_bytes);

    /// Takes bytes from the front of `input` (advancing it) until a packet is complete, an error is found or
    /// the input is used up, and says which. After `frame`, frame() holds the packet until the next call.
    /// Thread: the owner (one thread). Real-time: wait-free (bounded by input.size()).
    [[nodiscard]] deframe_status next(std::span<const std::byte>& input) noexcept COURIER_REALTIME;

    /// The packet the last `frame` result completed (empty after any other result).
    /// Thread: the owner. Real-time: wait-free.
    [[nodiscard]] std::span<const std::byte> frame() const noexcept COURIER_REALTIME;

    /// Bytes of an unfinished packet held (0 between packets).
    /// Thread: the owner. Real-time: wait-free.
    [[nodiscard]] std::size_t held() const noexcept COURIER_REALTIME;

    /// Forgets any partial packet and an oversize state, as on a new connection.
    /// Thread: the owner. Real-time: wait-free.
    void reset() noexcept COURIER_REALTIME;

    /// The same, and reads `kind` packets from now on (a connection slot reused for another listener).
    /// Thread: the owner. Real-time: wait-free.
    void reset(framing kind) noexcept COURIER_REALTIME
    {
        reset();
        mode = kind;
    }

    /// The framing and the packet limit given at construction.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] framing kind() const noexcept COURIER_REALTIME { return mode; }
    [[nodiscard]] std::size_t max_frame_bytes() const noexcept COURIER_REALTIME { return buffer.size(); }

private:
    deframe_status next_size_prefix(std::span<const std::byte>& input) noexcept COURIER_REALTIME;
    deframe_status next_slip(std::span<const std::byte>& input) noexcept COURIER_REALTIME;

    framing mode;
    std::vector<std::byte> buffer;  // the packet in progress; ✗ dies with the deframer, on its owner's thread
    std::size_t size = 0;           // bytes of the packet in `buffer`
    bool complete = false;          // `buffer[0, size)` is the packet returned by the last `frame`
    bool broken = false;            // an oversize was found: nothing more is read
    // size_prefix: the prefix read so far and the size it announced
    std::uint32_t prefix = 0;
    std::size_t prefix_bytes = 0;
    std::size_t expected = 0;
    // slip: an ESC was the last byte; a bad escape is being skipped up to the next END
    bool escaped = false;
    bool skipping = false;
};

/// The most bytes encode_frame writes for a packet of `packet_bytes` bytes.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::size_t max_encoded_bytes(framing kind, std::size_t packet_bytes) noexcept COURIER_REALTIME;

/// Writes `packet` framed as `kind` into the front of `out`; returns the bytes written, or 0 when it does not fit
/// (nothing written then) or the packet is empty.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::size_t encode_frame(framing kind, std::span<const std::byte> packet,
                                       std::span<std::byte> out) noexcept COURIER_REALTIME;

}  // namespace courier::osc
