// SPDX-License-Identifier: MIT
// The pure OSC packet-to-command conversion of osc_packet.h: a strict reader of OSC 1.0 messages and bundles for
// the endpoint's verbs and the application's address map (docs/osc.md).
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

// The endpoint's own verbs and the argument lists each accepts (type tags without the comma).
struct verb
{
    std::string_view address;
    command what;
    std::array<std::string_view, 3> tags;
};

constexpr std::array<verb, 5> verbs{{
    {"/status", command::status, {"", "i", ""}},
    {"/subscribe", command::subscribe, {"s", "sf", "sfi"}},
    {"/unsubscribe", command::unsubscribe, {"s", "si", ""}},
    {"/load", command::load, {"s", "si", ""}},
    {"/auth", command::auth, {"s", "", ""}},
}};

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

// Reads the type-tag string at the reader's position (after the address).
reject_reason read_tags(reader& r, std::string_view& tags) noexcept
{
    if (r.left() == 0)
        return reject_reason::bad_type_tags;  // OSC 1.0 allows no tag string; this endpoint does not
    if (r.bytes[r.at] != std::byte{','})
        return reject_reason::bad_type_tags;
    switch (r.read_string(tags))
    {
    case reader::string_status::truncated: return reject_reason::truncated;
    case reader::string_status::bad: return reject_reason::bad_type_tags;
    case reader::string_status::ok: break;
    }
    tags.remove_prefix(1);  // the ','
    return reject_reason::none;
}

// The arguments of a mapped address, checked against the entry's signature for `tags`.
reject_reason read_event(reader& r, const address_map::entry& e, std::string_view tags, parsed_message& m) noexcept
{
    const address_map::signature* s = e.find(tags);
    if (s == nullptr)
    {
        const bool count_fits = std::any_of(e.signatures.begin(), e.signatures.begin() + static_cast<std::ptrdiff_t>(e.signature_count),
                                            [&](const address_map::signature& x) { return x.count == tags.size(); });
        return count_fits ? reject_reason::wrong_arg_type : reject_reason::wrong_arg_count;
    }
    m.what = command::event;
    m.event_type = e.event_type;
    bool in_range_all = true;
    for (std::size_t i = 0; i < s->count; ++i)
    {
        const arg_spec& a = s->args[i];
        std::uint32_t raw = 0;
        if (!r.read_u32(raw))
            return reject_reason::truncated;
        const double v = a.type == 'i' ? static_cast<double>(std::bit_cast<std::int32_t>(raw))
                                       : static_cast<double>(std::bit_cast<float>(raw));
        if (!(std::isfinite(v) && v >= a.low && v <= a.high))
        {
            in_range_all = false;  // read on: a short packet is `truncated` before it is out of range
            continue;
        }
        switch (a.to)
        {
        case arg_target::key: m.key = static_cast<std::uint32_t>(v); break;
        case arg_target::channel: m.channel = static_cast<std::uint16_t>(v); break;
        case arg_target::tag: m.tag = static_cast<std::uint32_t>(v); break;
        case arg_target::value: m.value = static_cast<float>(v * a.scale); break;
        }
    }
    if (r.left() != 0)
        return reject_reason::trailing_bytes;
    return in_range_all ? reject_reason::none : reject_reason::out_of_range;
}

// The arguments of an endpoint verb.
reject_reason read_verb(reader& r, const verb& v, std::string_view tags, parsed_message& m) noexcept
{
    m.what = v.what;
    const bool known = std::find(v.tags.begin(), v.tags.end(), tags) != v.tags.end() &&
                       (!tags.empty() || v.tags[0].empty());
    if (!known)
    {
        const bool count_fits = std::any_of(v.tags.begin(), v.tags.end(), [&](std::string_view t) {
            return t.size() == tags.size() && (!t.empty() || v.tags[0].empty());
        });
        return count_fits ? reject_reason::wrong_arg_type : reject_reason::wrong_arg_count;
    }
    std::size_t ints = 0;
    std::size_t floats = 0;
    std::int32_t int_value = 0;
    float float_value = 0.0F;
    for (const char t : tags)
    {
        if (t == 'i' || t == 'f')
        {
            std::uint32_t raw = 0;
            if (!r.read_u32(raw))
                return reject_reason::truncated;
            if (t == 'i')
            {
                int_value = std::bit_cast<std::int32_t>(raw);
                ++ints;
            }
            else
            {
                float_value = std::bit_cast<float>(raw);
                ++floats;
            }
        }
        else  // 's': the only other tag any verb takes
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
    m.reply_port = ints == 1 ? int_value : 0;
    if (m.reply_port < 0 || m.reply_port > 65535)
        return reject_reason::out_of_range;
    if (floats == 1)
    {
        m.rate = float_value;
        if (!in_range(m.rate, 0.5F, 100.0F))
            return reject_reason::out_of_range;
    }
    return reject_reason::none;
}

// Reads one message's address and checks its type-tag string is there (the arguments are read by parse_message).
reject_reason outline_message(std::span<const std::byte> bytes, packet_element& e, std::string_view& failed) noexcept
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
    failed = address;
    if (std::any_of(address.begin(), address.end(), is_pattern_char))
        return reject_reason::pattern_unsupported;
    e.address = address;
    e.after_address = bytes.subspan(r.at);
    reader tags_reader{e.after_address};
    std::string_view tags;
    return read_tags(tags_reader, tags);
}

