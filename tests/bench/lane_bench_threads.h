// SPDX-License-Identifier: MIT
// What every lane_bench measurement shares: two pinned threads, the clock, and the check that messages arrived
// in order (docs/performance.md).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace courier::bench {

/// Now, in nanoseconds of steady_clock. Inline, so a timestamp in a measured loop costs no extra call.
/// Thread: any. Real-time: wait-free (a vDSO clock read).
inline std::int64_t now_ns() noexcept
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/// The cheapest of many back-to-back steady_clock reads: every latency sample includes one.
/// Thread: any. Real-time: no (spins 10,000 reads).
double clock_read_ns();

/// Throws unless `wrong` is 0; `what` names the measurement in the message.
/// Thread: main. Real-time: no (may throw).
void require_in_order(std::uint64_t wrong, const char* what);

/// Releases two threads together, so neither starts its clock while the other is still being scheduled.
/// Spins rather than blocks: a futex wake-up would add its own latency to the first messages.
class start_line
{
public:
    /// Returns once both threads have arrived.
    /// Thread: either of the two. Real-time: no (spins until the other thread arrives).
    void arrive_and_wait() noexcept
    {
        arrived.fetch_add(1, std::memory_order_acq_rel);  // pairs with the other thread's load below
        while (arrived.load(std::memory_order_acquire) < 2)
        {
        }
    }

private:
    std::atomic<int> arrived{0};
};

/// Runs one measurement's two halves on two fresh threads, each pinned to its own CPU when the system allows,
/// and remembers whether every pin worked so the report can say so.
class thread_pair
{
public:
    /// Picks the first two CPUs this process may run on.
    /// Thread: main. Real-time: no (syscall).
    thread_pair();

    /// Runs `first` and `second` on two new pinned threads, started together, and returns when both are done.
    /// Thread: main. Real-time: no (starts and joins threads).
    template <class First, class Second>
    void run(First&& first, Second&& second)
    {
        start_line line;
        std::thread a([&] {
            pin(first_cpu);
            line.arrive_and_wait();
            first();
        });
        std::thread b([&] {
            pin(second_cpu);
            line.arrive_and_wait();
            second();
        });
        a.join();
        b.join();
    }

    /// One line for the report: where the threads ran.
    /// Thread: main, after run(). Real-time: no (allocates).
    [[nodiscard]] std::string describe() const;

private:
    void pin(int cpu) noexcept;

    int first_cpu = -1;
    int second_cpu = -1;
    // Written by the measurement threads, read by the main thread after join(), which orders them.
    std::atomic<unsigned> pinned{0};
    std::atomic<unsigned> failed{0};
    std::atomic<int> last_error{0};
};

}  // namespace courier::bench
