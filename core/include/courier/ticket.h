// SPDX-License-Identifier: MIT
// ticket: what a send that names what it sent returns: the send's status and the id the message carries.
#pragma once

#include <courier/send_status.h>

#include <cstdint>

namespace courier {

/// What a request (or subscribe) did, and the correlation id the message carries when it was sent. Returned by
/// protocol::reply_client::try_request, protocol::subscriber::try_subscribe and requester::try_request.
struct ticket
{
    send_status result = send_status::closed;
    std::uint64_t id = 0;  ///< 0 unless `result` is `sent`
};

}  // namespace courier
