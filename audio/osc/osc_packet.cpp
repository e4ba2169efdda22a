// SPDX-License-Identifier: MIT
// The pure OSC packet-to-command conversion of osc_packet.h: a strict reader of OSC 1.0 messages and bundles for
// the endpoint's address space (docs/osc.md).
#include <courier/osc/osc_packet.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace courier::osc {

namespace {

constexpr std::array<std::string_view, reject_reason_count> reason_names{
    "none",          "empty",          "oversize",         "not_aligned",    "truncated",
    "bad_address",   "pattern_unsupported", "unknown_address", "bad_type_tags", "wrong_arg_count",
    "wrong_arg_type", "out_of_range",  "bad_string",       "trailing_bytes", "bad_bundle",
    "nested_bundle", "bundle_too_large", "verb_in_bundle",
};

// A bounded reader over the datagram: every read checks the remaining length first.
struct reader
{
    std::span<const std::byte> bytes;
    std::size_t at = 0;

    [[nodiscard]] std::size_t left() const noexcept { return bytes.size() - at; }

    // An OSC string: characters, a NUL, then NULs up to a multiple of 4. `status` says what went wrong.
    enum class string_status { ok, truncated, bad };
    string_status read_string(std::string_view& out) noexcept
    {
        const std::size_t start = at;
        std::size_t end = start;
        while (end < bytes.size() && bytes[end] != std::byte{0})
            ++end;
        if (end == bytes.size())
            return string_status::truncated;  // no terminator before the end
        const std::size_t padded = (end - start + 1 + 3) / 4 * 4;
        if (padded > bytes.size() - start)
            return string_status::truncated;
        for (std::size_t i = end; i < start + padded; ++i)
            if (bytes[i] != std::byte{0})
                return string_status::bad;
        out = std::string_view(reinterpret_cast<const char*>(bytes.data() + start), end - start);
        at = start + padded;
        return string_status::ok;
    }

    bool read_u32(std::uint32_t& out) noexcept
    {
        if (left() < 4)
            return false;
        out = 0;
        for (std::size_t i = 0; i < 4; ++i)
            out = (out << 8) | std::to_integer<std::uint32_t>(bytes[at + i]);
        at += 4;
        return true;
    }

