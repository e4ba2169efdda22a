// SPDX-License-Identifier: MIT
// How many messages a stress test pushes: fewer under sanitizers, which run 5 to 20 times slower.
#pragma once

#include <cstdint>

namespace courier::test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr std::uint64_t stress_divisor = 10;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer) || __has_feature(realtime_sanitizer)
inline constexpr std::uint64_t stress_divisor = 10;
#else
inline constexpr std::uint64_t stress_divisor = 1;
#endif
#else
inline constexpr std::uint64_t stress_divisor = 1;
#endif

/// `full` in a normal build, a tenth of it under a sanitizer.
constexpr std::uint64_t stress_count(std::uint64_t full) noexcept { return full / stress_divisor; }

}  // namespace courier::test
