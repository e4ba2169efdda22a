// SPDX-License-Identifier: MIT
// The counts of one protocol party's sends, by what each send did (docs/patterns/protocol_send.md).
#pragma once

#include <cstdint>

namespace courier::protocol {

/// A snapshot of one party's send counters (party::stats()).
struct send_stats
{
    std::uint64_t sent = 0;       ///< accepted
    std::uint64_t full = 0;       ///< refused: the receiver's queue was full
    std::uint64_t no_credit = 0;  ///< refused: every credit (pool body) was out
    std::uint64_t gone = 0;       ///< refused: the receiver had closed
};

}  // namespace courier::protocol
