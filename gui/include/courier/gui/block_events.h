// SPDX-License-Identifier: MIT
// A host block's events for engine::process_block: the juce::MidiBuffer turned into block events, with the events
// beyond capacity carried to the next block and the rest counted, never dropped silently (gui/README.md).
#pragma once

#include <courier/audio/audio_graph.h>
#include <courier/contracts.h>
#include <courier/counter.h>

#include <juce_audio_basics/juce_audio_basics.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

namespace courier::gui {

/// What a block_events has done so far; each field is exact for some moment during the call.
struct block_events_stats
{
    std::size_t capacity = 0;      ///< events one block holds
    std::uint64_t blocks = 0;      ///< blocks begun
    std::uint64_t midi = 0;        ///< MIDI channel messages taken from the hosts' buffers
    std::uint64_t other = 0;       ///< events added with try_add (parameter changes)
    std::uint64_t carried = 0;     ///< MIDI messages that did not fit their block and went to the next one
    std::uint64_t dropped = 0;     ///< events that fitted neither their block nor the carry: lost, and counted
    std::uint64_t ignored = 0;     ///< MIDI messages that are not channel messages (SysEx, meta): not events
    std::uint64_t carrying = 0;    ///< messages waiting in the carry now
    std::uint64_t high_water = 0;  ///< the most events one block held
};

/// The list of block events a plugin hands to engine::process_block each block, built on the audio thread
/// without allocating: begin() starts a block with what the last one could not hold, try_add() adds a
/// parameter change, add_midi() turns the host's juce::MidiBuffer into MIDI events (make_midi_event) at their
/// sample positions. Every event that does not fit its block is carried to the next (at frame 0, in order)
/// while the carry has room, and counted as dropped beyond that: a flood arrives late, or is counted in the
/// health panel, never lost silently.
///
/// Threads: one audio thread (begin, try_add, add_midi, events); stats() anywhere.
class block_events
{
public:
    /// Room for `capacity` events per block and as many carried to the next. Throws std::invalid_argument for 0.
    /// Thread: setup. Real-time: no (allocates).
    explicit block_events(std::size_t capacity)
    {
        if (capacity == 0)
            throw std::invalid_argument("courier::gui::block_events: capacity must be at least 1");
        list.reserve(capacity);
        carry.reserve(capacity);
    }

    /// Starts a block: empties the list, then puts the events carried from the last
    /// block at frame 0.
    /// Thread: audio. Real-time: wait-free.
    void begin() noexcept COURIER_REALTIME
    {
        list.clear();  // keeps its capacity: nothing is freed
        for (const audio::block_event& e : carry)
            list.push_back({0, e.event});  // cannot grow: carry holds at most capacity()
        carry.clear();
        block_count.add();
    }

    /// Adds `event` (a parameter change, say) at its frame; events must be added in frame order, and before
    /// add_midi. Returns false, counting it as dropped, when the block is full.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] bool try_add(const audio::block_event& event) noexcept COURIER_REALTIME
    {
        if (list.size() == list.capacity())
        {
            dropped_count.add();
            return false;
        }
        list.push_back(event);
        other_count.add();
        note_size();
        return true;
    }

    /// Adds every channel message of `midi` (note on/off, controllers, pitch bend...) at its sample position,
    /// clamped to [0, frames). What does not fit is carried, or counted as dropped when the carry is full too.
    /// Thread: audio. Real-time: wait-free (iterating a MidiBuffer neither locks nor allocates).
    void add_midi(const juce::MidiBuffer& midi, int frames) noexcept COURIER_REALTIME
    {
        const int last = std::max(frames - 1, 0);
        for (const juce::MidiMessageMetadata m : midi)
        {
            if (m.numBytes < 1 || m.numBytes > 3 || m.data[0] < 0x80 || m.data[0] >= 0xF0)
            {
                ignored_count.add();
                continue;
            }
            const audio::block_event e{static_cast<std::uint32_t>(std::clamp(m.samplePosition, 0, last)),
                                       audio::make_midi_event(m.data[0], m.numBytes > 1 ? m.data[1] : 0,
                                                              m.numBytes > 2 ? m.data[2] : 0)};
            midi_count.add();
            if (list.size() < list.capacity())
                list.push_back(e);
            else if (carry.size() < carry.capacity())
            {
                carry.push_back(e);
                carried_count.add();
            }
            else
                dropped_count.add();
        }
        note_size();
        carrying_now.set(carry.size());  // a gauge
    }

    /// This block's events, in frame order.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::span<const audio::block_event> events() const noexcept COURIER_REALTIME { return list; }

    /// Events one block holds.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return list.capacity(); }

    /// The counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] block_events_stats stats() const noexcept COURIER_REALTIME
    {
        return {.capacity = list.capacity(), .blocks = block_count.load(), .midi = midi_count.load(),
                .other = other_count.load(), .carried = carried_count.load(), .dropped = dropped_count.load(),
                .ignored = ignored_count.load(), .carrying = carrying_now.load(), .high_water = most.load()};
    }

private:
    void note_size() noexcept COURIER_REALTIME { most.raise_to(list.size()); }

    // Audio thread only; both reserved at setup and never grown (every push_back checks the capacity first).
    std::vector<audio::block_event> list;
    std::vector<audio::block_event> carry;

    // Written by the audio thread only, read by stats() anywhere (carrying_now is a gauge, most a high-water mark).
    counter block_count, midi_count, other_count, carried_count, dropped_count, ignored_count, carrying_now, most;
};

}  // namespace courier::gui
