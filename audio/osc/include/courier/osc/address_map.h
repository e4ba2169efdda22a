// SPDX-License-Identifier: MIT
// The OSC vocabulary an application registers with its endpoint: which addresses it accepts, with which argument
// types and ranges, and the engine_event each becomes (docs/osc.md, "The address map").
#pragma once

#include <courier/contracts.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace courier::osc {

/// The engine_event field an OSC argument is written to.
enum class arg_target : std::uint8_t
{
    key,      ///< engine_event::key (an int argument: a note, a waveform, a parameter index)
    value,    ///< engine_event::value (a float, or an int times `scale`)
    channel,  ///< engine_event::channel (an int argument)
    tag,      ///< engine_event::tag (an int argument; free for the sender, e.g. a sequence number)
};

/// One argument of a signature: its OSC type tag ('i' int32 or 'f' float32), the accepted range (inclusive; a
/// float must also be finite), the field it fills and, for the value field, a factor (an int velocity 0..127 with
/// scale 1/127 becomes 0..1).
struct arg_spec
{
    char type = 'f';
    arg_target to = arg_target::value;
    double low = 0.0;
    double high = 0.0;
    double scale = 1.0;
};

/// An int32 argument in [low, high] written to `to` (times `scale` when `to` is value).
/// Thread: any. Real-time: wait-free.
[[nodiscard]] constexpr arg_spec int_arg(arg_target to, double low, double high, double scale = 1.0) noexcept
{
    return arg_spec{'i', to, low, high, scale};
}

/// A float32 argument in [low, high] (finite) written to `to`.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] constexpr arg_spec float_arg(arg_target to, double low, double high) noexcept
{
    return arg_spec{'f', to, low, high, 1.0};
}

/// The application's OSC address space: exact addresses (no patterns) mapped to an engine_event type, each with
/// one or more accepted argument lists (signatures). Built at setup and handed to the endpoint in
/// endpoint_config::addresses; parse_packet looks addresses up in it without allocating. The endpoint's own
/// verbs (/status, /subscribe, /unsubscribe, /load, /auth) are not in it and cannot be registered.
///
///     osc::address_map map;
///     map.add("/synth/gain", set_gain, {{osc::float_arg(osc::arg_target::value, 0.0, 4.0)}});
///     map.add("/synth/note_on", note_on, {{osc::int_arg(key, 0, 127), osc::int_arg(value, 0, 127, 1.0 / 127)},
///                                         {osc::int_arg(key, 0, 127), osc::float_arg(value, 0.0, 1.0)}});
class address_map
{
public:
    static constexpr std::size_t max_args = 4;        ///< arguments one signature may have
    static constexpr std::size_t max_signatures = 4;  ///< signatures one address may have
    static constexpr std::size_t max_address_bytes = 63;

    /// One accepted argument list; `tags` is the type-tag string without the comma ("ii", "" for none).
    struct signature
    {
        std::array<arg_spec, max_args> args{};
        std::size_t count = 0;
        std::array<char, max_args + 1> tags{};

        /// The type tags as a string.
        /// Thread: any. Real-time: wait-free.
        [[nodiscard]] std::string_view tag_view() const noexcept COURIER_REALTIME { return {tags.data(), count}; }
    };

    /// One registered address.
    struct entry
    {
        std::string address;
        std::uint16_t event_type = 0;
        std::array<signature, max_signatures> signatures{};
        std::size_t signature_count = 0;

        /// The signature whose type tags are exactly `tags`, or nullptr.
        /// Thread: any. Real-time: wait-free.
        [[nodiscard]] const signature* find(std::string_view tags) const noexcept COURIER_REALTIME;
    };

    /// Registers `address` as event `event_type` (non-zero: 0 is "nothing" for every graph) with the given
    /// signatures (at least one; `{{}}` is "no arguments"). Throws std::invalid_argument with the reason for an
    /// address that does not start with '/', holds a pattern character (* ? [ ] { } , # or space), is longer
    /// than max_address_bytes, is registered already or is an endpoint verb; for a type other than 'i' or 'f',
    /// an empty or inverted range, a scale on an argument that is not the value, or too many signatures or
    /// arguments. Returns *this for chaining.
    /// Thread: setup. Real-time: no (allocates, may throw).
    address_map& add(std::string_view address, std::uint16_t event_type,
                     std::initializer_list<std::initializer_list<arg_spec>> signatures);

    /// The entry for exactly `address`, or nullptr when it is not registered.
    /// Thread: any (not concurrently with add). Real-time: wait-free (a linear search over size() entries).
    [[nodiscard]] const entry* find(std::string_view address) const noexcept COURIER_REALTIME;

    /// The number of registered addresses.
    /// Thread: any (not concurrently with add). Real-time: wait-free.
    [[nodiscard]] std::size_t size() const noexcept COURIER_REALTIME { return entries.size(); }

    /// The entries in registration order (for docs, help text and tests).
    /// Thread: any (not concurrently with add). Real-time: wait-free.
    [[nodiscard]] const std::vector<entry>& all() const noexcept COURIER_REALTIME { return entries; }

private:
    std::vector<entry> entries;  // ✗ dies with the map (the endpoint's copy: in ~endpoint, on the setup thread)
};

/// True for the addresses the endpoint answers itself (/status, /subscribe, /unsubscribe, /load, /auth).
/// Thread: any. Real-time: wait-free.
[[nodiscard]] bool is_endpoint_verb(std::string_view address) noexcept COURIER_REALTIME;

}  // namespace courier::osc
