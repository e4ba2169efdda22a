// SPDX-License-Identifier: MIT
// The alignment that keeps data written by different threads on different cache lines (docs/architecture.md).
#pragma once

#include <cstddef>

namespace courier {

/// Alignment used to keep one thread's hot data off the cache line another thread writes. 64 bytes fits
/// x86-64 and most ARM cores; 128 also covers the adjacent-line prefetcher on recent x86 and Apple M-series.
/// Thread: any. Real-time: wait-free (a compile-time constant).
inline constexpr std::size_t cache_line_size = 128;

}  // namespace courier
