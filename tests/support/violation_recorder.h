// SPDX-License-Identifier: MIT
// A test helper that records contract violations instead of aborting, for the scope of one test.
#pragma once

#include <courier/contracts.h>

#include <atomic>

namespace courier::test {

/// While alive, contract violations are counted instead of aborting the test binary. Install it before
/// starting the threads whose violations it should see, and destroy it after joining them.
class violation_recorder
{
public:
    violation_recorder() noexcept : previous(set_contract_violation_handler(&record))
    {
        violations.store(0, std::memory_order_relaxed);
    }
    ~violation_recorder() { set_contract_violation_handler(previous); }

    violation_recorder(const violation_recorder&) = delete;
    violation_recorder& operator=(const violation_recorder&) = delete;

    /// Violations reported since construction.
    [[nodiscard]] int count() const noexcept { return violations.load(std::memory_order_relaxed); }

private:
    static void record(const contract_violation&) noexcept { violations.fetch_add(1, std::memory_order_relaxed); }

    inline static std::atomic<int> violations{0};  // a counter read after the threads are joined
    contract_violation_handler previous;
};

}  // namespace courier::test
