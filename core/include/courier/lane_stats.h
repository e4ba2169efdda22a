// SPDX-License-Identifier: MIT
// A snapshot of a lane's counters, readable from any thread (docs/contracts.md, "Counters").
#pragma once

#include <courier/contracts.h>

#include <cstddef>
#include <cstdint>

namespace courier {

/// What a lane has carried so far. Each field is read with a relaxed load, so a snapshot taken while the
/// lane is in use is not one instant: each counter is exact for some moment during the call.
struct lane_stats
{
    std::size_t capacity = 0;      ///< the most messages the lane holds at once
    std::uint64_t sent = 0;        ///< messages accepted by try_send/try_emplace
    std::uint64_t received = 0;    ///< messages taken out by the receiver
    std::uint64_t refused = 0;     ///< sends refused because the lane was full
    std::uint64_t high_water = 0;  ///< the most seen queued at once: sampled, never above the true maximum,
                                   ///< `capacity` once a send was refused (lane.h states the contract)

    /// Messages queued now, as far as this snapshot can tell.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t depth() const noexcept COURIER_REALTIME { return sent > received ? sent - received : 0; }
};

}  // namespace courier
