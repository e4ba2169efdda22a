// SPDX-License-Identifier: MIT
// Timestamped messages: events that carry a sample time and take effect at that exact frame inside a block,
// which the audio side splits into sub-blocks at the event times (docs/patterns/timed_events.md).
#pragma once

#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

/// An event and the sample time it takes effect at: the index of a frame since the stream started.
template <class Event>
struct timed_event
{
    std::uint64_t time;
    Event event;
};

/// A snapshot of a timed_events' counters.
struct timed_events_stats
{
    lane_stats lane;                   ///< sent, refused (a full lane), received
    std::uint64_t late = 0;            ///< events whose time was before their block; applied at its frame 0
    std::uint64_t buffer_full = 0;     ///< times an event found the audio-side buffer full and had to wait
    std::uint64_t scheduled = 0;       ///< events held on the audio side now (due this block or later)
};

template <class Event>
class timed_event_receiver;
template <class Event>
class timed_block;

/// Events stamped with a sample time, from one control thread (a sequencer, a MIDI or OSC thread) to the audio
/// callback, where each one takes effect at exactly its frame. At the start of each block the audio side calls
/// begin_block, which takes the new events from the lane into a buffer sorted by time (allocated at setup), and
/// then iterates the block as sub-blocks cut at the event times: apply the sub-block's events, render its
/// frames, and so on.
///
/// - An event whose time is before the block it arrives in is late: it takes effect at frame 0 and is counted.
/// - Events with the same time take effect in the order they were sent.
/// - Events for later blocks stay in the buffer until their block comes.
/// - When the buffer is full, the next event is not dropped: it waits (ahead of everything still in the lane,
///   so order is kept) until a slot frees, and each block in which it waits is counted in `buffer_full`. The
///   lane then fills up behind it, and the sender's try_send returns false. An event that waits past its time
///   becomes late. Size the buffer for the most events you schedule ahead.
///
/// The sending end is a plain lane_sender of timed_event: `tx.try_send({time, event})` queues `event` for sample
/// `time`, or returns false when the lane is full (counted in `stats().lane.refused`) and leaves the event with
/// the caller; try_emplace(time, event) and try_send_many work as on any lane.
///
/// Event is trivially copyable: events are copied within the buffer and die on the audio thread.
template <class Event>
class timed_events
{
    static_assert(std::is_trivially_copyable_v<Event> && std::is_default_constructible_v<Event>,
                  "courier::timed_events: events must be trivially copyable and default-constructible");

public:
    /// The ends' types, for a processor that keeps them as members.
    using sender_type = lane_sender<timed_event<Event>>;
    using receiver_type = timed_event_receiver<Event>;

    /// A lane of `lane_capacity` events and an audio-side buffer of `buffer_capacity`, both allocated now.
    /// Throws std::invalid_argument when either is 0 or too large for memory.
    /// Thread: setup. Real-time: no (allocates).
    timed_events(std::size_t lane_capacity, std::size_t buffer_capacity)
        : incoming(lane_capacity), buffer(std::make_unique<timed_event<Event>[]>(checked(buffer_capacity))),
          arrivals(std::make_unique<timed_event<Event>[]>(buffer_capacity)), buffer_size(buffer_capacity)
    {
    }

    timed_events(const timed_events&) = delete;
    timed_events& operator=(const timed_events&) = delete;

    /// Hands out the sending end: the lane's, so each event is sent as `try_send({time, event})` from one control
    /// thread, wait-free. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] sender_type sender() { return incoming.sender(); }

    /// Hands out the audio side's end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] timed_event_receiver<Event> receiver()
    {
        return timed_event_receiver<Event>(incoming.receiver(), *this);
    }

    /// How many events the audio-side buffer holds.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t buffer_capacity() const noexcept COURIER_REALTIME { return buffer_size; }

    /// A snapshot of the counters; each field is exact for some moment during the call.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] timed_events_stats stats() const noexcept COURIER_REALTIME
    {
        timed_events_stats s;
        s.lane = incoming.stats();
        s.late = late_count.load();
        s.buffer_full = full_count.load();
        s.scheduled = scheduled_count.load();
        return s;
    }

private:
    friend class timed_event_receiver<Event>;

    static std::size_t checked(std::size_t capacity)
    {
        if (capacity == 0 || capacity > static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(timed_event<Event>))
            throw std::invalid_argument("courier::timed_events: buffer capacity must be at least 1 and fit in memory");
        return capacity;
    }

    // Written at setup only.
    lane<timed_event<Event>> incoming;
    const std::unique_ptr<timed_event<Event>[]> buffer;  // entries [0, count) sorted by time; the audio thread's
    const std::unique_ptr<timed_event<Event>[]> arrivals;  // one block's new events while they are sorted; the same
    const std::size_t buffer_size;

