// SPDX-License-Identifier: MIT
// The OSC endpoint's counters, behind endpoint::stats() (docs/osc.md). Private to courier_osc: no public header
// includes it.
#pragma once

#include <courier/osc/osc_packet.h>
#include <courier/contracts.h>

#include <array>
#include <atomic>
#include <cstdint>

namespace courier::osc {

/// The counters endpoint_stats is read from (one field each, same names).
struct counters
{
    // Written by the network thread only (count_up); read by stats() from any thread.
    std::atomic<std::uint64_t> datagrams{0}, kernel_dropped{0}, messages{0}, bundles{0}, applied{0}, scheduled{0},
        late_bundles{0}, refused{0}, verbs{0}, rejected{0}, replies{0}, replies_failed{0}, notifications{0},
        subscribers{0}, subscribers_refused{0}, subscribers_expired{0}, loads_done{0}, loads_failed{0},
        events_forwarded{0}, last_bundle_frame{0}, connections{0}, connections_open{0}, connections_refused{0},
        connections_cut{0}, auth_failed{0}, connections_idle{0}, frames{0}, frame_errors{0},
        backpressure{0}, stream_replies_dropped{0};
    std::array<std::atomic<std::uint64_t>, reject_reason_count> rejected_by{};
};

/// Sets a counter (or a gauge) that only the calling thread writes.
/// Thread: the counter's one writer (the network thread). Real-time: wait-free.
inline void set(std::atomic<std::uint64_t>& c, std::uint64_t v) noexcept COURIER_REALTIME
{
    c.store(v, std::memory_order_relaxed);  // a counter; nothing is read through it
}

}  // namespace courier::osc
