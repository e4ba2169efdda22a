// SPDX-License-Identifier: MIT
// The parameter bridge: JUCE parameters (host automation, sliders, presets) read on the audio side at the start of
// each block and handed to the engine as block events, so automation is block-accurate even in an offline bounce
// (gui/README.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/contracts.h>
#include <courier/counter.h>
#include <courier/gui/block_events.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <stdexcept>

namespace courier::gui {

/// Hosts set parameter values just before they call processBlock, and an offline bounce runs many blocks
/// between two ticks of any message-thread timer. So the bridge reads each bound parameter's value (the
/// std::atomic<float> that AudioProcessorValueTreeState::getRawParameterValue returns: written by the host,
/// an attached slider or a preset, on whatever thread) on the audio thread, at the start of the block, and
/// adds one block event at frame 0 for each parameter that changed. Reading is one relaxed atomic load per
/// parameter: wait-free, no allocation, no lock, no listener.
///
/// Changes that do not come from the host (an OSC message, a button) are made by setting the JUCE parameter
/// on the message thread (setValueNotifyingHost), so the host records them, the editor's attachments show them,
/// and the next block reads them here like any other.
///
/// Threads: bind() at setup; read() on the audio thread; applied() anywhere.
class parameter_bridge
{
public:
    /// Reads `raw` every block; when it changes, adds an event of type `type`, key `key` and the new value.
    /// `raw` must outlive the bridge (the value tree's parameters do). Returns the binding's index.
    /// Thread: setup (before the first read()). Real-time: no (allocates).
    std::size_t bind(const std::atomic<float>* raw, std::uint16_t type, std::uint32_t key)
    {
        if (raw == nullptr)
            throw std::invalid_argument("courier::gui::parameter_bridge: bind() needs a parameter (got null)");
        bindings.emplace_back(raw, type, key);
        return bindings.size() - 1;
    }

    /// Adds a frame-0 event to `into` for each bound parameter whose value changed since the last read() (all
    /// of them the first time), and returns how many it added. An event `into` refuses (full: counted there) is
    /// tried again at the next read(), so the newest value always arrives.
    /// Thread: audio. Real-time: wait-free.
    std::size_t read(block_events& into) noexcept COURIER_REALTIME
    {
        std::size_t added = 0;
        for (binding& b : bindings)
        {
            // Relaxed: a parameter value, read on its own; nothing else is read through it.
            const float now = b.raw->load(std::memory_order_relaxed);
            if (now == b.last)  // NaN before the first read: always sent once
                continue;
            audio::block_event e;
            e.event.type = b.type;
            e.event.key = b.key;
            e.event.value = now;
            if (!into.try_add(e))
                continue;
            b.last = now;
            b.seen.store(now, std::memory_order_relaxed);  // for the editor's display only
            ++added;
        }
        changes.add(added);
        return added;
    }

    /// The value of binding `index` as the audio side last took it (NaN before its first block).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] float applied(std::size_t index) const noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(index < bindings.size());
        return bindings[index].seen.load(std::memory_order_relaxed);  // a value; nothing is read through it
    }

    /// Parameter changes read so far.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t changes_read() const noexcept COURIER_REALTIME
    {
        return changes.load();
    }

    /// How many parameters are bound.
    /// Thread: any (after setup). Real-time: wait-free.
    [[nodiscard]] std::size_t size() const noexcept COURIER_REALTIME { return bindings.size(); }

private:
    struct binding
    {
        binding(const std::atomic<float>* r, std::uint16_t t, std::uint32_t k) : raw(r), type(t), key(k) {}
        const std::atomic<float>* raw;
        std::uint16_t type;
        std::uint32_t key;
        float last = std::numeric_limits<float>::quiet_NaN();  // audio thread only
        std::atomic<float> seen{std::numeric_limits<float>::quiet_NaN()};  // written by the audio thread
    };
    std::deque<binding> bindings;  // a deque: bindings hold atomics, which never move
    counter changes;  // written by the audio thread only
};

}  // namespace courier::gui