    // Written by the audio thread only, read anywhere.
    counter late_count;
    counter full_count;
    counter scheduled_count;
};

/// The audio side's end of a timed_events. Move-only.
template <class Event>
class timed_event_receiver
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    timed_event_receiver() noexcept = default;

    /// Starts the block of `frames` frames beginning at sample `block_start`, and returns it as a range of
    /// sub-blocks. Call it once per callback, before rendering. It drops the events of the previous block
    /// (they die here, trivially), takes the new events from the lane into the buffer (clamping late ones to
    /// frame 0 and counting them), and finds the events due in this block. The returned range stays valid
    /// until the next begin_block. Costs O(n log n) for the n events taken from the lane (O(n) when they were
    /// sent in time order, whatever their order relative to the events already held), plus O(events held): so
    /// one block's work is bounded by the buffer's capacity, however the events arrive.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] timed_block<Event> begin_block(std::uint64_t block_start, std::uint32_t frames) noexcept
        COURIER_REALTIME;

    /// Events held on the audio side (due in the current block or later).
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::size_t scheduled() const noexcept COURIER_REALTIME { return count; }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { from_control.reset_thread_role(); }

private:
    friend class timed_events<Event>;
    timed_event_receiver(lane_receiver<timed_event<Event>> r, timed_events<Event>& o) noexcept
        : from_control(std::move(r)), owner(&o)
    {
    }

    void merge_arrivals(std::size_t fresh) noexcept COURIER_REALTIME;

    lane_receiver<timed_event<Event>> from_control;
    timed_events<Event>* owner = nullptr;
    // Written by the audio thread only.
    std::size_t count = 0;  // entries in owner->buffer
    std::size_t due = 0;    // the first `due` entries belong to the current block
    std::optional<timed_event<Event>> waiting;  // taken from the lane, but the buffer was full
};

/// The events of one block, as a range of sub_blocks: the first starts at frame 0, and each later one starts
/// at an event time. Only valid until the next begin_block.
template <class Event>
class timed_block
{
public:
    /// A stretch of the block with no event inside it: render `frames` frames from `offset`, after applying
    /// `events`, which all take effect at frame `offset` (in the order they were sent). Usually reached as
    /// `const auto& part` in a range-for over the block.
    struct sub_block
    {
        std::uint32_t offset;
        std::uint32_t frames;
        std::span<const timed_event<Event>> events;
    };

    class iterator;

    /// The first sub-block (there is always one, starting at frame 0).
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] iterator begin() const noexcept COURIER_REALTIME { return iterator(*this); }

    /// The end of the range.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::default_sentinel_t end() const noexcept COURIER_REALTIME { return {}; }

    /// All events due in this block, in the order they take effect.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::span<const timed_event<Event>> events() const noexcept COURIER_REALTIME { return due; }

    /// The block's first sample time and its length in frames.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::uint64_t start() const noexcept COURIER_REALTIME { return first_frame; }
    [[nodiscard]] std::uint32_t frames() const noexcept COURIER_REALTIME { return length; }

    /// Walks the sub-blocks; an input iterator.
    class iterator
    {
    public:
        using value_type = sub_block;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;

        /// The current sub-block.
        /// Thread: audio. Real-time: wait-free.
        const sub_block& operator*() const noexcept COURIER_REALTIME { return current; }
        const sub_block* operator->() const noexcept COURIER_REALTIME { return &current; }

        /// Moves to the next sub-block.
        /// Thread: audio. Real-time: wait-free.
        iterator& operator++() noexcept COURIER_REALTIME
        {
            next_event += current.events.size();
            if (current.offset + current.frames >= block->length && next_event == block->due.size())
                finished = true;
            else
                current = make(current.offset + current.frames);
            return *this;
        }
        void operator++(int) noexcept COURIER_REALTIME { ++*this; }

        /// True once the last sub-block has been passed.
        /// Thread: audio. Real-time: wait-free.
        friend bool operator==(const iterator& i, std::default_sentinel_t) noexcept { return i.finished; }

    private:
        friend class timed_block;
        explicit iterator(const timed_block& b) noexcept : block(&b), current(make(0)) {}

        // The sub-block starting at `offset`, whose events are the next ones still to come at that offset.
        sub_block make(std::uint32_t offset) const noexcept COURIER_REALTIME;

        const timed_block* block = nullptr;
        std::size_t next_event = 0;
        sub_block current{};
        bool finished = false;
    };

private:
    friend class timed_event_receiver<Event>;
    timed_block(std::span<const timed_event<Event>> d, std::uint64_t s, std::uint32_t f) noexcept
        : due(d), first_frame(s), length(f)
    {
    }

    std::span<const timed_event<Event>> due;
    std::uint64_t first_frame;
    std::uint32_t length;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Event>
