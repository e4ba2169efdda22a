// SPDX-License-Identifier: MIT
// The one answer every courier send gives (docs/contracts.md, "Refusals").
#pragma once

#include <courier/contracts.h>

#include <cstdint>

namespace courier {

/// What a send did. Every courier call that can refuse a message for more than one reason returns this; a
/// refusal always leaves the message with the caller (nothing is lost) and is counted where the stats say.
/// The plain transports (lane, mailbox, command_lane) have one refusal only and return `bool`: `false` there is
/// `send_status::full`.
enum class send_status : std::uint8_t
{
    sent,       ///< accepted: in the receiver's queue (or reserved in it)
    full,       ///< the queue has no room now; try again after the receiver catches up
    no_credit,  ///< the sender's limit on messages or objects in flight is reached; wait for one to come back
    gone,       ///< there is no receiver: it closed, or nothing is registered under that name
    closed,     ///< the protocol's state forbids it (stream ended, request settled, not subscribed, ...)
    too_large,  ///< larger than the queue can ever hold: it will never fit, whatever the receiver does
};

/// The status's name, for logs.
/// Thread: any. Real-time: wait-free.
[[nodiscard]] constexpr const char* to_string(send_status status) noexcept COURIER_REALTIME
{
    switch (status) {
    case send_status::sent: return "sent";
    case send_status::full: return "full";
    case send_status::no_credit: return "no_credit";
    case send_status::gone: return "gone";
    case send_status::closed: return "closed";
    case send_status::too_large: return "too_large";
    }
    return "unknown";
}

}  // namespace courier
