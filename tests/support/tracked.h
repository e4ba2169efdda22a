// SPDX-License-Identifier: MIT
// A test payload that records how often, and on which thread, each of its values is destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <utility>

namespace courier::test {

/// Counts the live instances of tracked and the destructions that happened on a thread other than the one
/// named as `home`. Moved-from instances do not count as destroyed values.
struct tracking_log
{
    std::atomic<int> live{0};
    std::atomic<int> destroyed{0};
    std::atomic<int> destroyed_away_from_home{0};
    std::thread::id home = std::this_thread::get_id();
};

/// A non-trivially-destructible, move-only message that reports its destruction to a tracking_log.
class tracked
{
public:
    tracked(tracking_log& destination, std::uint64_t number) noexcept : log(&destination), value(number)
    {
        destination.live.fetch_add(1, std::memory_order_relaxed);
    }
    tracked(tracked&& other) noexcept : log(std::exchange(other.log, nullptr)), value(other.value) {}
    tracked& operator=(tracked&& other) noexcept
    {
        destroy();
        log = std::exchange(other.log, nullptr);
        value = other.value;
        return *this;
    }
    ~tracked() { destroy(); }

    [[nodiscard]] std::uint64_t number() const noexcept { return value; }

private:
    void destroy() noexcept
    {
        if (log == nullptr)
            return;
        log->live.fetch_sub(1, std::memory_order_relaxed);
        log->destroyed.fetch_add(1, std::memory_order_relaxed);
        if (std::this_thread::get_id() != log->home)
            log->destroyed_away_from_home.fetch_add(1, std::memory_order_relaxed);
        log = nullptr;
    }

    tracking_log* log;
    std::uint64_t value;
};

}  // namespace courier::test
