// SPDX-License-Identifier: MIT
// The default storage behind a lane: moodycamel::ReaderWriterQueue through its non-allocating calls only
// (docs/architecture.md, "Storage policies").
#pragma once

#include "core/contracts.h"

#include <readerwriterqueue/readerwriterqueue.h>

#include <cstddef>
#include <utility>

namespace courier {

/// A lane's storage policy wraps an SPSC container. The lane does the counting, the capacity check and the
/// role guards; the policy only stores. A policy provides, with these threads and guarantees:
///   explicit Policy(std::size_t capacity)     setup; reserves room for at least `capacity` items
///   bool try_emplace(Args&&...) noexcept      producer, wait-free; constructs in place, or returns false
///                                             and leaves the arguments untouched
///   T* front() noexcept                       consumer, wait-free; the oldest item, or nullptr
///   void pop() noexcept                       consumer, wait-free; destroys the oldest item
/// The destructor destroys whatever is still stored, on the thread that destroys the lane.
template <class T>
class rwq_storage
{
public:
    /// Reserves room for at least `capacity` items (the queue may round up; the lane enforces the exact
    /// figure). Allocates.
    /// Thread: setup. Real-time: no (allocates).
    explicit rwq_storage(std::size_t capacity) : queue(capacity) {}

    /// Constructs an item from `args` at the back, or returns false without touching `args`.
    /// Thread: producer. Real-time: wait-free.
    template <class... Args>
    [[nodiscard]] bool try_emplace(Args&&... args) noexcept
    {
        // try_emplace, never emplace: the latter allocates a new block when the queue is full.
        return queue.try_emplace(std::forward<Args>(args)...);
    }

    /// The oldest item, or nullptr when empty.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] T* front() noexcept COURIER_REALTIME { return queue.peek(); }

    /// Destroys the oldest item; the queue must not be empty. The item dies here, on the consumer thread.
    /// Thread: consumer. Real-time: wait-free if T's destructor is.
    void pop() noexcept
    {
        [[maybe_unused]] const bool popped = queue.pop();
        COURIER_EXPECTS(popped);
    }

private:
    moodycamel::ReaderWriterQueue<T> queue;
};

}  // namespace courier
