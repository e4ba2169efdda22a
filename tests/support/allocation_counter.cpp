// SPDX-License-Identifier: MIT
// Counts heap calls per thread (see allocation_counter.h). A normal build replaces the global operator new and
// delete. Under ThreadSanitizer or AddressSanitizer the runtime owns operator new, so the count comes from
// the sanitizer's malloc and free hooks instead, which see every allocation its allocator makes.
#include "tests/support/allocation_counter.h"

#include <cstdlib>
#include <new>

namespace {
thread_local std::size_t heap_calls = 0;
}  // namespace

namespace courier::test {
std::size_t heap_calls_on_this_thread() noexcept { return heap_calls; }
}  // namespace courier::test

#if COURIER_COUNT_WITH_SANITIZER_HOOKS
#include <sanitizer/allocator_interface.h>

namespace {
void count_malloc(const volatile void*, std::size_t) { ++heap_calls; }
void count_free(const volatile void*) { ++heap_calls; }
// Installed before main, so the tests' first allocation is already counted.
[[maybe_unused]] const int hooks_installed = __sanitizer_install_malloc_and_free_hooks(&count_malloc, &count_free);
}  // namespace
#else
#include "tests/support/replaced_new.h"

namespace courier::test::replaced_new {

void* allocate(std::size_t size)
{
    ++heap_calls;
    if (void* p = std::malloc(size == 0 ? 1 : size))
        return p;
    throw std::bad_alloc();
}

void* allocate_aligned(std::size_t size, std::align_val_t alignment)
{
    ++heap_calls;
    const auto align = static_cast<std::size_t>(alignment);
    const std::size_t rounded = (size + align - 1) / align * align;
    if (void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded))
        return p;
    throw std::bad_alloc();
}

void release(void* p) noexcept
{
    if (p == nullptr)
        return;
    ++heap_calls;
    std::free(p);
}
}  // namespace courier::test::replaced_new

#endif
