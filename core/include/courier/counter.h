// SPDX-License-Identifier: MIT
// Statistics counters with one writer and any number of readers (docs/contracts.md, "Counters").
#pragma once

#include <courier/contracts.h>

#include <atomic>
#include <cstdint>

namespace courier {

/// Adds `n` to a counter that only the calling thread ever writes. With one writer a load and a store are
/// enough, so the real-time side pays for no read-modify-write; readers on other threads load the counter
/// with memory_order_relaxed, since nothing is read through it.
/// Thread: the counter's one writer. Real-time: wait-free.
inline void count_up(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept COURIER_REALTIME
{
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace courier
