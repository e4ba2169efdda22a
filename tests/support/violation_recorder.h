// SPDX-License-Identifier: MIT
// A test helper that records contract violations instead of aborting, for the scope of one test.
#pragma once

#include <courier/contracts.h>

#include <atomic>
#include <mutex>
#include <string>

namespace courier::test {

/// While alive, contract violations are counted instead of aborting the test binary, and the text of the last
/// one is kept. Install it before starting the threads whose violations it should see, and destroy it after
/// joining them.
class violation_recorder
{
public:
    violation_recorder() noexcept : previous(set_contract_violation_handler(&record))
    {
        violations.store(0, std::memory_order_relaxed);
        const std::scoped_lock lock(text_mutex);
        last_text.clear();
    }
    ~violation_recorder() { set_contract_violation_handler(previous); }

    violation_recorder(const violation_recorder&) = delete;
    violation_recorder& operator=(const violation_recorder&) = delete;

    /// Violations reported since construction.
    [[nodiscard]] int count() const noexcept { return violations.load(std::memory_order_relaxed); }

    /// The text of the last violation reported (its condition), or an empty string.
    [[nodiscard]] std::string last() const
    {
        const std::scoped_lock lock(text_mutex);
        return last_text;
    }

private:
    static void record(const contract_violation& v) noexcept
    {
        try
        {
            const std::scoped_lock lock(text_mutex);
            last_text = v.condition;
        }
        catch (...)  // a test helper: an allocation failure here only loses the text
        {
        }
        violations.fetch_add(1, std::memory_order_relaxed);
    }

    inline static std::atomic<int> violations{0};  // a counter read after the threads are joined
    inline static std::mutex text_mutex;            // guards last_text: any thread may report
    inline static std::string last_text;
    contract_violation_handler previous;
};

}  // namespace courier::test
