// SPDX-License-Identifier: MIT
// The OSC endpoint's subscriptions to /meters and /events: who is subscribed, and when the next /meters is due
// (docs/osc.md, "/status and /subscribe"). Private to courier_osc: no public header includes it.
#pragma once

#include "osc_sockets.h"
#include <courier/contracts.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace courier::osc {

/// One peer's subscription to one topic.
struct subscription
{
    peer to;
    bool meters = true;  // else /events
    std::chrono::steady_clock::duration period{};
    std::chrono::steady_clock::time_point next{};
    peer from;                                      // who subscribed (`to` may be its reply port)
    std::chrono::steady_clock::time_point heard{};  // when `from` last sent anything: the lease's start
};

/// The subscriptions, at most endpoint_config::max_subscribers at once over all topics; one per peer and topic.
/// The network thread's own.
class subscription_list
{
public:
    /// An empty list that takes at most `max_subscribers` subscriptions.
    /// Thread: setup. Real-time: wait-free.
    explicit subscription_list(std::size_t max_subscribers) noexcept : most(max_subscribers) {}

    /// Subscribes `to` to /meters (`meters`) or /events at `rate` notifications per second, from `now`, for
    /// `from` (the sender; `to` is where notifications go); a peer already subscribed to the topic gets the new
    /// rate and a renewed lease. False when the list is full.
    /// Thread: the network thread. Real-time: no (allocates).
    [[nodiscard]] bool subscribe(const peer& from, const peer& to, bool meters, float rate,
                                 std::chrono::steady_clock::time_point now);

    /// Renews the lease of every subscription `from` made: it just sent something.
    /// Thread: the network thread. Real-time: wait-free.
    void heard(const peer& from, std::chrono::steady_clock::time_point now) noexcept COURIER_REALTIME;

    /// Ends every datagram subscription whose sender was last heard `lease` or longer before `now` (it vanished:
    /// a datagram peer never says so); returns how many. A connection's subscriptions end with the connection
    /// instead (forget_stream). `lease` zero: none expire.
    /// Thread: the network thread. Real-time: wait-free.
    std::size_t expire(std::chrono::steady_clock::time_point now,
                       std::chrono::steady_clock::duration lease) noexcept COURIER_REALTIME;

    /// Ends the subscription of `to` to /meters (`meters`) or /events; false when there was none.
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] bool unsubscribe(const peer& to, bool meters) noexcept COURIER_REALTIME;

    /// Ends every subscription of the TCP connection `stream` (it closed); returns how many.
    /// Thread: the network thread. Real-time: wait-free.
    std::size_t forget_stream(std::uint32_t stream) noexcept COURIER_REALTIME;

    /// The subscriptions now.
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] std::size_t size() const noexcept COURIER_REALTIME { return list.size(); }

    /// The subscriptions, in the order they came (the next /meters of each may be changed).
    /// Thread: the network thread. Real-time: wait-free.
    [[nodiscard]] auto begin() noexcept COURIER_REALTIME { return list.begin(); }
    [[nodiscard]] auto end() noexcept COURIER_REALTIME { return list.end(); }
    [[nodiscard]] auto begin() const noexcept COURIER_REALTIME { return list.begin(); }
    [[nodiscard]] auto end() const noexcept COURIER_REALTIME { return list.end(); }

private:
    std::size_t most;
    std::vector<subscription> list;  // ✗ an entry dies in unsubscribe (network thread) or with the list (setup)
};

}  // namespace courier::osc
