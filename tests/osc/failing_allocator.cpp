// SPDX-License-Identifier: MIT
// The failing allocator of failing_allocator.h: the global operator new and delete (tests/support/replaced_new.cpp)
// allocate with malloc and free here, refusing a thread's requests at or above the size it set. The sanitizer
// builds keep working: ASan still sees every malloc and free underneath.
#include "tests/osc/failing_allocator.h"
#include "tests/support/replaced_new.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
thread_local std::size_t refuse_from = 0;  // this thread's limit; 0: no limit
std::atomic<std::size_t> refused{0};       // a counter: nothing is read through it
}  // namespace

namespace courier::test::replaced_new {

void* allocate(std::size_t size)
{
    if (refuse_from != 0 && size >= refuse_from)
    {
        refused.fetch_add(1, std::memory_order_relaxed);
        throw std::bad_alloc();
    }
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    throw std::bad_alloc();
}

void* allocate_aligned(std::size_t size, std::align_val_t alignment)
{
    const auto align = static_cast<std::size_t>(alignment);
    if (refuse_from != 0 && size >= refuse_from)
    {
        refused.fetch_add(1, std::memory_order_relaxed);
        throw std::bad_alloc();
    }
    const std::size_t rounded = (size + align - 1) / align * align;
    if (void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded))
        return p;
    throw std::bad_alloc();
}

void release(void* p) noexcept { std::free(p); }
}  // namespace courier::test::replaced_new

namespace courier::test {
void fail_allocations_from(std::size_t bytes) noexcept { refuse_from = bytes; }
std::size_t refused_allocations() noexcept { return refused.load(std::memory_order_relaxed); }
}  // namespace courier::test

