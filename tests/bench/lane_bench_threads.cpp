// SPDX-License-Identifier: MIT
// The out-of-line half of lane_bench_threads.h: CPU pinning, the clock-read estimate and the message-order
// check (docs/performance.md).
#include "tests/bench/lane_bench_threads.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace courier::bench {

double clock_read_ns()
{
    std::int64_t cheapest = INT64_MAX;
    for (int i = 0; i < 10'000; ++i)
    {
        const std::int64_t before = now_ns();
        const std::int64_t after = now_ns();
        cheapest = std::min(cheapest, after - before);
    }
    return static_cast<double>(cheapest);
}

void require_in_order(std::uint64_t wrong, const char* what)
{
    if (wrong != 0)
        throw std::runtime_error(std::string(what) + ": " + std::to_string(wrong) + " messages arrived wrong");
}

thread_pair::thread_pair()
{
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    std::vector<int> cpus;
    for (std::size_t cpu = 0; cpu < static_cast<std::size_t>(CPU_SETSIZE) && cpus.size() < 2; ++cpu)
        if (CPU_ISSET(cpu, &allowed))
            cpus.push_back(static_cast<int>(cpu));
    if (!cpus.empty())
        first_cpu = cpus[0];
    if (cpus.size() > 1)
        second_cpu = cpus[1];
}

std::string thread_pair::describe() const
{
    const unsigned failures = failed.load(std::memory_order_relaxed);
    if (failures == 0 && pinned.load(std::memory_order_relaxed) > 0)
        return "pinned to CPUs " + std::to_string(first_cpu) + " and " + std::to_string(second_cpu) +
               " (pthread_setaffinity_np)";
    std::string why = second_cpu < 0 ? "fewer than 2 CPUs are allowed"
                                     : std::string(std::strerror(last_error.load(std::memory_order_relaxed)));
    return "NOT pinned for " + std::to_string(failures) + " thread starts (" + why +
           "); continued unpinned, so numbers are noisier";
}

void thread_pair::pin(int cpu) noexcept
{
    if (cpu < 0)
    {
        failed.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(static_cast<std::size_t>(cpu), &only);
    const int error = pthread_setaffinity_np(pthread_self(), sizeof only, &only);
    if (error == 0)
    {
        pinned.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    failed.fetch_add(1, std::memory_order_relaxed);
    last_error.store(error, std::memory_order_relaxed);
}

}  // namespace courier::bench
