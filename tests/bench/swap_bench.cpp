// SPDX-License-Identifier: MIT
// The audio side's cost of replacing a graph of 10, 1,000 and 100,000 nodes (swap_and_retire) and of removing
// one node (link_unlink), against a naive design that destroys the old objects on the audio thread
// (docs/performance.md).
#include <courier/patterns/link_unlink.h>
#include <courier/patterns/swap_and_retire.h>
#include "tests/bench/bench_csv.h"
#include "tests/bench/bench_main.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

// A graph node as a synth or mixer has them: some state, allocated one by one.
struct node
{
    std::array<float, 16> state{};
};

struct graph
{
    explicit graph(std::size_t nodes)
    {
        all.reserve(nodes);
        for (std::size_t i = 0; i < nodes; ++i)
            all.push_back(std::make_unique<node>());
    }
    std::vector<std::unique_ptr<node>> all;
};

// A node that can sit in link_unlink's live list.
struct voice : courier::link_hook<voice>
{
    std::array<float, 16> state{};
};

double elapsed_ns(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b)
{
    return std::chrono::duration<double, std::nano>(b - a).count();
}

struct summary
{
    double p50 = 0;
    double max = 0;
};

summary summarize(std::vector<double> samples)
{
    std::sort(samples.begin(), samples.end());
    return {samples[samples.size() / 2], samples.back()};
}

/// swap_and_retire: the control side publishes a fresh graph, the audio side's acquire() is timed, and the old
/// graph dies in collect() on the control side, untimed.
summary courier_swap(std::size_t nodes, std::size_t repeats)
{
    courier::swap_and_retire<graph> graphs(std::make_unique<graph>(nodes), 2);
    std::vector<double> samples;
    for (std::size_t r = 0; r < repeats; ++r)
    {
        auto fresh = std::make_unique<graph>(nodes);
        if (!graphs.try_publish(std::move(fresh)))
            throw std::runtime_error("swap_and_retire refused a publication");
        const auto t0 = std::chrono::steady_clock::now();
        const graph& now = graphs.acquire();
        const auto t1 = std::chrono::steady_clock::now();
        if (now.all.size() != nodes)
            throw std::runtime_error("wrong graph adopted");
        samples.push_back(elapsed_ns(t0, t1));
        graphs.collect();
    }
    return summarize(samples);
}

/// The naive design: the audio side takes the new graph from an atomic pointer and deletes the old one itself.
summary naive_swap(std::size_t nodes, std::size_t repeats)
{
    std::unique_ptr<graph> current = std::make_unique<graph>(nodes);
    std::atomic<graph*> pending{nullptr};
    std::vector<double> samples;
    for (std::size_t r = 0; r < repeats; ++r)
    {
        pending.store(new graph(nodes), std::memory_order_release);  // pairs with the exchange below
        const auto t0 = std::chrono::steady_clock::now();
        current.reset(pending.exchange(nullptr, std::memory_order_acquire));  // ✗ the old graph dies here: audio
        const auto t1 = std::chrono::steady_clock::now();
        samples.push_back(elapsed_ns(t0, t1));
    }
    return summarize(samples);
}

/// link_unlink: `nodes` voices linked; the control side asks for one to go, and the audio side's update() that
/// unlinks it (sending it back) is timed. The voice dies in collect(), untimed. Then a new voice replaces it.
summary courier_unlink(std::size_t nodes, std::size_t repeats)
{
    courier::link_unlink<voice> voices(nodes + 2, 1024);
    std::vector<courier::link_handle> handles;
    for (std::size_t i = 0; i < nodes; ++i)
    {
        auto result = voices.try_link(std::make_unique<voice>());
        if (!result)
            throw std::runtime_error("try_link refused");
        handles.push_back(result.id);
        if (i % 512 == 511)
            voices.poll();
    }
    voices.poll();
    std::vector<double> samples;
    for (std::size_t r = 0; r < repeats; ++r)
    {
        const std::size_t victim = (r * 7919) % nodes;
        if (!voices.try_request_unlink(handles[victim]))
            throw std::runtime_error("try_request_unlink refused");
        const auto t0 = std::chrono::steady_clock::now();
        const std::size_t handled = voices.poll();
        const auto t1 = std::chrono::steady_clock::now();
        if (handled != 1 || voices.linked_count() != nodes - 1)
            throw std::runtime_error("unlink did not happen");
        samples.push_back(elapsed_ns(t0, t1));
        voices.collect();
        auto result = voices.try_link(std::make_unique<voice>());
        if (!result)
            throw std::runtime_error("try_link refused");
        handles[victim] = result.id;
        voices.poll();
    }
    return summarize(samples);
}

