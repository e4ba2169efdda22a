// SPDX-License-Identifier: MIT
// juce::AbstractFifo with a buffer of std::uint64_t, as one of lane_bench's contenders, behind a plain C++
// interface so the benchmark itself includes no JUCE header (docs/performance.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace courier::bench {

/// An SPSC queue made the way JUCE's documentation shows: an AbstractFifo managing the indices and a separate
/// buffer holding the items. AbstractFifo's own calls are out of line in juce_core, so the extra call into
/// this adapter costs about what any JUCE user pays anyway.
class juce_fifo
{
public:
    /// Room for `capacity` items (AbstractFifo keeps one slot free, so it gets capacity + 1 slots).
    /// Thread: setup. Real-time: no (allocates).
    explicit juce_fifo(std::size_t capacity);
    ~juce_fifo();
    juce_fifo(const juce_fifo&) = delete;
    juce_fifo& operator=(const juce_fifo&) = delete;

    /// Writes one item, or returns false when the FIFO is full.
    /// Thread: producer. Real-time: wait-free (AbstractFifo's calls: a few atomic loads, one store).
    bool try_push(std::uint64_t value) noexcept;
    /// Reads one item, or returns false when the FIFO is empty.
    /// Thread: consumer. Real-time: wait-free (as try_push).
    bool try_pop(std::uint64_t& out) noexcept;
    /// Writes as many of the `count` values as fit in one prepareToWrite/finishedWrite; returns how many.
    /// (Pointer and count, not std::span: juce_core compiles this file as C++17.)
    /// Thread: producer. Real-time: wait-free (as try_push).
    std::size_t push_many(const std::uint64_t* values, std::size_t count) noexcept;
    /// Reads up to `count` items into `out` in one prepareToRead/finishedRead; returns how many.
    /// Thread: consumer. Real-time: wait-free (as try_push).
    std::size_t pop_many(std::uint64_t* out, std::size_t count) noexcept;

private:
    struct state;
    std::unique_ptr<state> self;
};

}  // namespace courier::bench
