// SPDX-License-Identifier: MIT
// The stream deframer and encoders: tables of streams in both framings (split at every byte, the same packets
// and errors come out), round trips through encode_frame, and the limits (docs/osc.md, "TCP").
#include <courier/osc/stream_deframer.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

using namespace courier::osc;

namespace {

using bytes = std::vector<std::byte>;

bytes b(std::initializer_list<int> values)
{
    bytes out;
    for (const int v : values)
        out.push_back(static_cast<std::byte>(v));
    return out;
}

bytes text(const std::string& s)
{
    bytes out;
    for (const char c : s)
        out.push_back(static_cast<std::byte>(c));
    return out;
}

bytes cat(std::initializer_list<bytes> parts)
{
    bytes out;
    for (const bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

// What a deframer makes of a stream: "F:<hex>" per packet, or the error's name.
std::vector<std::string> run(framing kind, std::size_t limit, const bytes& stream, std::size_t piece)
{
    stream_deframer d(kind, limit);
    std::vector<std::string> out;
    for (std::size_t at = 0; at < stream.size(); at += piece)
    {
        const std::size_t n = std::min(piece, stream.size() - at);
        std::span<const std::byte> in(stream.data() + at, n);
        for (;;)
        {
            const deframe_status s = d.next(in);
            if (s == deframe_status::need_more)
                break;
            if (s == deframe_status::frame)
            {
                std::string hex = "F:";
                for (const std::byte x : d.frame())
                    hex += "0123456789abcdef"[std::to_integer<int>(x) >> 4], hex += "0123456789abcdef"[std::to_integer<int>(x) & 15];
                out.push_back(hex);
            }
            else if (s == deframe_status::empty_frame)
                out.push_back("empty");
            else if (s == deframe_status::bad_escape)
                out.push_back("bad_escape");
            else
            {
                out.push_back("oversize");
                return out;  // nothing more is read
            }
        }
    }
    return out;
}

struct stream_case
{
    const char* name;
    framing kind;
    bytes stream;
    std::vector<std::string> expected;
};

}  // namespace

TEST_CASE("osc stream_deframer")
{
    const bytes four = text("/abc");
    const std::vector<stream_case> table{
        {"one size-prefixed packet", framing::size_prefix, cat({b({0, 0, 0, 4}), four}), {"F:2f616263"}},
        {"two size-prefixed packets back to back", framing::size_prefix,
         cat({b({0, 0, 0, 4}), four, b({0, 0, 0, 2, 1, 2})}), {"F:2f616263", "F:0102"}},
        {"a size of 0 between two packets", framing::size_prefix, cat({b({0, 0, 0, 0, 0, 0, 0, 1, 9})}),
         {"empty", "F:09"}},
        {"a size over the limit", framing::size_prefix, cat({b({0, 0, 0, 9}), text("123456789")}), {"oversize"}},
        {"a negative size", framing::size_prefix, b({0x80, 0, 0, 4, 1, 2, 3, 4}), {"oversize"}},
        {"a size of 2^31 - 1 (endless bytes)", framing::size_prefix, b({0x7F, 0xFF, 0xFF, 0xFF, 1}), {"oversize"}},
        {"a packet at the limit", framing::size_prefix, cat({b({0, 0, 0, 8}), text("12345678")}),
         {"F:3132333435363738"}},
        {"an unfinished size-prefixed packet", framing::size_prefix, b({0, 0, 0, 4, 1, 2}), {}},
        {"one SLIP packet with END on both sides", framing::slip, cat({b({0xC0}), four, b({0xC0})}), {"F:2f616263"}},
        {"a SLIP packet with END only after it", framing::slip, cat({four, b({0xC0})}), {"F:2f616263"}},
        {"SLIP escapes for END and ESC", framing::slip, b({0xC0, 1, 0xDB, 0xDC, 0xDB, 0xDD, 2, 0xC0}),
         {"F:01c0db02"}},
        {"many ENDs between packets", framing::slip, b({0xC0, 0xC0, 0xC0, 1, 0xC0, 0xC0, 2, 0xC0}), {"F:01", "F:02"}},
        {"a bad escape drops its packet only", framing::slip, b({0xC0, 1, 0xDB, 0x41, 2, 0xC0, 3, 0xC0}),
         {"bad_escape", "F:03"}},
        {"ESC END drops its packet only", framing::slip, b({1, 0xDB, 0xC0, 4, 0xC0}), {"bad_escape", "F:04"}},
        {"a SLIP packet over the limit", framing::slip, cat({b({0xC0}), text("123456789"), b({0xC0})}), {"oversize"}},
        {"endless SLIP bytes without END", framing::slip, bytes(100, std::byte{0x41}), {"oversize"}},
        {"a SLIP packet at the limit, escaped", framing::slip,
         b({0xC0, 0xDB, 0xDC, 0xDB, 0xDC, 0xDB, 0xDC, 0xDB, 0xDC, 0xDB, 0xDC, 0xDB, 0xDC, 0xDB, 0xDC, 0xDB, 0xDC, 0xC0}),
         {"F:c0c0c0c0c0c0c0c0"}},
        {"an unfinished SLIP packet", framing::slip, b({0xC0, 1, 2}), {}},
    };
    SUBCASE("next gives the packets and errors of every stream of the table, however the stream is split")
    {
        for (const stream_case& c : table)
            for (const std::size_t piece : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{1000}})
            {
                INFO(c.name << " in pieces of " << piece);
                CHECK(run(c.kind, 8, c.stream, piece) == c.expected);
            }
    }
    SUBCASE("held counts the bytes of an unfinished packet; reset forgets them and an oversize")
    {
        stream_deframer d(framing::size_prefix, 8);
        const bytes partial = b({0, 0, 0, 4, 1, 2});
        std::span<const std::byte> in(partial);
        CHECK(d.next(in) == deframe_status::need_more);
        CHECK(in.empty());
        CHECK(d.held() == 6);
        const bytes huge = b({0, 0, 1, 0});
        d.reset();
        CHECK(d.held() == 0);
        in = std::span<const std::byte>(huge);
        CHECK(d.next(in) == deframe_status::oversize);
        const bytes good = cat({b({0, 0, 0, 1}), b({7})});
        in = std::span<const std::byte>(good);
        CHECK(d.next(in) == deframe_status::oversize);  // broken until reset
        d.reset(framing::size_prefix);
        in = std::span<const std::byte>(good);
        REQUIRE(d.next(in) == deframe_status::frame);
        CHECK(d.frame().size() == 1);
        CHECK(d.kind() == framing::size_prefix);
        CHECK(d.max_frame_bytes() == 8);
        CHECK(framing_name(framing::slip) == "slip");
    }
    SUBCASE("encode_frame round-trips through the deframer in both framings")
    {
        const bytes packet = b({0xC0, 0, 0xDB, 0xDC, 0xDD, 0x2F, 0xC0, 0xC0});
        for (const framing kind : {framing::size_prefix, framing::slip})
        {
            INFO(framing_name(kind));
            bytes out(max_encoded_bytes(kind, packet.size()));
            const std::size_t n = encode_frame(kind, packet, out);
            REQUIRE(n != 0);
            CHECK(n <= out.size());
            out.resize(n);
            stream_deframer d(kind, packet.size());
            std::span<const std::byte> in(out);
            REQUIRE(d.next(in) == deframe_status::frame);
            CHECK(bytes(d.frame().begin(), d.frame().end()) == packet);
            CHECK(in.empty());
        }
    }
    SUBCASE("encode_frame writes nothing when the packet does not fit or is empty")
    {
        const bytes packet = b({0xC0, 1, 2, 3});
        bytes small(5);
        CHECK(encode_frame(framing::size_prefix, packet, small) == 0);
        CHECK(encode_frame(framing::slip, packet, small) == 0);
        CHECK(encode_frame(framing::slip, {}, small) == 0);
        CHECK_THROWS_AS(stream_deframer(framing::slip, 0), std::invalid_argument);
    }
}
