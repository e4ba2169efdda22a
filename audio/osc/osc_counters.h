// SPDX-License-Identifier: MIT
// The OSC endpoint's counters, behind endpoint::stats() (docs/osc.md). Private to courier_osc: no public header
// includes it.
#pragma once

#include "osc_rejections.h"

#include <courier/osc/osc_packet.h>
#include <courier/contracts.h>
#include <courier/counter.h>

#include <array>
#include <cstdint>

namespace courier::osc {

/// The counters endpoint_stats is read from (one field each, same names; `rejected` fills both `rejected` and
/// `rejected_by`).
struct counters
{
    // Written by the network thread only (add, set); read by stats() from any thread.
    counter datagrams, kernel_dropped, messages, bundles, applied, scheduled, late_bundles, refused, verbs,
        replies, replies_failed, notifications, subscribers, subscribers_refused, subscribers_expired, loads_done,
        loads_failed, events_forwarded, last_bundle_frame, connections, connections_open, connections_refused,
        connections_cut, auth_failed, connections_idle, frames, frame_errors, backpressure, stream_replies_dropped;
    rejection_counters rejected;
};

}  // namespace courier::osc
