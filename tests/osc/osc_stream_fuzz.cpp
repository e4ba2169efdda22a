// SPDX-License-Identifier: MIT
// libFuzzer target over the TCP stream deframer (docs/osc.md, "Testing"): for any byte stream, in either framing,
// the packets and errors are the same however the stream is split, no packet exceeds the limit, and every packet
// framed by encode_frame comes back unchanged.
#include <courier/osc/stream_deframer.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using namespace courier::osc;

constexpr std::size_t limit = 512;

struct outcome
{
    std::vector<std::vector<std::byte>> frames;
    std::vector<deframe_status> statuses;
    bool operator==(const outcome&) const = default;
};

// Deframes `stream` in pieces whose sizes come from `cuts` (cycled; 0 counts as 1).
outcome deframe(framing kind, std::span<const std::byte> stream, std::span<const std::uint8_t> cuts)
{
    stream_deframer d(kind, limit);
    outcome o;
    std::size_t cut = 0;
    while (!stream.empty())
    {
        std::size_t piece = cuts.empty() ? stream.size() : std::max<std::size_t>(cuts[cut++ % cuts.size()], 1);
        piece = std::min(piece, stream.size());
        std::span<const std::byte> in = stream.first(piece);
        stream = stream.subspan(piece);
        for (;;)
        {
            const std::size_t before = in.size();
            const deframe_status s = d.next(in);
            if (in.size() > before)
                std::abort();
            if (s == deframe_status::need_more)
            {
                if (!in.empty())
                    std::abort();  // need_more takes every byte
                break;
            }
            o.statuses.push_back(s);
            if (s == deframe_status::frame)
            {
                if (d.frame().empty() || d.frame().size() > limit)
                    std::abort();
                o.frames.emplace_back(d.frame().begin(), d.frame().end());
            }
            if (s == deframe_status::oversize)
                return o;  // nothing more is read
        }
    }
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2)
        return 0;
    const framing kind = (data[0] & 1U) != 0 ? framing::slip : framing::size_prefix;
    const std::size_t cut_count = data[1] % 8;
    if (size < 2 + cut_count)
        return 0;
    const std::span<const std::uint8_t> cuts(data + 2, cut_count);
    const auto stream = std::as_bytes(std::span<const std::uint8_t>(data + 2 + cut_count, size - 2 - cut_count));

    const outcome whole = deframe(kind, stream, {});
    const outcome split = deframe(kind, stream, cuts);
    if (!(whole == split))
        std::abort();

    // The stream itself as one packet: framed, it must come back whole (when it fits the limit).
    if (!stream.empty() && stream.size() <= limit)
    {
        std::vector<std::byte> framed(max_encoded_bytes(kind, stream.size()));
        const std::size_t n = encode_frame(kind, stream, framed);
        if (n == 0 || n > framed.size())
            std::abort();
        const outcome back = deframe(kind, std::span<const std::byte>(framed.data(), n), cuts);
        if (back.frames.size() != 1 || back.statuses.size() != 1 ||
            !std::equal(back.frames[0].begin(), back.frames[0].end(), stream.begin(), stream.end()))
            std::abort();
    }
    return 0;
}
