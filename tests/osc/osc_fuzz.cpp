// SPDX-License-Identifier: MIT
// libFuzzer target over the OSC packet-to-command conversion (docs/osc.md, "Testing"): any input must be either
// rejected with a reason or converted into commands whose values are in range.
#include <courier/osc/osc_packet.h>
#include "demos/synth/synth_osc_map.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

namespace {

// The synth's own vocabulary (demos/synth/synth_osc_map.h, free of audio headers), plus one address that fills
// every argument target, so the fuzzer drives the map courier-synth really registers.
const courier::osc::address_map& fuzz_map()
{
    using namespace courier::osc;
    static const address_map map = [] {
        address_map m = courier::synth::osc_address_map();
        m.add("/test/all", 7, {{int_arg(arg_target::channel, 0.0, 15.0), int_arg(arg_target::tag, 0.0, 1e9),
                                int_arg(arg_target::key, 0.0, 10.0), float_arg(arg_target::value, -1.0, 1.0)}});
        return m;
    }();
    return map;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace courier::osc;
    static parsed_packet packet;  // 4.5 KB: not on the stack every call
    const auto bytes = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size);
    const reject_reason why = parse_packet(bytes, fuzz_map(), packet);
    if (why != packet.reason)
        std::abort();
    if (why != reject_reason::none)
    {
        if (packet.count != 0 || reason_name(why) == "?")
            std::abort();
        return 0;
    }
    if (packet.count > max_bundle_messages || (!packet.bundle && packet.count != 1))
        std::abort();
    for (std::uint32_t i = 0; i < packet.count; ++i)
    {
        const parsed_message& m = packet.messages[i];
        using namespace courier::synth;
        const auto t = m.event_type;
        const bool bad_value = (t == set_gain && !(m.value >= 0.0F && m.value <= 4.0F)) ||
                               (t == set_cutoff && !(m.value >= 10.0F && m.value <= 20000.0F)) ||
                               (t == note_on && !(m.value >= 0.0F && m.value <= 1.0F)) ||
                               ((t == note_on || t == note_off) && m.key > 127) ||
                               (t == set_waveform && m.key > 2) ||
                               (t == 7 && (m.channel > 15 || m.tag > 1000000000U || m.key > 10 ||
                                           !(m.value >= -1.0F && m.value <= 1.0F))) ||
                               (is_event(m.what) && (t == 0 || t > 7)) ||
                               m.text_size > max_text_bytes || m.reply_port < 0 || m.reply_port > 65535 ||
                               (packet.bundle && !is_event(m.what));
        if (bad_value)
            std::abort();
    }
    return 0;
}
