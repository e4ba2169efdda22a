// SPDX-License-Identifier: MIT
// libFuzzer target over the OSC packet-to-command conversion (docs/osc.md, "Testing"): any input must be either
// rejected with a reason or converted into commands whose values are in range.
#include <courier/osc/osc_packet.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace courier::osc;
    static parsed_packet packet;  // 4.5 KB: not on the stack every call
    const auto bytes = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size);
    const reject_reason why = parse_packet(bytes, packet);
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
        const bool bad_value = (m.what == command::gain && !(m.value >= 0.0F && m.value <= 4.0F)) ||
                               (m.what == command::cutoff && !(m.value >= 10.0F && m.value <= 20000.0F)) ||
                               (m.what == command::note_on && !(m.value >= 0.0F && m.value <= 1.0F)) ||
                               ((m.what == command::note_on || m.what == command::note_off) &&
                                (m.key < 0 || m.key > 127)) ||
                               (m.what == command::waveform && (m.key < 0 || m.key > 2)) ||
                               m.text_size > max_text_bytes || m.reply_port < 0 || m.reply_port > 65535 ||
                               (packet.bundle && !is_synth_command(m.what));
        if (bad_value)
            std::abort();
    }
    return 0;
}
