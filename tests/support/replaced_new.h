// SPDX-License-Identifier: MIT
// The global operator new and delete of a test executable that counts or refuses allocations: every replaceable
// form is in replaced_new.cpp and calls one of the three functions below, which the executable's allocator file
// defines (allocation_counter.cpp counts, tests/osc/failing_allocator.cpp refuses). Link replaced_new.cpp and
// exactly one of those into an executable, never into one whose sanitizer runtime owns operator new.
#pragma once

#include <cstddef>
#include <new>

namespace courier::test::replaced_new {

/// Every form of operator new without an alignment: `size` bytes, or throws std::bad_alloc.
/// Thread: any. Real-time: no (allocates).
void* allocate(std::size_t size);

/// Every form of operator new with an alignment.
/// Thread: any. Real-time: no (allocates).
void* allocate_aligned(std::size_t size, std::align_val_t alignment);

/// Every form of operator delete (`p` may be null).
/// Thread: any. Real-time: no (frees).
void release(void* p) noexcept;

}  // namespace courier::test::replaced_new