    bool read_u64(std::uint64_t& out) noexcept
    {
        std::uint32_t high = 0;
        std::uint32_t low = 0;
        if (left() < 8 || !read_u32(high) || !read_u32(low))
            return false;
        out = (std::uint64_t{high} << 32) | low;
        return true;
    }
};

struct signature
{
    std::string_view address;
    command what;
};

constexpr std::array<signature, 10> address_space{{
    {"/synth/gain", command::gain},
    {"/synth/cutoff", command::cutoff},
    {"/synth/waveform", command::waveform},
    {"/synth/note_on", command::note_on},
    {"/synth/note_off", command::note_off},
    {"/synth/all_notes_off", command::all_notes_off},
    {"/status", command::status},
    {"/subscribe", command::subscribe},
    {"/unsubscribe", command::unsubscribe},
    {"/load", command::load},
}};

// The argument lists each command accepts (type tags without the comma); several for optional arguments.
struct accepted
{
    std::array<std::string_view, 3> tags;
    std::size_t min_args;
    std::size_t max_args;
};

accepted accepted_tags(command c) noexcept
{
    switch (c)
    {
    case command::gain:
    case command::cutoff: return {{"f", "", ""}, 1, 1};
    case command::waveform:
    case command::note_off: return {{"i", "", ""}, 1, 1};
    case command::note_on: return {{"ii", "if", ""}, 2, 2};
    case command::all_notes_off: return {{"", "", ""}, 0, 0};
    case command::status: return {{"", "i", ""}, 0, 1};
    case command::subscribe: return {{"s", "sf", "sfi"}, 1, 3};
    case command::unsubscribe:
    case command::load: return {{"s", "si", ""}, 1, 2};
    }
    return {{"", "", ""}, 0, 0};
}

bool is_pattern_char(char c) noexcept
{
    return c == '*' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == '#' ||
           c == ' ';
}

void note_address(parsed_packet& out, std::string_view address) noexcept
{
    out.failed_address.fill('\0');
    const std::size_t n = std::min(address.size(), out.failed_address.size() - 1);
    std::memcpy(out.failed_address.data(), address.data(), n);
}

reject_reason reject(parsed_packet& out, reject_reason why) noexcept
{
    out.reason = why;
    out.count = 0;
    return why;
}

bool in_range(float v, float low, float high) noexcept
{
    return std::isfinite(v) && v >= low && v <= high;
}

// Converts one message starting at the reader's position and ending at `bytes.size()`.
reject_reason parse_message(std::span<const std::byte> bytes, bool in_bundle, parsed_message& m,
                            parsed_packet& out) noexcept
{
    reader r{bytes};
    std::string_view address;
    switch (r.read_string(address))
    {
    case reader::string_status::truncated: return reject_reason::truncated;
    case reader::string_status::bad: return reject_reason::bad_address;
    case reader::string_status::ok: break;
    }
    if (address.empty() || address.front() != '/')
        return reject_reason::bad_address;
    note_address(out, address);
    if (std::any_of(address.begin(), address.end(), is_pattern_char))
        return reject_reason::pattern_unsupported;
    const auto* found = std::find_if(address_space.begin(), address_space.end(),
                                     [&](const signature& s) { return s.address == address; });
    if (found == address_space.end())
        return reject_reason::unknown_address;
    m = parsed_message{};
    m.what = found->what;
    if (in_bundle && !is_synth_command(m.what))
        return reject_reason::verb_in_bundle;

    if (r.left() == 0)
        return reject_reason::bad_type_tags;  // OSC 1.0 allows no tag string; this endpoint does not
    if (r.bytes[r.at] != std::byte{','})
        return reject_reason::bad_type_tags;
    std::string_view tags;
    switch (r.read_string(tags))
    {
    case reader::string_status::truncated: return reject_reason::truncated;
    case reader::string_status::bad: return reject_reason::bad_type_tags;
    case reader::string_status::ok: break;
    }
    tags.remove_prefix(1);  // the ','
    const accepted ok = accepted_tags(m.what);
    if (tags.size() < ok.min_args || tags.size() > ok.max_args)
        return reject_reason::wrong_arg_count;
    if (std::find(ok.tags.begin(), ok.tags.end(), tags) == ok.tags.end() ||
        (tags.empty() && ok.min_args > 0))
        return reject_reason::wrong_arg_type;

    // Read the arguments in order; their meaning depends on the command and position.
    std::size_t ints = 0;
    std::size_t floats = 0;
    std::int32_t int_args[3]{};
    float float_args[3]{};
    for (const char t : tags)
    {
        if (t == 'i' || t == 'f')
        {
            std::uint32_t raw = 0;
            if (!r.read_u32(raw))
                return reject_reason::truncated;
            if (t == 'i')
                int_args[ints++] = std::bit_cast<std::int32_t>(raw);
            else
                float_args[floats++] = std::bit_cast<float>(raw);
        }
        else  // 's': the only other tag any signature holds
        {
            std::string_view text;
            switch (r.read_string(text))
            {
            case reader::string_status::truncated: return reject_reason::truncated;
            case reader::string_status::bad: return reject_reason::bad_string;
            case reader::string_status::ok: break;
            }
            if (text.empty() || text.size() > max_text_bytes)
                return reject_reason::bad_string;
            std::memcpy(m.text.data(), text.data(), text.size());
            m.text[text.size()] = '\0';
            m.text_size = static_cast<std::uint32_t>(text.size());
        }
    }
    if (r.left() != 0)
        return reject_reason::trailing_bytes;

    switch (m.what)
    {
    case command::gain:
        m.value = float_args[0];
        return in_range(m.value, 0.0F, 4.0F) ? reject_reason::none : reject_reason::out_of_range;
    case command::cutoff:
        m.value = float_args[0];
        return in_range(m.value, 10.0F, 20000.0F) ? reject_reason::none : reject_reason::out_of_range;
    case command::waveform:
        m.key = int_args[0];
        return m.key >= 0 && m.key <= 2 ? reject_reason::none : reject_reason::out_of_range;
    case command::note_off:
        m.key = int_args[0];
        return m.key >= 0 && m.key <= 127 ? reject_reason::none : reject_reason::out_of_range;
    case command::note_on:
        m.key = int_args[0];
        if (m.key < 0 || m.key > 127)
            return reject_reason::out_of_range;
        if (ints == 2)
        {
            if (int_args[1] < 0 || int_args[1] > 127)
                return reject_reason::out_of_range;
            m.value = static_cast<float>(int_args[1]) / 127.0F;
            return reject_reason::none;
        }
        m.value = float_args[0];
        return in_range(m.value, 0.0F, 1.0F) ? reject_reason::none : reject_reason::out_of_range;
    case command::all_notes_off: return reject_reason::none;
    case command::status:
    case command::unsubscribe:
    case command::load:
        m.reply_port = ints == 1 ? int_args[0] : 0;
        return m.reply_port >= 0 && m.reply_port <= 65535 ? reject_reason::none : reject_reason::out_of_range;
    case command::subscribe:
        m.rate = floats == 1 ? float_args[0] : 0.0F;
        m.reply_port = ints == 1 ? int_args[0] : 0;
        if (floats == 1 && !in_range(m.rate, 0.5F, 100.0F))
            return reject_reason::out_of_range;
        return m.reply_port >= 0 && m.reply_port <= 65535 ? reject_reason::none : reject_reason::out_of_range;
    }
    return reject_reason::unknown_address;
}

constexpr std::string_view bundle_marker{"#bundle\0", 8};

}  // namespace

