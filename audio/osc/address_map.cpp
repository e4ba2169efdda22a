// SPDX-License-Identifier: MIT
// The application's OSC address space of address_map.h: registration with its checks, and the lookups
// parse_packet makes (docs/osc.md, "The address map").
#include <courier/osc/address_map.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace courier::osc {

namespace {

constexpr std::array<std::string_view, 5> verbs{"/status", "/subscribe", "/unsubscribe", "/load", "/auth"};

bool is_pattern_or_space(char c) noexcept
{
    return c == '*' || c == '?' || c == '[' || c == ']' || c == '{' || c == '}' || c == ',' || c == '#' ||
           c == ' ' || c == '\0';
}

[[noreturn]] void refuse(std::string_view address, const std::string& why)
{
    throw std::invalid_argument("OSC address map: '" + std::string(address) + "': " + why);
}

}  // namespace

bool is_endpoint_verb(std::string_view address) noexcept COURIER_REALTIME
{
    return std::find(verbs.begin(), verbs.end(), address) != verbs.end();
}

const address_map::signature* address_map::entry::find(std::string_view tags) const noexcept COURIER_REALTIME
{
    for (std::size_t i = 0; i < signature_count; ++i)
        if (signatures[i].tag_view() == tags)
            return &signatures[i];
    return nullptr;
}

address_map& address_map::add(std::string_view address, std::uint16_t event_type,
                              std::initializer_list<std::initializer_list<arg_spec>> list)
{
    if (address.empty() || address.front() != '/')
        refuse(address, "an address starts with '/'");
    if (address.size() > max_address_bytes)
        refuse(address, "longer than " + std::to_string(max_address_bytes) + " bytes");
    if (std::any_of(address.begin(), address.end(), is_pattern_or_space))
        refuse(address, "holds a pattern character (* ? [ ] { } , #), a space or a NUL; register exact names");
    if (is_endpoint_verb(address))
        refuse(address, "is one of the endpoint's own verbs");
    if (find(address) != nullptr)
        refuse(address, "is registered already");
    if (event_type == 0)
        refuse(address, "event type 0 means nothing to every graph");
    if (list.size() == 0)
        refuse(address, "needs at least one signature ({{}} for no arguments)");
    if (list.size() > max_signatures)
        refuse(address, "more than " + std::to_string(max_signatures) + " signatures");

    entry e;
    e.address = std::string(address);
    e.event_type = event_type;
    for (const auto& args : list)
    {
        if (args.size() > max_args)
            refuse(address, "a signature of more than " + std::to_string(max_args) + " arguments");
        signature& s = e.signatures[e.signature_count];
        for (const arg_spec& a : args)
        {
            if (a.type != 'i' && a.type != 'f')
                refuse(address, std::string("type '") + a.type + "': only 'i' and 'f' arguments can be mapped");
            if (!std::isfinite(a.low) || !std::isfinite(a.high) || a.low > a.high)
                refuse(address, "an argument's range is empty or not finite");
            if (a.type == 'f' && a.to != arg_target::value)
                refuse(address, "a float argument can only fill the value");
            if (a.scale != 1.0 && a.to != arg_target::value)
                refuse(address, "only the value argument can be scaled");
            if (a.type == 'i' && a.to != arg_target::value && a.low < 0.0)
                refuse(address, "key, channel and tag are unsigned: the range must start at 0 or above");
            s.args[s.count] = a;
            s.tags[s.count] = a.type;
            ++s.count;
        }
        if (e.find(s.tag_view()) != nullptr)
            refuse(address, "two signatures with the same type tags");
        ++e.signature_count;
    }
    entries.push_back(std::move(e));
    return *this;
}

const address_map::entry* address_map::find(std::string_view address) const noexcept COURIER_REALTIME
{
    for (const entry& e : entries)
        if (e.address == address)
            return &e;
    return nullptr;
}

}  // namespace courier::osc
