// SPDX-License-Identifier: MIT
// The OSC packet-to-command conversion: a pure function from the bytes of one packet (a datagram or a stream
// frame) and the application's address map to typed commands or a rejection reason, with no socket, no allocation
// and no liblo, so it can be fuzzed and table-tested (docs/osc.md).
#pragma once

#include <courier/contracts.h>
#include <courier/osc/address_map.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace courier::osc {

/// Why a packet was rejected (docs/osc.md, "Error codes"). Each reason has a counter in endpoint_stats and a
/// name, sent back in the `/fail` reply.
enum class reject_reason : std::uint8_t
{
    none = 0,            ///< not rejected
    empty,               ///< a datagram of 0 bytes
    oversize,            ///< larger than max_packet_bytes (counted from the datagram's real length)
    not_aligned,         ///< a size that is not a multiple of 4
    truncated,           ///< ends before the string, argument or bundle element it announces
    bad_address,         ///< the address does not start with '/', is not terminated, or has non-zero padding
    pattern_unsupported, ///< the address holds an OSC pattern character (* ? [ ] { } ,): only exact names
    unknown_address,     ///< neither an endpoint verb nor an address of the application's address_map
    bad_type_tags,       ///< no type-tag string, or one that is not terminated/padded
    wrong_arg_count,     ///< the address takes another number of arguments
    wrong_arg_type,      ///< type tags that match none of the address's signatures
    out_of_range,        ///< a value outside its range, or not finite
    bad_string,          ///< a string argument not terminated, badly padded, empty or too long
    trailing_bytes,      ///< bytes left over after the last argument
    bad_bundle,          ///< a bundle element whose size is not a positive multiple of 4
    nested_bundle,       ///< a bundle inside a bundle
    bundle_too_large,    ///< more than max_bundle_messages messages in one bundle
    verb_in_bundle,      ///< a protocol verb (/status, /subscribe, ...) inside a bundle: only mapped addresses
    count_               ///< the number of reasons (not a reason)
};

/// The number of rejection reasons, for arrays indexed by reason.
inline constexpr std::size_t reject_reason_count = static_cast<std::size_t>(reject_reason::count_);

/// The name of `reason` as sent in `/fail` replies ("unknown_address", ...); "none" for none.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::string_view reason_name(reject_reason reason) noexcept COURIER_REALTIME;

/// What a message asks for: an application event (an address of the address_map; it goes to the engine), or one
/// of the protocol verbs the endpoint answers itself.
enum class command : std::uint8_t
{
    event,        ///< an address of the address_map: event_type, channel, key, value, tag filled from its arguments
    status,       ///< /status [i reply_port]
    subscribe,    ///< /subscribe s [f rate_hz] [i reply_port]    text = topic (/meters or /events)
    unsubscribe,  ///< /unsubscribe s [i reply_port]              text = topic
    load,         ///< /load s [i reply_port]                     text = path
    auth,         ///< /auth s                                    text = the shared secret (TCP connections)
};

/// True for the commands that go to the engine (the mapped addresses).
/// Thread: any. Real-time: wait-free.
[[nodiscard]] constexpr bool is_event(command c) noexcept COURIER_REALTIME
{
    return c == command::event;
}

/// The longest string argument accepted (a /load path or a topic), in bytes without the terminator.
inline constexpr std::size_t max_text_bytes = 255;

/// The most messages one bundle may hold.
inline constexpr std::size_t max_bundle_messages = 16;

/// The largest packet (datagram or stream frame) accepted, in bytes.
inline constexpr std::size_t max_packet_bytes = 4096;

/// One message, converted and range-checked. Plain data: it lives in the network thread's pool.
struct parsed_message
{
    command what = command::status;
    std::uint16_t event_type = 0; ///< command::event: the address_map entry's event type
    std::uint16_t channel = 0;    ///< command::event: from an argument mapped to arg_target::channel, else 0
    std::uint32_t key = 0;        ///< command::event: from an argument mapped to arg_target::key, else 0
    float value = 0.0F;           ///< command::event: from an argument mapped to arg_target::value, else 0
    std::uint32_t tag = 0;        ///< command::event: from an argument mapped to arg_target::tag, else 0
    float rate = 0.0F;           ///< /subscribe: notifications per second (0 = not given)
    std::int32_t reply_port = 0; ///< 0 = reply to the sender's port; else the sender's host at this UDP port
    std::uint32_t text_size = 0; ///< bytes used in `text`
    std::array<char, max_text_bytes + 1> text{};  ///< topic or path, NUL-terminated

    /// The string argument.
    /// Thread: the holder. Real-time: wait-free.
    [[nodiscard]] std::string_view text_view() const noexcept { return {text.data(), text_size}; }
};

/// What one packet holds: a single message, or a bundle of up to max_bundle_messages messages with a time
/// tag; or, when rejected, why and at which address.
struct parsed_packet
{
    bool bundle = false;
    std::uint64_t time_tag = 1;  ///< OSC (NTP) time tag of the bundle; 1 = "immediately" (also for a message)
    std::uint32_t count = 0;     ///< messages in `messages`
    std::array<parsed_message, max_bundle_messages> messages{};

    reject_reason reason = reject_reason::none;
    std::array<char, 64> failed_address{};  ///< the address of the rejected message if it could be read, else "?"
};

/// Converts the bytes of one packet into `out`, looking application addresses up in `addresses` (the endpoint's
/// verbs are always known). Returns reject_reason::none and fills `out.messages`, or returns why the packet was
/// rejected (also stored in `out.reason`, with `out.failed_address`). A bundle is converted all or nothing: one
/// bad element rejects the whole bundle. Never reads outside `bytes`, never allocates, never throws; costs
/// O(bytes.size() + addresses.size()).
/// Thread: any (not concurrently with addresses.add). Real-time: wait-free (bounded by the packet and map sizes;
/// not marked, it runs on the network thread).
[[nodiscard]] reject_reason parse_packet(std::span<const std::byte> bytes, const address_map& addresses,
                                         parsed_packet& out) noexcept;

/// The OSC time tag for "immediately".
inline constexpr std::uint64_t immediately = 1;

/// One message of a packet before conversion: its address and the bytes after the address (type tags and
/// arguments), both views into the packet.
struct packet_element
{
    std::string_view address;                 ///< starts with '/', no pattern characters
    std::span<const std::byte> after_address; ///< the type-tag string and the arguments, as they came
};

/// A packet's shape without its meaning: a message, or a bundle's time tag and messages. What a router needs to
/// send each message on by its address, and what parse_packet walks before converting.
struct packet_outline
{
    bool bundle = false;
    std::uint64_t time_tag = immediately;  ///< the bundle's; `immediately` for a message
    std::uint32_t count = 0;               ///< messages in `elements`
    std::array<packet_element, max_bundle_messages> elements{};
    std::string_view failed_address = "?"; ///< when rejected: the address of the message at fault, if read
};

/// Checks the framing of one packet (size, alignment, bundle elements, each message's address and type-tag
/// string) without an address map and lists its messages in `out`. Returns reject_reason::none, or why the packet
/// is malformed (one bad element rejects a bundle whole). The views in `out` point into `bytes`. Never reads
/// outside `bytes`, never allocates, never throws; O(bytes.size()).
/// Thread: any. Real-time: wait-free (bounded by the packet size; not marked, it runs on network threads).
[[nodiscard]] reject_reason outline_packet(std::span<const std::byte> bytes, packet_outline& out) noexcept;

}  // namespace courier::osc
