// SPDX-License-Identifier: MIT
// The failing allocator of failing_allocator.h: replaces the global operator new and delete with malloc and
// free, refusing a thread's requests at or above the size it set. The sanitizer builds keep working: ASan and
// TSan still see every malloc and free underneath.
#include "tests/osc/failing_allocator.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
thread_local std::size_t refuse_from = 0;  // this thread's limit; 0: no limit
std::atomic<std::size_t> refused{0};       // a counter: nothing is read through it

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
}  // namespace

namespace courier::test {
void fail_allocations_from(std::size_t bytes) noexcept { refuse_from = bytes; }
std::size_t refused_allocations() noexcept { return refused.load(std::memory_order_relaxed); }
}  // namespace courier::test

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept
{
    try { return allocate(size); } catch (...) { return nullptr; }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept
{
    try { return allocate(size); } catch (...) { return nullptr; }
}
void* operator new(std::size_t size, std::align_val_t a) { return allocate_aligned(size, a); }
void* operator new[](std::size_t size, std::align_val_t a) { return allocate_aligned(size, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
