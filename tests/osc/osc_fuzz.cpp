// SPDX-License-Identifier: MIT
// libFuzzer target over the OSC packet-to-command conversion (docs/osc.md, "Testing"): any input must be either
// rejected with a reason or converted into commands whose values are in range.
#include <courier/osc/osc_packet.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

namespace {

// The synth's vocabulary (demos/synth/synth_osc_map.h), with its event numbers spelled out: this target builds
// only the pure conversion, without the audio headers.
enum : std::uint16_t { note_on = 1, note_off = 2, set_gain = 3, set_cutoff = 4, set_waveform = 5, all_off = 6 };

const courier::osc::address_map& fuzz_map()
{
    using namespace courier::osc;
    static const address_map map = [] {
        address_map m;
        m.add("/synth/gain", set_gain, {{float_arg(arg_target::value, 0.0, 4.0)}});
        m.add("/synth/cutoff", set_cutoff, {{float_arg(arg_target::value, 10.0, 20000.0)}});
        m.add("/synth/waveform", set_waveform, {{int_arg(arg_target::key, 0.0, 2.0)}});
        m.add("/synth/note_on", note_on,
              {{int_arg(arg_target::key, 0.0, 127.0), int_arg(arg_target::value, 0.0, 127.0, 1.0 / 127.0)},
               {int_arg(arg_target::key, 0.0, 127.0), float_arg(arg_target::value, 0.0, 1.0)}});
        m.add("/synth/note_off", note_off, {{int_arg(arg_target::key, 0.0, 127.0)}});
        m.add("/synth/all_notes_off", all_off, {{}});
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
