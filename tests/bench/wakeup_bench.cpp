// SPDX-License-Identifier: MIT
// Measures how long a waiting worker takes to learn of a courier::wakeup signal: the bounded delay that the
// audio side's syscall-free signal() trades for, against signal_and_wake() from a control thread
// (docs/patterns/wakeup.md). Prints a table and writes CSV.
#include <courier/wakeup.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct result
{
    std::string method;
    double poll_us;
    double p50_us, p99_us, max_us;
};

// The signaller stamps the time, signals, and waits for the worker to acknowledge before the next round, so
// each sample is one isolated wake-up. A gap of a few hundred microseconds puts the worker to sleep first.
result measure(const char* method, std::chrono::microseconds poll, bool wake_now, int rounds)
{
    courier::wakeup w(poll);
    std::atomic<std::int64_t> sent_at{0};
    std::atomic<int> acked{0};
    std::vector<double> delays_us(static_cast<std::size_t>(rounds));

    std::thread worker([&] {
        for (int i = 0; i < rounds; ++i)
        {
            while (!w.wait_for(std::chrono::seconds(10)))
            {
            }
            const auto now = clock_type::now().time_since_epoch().count();
            // Acquire pairs with the signaller's release store of the stamp.
            delays_us[static_cast<std::size_t>(i)] =
                static_cast<double>(now - sent_at.load(std::memory_order_acquire)) / 1000.0;
            acked.store(i + 1, std::memory_order_release);  // pairs with the signaller's acquire load
        }
    });

    for (int i = 0; i < rounds; ++i)
    {
        std::this_thread::sleep_for(std::chrono::microseconds(300 + (i * 37) % 500));
        sent_at.store(clock_type::now().time_since_epoch().count(), std::memory_order_release);
        if (wake_now)
            w.signal_and_wake();
        else
            w.signal();
        while (acked.load(std::memory_order_acquire) != i + 1)
            std::this_thread::yield();
    }
    worker.join();

    std::sort(delays_us.begin(), delays_us.end());
    const auto at = [&](double q) {
        return delays_us[static_cast<std::size_t>(q * static_cast<double>(delays_us.size() - 1))];
    };
    return {method, static_cast<double>(poll.count()), at(0.50), at(0.99), delays_us.back()};
}

}  // namespace

int main(int argc, char** argv)
{
    std::string csv_path = "bench-results/wakeup_bench.csv";
    int rounds = 2000;
    for (int i = 1; i < argc; ++i)
    {
        const std::string arg = argv[i];
        if (arg == "--quick")
            rounds = 200;
        else if (arg == "--csv" && i + 1 < argc)
            csv_path = argv[++i];
        else
        {
            std::printf("usage: courier_wakeup_bench [--quick] [--csv PATH]\n"
                        "  Measures signal-to-wake delay of courier::wakeup: signal() (audio side, no syscall, seen\n"
                        "  within the poll interval) for several intervals, and signal_and_wake() (control side).\n");
            return arg == "--help" ? 0 : 2;
        }
    }

    std::vector<result> results;
    for (const auto poll : {std::chrono::microseconds(100), std::chrono::microseconds(500), std::chrono::microseconds(1000),
                            std::chrono::microseconds(5000)})
        results.push_back(measure("signal (audio side)", poll, false, rounds));
    results.push_back(measure("signal_and_wake (control)", std::chrono::microseconds(1000), true, rounds));

    std::printf("courier wakeup benchmark: %d isolated wake-ups per row, delay from signal to the worker running\n\n",
                rounds);
    std::printf("%-28s %10s %10s %10s %10s %14s\n", "method", "poll_us", "p50_us", "p99_us", "max_us", "p99/poll");
    for (const auto& r : results)
        std::printf("%-28s %10.0f %10.1f %10.1f %10.1f %14.2f\n", r.method.c_str(), r.poll_us, r.p50_us, r.p99_us,
                    r.max_us, r.p99_us / r.poll_us);

    const std::filesystem::path path(csv_path);
    if (path.has_parent_path())
        std::filesystem::create_directories(path.parent_path());
    std::ofstream csv(path);
    csv << "method,poll_us,p50_us,p99_us,max_us\n";
    for (const auto& r : results)
        csv << r.method << ',' << r.poll_us << ',' << r.p50_us << ',' << r.p99_us << ',' << r.max_us << '\n';
    std::printf("\nwrote %s\n", csv_path.c_str());
    return 0;
}
