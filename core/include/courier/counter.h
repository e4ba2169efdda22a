// SPDX-License-Identifier: MIT
// The statistics counter: one writer, any number of readers (docs/contracts.md, "Counters").
#pragma once

#include <courier/contracts.h>

#include <atomic>
#include <cstdint>

namespace courier {

/// A statistics counter that one thread writes and any thread reads. Every count courier keeps (sent, refused,
/// late, high-water marks, ...) is one of these. With one writer a load and a store are enough, so the real-time
/// side pays for no read-modify-write; readers load with memory_order_relaxed, since no data is read through a
/// counter: it is exact for some moment during the read, never a signal that something else is ready.
/// Which thread is the writer is stated where the counter is declared.
class counter
{
public:
    constexpr counter() noexcept = default;
    counter(const counter&) = delete;
    counter& operator=(const counter&) = delete;

    /// Adds `n`.
    /// Thread: the counter's one writer. Real-time: wait-free.
    void add(std::uint64_t n = 1) noexcept COURIER_REALTIME
    {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }

    /// Raises the counter to `v` if it is below (for high-water marks).
    /// Thread: the counter's one writer. Real-time: wait-free.
    void raise_to(std::uint64_t v) noexcept COURIER_REALTIME
    {
        if (v > value_.load(std::memory_order_relaxed))
            value_.store(v, std::memory_order_relaxed);
    }

    /// Sets the counter (for a reset that the writer makes).
    /// Thread: the counter's one writer. Real-time: wait-free.
    void set(std::uint64_t v) noexcept COURIER_REALTIME { value_.store(v, std::memory_order_relaxed); }

    /// The current count.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t load() const noexcept COURIER_REALTIME { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

}  // namespace courier
