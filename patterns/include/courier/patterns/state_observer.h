// SPDX-License-Identifier: MIT
// The newest value of some state, from the one thread that owns it to one other thread, either way: the audio
// side reporting meters to the GUI, or the GUI's copy of settings the audio side adopts each block; to ask on
// request, use protocol::request_reply (docs/patterns/state_observer.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/role_guard.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

template <class T>
class state_publisher;
template <class T>
class state_reader;

/// A latest-value cell from one publishing thread to one reading thread, in either direction: the audio
/// callback publishing meters and a playhead to a GUI timer, or the GUI publishing a mixer's settings that the
/// callback adopts at the start of each block. The publisher overwrites, the reader takes the newest value:
/// neither ever waits for the other, publishing never fails, and a reader that falls behind skips stale values
/// but always gets the newest one. Reads are never torn: the cell is a triple buffer, so the publisher and the
/// reader never touch the same slot at once.
///
/// The publisher keeps the newest value it published readable (value()) and can change it in place
/// (modify()), so a GUI that owns settings needs no copy of its own: it reads them locally, writes them
/// through, and synced() tells it when the reader has taken the newest one. Since a publish never fails,
/// nothing is ever kept pending: the reader's value converges to the publisher's at its first poll() after
/// the last publish.
///
/// Each published value carries a sequence number (1 for the first publish, 0 for the initial value), so the
/// reader can tell how many values it skipped. T is trivially copyable: a publish is a plain copy, and nothing
/// is ever freed on either thread. The cell allocates its three slots at setup and must outlive both ends.
template <class T>
class state_observer
{
    static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                  "courier::state_observer: T must be trivially copyable (it is copied on the audio thread) "
                  "and default-constructible");

public:
    /// The ends' types, for a processor that keeps them as members.
    using publisher_type = state_publisher<T>;
    using reader_type = state_reader<T>;

    /// Creates the cell holding `initial` (sequence 0). Allocates the three slots now.
    /// Thread: setup. Real-time: no (allocates).
    explicit state_observer(const T& initial = T{});

    state_observer(const state_observer&) = delete;
    state_observer& operator=(const state_observer&) = delete;

    /// Hands out the publishing end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] state_publisher<T> publisher();

    /// Hands out the reading end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] state_reader<T> reader();

    /// How many values have been published so far.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t published() const noexcept COURIER_REALTIME
    {
        return published_count.load();
    }

private:
    friend class state_publisher<T>;
    friend class state_reader<T>;

    struct alignas(cache_line_size) slot
    {
        T value;
        std::uint64_t sequence = 0;
    };

    // The shared index word: the slot index (0..2) of the middle slot, plus `fresh` when the publisher put it
    // there and the reader has not taken it yet.
    static constexpr unsigned index_mask = 3u;
    static constexpr unsigned fresh = 4u;

    // Publishes the back slot, once the caller has written its value.
    void publish_back() noexcept COURIER_REALTIME;
    bool poll() noexcept COURIER_REALTIME;

    // Written at setup only; each slot is owned by exactly one of publisher, middle, reader at any time.
    std::unique_ptr<slot[]> slots;
    bool publisher_taken = false;
    bool reader_taken = false;

    // Exchanged by both sides: the middle slot, handed over whole.
    alignas(cache_line_size) std::atomic<unsigned> middle{1u};

    // Written by the publishing thread only.
    struct alignas(cache_line_size) publisher_state
    {
        unsigned back = 0;  // the slot the next publish writes
        unsigned last = 1;  // the slot the last publish wrote (the initial middle before any): read, never written,
                            // while the reader may hold it, so the publisher can still read it
        std::uint64_t sequence = 0;
        role_guard guard{detail::type_label<state_observer>::text, "publisher"};
    } writer;
    counter published_count;  // written by the publishing thread

    // Written by the reading thread only.
    struct alignas(cache_line_size) reader_state
    {
        unsigned front = 2;  // the slot value() reads
        role_guard guard{detail::type_label<state_observer>::text, "reader"};
        counter taken;  // the sequence number of `front`, for the publisher's synced()
    } reading;
};

