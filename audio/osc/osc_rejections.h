// SPDX-License-Identifier: MIT
// Packets rejected, in all and per reason: the one counter pair behind endpoint_stats and router_stats
// (docs/osc.md, "Bad input"). Private to courier_osc: no public header includes it.
#pragma once

#include <courier/osc/osc_packet.h>
#include <courier/counter.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace courier::osc {

/// The count of rejected packets and its split by reason, kept consistent: each rejection adds to both.
struct rejection_counters
{
    // Written by the network (or router) thread only; read by stats() from any thread.
    counter total;
    std::array<counter, reject_reason_count> by_reason{};

    /// Counts one rejected packet.
    /// Thread: the network or router thread (the counters' one writer). Real-time: wait-free.
    void count(reject_reason why) noexcept
    {
        total.add();
        by_reason[static_cast<std::size_t>(why)].add();
    }

    /// Copies both into a stats snapshot; each value is exact for some moment during the call.
    /// Thread: any. Real-time: wait-free.
    void load_into(std::uint64_t& out_total, std::array<std::uint64_t, reject_reason_count>& out_by) const noexcept
    {
        out_total = total.load();
        for (std::size_t i = 0; i < reject_reason_count; ++i)
            out_by[i] = by_reason[i].load();
    }
};

}  // namespace courier::osc
