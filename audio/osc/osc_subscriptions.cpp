// SPDX-License-Identifier: MIT
// The OSC endpoint's subscription list of osc_subscriptions.h (docs/osc.md, "/status and /subscribe").
#include "osc_subscriptions.h"

#include <algorithm>

namespace courier::osc {

bool subscription_list::subscribe(const peer& from, const peer& to, bool meters, float rate,
                                  std::chrono::steady_clock::time_point now)
{
    const auto same = [&](const subscription& s) { return s.to == to && s.meters == meters; };
    auto found = std::find_if(list.begin(), list.end(), same);
    if (found == list.end())
    {
        if (list.size() >= most)
            return false;
        list.push_back(subscription{to, meters, {}, {}, from, now});
        found = list.end() - 1;
    }
    found->period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(1.0 / static_cast<double>(rate)));
    found->next = now;
    found->from = from;
    found->heard = now;
    return true;
}

void subscription_list::heard(const peer& from, std::chrono::steady_clock::time_point now) noexcept COURIER_REALTIME
{
    for (subscription& s : list)
        if (s.from == from)
            s.heard = now;
}

std::size_t subscription_list::expire(std::chrono::steady_clock::time_point now,
                                      std::chrono::steady_clock::duration lease) noexcept COURIER_REALTIME
{
    if (lease <= std::chrono::steady_clock::duration::zero())
        return 0;
    // ✗ an expired entry dies here, on the network thread (its slot is free for the next /subscribe)
    return std::erase_if(list, [&](const subscription& s) { return s.to.stream == 0 && now - s.heard >= lease; });
}

bool subscription_list::unsubscribe(const peer& to, bool meters) noexcept COURIER_REALTIME
{
    return std::erase_if(list, [&](const subscription& s) { return s.to == to && s.meters == meters; }) != 0;
}

}  // namespace courier::osc

namespace courier::osc {

std::size_t subscription_list::forget_stream(std::uint32_t stream) noexcept COURIER_REALTIME
{
    return std::erase_if(list, [&](const subscription& s) { return s.to.stream == stream; });
}

}  // namespace courier::osc