/// The publishing end of a state_observer: the thread that owns the value (the audio side for reports, the
/// control side for settings). Move-only.
template <class T>
class state_publisher
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    state_publisher() noexcept = default;

    /// Makes `value` the newest value. Never fails and never waits: a value the reader has not taken yet is
    /// simply replaced (it was stale).
    /// Thread: the one publishing thread. Real-time: wait-free.
    void publish(const T& value) noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(cell != nullptr);
        const role_guard::scope held(cell->writer.guard);
        cell->slots[cell->writer.back].value = value;  // ours alone: neither the middle nor the reader's slot
        cell->publish_back();
    }

    /// Publishes value() changed by `change(T&)`: use it to change one field of a settings block. The change is
    /// made on a copy in the publisher's own slot, so the reader never sees it half done.
    /// Thread: the one publishing thread. Real-time: wait-free if `change` is.
    template <class Change>
    void modify(Change&& change) noexcept
    {
        COURIER_EXPECTS(cell != nullptr);
        const role_guard::scope held(cell->writer.guard);
        T& next = cell->slots[cell->writer.back].value;
        next = cell->slots[cell->writer.last].value;
        std::forward<Change>(change)(next);
        cell->publish_back();
    }

    /// The newest value published (the initial value before any): the publisher's own copy, read locally,
    /// which the reader has or will have at its next poll(). The reference stays valid until the next
    /// publish or modify.
    /// Thread: the one publishing thread. Real-time: wait-free.
    [[nodiscard]] const T& value() const noexcept COURIER_REALTIME
    {
        // The reader may be reading this slot too; the publisher writes it again only after two more publishes.
        return cell->slots[cell->writer.last].value;
    }

    /// True when the reader has taken the newest value (its value() equals ours), false while its next poll()
    /// has yet to take it.
    /// Thread: the one publishing thread. Real-time: wait-free.
    [[nodiscard]] bool synced() const noexcept COURIER_REALTIME
    {
        // Compares sequence numbers only; no data is read through the counter.
        return cell->reading.taken.load() == cell->writer.sequence;
    }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { cell->writer.guard.expect_idle(); }

private:
    friend class state_observer<T>;
    explicit state_publisher(state_observer<T>& c) noexcept : cell(&c) {}

    state_observer<T>* cell = nullptr;
};

/// The reading end of a state_observer: the thread that follows the value (the GUI for reports, the audio side
/// for settings). Move-only.
template <class T>
class state_reader
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    state_reader() noexcept = default;

    /// Takes the newest published value if one has come since the last poll, and returns whether it did.
    /// Values published in between and never taken are skipped. Call it once per GUI tick or, for settings,
    /// at the start of every callback.
    /// Thread: the one reading thread. Real-time: wait-free.
    bool poll() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(cell != nullptr);
        return cell->poll();
    }

    /// The value taken by the last poll() (the initial value before any). The reference stays valid and
    /// unchanged until the next poll().
    /// Thread: the one reading thread. Real-time: wait-free.
    [[nodiscard]] const T& value() const noexcept COURIER_REALTIME { return cell->slots[cell->reading.front].value; }

    /// The sequence number of value(): 0 for the initial value, n for the n-th publish.
    /// Thread: the one reading thread. Real-time: wait-free.
    [[nodiscard]] std::uint64_t sequence() const noexcept COURIER_REALTIME
    {
        return cell->slots[cell->reading.front].sequence;
    }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { cell->reading.guard.expect_idle(); }

private:
    friend class state_observer<T>;
    explicit state_reader(state_observer<T>& c) noexcept : cell(&c) {}

    state_observer<T>* cell = nullptr;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
state_observer<T>::state_observer(const T& initial) : slots(std::make_unique<slot[]>(3))
{
    for (std::size_t i = 0; i < 3; ++i)
        slots[i].value = initial;
}

template <class T>
state_publisher<T> state_observer<T>::publisher()
{
    if (publisher_taken)
        throw std::logic_error("courier::state_observer: publisher() called twice");
    publisher_taken = true;
    return state_publisher<T>(*this);
}

template <class T>
state_reader<T> state_observer<T>::reader()
{
    if (reader_taken)
        throw std::logic_error("courier::state_observer: reader() called twice");
    reader_taken = true;
    return state_reader<T>(*this);
}

template <class T>
void state_observer<T>::publish_back() noexcept
{
    slot& back = slots[writer.back];  // ours alone: neither the middle nor the reader's slot
    back.sequence = ++writer.sequence;

    // Hands the written slot over as the fresh middle, and takes the old middle as the next back slot.
    // Release: pairs with the acquire half of poll()'s exchange, so the reader sees the whole value.
    // Acquire: pairs with the release half of poll()'s exchange, so the reader's last reads of the slot we
    // take back happen before we overwrite it.
    const unsigned old_middle = middle.exchange(writer.back | fresh, std::memory_order_acq_rel);
    writer.last = writer.back;
    writer.back = old_middle & index_mask;
    published_count.set(writer.sequence);
}

template <class T>
bool state_observer<T>::poll() noexcept
{
    const role_guard::scope held(reading.guard);
    // A hint only: the fresh bit is set by publish and cleared only by us, so if it is clear nothing new has
    // come, and if it is set the exchange below is what synchronises.
    if ((middle.load(std::memory_order_relaxed) & fresh) == 0)
        return false;

    // Hands our old front slot back as the (not fresh) middle and takes the newest slot.
    // Acquire: pairs with the release half of publish's exchange (the value is complete).
    // Release: pairs with the acquire half of publish's exchange (we have finished reading our old slot).
    const unsigned old_middle = middle.exchange(reading.front, std::memory_order_acq_rel);
    reading.front = old_middle & index_mask;
    reading.taken.set(slots[reading.front].sequence);  // a sequence number, read by the publisher's synced()
    return true;
}

}  // namespace courier
