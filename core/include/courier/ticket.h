// SPDX-License-Identifier: MIT
// ticket: what a send that names what it sent returns: the send's status and the id the message carries.
#pragma once

#include <courier/contracts.h>
#include <courier/send_status.h>

#include <cstdint>

namespace courier {

/// What a send that names what it sent did, and the name: `result` is the send's status and `id` names the
/// message when `result` is `sent`. `ticket<>` (a 64-bit correlation id) is returned by
/// protocol::reply_client::try_request, protocol::subscriber::try_subscribe and requester::try_request;
/// `ticket<link_handle>` by link_unlink::try_link.
template <class Id = std::uint64_t>
struct ticket
{
    send_status result = send_status::closed;
    Id id{};  ///< value-initialised (0, an empty handle) unless `result` is `sent`

    /// True when the message was sent.
    /// Thread: the caller's. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return result == send_status::sent; }
};

}  // namespace courier