/// The naive design: a std::list of owned voices; the audio side erases one, freeing it there.
summary naive_unlink(std::size_t nodes, std::size_t repeats)
{
    std::list<std::unique_ptr<voice>> voices;
    std::vector<std::list<std::unique_ptr<voice>>::iterator> where;
    for (std::size_t i = 0; i < nodes; ++i)
        where.push_back(voices.insert(voices.end(), std::make_unique<voice>()));
    std::vector<double> samples;
    for (std::size_t r = 0; r < repeats; ++r)
    {
        const std::size_t victim = (r * 7919) % nodes;
        const auto t0 = std::chrono::steady_clock::now();
        voices.erase(where[victim]);  // ✗ the voice and its list node die here: audio
        const auto t1 = std::chrono::steady_clock::now();
        samples.push_back(elapsed_ns(t0, t1));
        where[victim] = voices.insert(voices.end(), std::make_unique<voice>());
    }
    return summarize(samples);
}

int run(int argc, char** argv)
{
    courier::bench::bench_args args{101, "bench-results/swap_bench.csv"};
    auto& [repeats, csv_path] = args;
    if (const char* unknown = courier::bench::parse_bench_args(argc, argv, args, 5))
    {
        std::fprintf(stderr, "usage: courier_swap_bench [--quick] [--repeat N] [--csv PATH]\n"
                             "Times the audio side's part of replacing a graph and of removing one node,\n"
                             "courier's patterns against destroying on the audio thread (ns, p50 and max).\n");
        return std::string_view(unknown) == "--help" ? 0 : 2;
    }
    std::FILE* csv = courier::bench::open_csv(csv_path);
    std::fprintf(csv, "operation,nodes,courier_p50_ns,courier_max_ns,naive_p50_ns,naive_max_ns\n");
    std::printf("audio-side cost, %zu repeats each (ns; one thread plays both sides, the audio part is timed)\n",
                repeats);
    std::printf("%-8s %8s %14s %14s %14s %14s\n", "op", "nodes", "courier p50", "courier max", "naive p50",
                "naive max");
    for (const std::size_t nodes : {std::size_t{10}, std::size_t{1000}, std::size_t{100000}})
    {
        const summary c = courier_swap(nodes, repeats);
        const summary n = naive_swap(nodes, repeats);
        std::printf("%-8s %8zu %14.0f %14.0f %14.0f %14.0f\n", "swap", nodes, c.p50, c.max, n.p50, n.max);
        std::fprintf(csv, "swap,%zu,%.1f,%.1f,%.1f,%.1f\n", nodes, c.p50, c.max, n.p50, n.max);
    }
    for (const std::size_t nodes : {std::size_t{10}, std::size_t{1000}, std::size_t{100000}})
    {
        const summary c = courier_unlink(nodes, repeats);
        const summary n = naive_unlink(nodes, repeats);
        std::printf("%-8s %8zu %14.0f %14.0f %14.0f %14.0f\n", "unlink", nodes, c.p50, c.max, n.p50, n.max);
        std::fprintf(csv, "unlink,%zu,%.1f,%.1f,%.1f,%.1f\n", nodes, c.p50, c.max, n.p50, n.max);
    }
    std::fclose(csv);
    std::printf("swap: courier = swap_and_retire::acquire() adopting a published graph (the old one dies later in\n"
                "collect()); naive = take the new graph from an atomic pointer and delete the old one right there.\n"
                "unlink: courier = link_unlink::poll() handling one unlink request (the voice goes back to the\n"
                "control side); naive = std::list::erase of a std::unique_ptr<voice> on the audio thread.\n");
    std::printf("csv: %s\n", csv_path.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    return courier::bench::guarded_main("courier_swap_bench", run, argc, argv);
}