std::string_view reason_name(reject_reason reason) noexcept COURIER_REALTIME
{
    const auto i = static_cast<std::size_t>(reason);
    return i < reason_names.size() ? reason_names[i] : std::string_view("?");
}

reject_reason parse_packet(std::span<const std::byte> bytes, parsed_packet& out) noexcept
{
    out.bundle = false;
    out.time_tag = immediately;
    out.count = 0;
    out.reason = reject_reason::none;
    note_address(out, "?");
    if (bytes.empty())
        return reject(out, reject_reason::empty);
    if (bytes.size() > max_packet_bytes)
        return reject(out, reject_reason::oversize);
    if (bytes.size() % 4 != 0)
        return reject(out, reject_reason::not_aligned);

    const bool is_bundle = bytes.size() >= bundle_marker.size() &&
                           std::memcmp(bytes.data(), bundle_marker.data(), bundle_marker.size()) == 0;
    if (!is_bundle)
    {
        const reject_reason why = parse_message(bytes, false, out.messages[0], out);
        if (why != reject_reason::none)
            return reject(out, why);
        out.count = 1;
        return reject_reason::none;
    }

    out.bundle = true;
    reader r{bytes, bundle_marker.size()};
    if (!r.read_u64(out.time_tag))
        return reject(out, reject_reason::truncated);
    std::uint32_t count = 0;
    while (r.left() > 0)
    {
        std::uint32_t size = 0;
        if (!r.read_u32(size))
            return reject(out, reject_reason::truncated);
        if (size == 0 || size % 4 != 0)
            return reject(out, reject_reason::bad_bundle);
        if (size > r.left())
            return reject(out, reject_reason::truncated);
        const auto element = bytes.subspan(r.at, size);
        r.at += size;
        if (size >= bundle_marker.size() &&
            std::memcmp(element.data(), bundle_marker.data(), bundle_marker.size()) == 0)
            return reject(out, reject_reason::nested_bundle);
        if (count == max_bundle_messages)
            return reject(out, reject_reason::bundle_too_large);
        const reject_reason why = parse_message(element, true, out.messages[count], out);
        if (why != reject_reason::none)
            return reject(out, why);
        ++count;
    }
    out.count = count;
    note_address(out, "?");
    return reject_reason::none;
}

}  // namespace courier::osc
