// SPDX-License-Identifier: MIT
// A stand-in for a sound card: a thread that calls the audio callback once per block period.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace demo {

/// Calls `callback(block_number)` every `period` on its own thread, as a sound card's driver would. The
/// sleeping happens here, in the "driver", between callbacks; the callback itself never waits.
template <class Callback>
class simulated_device
{
public:
    /// Starts the callback thread.
    /// Thread: control. Real-time: no (starts a thread).
    simulated_device(std::chrono::nanoseconds period, Callback callback)
        : worker([this, period, callback]() mutable {
              auto next = std::chrono::steady_clock::now();
              for (std::uint64_t block = 0; running.load(std::memory_order_relaxed); ++block)
              {
                  callback(block);
                  blocks.store(block + 1, std::memory_order_relaxed);  // a counter for display
                  next += period;
                  std::this_thread::sleep_until(next);
              }
          })
    {
    }

    /// Stops the callback thread and waits for it: the callback is not running once this returns.
    /// Thread: control. Real-time: no (joins a thread).
    void stop()
    {
        running.store(false, std::memory_order_relaxed);  // the join below is the synchronisation
        if (worker.joinable())
            worker.join();
    }

    ~simulated_device() { stop(); }

    /// How many blocks the callback has rendered.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t blocks_rendered() const noexcept { return blocks.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> running{true};
    std::atomic<std::uint64_t> blocks{0};
    std::thread worker;  // last: starts after the flags above exist
};

}  // namespace demo
