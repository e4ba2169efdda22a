// SPDX-License-Identifier: MIT
// juce::AbstractFifo with a buffer, for lane_bench (docs/performance.md). Compiled with juce_core, without
// courier's warning flags (JUCE's own sources do not build under -Werror -Wconversion).
#include "tests/bench/juce_fifo.h"

#include <juce_core/juce_core.h>

#include <algorithm>
#include <vector>

namespace courier::bench {

struct juce_fifo::state
{
    explicit state(std::size_t capacity) : fifo(static_cast<int>(capacity) + 1), buffer(capacity + 1) {}
    juce::AbstractFifo fifo;
    std::vector<std::uint64_t> buffer;
};

juce_fifo::juce_fifo(std::size_t capacity) : self(std::make_unique<state>(capacity)) {}
juce_fifo::~juce_fifo() = default;

bool juce_fifo::try_push(std::uint64_t value) noexcept
{
    // The documented pattern: prepareToWrite, copy into the one or two regions, finishedWrite.
    int start1 = 0, size1 = 0, start2 = 0, size2 = 0;
    self->fifo.prepareToWrite(1, start1, size1, start2, size2);
    if (size1 + size2 < 1)
        return false;
    self->buffer[static_cast<std::size_t>(size1 > 0 ? start1 : start2)] = value;
    self->fifo.finishedWrite(1);
    return true;
}

bool juce_fifo::try_pop(std::uint64_t& out) noexcept
{
    int start1 = 0, size1 = 0, start2 = 0, size2 = 0;
    self->fifo.prepareToRead(1, start1, size1, start2, size2);
    if (size1 + size2 < 1)
        return false;
    out = self->buffer[static_cast<std::size_t>(size1 > 0 ? start1 : start2)];
    self->fifo.finishedRead(1);
    return true;
}

std::size_t juce_fifo::push_many(const std::uint64_t* values, std::size_t count) noexcept
{
    int start1 = 0, size1 = 0, start2 = 0, size2 = 0;
    self->fifo.prepareToWrite(static_cast<int>(count), start1, size1, start2, size2);
    std::copy_n(values, size1, self->buffer.begin() + start1);
    std::copy_n(values + size1, size2, self->buffer.begin() + start2);
    self->fifo.finishedWrite(size1 + size2);
    return static_cast<std::size_t>(size1 + size2);
}

std::size_t juce_fifo::pop_many(std::uint64_t* out, std::size_t count) noexcept
{
    int start1 = 0, size1 = 0, start2 = 0, size2 = 0;
    self->fifo.prepareToRead(static_cast<int>(count), start1, size1, start2, size2);
    std::copy_n(self->buffer.begin() + start1, size1, out);
    std::copy_n(self->buffer.begin() + start2, size2, out + size1);
    self->fifo.finishedRead(size1 + size2);
    return static_cast<std::size_t>(size1 + size2);
}

}  // namespace courier::bench
