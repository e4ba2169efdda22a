// SPDX-License-Identifier: MIT
// A global operator new that throws std::bad_alloc for large requests on a thread that asked for it, so a test
// can make one thread's allocation fail (linked only into courier_osc_load_worker_tests: it replaces the
// global operator new of the whole executable).
#pragma once

#include <cstddef>

namespace courier::test {

/// From now on, every allocation of at least `bytes` bytes made by the calling thread throws std::bad_alloc
/// (0: none does). Other threads are not affected.
/// Thread: any (it sets the calling thread's own limit). Real-time: wait-free.
void fail_allocations_from(std::size_t bytes) noexcept;

/// How many allocations the failing allocator has refused, on every thread.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] std::size_t refused_allocations() noexcept;

}  // namespace courier::test
