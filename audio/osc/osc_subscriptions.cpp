// SPDX-License-Identifier: MIT
// The OSC endpoint's subscription list of osc_subscriptions.h (docs/osc.md, "/status and /subscribe").
#include "osc_subscriptions.h"

#include <algorithm>

namespace courier::osc {

bool subscription_list::subscribe(const peer& to, bool meters, float rate)
{
    const auto same = [&](const subscription& s) { return s.to == to && s.meters == meters; };
    auto found = std::find_if(list.begin(), list.end(), same);
    if (found == list.end())
    {
        if (list.size() >= most)
            return false;
        list.push_back(subscription{to, meters, {}, {}});
        found = list.end() - 1;
    }
    found->period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(1.0 / static_cast<double>(rate)));
    found->next = std::chrono::steady_clock::now();
    return true;
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