// Converts one outlined message.
reject_reason parse_message(const packet_element& e, const address_map& addresses, bool in_bundle,
                            parsed_message& m) noexcept
{
    const auto* found_verb =
        std::find_if(verbs.begin(), verbs.end(), [&](const verb& v) { return v.address == e.address; });
    const address_map::entry* found_event = found_verb == verbs.end() ? addresses.find(e.address) : nullptr;
    if (found_verb == verbs.end() && found_event == nullptr)
        return reject_reason::unknown_address;
    if (in_bundle && found_event == nullptr)
        return reject_reason::verb_in_bundle;
    m = parsed_message{};
    reader r{e.after_address};
    std::string_view tags;
    if (const reject_reason why = read_tags(r, tags); why != reject_reason::none)
        return why;
    return found_event != nullptr ? read_event(r, *found_event, tags, m) : read_verb(r, *found_verb, tags, m);
}

constexpr std::string_view bundle_marker{"#bundle\0", 8};

}  // namespace

std::string_view reason_name(reject_reason reason) noexcept COURIER_REALTIME
{
    const auto i = static_cast<std::size_t>(reason);
    return i < reason_names.size() ? reason_names[i] : std::string_view("?");
}

reject_reason outline_packet(std::span<const std::byte> bytes, packet_outline& out) noexcept
{
    out.bundle = false;
    out.time_tag = immediately;
    out.count = 0;
    out.failed_address = "?";
    if (bytes.empty())
        return reject_reason::empty;
    if (bytes.size() > max_packet_bytes)
        return reject_reason::oversize;
    if (bytes.size() % 4 != 0)
        return reject_reason::not_aligned;

    const bool is_bundle = bytes.size() >= bundle_marker.size() &&
                           std::memcmp(bytes.data(), bundle_marker.data(), bundle_marker.size()) == 0;
    if (!is_bundle)
    {
        if (const reject_reason why = outline_message(bytes, out.elements[0], out.failed_address);
            why != reject_reason::none)
            return why;
        out.count = 1;
        out.failed_address = "?";
        return reject_reason::none;
    }

    out.bundle = true;
    reader r{bytes, bundle_marker.size()};
    if (!r.read_u64(out.time_tag))
        return reject_reason::truncated;
    std::uint32_t count = 0;
    while (r.left() > 0)
    {
        std::uint32_t size = 0;
        if (!r.read_u32(size))
            return reject_reason::truncated;
        if (size == 0 || size % 4 != 0)
            return reject_reason::bad_bundle;
        if (size > r.left())
            return reject_reason::truncated;
        const auto element = bytes.subspan(r.at, size);
        r.at += size;
        if (size >= bundle_marker.size() &&
            std::memcmp(element.data(), bundle_marker.data(), bundle_marker.size()) == 0)
            return reject_reason::nested_bundle;
        if (count == max_bundle_messages)
            return reject_reason::bundle_too_large;
        if (const reject_reason why = outline_message(element, out.elements[count], out.failed_address);
            why != reject_reason::none)
            return why;
        ++count;
    }
    out.count = count;
    out.failed_address = "?";
    return reject_reason::none;
}

reject_reason parse_packet(std::span<const std::byte> bytes, const address_map& addresses, parsed_packet& out) noexcept
{
    out.bundle = false;
    out.time_tag = immediately;
    out.count = 0;
    out.reason = reject_reason::none;
    note_address(out, "?");
    packet_outline outline;
    if (const reject_reason why = outline_packet(bytes, outline); why != reject_reason::none)
    {
        note_address(out, outline.failed_address);
        return reject(out, why);
    }
    out.bundle = outline.bundle;
    out.time_tag = outline.time_tag;
    for (std::uint32_t i = 0; i < outline.count; ++i)
    {
        note_address(out, outline.elements[i].address);
        if (const reject_reason why = parse_message(outline.elements[i], addresses, outline.bundle, out.messages[i]);
            why != reject_reason::none)
            return reject(out, why);
    }
    out.count = outline.count;
    if (out.bundle)
        note_address(out, "?");  // a single message keeps its address: a later /fail (lane_full) names it
    return reject_reason::none;
}

}  // namespace courier::osc
