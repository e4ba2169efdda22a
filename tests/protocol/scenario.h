// SPDX-License-Identifier: MIT
// Shared helpers of the protocol tests: a tracked message type and a runner that maps a protocol's two parties
// onto the deterministic harness's control and audio sides, both ways round depending on the seed.
#pragma once

#include <courier/testing/fuzz.h>
#include <courier/testing/properties.h>
#include <courier/testing/scheduler.h>
#include "tests/support/stress_scale.h"

#include <cstdint>
#include <string>
#include <utility>

namespace courier::test {

/// A protocol message that reports, through its witness, that it dies exactly once and on its source thread.
struct witnessed
{
    witnessed(courier::testing::pool_witness& w, std::uint64_t v) noexcept : token(w), value(v) {}
    courier::testing::pool_witness::token token;
    std::uint64_t value;
};

/// Party A and party B of one run: A runs on the control side for odd seeds and on the audio side for even
/// ones, so every protocol is fuzzed with either party as the audio thread.
struct two_party_run
{
    explicit two_party_run(std::uint64_t s) : seed(s), a_is_control(s % 2 == 1) {}

    /// Runs the two parties' steps under the seed; returns the first failure (or the harness's error), or "".
    template <class StepA, class StepB>
    std::string run(StepA&& a, StepB&& b)
    {
        courier::testing::scheduler schedule(seed, {.max_steps = 20000, .sample_rate = 48000.0, .block_frames = 64});
        auto ra = [&](courier::testing::step_context& c) { return a(c); };
        auto rb = [&](courier::testing::step_context& c) { return b(c); };
        const auto result = a_is_control ? schedule.run(ra, rb) : schedule.run(rb, ra);
        if (!result.error.empty())
            log.expect(false, result.error);
        return log.first_failure();
    }

    /// True when party `a` (or else b) runs on the control thread, which is the one allowed to close ports.
    [[nodiscard]] bool on_control(bool party_a) const noexcept { return party_a == a_is_control; }

    std::uint64_t seed;
    bool a_is_control;
    courier::testing::property_log log;
};

/// Seeds per protocol: 3000 (300 under a sanitizer), or COURIER_FUZZ_SEEDS.
inline std::uint64_t protocol_fuzz_seeds() noexcept
{
    return courier::testing::fuzz_seed_count(courier::test::stress_count(3000));
}

}  // namespace courier::test
