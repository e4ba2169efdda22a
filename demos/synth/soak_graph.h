// SPDX-License-Identifier: MIT
// soak_graph, courier-synth's --soak decorator around its graph: counts the events every graph applies and the
// thread every graph dies on (tests/soak/soak.sh, docs/testing.md "Soak").
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/contracts.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <thread>
#include <utility>

namespace courier::synth {

/// What the graphs of one soak run count together. Outlives every graph (the soak controller owns it).
struct soak_graph_counters
{
    std::thread::id control;  // setup: the thread every graph must die on (the main thread)
    // Written by the audio thread (one at a time: a stream restart hands over with the driver's stop/start).
    std::atomic<std::uint64_t> applied{0};
    // Written by whichever thread makes or destroys a graph: fetch_add, relaxed (counters, read after the run).
    std::atomic<std::uint64_t> made{0};
    std::atomic<std::uint64_t> destroyed_on_control{0};
    std::atomic<std::uint64_t> destroyed_elsewhere{0};
};

/// Any audio_graph, with every event it is given counted in `counters.applied` and the thread it dies on
/// checked against `counters.control`.
class soak_graph final : public audio::audio_graph
{
public:
    /// Wraps `inner`; `c` must outlive this graph.
    /// Thread: control. Real-time: no (counts with a read-modify-write).
    soak_graph(std::unique_ptr<audio::audio_graph> inner, soak_graph_counters& c)
        : wrapped(std::move(inner)), counters(&c)
    {
        counters->made.fetch_add(1, std::memory_order_relaxed);  // a counter
    }

    /// ✗ The wrapped graph dies here; counted as on the control thread or elsewhere (a wrong-thread destruction).
    /// Thread: control (anything else is counted). Real-time: no (frees).
    ~soak_graph() override
    {
        auto& where = std::this_thread::get_id() == counters->control ? counters->destroyed_on_control
                                                                       : counters->destroyed_elsewhere;
        where.fetch_add(1, std::memory_order_relaxed);  // a counter
    }

    soak_graph(const soak_graph&) = delete;
    soak_graph& operator=(const soak_graph&) = delete;

    /// Prepares the wrapped graph.
    /// Thread: setup. Real-time: no (the wrapped graph allocates).
    void prepare(double rate, std::size_t frames) override { wrapped->prepare(rate, frames); }

    /// Counts the event and applies it.
    /// Thread: audio. Real-time: wait-free.
    void apply(const audio::engine_event& e) noexcept COURIER_REALTIME override
    {
        count();
        wrapped->apply(e);
    }

    /// The wrapped graph's processors.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::span<const std::string_view> processors() const noexcept COURIER_REALTIME override
    {
        return wrapped->processors();
    }

    /// Counts the event and applies it to processor `index`.
    /// Thread: audio. Real-time: wait-free.
    void apply_to(std::size_t index, const audio::engine_event& e) noexcept COURIER_REALTIME override
    {
        count();
        wrapped->apply_to(index, e);
    }

    /// Renders the wrapped graph.
    /// Thread: audio. Real-time: wait-free.
    void render(float* const* out, std::size_t channels, std::size_t offset,
                std::size_t frames) noexcept COURIER_REALTIME override
    {
        wrapped->render(out, channels, offset, frames);
    }

    /// The wrapped graph's activity.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::uint32_t activity() const noexcept COURIER_REALTIME override { return wrapped->activity(); }

private:
    void count() noexcept COURIER_REALTIME
    {
        // One writer at a time (the audio thread): a load and a store; a counter read after the run.
        counters->applied.store(counters->applied.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    std::unique_ptr<audio::audio_graph> wrapped;  // ✗ dies with this graph (see the destructor)
    soak_graph_counters* counters;
};

}  // namespace courier::synth
