// SPDX-License-Identifier: MIT
// lane_bench's instruction-count mode: one contender's plain loop on one thread, for callgrind to count what one
// send and one receive execute, free of the timing noise of a shared machine (docs/performance.md).
#pragma once

#include <cstdint>
#include <string>

namespace courier::bench {

/// The names --instructions accepts, for the help text: "lane ring moodycamel boost atomic_queue".
/// Thread: any. Real-time: wait-free.
const char* instruction_queue_names() noexcept;

/// Sends and receives `messages` values through a fresh queue of kind `queue` on the calling thread, in bursts
/// of half its capacity (so every call takes the fast path: never full, and empty once per burst). Each message
/// goes through one call of courier_bench_send_one and one of courier_bench_receive_one, never inlined, so
/// callgrind --toggle-collect on either counts exactly that side. Returns 0, or 2 for an unknown `queue`.
/// Thread: main. Real-time: no (allocates, prints).
int run_instruction_loop(const std::string& queue, std::uint64_t messages);

}  // namespace courier::bench
