// SPDX-License-Identifier: MIT
// The audio side's cost of draining 1,000 queued messages in one callback, typed and as closures; run natively
// it times them, and scripts/bench runs it under callgrind to count instructions (docs/performance.md).
#include <courier/audio/audio_graph.h>
#include <courier/command_lane.h>
#include <courier/lane.h>
#include <courier/rwq_storage.h>
#include "tests/bench/bench_csv.h"
#include "tests/bench/bench_main.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// What a callback applies messages to: a gain and a cutoff, as the synth would.
struct audio_state
{
    float gain = 1.0F;
    float cutoff = 1000.0F;
    std::uint64_t applied = 0;
};

constexpr std::size_t lane_capacity = 1024;

using event = courier::audio::engine_event;  // 16 bytes, trivially copyable: what the engine carries
courier::lane<event>* typed_lane = nullptr;
courier::lane_receiver<event> typed_rx;
courier::lane_sender<event> typed_tx;
courier::lane<event, courier::rwq_storage<event>>* rwq_lane = nullptr;
courier::lane_receiver<event, courier::rwq_storage<event>> rwq_rx;
courier::lane_sender<event, courier::rwq_storage<event>> rwq_tx;
courier::command_lane<void(audio_state&), 32>* closure_lane = nullptr;
courier::command_receiver<void(audio_state&), 32> closure_rx;
courier::command_sender<void(audio_state&), 32> closure_tx;
audio_state state;

void apply(audio_state& s, const event& e) noexcept
{
    if (e.type == 3)
        s.gain = e.value;
    else
        s.cutoff = e.value;
    ++s.applied;
}

}  // namespace

// The measured functions: C linkage and never inlined, so callgrind's --toggle-collect can name them and count
// exactly the drain (the handler's few instructions per message included), nothing of the filling.
extern "C" __attribute__((noinline)) std::size_t courier_bench_drain_typed(std::size_t max_count) noexcept
{
    return typed_rx.drain([](event&& e) { apply(state, e); }, max_count);
}

extern "C" __attribute__((noinline)) std::size_t courier_bench_drain_typed_rwq(std::size_t max_count) noexcept
{
    return rwq_rx.drain([](event&& e) { apply(state, e); }, max_count);
}

extern "C" __attribute__((noinline)) std::size_t courier_bench_drain_closures(std::size_t max_count) noexcept
{
    return closure_rx.poll(state, max_count);
}

namespace {

void fill(std::string_view variant, std::size_t count)
{
    for (std::size_t i = 0; i < count; ++i)
    {
        const float value = static_cast<float>(i);
        bool sent = false;
        if (variant == "typed")
            sent = typed_tx.try_send(event{static_cast<std::uint16_t>(3 + i % 2), 0, 0, value, 0});
        else if (variant == "typed_rwq")
            sent = rwq_tx.try_send(event{static_cast<std::uint16_t>(3 + i % 2), 0, 0, value, 0});
        else if (i % 2 == 0)
            sent = closure_tx.try_send([value](audio_state& s) { s.gain = value; ++s.applied; });
        else
            sent = closure_tx.try_send([value](audio_state& s) { s.cutoff = value; ++s.applied; });
        if (!sent)
            throw std::runtime_error("lane full while filling");
    }
}

std::size_t drain(std::string_view variant, std::size_t count)
{
    if (variant == "typed")
        return courier_bench_drain_typed(count);
    if (variant == "typed_rwq")
        return courier_bench_drain_typed_rwq(count);
    return courier_bench_drain_closures(count);
}

int run(int argc, char** argv)
{
    std::size_t messages = 1000;
    courier::bench::bench_args args{200, "bench-results/drain_bench.csv"};
    auto& [repeats, csv_path] = args;
    std::string only;
    const auto own = [&](std::string_view arg, auto&& next) {
        const char* value = arg == "--variant" ? next() : nullptr;
        if (value != nullptr)
            only = value;
        return value != nullptr;
    };
    if (const char* unknown = courier::bench::parse_bench_args(argc, argv, args, 5, own))
    {
        std::fprintf(stderr,
                     "usage: courier_drain_bench [--quick] [--repeat N] [--variant typed|typed_rwq|closures] "
                     "[--csv PATH]\n"
                     "Fills a lane with %zu messages, then times one drain of all of them (the audio side's work),\n"
                     "%s times by default. Under callgrind, count only the drain with\n"
                     "  --collect-atstart=no --toggle-collect=courier_bench_drain_<variant>\n",
                     messages, "200");
        return std::string_view(unknown) == "--help" ? 0 : 2;
    }

    courier::lane<event> l1(lane_capacity);
    courier::lane<event, courier::rwq_storage<event>> l2(lane_capacity);
    courier::command_lane<void(audio_state&), 32> l3(lane_capacity);
    typed_lane = &l1;
    rwq_lane = &l2;
    closure_lane = &l3;
    typed_tx = l1.sender();
    typed_rx = l1.receiver();
    rwq_tx = l2.sender();
    rwq_rx = l2.receiver();
    closure_tx = l3.sender();
    closure_rx = l3.receiver();

    std::vector<std::string> variants = {"typed", "typed_rwq", "closures"};
    if (!only.empty())
        variants = {only};

    std::FILE* csv = courier::bench::open_csv(csv_path);
    std::fprintf(csv, "variant,messages,repeats,ns_per_message_median,ns_per_message_best\n");
    std::printf("drain of %zu messages in one call, %zu repeats (timed natively; instructions: scripts/bench)\n",
                messages, repeats);
    std::printf("%-12s %12s %12s\n", "variant", "ns/msg p50", "ns/msg best");
    for (const auto& variant : variants)
    {
        if (variant != "typed" && variant != "typed_rwq" && variant != "closures")
            throw std::runtime_error("unknown variant " + variant);
        std::vector<double> per_message;
        for (std::size_t r = 0; r < repeats; ++r)
        {
            fill(variant, messages);
            const auto t0 = std::chrono::steady_clock::now();
            const std::size_t drained = drain(variant, messages);
            const auto t1 = std::chrono::steady_clock::now();
            if (drained != messages)
                throw std::runtime_error("drained " + std::to_string(drained) + " of " + std::to_string(messages));
            per_message.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                                  static_cast<double>(messages));
        }
        std::sort(per_message.begin(), per_message.end());
        const double median = per_message[per_message.size() / 2];
        std::printf("%-12s %12.2f %12.2f\n", variant.c_str(), median, per_message.front());
        std::fprintf(csv, "%s,%zu,%zu,%.3f,%.3f\n", variant.c_str(), messages, repeats, median, per_message.front());
    }
    std::fclose(csv);
    if (state.applied != messages * repeats * variants.size())
        throw std::runtime_error("not every message was applied");
    std::printf("csv: %s\n", csv_path.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    return courier::bench::guarded_main("courier_drain_bench", run, argc, argv);
}