timed_block<Event> timed_event_receiver<Event>::begin_block(std::uint64_t block_start, std::uint32_t frames) noexcept
{
    COURIER_EXPECTS(owner != nullptr);
    timed_event<Event>* entries = owner->buffer.get();

    // The previous block's events have taken effect: drop them (trivially destructible: nothing is freed).
    std::copy(entries + due, entries + count, entries);
    count -= due;
    due = 0;

    // Events left over for a time the stream skipped past (the host jumped forward) are late now. The buffer
    // is sorted, so they are at the front, and clamping them keeps it sorted.
    std::uint64_t late = 0;
    for (std::size_t i = 0; i < count && entries[i].time < block_start; ++i)
    {
        entries[i].time = block_start;
        ++late;
    }

    // New events go to `arrivals` in their order of arrival, at most as many as the buffer has room for; the
    // event that found the buffer full last time goes first, so the order of arrival is kept.
    timed_event<Event>* arrivals = owner->arrivals.get();
    const std::size_t room = owner->buffer_size - count;
    std::size_t fresh = 0;
    std::uint64_t full = 0;
    if (waiting && room > 0)
    {
        arrivals[fresh++] = *waiting;
        waiting.reset();
    }
    if (!waiting)
    {
        fresh += from_control.try_receive_many(std::span(arrivals + fresh, room - fresh));
        if (fresh == room)
            waiting = from_control.try_receive();  // the buffer is full: the next one waits for room, if any
    }
    if (waiting)
        full = 1;
    for (std::size_t i = 0; i < fresh; ++i)
        if (arrivals[i].time < block_start)
        {
            arrivals[i].time = block_start;  // late: takes effect at frame 0
            ++late;
        }
    merge_arrivals(fresh);

    const std::uint64_t block_end = block_start + frames;
    while (due < count && entries[due].time < block_end)
        ++due;

    owner->late_count.add(late);
    owner->full_count.add(full);
    owner->scheduled_count.set(count);  // for display
    return timed_block<Event>(std::span<const timed_event<Event>>(entries, due), block_start, frames);
}

template <class Event>
void timed_event_receiver<Event>::merge_arrivals(std::size_t fresh) noexcept
{
    timed_event<Event>* entries = owner->buffer.get();
    timed_event<Event>* arrivals = owner->arrivals.get();
    const auto earlier = [](const timed_event<Event>& a, const timed_event<Event>& b) { return a.time < b.time; };

    // Sort the arrivals by time, stably (equal times keep their order of arrival): a bottom-up merge sort that
    // uses the buffer's free slots, [count, count + fresh), as its second array. Arrivals in time order skip it.
    if (!std::is_sorted(arrivals, arrivals + fresh, earlier))
    {
        timed_event<Event>* from = arrivals;
        timed_event<Event>* to = entries + count;
        for (std::size_t width = 1; width < fresh; width *= 2)
        {
            for (std::size_t low = 0; low < fresh; low += 2 * width)
            {
                const std::size_t middle = std::min(low + width, fresh);
                const std::size_t high = std::min(low + 2 * width, fresh);
                std::merge(from + low, from + middle, from + middle, from + high, to + low, earlier);  // stable
            }
            std::swap(from, to);
        }
        if (from != arrivals)
            std::copy(from, from + fresh, arrivals);
    }

    // Merge them behind the events held, from the back; on equal times the held event stays first, since it
    // arrived earlier. When the arrivals all come at or after the last one held, this is a plain append.
    std::size_t held = count;
    std::size_t taken = fresh;
    std::size_t write = count + fresh;
    while (taken > 0)
    {
        if (held > 0 && arrivals[taken - 1].time < entries[held - 1].time)
            entries[--write] = entries[--held];
        else
            entries[--write] = arrivals[--taken];
    }
    count += fresh;
}

template <class Event>
typename timed_block<Event>::sub_block timed_block<Event>::iterator::make(std::uint32_t offset) const noexcept
{
    const auto& all = block->due;
    // Events at `offset`: the next ones whose time is exactly block start + offset.
    std::size_t end_of_group = next_event;
    while (end_of_group < all.size() && all[end_of_group].time - block->first_frame == offset)
        ++end_of_group;
    // The sub-block runs to the next event's frame, or to the end of the block.
    const std::uint32_t next_offset = end_of_group < all.size()
                                          ? static_cast<std::uint32_t>(all[end_of_group].time - block->first_frame)
                                          : block->length;
    return sub_block{offset, next_offset - offset, all.subspan(next_event, end_of_group - next_event)};
}

}  // namespace courier
