// SPDX-License-Identifier: MIT
// The controller and the checker of the multi-node test (multi_node.sh, docs/osc.md "Several nodes"):
//   courier_multi_node send <router udp port> <router tcp port> <nodes> <plan file>
//     sends, through courier-router, an immediate note to each node (UDP, its own prefix), three packets the
//     router must reject, a bundle for every node (/all, over TCP) and a bundle split per node (UDP), and writes
//     the plan: when each was sent and for which time tag.
//   courier_multi_node check <plan file> <sample rate> <block size> <node1.wav> <origin1> [<node2.wav> <origin2> ...]
//     finds the notes in each node's recording (a note starts where the signal leaves a stretch of silence) and
//     compares each with the frame the plan expects on that node's clock (origin: the time tag of its frame 0);
//     prints every offset and the spread between nodes for the same bundle, then PASS or FAIL.
#include <courier/audio/offline_driver.h>
#include <courier/osc/osc_endpoint.h>
#include "tests/osc/osc_test_support.h"
#include "tests/osc/tcp_test_client.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace courier;
using namespace courier::osc::testing;

namespace {

// Seconds from time tag `from` to time tag `to` (negative when `to` is earlier).
double seconds_between(std::uint64_t from, std::uint64_t to)
{
    const auto difference = static_cast<std::int64_t>(to - from);
    return static_cast<double>(difference) / 4294967296.0;
}

std::uint64_t tag_after(std::uint64_t tag, double seconds)
{
    return tag + static_cast<std::uint64_t>(seconds * 4294967296.0);
}

int send(std::uint16_t udp_port, std::uint16_t tcp_port, int nodes, const std::string& plan_path)
{
    udp_client udp(udp_port);
    tcp_client tcp(tcp_port, osc::framing::size_prefix);
    if (!tcp.connected())
    {
        std::printf("multi_node: FAIL: cannot connect to the router's TCP port %u\n", tcp_port);
        return EXIT_FAILURE;
    }
    std::ofstream plan(plan_path);
    bool ok = true;

    // 1. An immediate note to each node by its own prefix, over UDP: played where it arrives.
    for (int k = 1; k <= nodes; ++k)
    {
        const std::string address = "/node" + std::to_string(k) + "/synth/note_on";
        const std::uint64_t before = osc::time_tag_now();
        ok = udp.send(msg(address, "ii", {i32(60 + k), i32(100)})) && ok;
        const std::uint64_t after = osc::time_tag_now();
        plan << "immediate " << k << ' ' << before << ' ' << after << '\n';
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ok = udp.send(msg("/all/synth/all_notes_off", "")) && ok;

    // 2. What the router must reject and count: a prefix of no node, bytes that are no OSC packet, a pattern.
    ok = udp.send(msg("/node9/synth/note_on", "ii", {i32(60), i32(100)})) && ok;
    ok = udp.send(raw("abc")) && ok;
    ok = tcp.send(msg("/node1/synth/*", "i", {i32(1)})) && ok;
    plan << "rejects 3\n";

    // 3. One bundle for every node (/all) over TCP, half a second ahead, and its note off.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::uint64_t first = tag_after(osc::time_tag_now(), 0.5);
    ok = tcp.send(bundle(first, {msg("/all/synth/note_on", "ii", {i32(72), i32(100)})})) && ok;
    ok = tcp.send(bundle(tag_after(first, 0.25), {msg("/all/synth/all_notes_off", "")})) && ok;
    plan << "bundle " << first << '\n';

    // 4. One bundle holding a message per node (each its own prefix) over UDP: the router splits it, and every
    // part keeps the time tag.
    std::vector<bytes> parts;
    for (int k = 1; k <= nodes; ++k)
        parts.push_back(msg("/node" + std::to_string(k) + "/synth/note_on", "ii", {i32(64 + k), i32(100)}));
    const std::uint64_t second = tag_after(first, 0.5);
    bytes split = raw(std::string_view("#bundle\0", 8));
    append(split, u32(static_cast<std::uint32_t>(second >> 32U)));
    append(split, u32(static_cast<std::uint32_t>(second)));
    for (const bytes& part : parts)
    {
        append(split, u32(static_cast<std::uint32_t>(part.size())));
        append(split, part);
    }
    ok = udp.send(split) && ok;
    ok = udp.send(bundle(tag_after(second, 0.25), {msg("/all/synth/all_notes_off", "")})) && ok;
    plan << "bundle " << second << '\n';
    plan << "messages " << 6 * nodes << '\n';  // what the router hands the nodes: 6 to each

    // Stay connected until the bundles are due and gone: closing early could reset what the router has not read.
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    if (!ok)
        std::printf("multi_node: FAIL: a send failed\n");
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

// Frames where a note starts: the signal rises above `threshold` after at least `quiet` frames at or below it.
std::vector<std::size_t> onsets(const audio::interleaved_audio& wav, float threshold, std::size_t quiet)
{
    std::vector<std::size_t> found;
    std::size_t silent = quiet;  // the recording starts in silence
    for (std::size_t f = 0; f < wav.frames(); ++f)
    {
        float loudest = 0.0F;
        for (std::size_t c = 0; c < wav.channels; ++c)
            loudest = std::max(loudest, std::abs(wav.samples[f * wav.channels + c]));
        if (loudest <= threshold)
        {
            ++silent;
            continue;
        }
        if (silent >= quiet)
            found.push_back(f);
        silent = 0;
    }
    return found;
}

int check(int argc, char** argv)
{
    const std::string plan_path = argv[2];
    const double rate = std::atof(argv[3]);
    const double block = std::atof(argv[4]);
    struct immediate_send
    {
        int node;
        std::uint64_t before;
        std::uint64_t after;
    };
    std::vector<immediate_send> immediates;
    std::vector<std::uint64_t> bundles;
    std::ifstream plan(plan_path);
    for (std::string line; std::getline(plan, line);)
    {
        std::istringstream words(line);
        std::string kind;
        words >> kind;
        if (kind == "immediate")
        {
            immediate_send s{};
            words >> s.node >> s.before >> s.after;
            immediates.push_back(s);
        }
        else if (kind == "bundle")
        {
            std::uint64_t tag = 0;
            words >> tag;
            bundles.push_back(tag);
        }
    }
    // A bundle lands in [T, T + one block] on a node's clock: the endpoint reads the clock as the frames
    // rendered so far, which run up to a block ahead of the moment (docs/osc.md, "Time across nodes"). Allowed
    // beyond that: 2 ms early (the origin is read just after the driver's thread starts) and 10 ms late
    // (scheduling on a loaded machine).
    const double early = 0.002 * rate;
    const double late = block + 0.010 * rate;
    bool ok = !immediates.empty() && bundles.size() == 2;
    std::vector<std::vector<double>> offsets(bundles.size());
    for (int a = 5; a + 1 < argc; a += 2)
    {
        const int node = (a - 5) / 2 + 1;
        const audio::interleaved_audio wav = audio::read_wav(argv[a]);
        const auto origin = static_cast<std::uint64_t>(std::strtoull(argv[a + 1], nullptr, 10));
        const std::vector<std::size_t> notes = onsets(wav, 1.0e-4F, static_cast<std::size_t>(0.05 * rate));
        std::printf("multi_node: node%d: %zu frames recorded, notes start at frames", node, wav.frames());
        for (const std::size_t f : notes)
            std::printf(" %zu", f);
        std::printf("\n");
        if (notes.size() != 1 + bundles.size())
        {
            std::printf("multi_node: FAIL: node%d has %zu notes, the plan sent it %zu\n", node, notes.size(),
                        1 + bundles.size());
            ok = false;
            continue;
        }
        // The immediate note: applied at the first block boundary after it arrived.
        const auto sent = std::find_if(immediates.begin(), immediates.end(),
                                       [&](const immediate_send& s) { return s.node == node; });
        if (sent != immediates.end())
        {
            const double from = seconds_between(origin, sent->before) * rate;
            const double to = seconds_between(origin, sent->after) * rate;
            const double got = static_cast<double>(notes[0]);
            std::printf("multi_node: node%d: immediate note at frame %.0f, sent between frames %.0f and %.0f "
                        "(%.0f frames after the send)\n",
                        node, got, from, to, got - from);
            if (got < from - early || got > to + block + 0.050 * rate)
            {
                std::printf("multi_node: FAIL: node%d's immediate note is not where it was sent\n", node);
                ok = false;
            }
        }
        for (std::size_t b = 0; b < bundles.size(); ++b)
        {
            const double expected = seconds_between(origin, bundles[b]) * rate;
            const double offset = static_cast<double>(notes[1 + b]) - expected;
            offsets[b].push_back(offset);
            std::printf("multi_node: node%d: bundle %zu at frame %zu, its time tag is frame %.1f: offset %+.1f "
                        "frames\n",
                        node, b + 1, notes[1 + b], expected, offset);
            if (offset < -early || offset > late)
            {
                std::printf("multi_node: FAIL: node%d played bundle %zu %+.1f frames from its time tag (allowed "
                            "%.0f to %+.0f)\n",
                            node, b + 1, offset, -early, late);
                ok = false;
            }
        }
    }
    for (std::size_t b = 0; b < offsets.size(); ++b)
        if (offsets[b].size() >= 2)
        {
            const auto [low, high] = std::minmax_element(offsets[b].begin(), offsets[b].end());
            std::printf("multi_node: bundle %zu: spread between nodes %.1f frames (%.2f ms)\n", b + 1, *high - *low,
                        (*high - *low) / rate * 1000.0);
            if (*high - *low > late + early)
                ok = false;
        }
    std::printf("multi_node: %s\n", ok ? "PASS (every node played every note at its frame)" : "FAIL");
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}

}  // namespace

int main(int argc, char** argv)
{
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "send" && argc == 6)
        return send(static_cast<std::uint16_t>(std::atoi(argv[2])), static_cast<std::uint16_t>(std::atoi(argv[3])),
                    std::atoi(argv[4]), argv[5]);
    if (mode == "check" && argc >= 7 && argc % 2 == 1)
        return check(argc, argv);
    std::fprintf(stderr, "usage: courier_multi_node send <udp port> <tcp port> <nodes> <plan> | check <plan> "
                         "<rate> <block> <wav> <origin> ...\n");
    return 2;
}
