// SPDX-License-Identifier: MIT
// The schedule fuzzing driver: runs a scenario over many seeds, stops at the first failure and prints the seed
// to replay it with (docs/testing.md).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>

namespace courier::testing {

/// The outcome of a fuzz run.
struct fuzz_report
{
    std::uint64_t runs = 0;          ///< seeds run
    bool failed = false;             ///< a seed failed
    std::uint64_t failed_seed = 0;   ///< the first failing seed, when `failed`
    std::string failure;             ///< its first failed property
};

/// How many seeds to run: COURIER_FUZZ_SEEDS when set (a positive integer), else `default_seeds`.
/// Thread: setup. Real-time: no (reads the environment).
inline std::uint64_t fuzz_seed_count(std::uint64_t default_seeds) noexcept
{
    if (const char* text = std::getenv("COURIER_FUZZ_SEEDS"))
    {
        const auto n = std::strtoull(text, nullptr, 10);
        if (n > 0)
            return n;
    }
    return default_seeds;
}

/// Runs `scenario(std::uint64_t seed)`, which returns an empty string on success or the first failed property,
/// for the `seeds` seeds from `first_seed` on, whatever the environment says. Stops at the first failure, prints
/// "courier fuzz: <name> failed at seed <n>: <failure>" and the line to replay it to stderr, and reports it.
/// Thread: setup. Real-time: no (runs threads, allocates).
template <class Scenario>
fuzz_report run_seeds(const char* name, std::uint64_t first_seed, std::uint64_t seeds, Scenario&& scenario)
{
    fuzz_report report;
    for (std::uint64_t seed = first_seed; seed < first_seed + seeds; ++seed)
    {
        ++report.runs;
        std::string failure = scenario(seed);
        if (!failure.empty())
        {
            report.failed = true;
            report.failed_seed = seed;
            report.failure = std::move(failure);
            std::fprintf(stderr, "courier fuzz: %s failed at seed %llu: %s\n  replay: COURIER_FUZZ_SEED=%llu\n", name,
                         static_cast<unsigned long long>(seed), report.failure.c_str(),
                         static_cast<unsigned long long>(seed));
            break;
        }
    }
    return report;
}

/// As run_seeds, for `seeds` seeds from `first_seed` on; but when COURIER_FUZZ_SEED is set, for that one seed
/// only, to replay a failure. (Pass fuzz_seed_count(n) as `seeds` to let COURIER_FUZZ_SEEDS choose the count.)
/// Thread: setup. Real-time: no (runs threads, allocates).
template <class Scenario>
fuzz_report fuzz(const char* name, std::uint64_t seeds, Scenario&& scenario, std::uint64_t first_seed = 1)
{
    if (const char* one = std::getenv("COURIER_FUZZ_SEED"))
        return run_seeds(name, std::strtoull(one, nullptr, 10), 1, std::forward<Scenario>(scenario));
    return run_seeds(name, first_seed, seeds, std::forward<Scenario>(scenario));
}

}  // namespace courier::testing
