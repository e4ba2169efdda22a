// SPDX-License-Identifier: MIT
// The parameter bridge: JUCE parameters (sliders, automation, presets) into a courier cached_state, so the
// audio side reads one trivially copyable block and the GUI reads its own copy (gui/README.md).
#pragma once

#include <courier/patterns/cached_state.h>

#include <juce_audio_processors/juce_audio_processors.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

namespace courier::gui {

/// Connects JUCE parameters to a cached_state<T>: every poll() reads each bound parameter's value (the
/// std::atomic<float> that AudioProcessorValueTreeState::getRawParameterValue returns) and, when one changed,
/// writes the new block through the proxy. So whatever moves a parameter (an attached slider, host
/// automation, a preset loaded through the value tree) reaches the audio side through one courier lane, and
/// the audio side never touches the value tree, a listener or a lock. A write that finds the lane full stays
/// pending in the proxy and goes with the next poll (cached_state's guarantee: the newest value always
/// arrives).
///
/// Threads: bind() at setup; poll() on one control thread (a juce::Timer on the message thread), the proxy's
/// thread. The bridge holds a reference to the proxy, which must outlive it.
template <class T>
class parameter_bridge
{
public:
    /// A bridge writing through `proxy`.
    /// Thread: setup. Real-time: no (allocates later in bind).
    explicit parameter_bridge(cached_state_proxy<T>& proxy) : target(proxy) {}

    /// Copies parameter `raw` into the block with `set(block, value)` whenever it changes. `raw` must outlive
    /// the bridge (the value tree's parameters do).
    /// Thread: setup. Real-time: no (allocates).
    void bind(const std::atomic<float>* raw, std::function<void(T&, float)> set)
    {
        bindings.push_back({raw, std::move(set), std::numeric_limits<float>::quiet_NaN()});
    }

    /// Reads every bound parameter and, if any changed since the last poll, writes the whole block once
    /// through the proxy; otherwise flushes a pending write. Returns how many parameters changed.
    /// Thread: control (the proxy's thread). Real-time: no (calls the std::function setters).
    std::size_t poll()
    {
        std::size_t changed = 0;
        for (auto& b : bindings)
        {
            // Relaxed: a parameter value, read on its own; nothing else is read through it.
            const float now = b.raw->load(std::memory_order_relaxed);
            if (!(now == b.last))  // NaN on the first poll: always sent once
            {
                b.last = now;
                ++changed;
            }
        }
        if (changed > 0)
        {
            static_cast<void>(target.modify([this](T& block) {
                for (auto& b : bindings)
                    b.set(block, b.last);
            }));  // pending when the lane is full: sent by the next poll's flush
        }
        else
        {
            static_cast<void>(target.flush());
        }
        return changed;
    }

    /// The block as the audio side has it, or will have at its next block once nothing is pending.
    /// Thread: control (the proxy's thread). Real-time: wait-free.
    [[nodiscard]] const T& value() const noexcept { return target.get(); }

private:
    struct binding
    {
        const std::atomic<float>* raw;
        std::function<void(T&, float)> set;
        float last;
    };
    cached_state_proxy<T>& target;
    std::vector<binding> bindings;
};

}  // namespace courier::gui
