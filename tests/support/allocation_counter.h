// SPDX-License-Identifier: MIT
// A test helper that counts the calling thread's heap allocations and frees within a scope.
#pragma once

#include <cstddef>

namespace courier::test {

/// The number of operator new and operator delete calls made so far by the calling thread.
/// Thread: any. Real-time: wait-free.
std::size_t heap_calls_on_this_thread() noexcept;

/// Counts the heap calls (allocations and frees, through any form of operator new or delete) that the
/// constructing thread makes between construction and count(). The test binary replaces the global operator
/// new and delete to do this, so it sees allocations inside the standard library and moodycamel too.
class allocation_counter
{
public:
    allocation_counter() noexcept : start(heap_calls_on_this_thread()) {}

    /// Heap calls made by this thread since construction.
    [[nodiscard]] std::size_t count() const noexcept { return heap_calls_on_this_thread() - start; }

private:
    std::size_t start;
};

}  // namespace courier::test
