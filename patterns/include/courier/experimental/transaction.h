// SPDX-License-Identifier: MIT
// Transactions: a group of messages sent as one record in a byte ring, so the receiving side applies all
// of it or none of it (docs/patterns/transaction.md).
// Experimental: nothing in courier's engine, GUI or demos uses it yet, and its API may change.
#pragma once

#include <courier/byte_ring.h>
#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/send_status.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

/// An item of a transaction: plain data (trivially copyable, so it owns nothing the receiving side would
/// have to free), with an alignment the ring's 8-byte payload alignment satisfies.
template <class T>
concept transaction_item = std::is_trivially_copyable_v<T> && alignof(T) <= 8 && !std::is_array_v<T>;

/// A snapshot of a transaction channel's counters; each field is exact for some moment during the call.
struct transaction_stats
{
    std::uint64_t sent = 0;               ///< transactions accepted by try_send
    std::uint64_t refused_full = 0;       ///< refused because the ring had no room now
    std::uint64_t refused_too_large = 0;  ///< refused because they held more than max_items()
    std::uint64_t applied = 0;            ///< transactions handed to drain's handler
    std::uint64_t high_water_bytes = 0;   ///< most ring bytes in use at once (headers and padding included)
};

template <transaction_item T>
class transaction_sender;
template <transaction_item T>
class transaction_receiver;

/// One transaction as the receiving side sees it: its items in the order they were given to try_send. Valid
/// only inside the drain handler it was passed to; items are read out by value.
template <transaction_item T>
class transaction_view
{
public:
    /// Walks a view's items, yielding each by value.
    class iterator
    {
    public:
        using value_type = T;
        using difference_type = std::ptrdiff_t;

        iterator() noexcept = default;

        /// A copy of the item this iterator is at.
        /// Thread: consumer. Real-time: wait-free.
        T operator*() const noexcept COURIER_REALTIME { return (*view)[index]; }

        /// Moves to the next item.
        /// Thread: consumer. Real-time: wait-free.
        iterator& operator++() noexcept COURIER_REALTIME
        {
            ++index;
            return *this;
        }
        iterator operator++(int) noexcept COURIER_REALTIME
        {
            iterator before = *this;
            ++index;
            return before;
        }

        /// True when both are at the same item.
        /// Thread: consumer. Real-time: wait-free.
        bool operator==(const iterator& other) const noexcept COURIER_REALTIME { return index == other.index; }

    private:
        friend class transaction_view;
        iterator(const transaction_view* v, std::size_t i) noexcept : view(v), index(i) {}
        const transaction_view* view = nullptr;
        std::size_t index = 0;
    };

    /// How many items the transaction holds.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] std::size_t size() const noexcept COURIER_REALTIME { return bytes.size() / sizeof(T); }

    /// True for a transaction of no items.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] bool empty() const noexcept COURIER_REALTIME { return bytes.empty(); }

    /// A copy of item `index` (which must be below size()).
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] T operator[](std::size_t index) const noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(index < size());
        // Copied out through bytes: the ring holds bytes, and T is trivially copyable.
        std::array<std::byte, sizeof(T)> raw;
        std::memcpy(raw.data(), bytes.data() + index * sizeof(T), sizeof(T));
        return std::bit_cast<T>(raw);
    }

    /// The items, first to last, for a range-for loop.
    /// Thread: consumer. Real-time: wait-free.
    [[nodiscard]] iterator begin() const noexcept COURIER_REALTIME { return iterator(this, 0); }
    [[nodiscard]] iterator end() const noexcept COURIER_REALTIME { return iterator(this, size()); }

private:
    friend class transaction_receiver<T>;
    explicit transaction_view(std::span<const std::byte> b) noexcept : bytes(b) {}

    std::span<const std::byte> bytes;
};

/// A one-way channel of transactions: groups of up to `max_items` items of T that take effect all at once
/// or not at all. "Set filter cutoff, resonance and type" or "replace these eight sample-slot assignments"
/// must never be seen half done by the audio callback.
///
/// Each transaction travels as one record in a byte ring, written whole and published by one release store,
/// so the receiver sees either none of it or all of it; drain hands the whole record to one handler
/// call, and a budget counts whole transactions, so no callback ever ends in the middle of one. A send
/// succeeds or fails as a whole: `send_status::full` (try again later) or `send_status::too_large` (more than
/// max_items, never fits).
///
/// Items are trivially copyable, so nothing is freed on either side. The channel must outlive both ends;
/// it allocates its ring in the constructor and frees it on the thread that destroys it.
template <transaction_item T>
class transaction
{
public:
    /// The ends' types, for a processor that keeps them as members.
    using sender_type = transaction_sender<T>;
    using receiver_type = transaction_receiver<T>;

    /// Sizes the ring so that at least `queued_transactions` transactions of up to `max_items` items each fit
    /// at once. Throws std::invalid_argument when either is 0 or the ring would pass 2 GiB.
    /// Thread: setup. Real-time: no (allocates).
    transaction(std::size_t max_items, std::size_t queued_transactions)
        : ring(ring_bytes(max_items, queued_transactions)), most_items(max_items)
    {
    }

    transaction(const transaction&) = delete;
    transaction& operator=(const transaction&) = delete;

    /// Hands out the sending end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] transaction_sender<T> sender() { return transaction_sender<T>(ring.writer(), *this); }

    /// Hands out the applying end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] transaction_receiver<T> receiver() { return transaction_receiver<T>(ring.reader(), *this); }

    /// The most items one transaction may hold.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t max_items() const noexcept COURIER_REALTIME { return most_items; }

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] transaction_stats stats() const noexcept COURIER_REALTIME
    {
        const byte_ring_stats r = ring.stats();
        transaction_stats s;
        s.sent = r.written;
        s.refused_full = r.refused_full;
        s.high_water_bytes = r.high_water_bytes;
        s.refused_too_large = refused_too_large.load();
        s.applied = applied.load();
        return s;
    }

private:
    friend class transaction_sender<T>;
    friend class transaction_receiver<T>;

    static std::size_t ring_bytes(std::size_t max_items, std::size_t queued);

    byte_ring ring;
    const std::size_t most_items;

    counter refused_too_large;  // written by the sending thread
    counter applied;            // written by the applying thread
};

/// The sending end of a transaction channel. Move-only; one thread sends at a time (the ring's role guard
/// checks in debug builds).
template <transaction_item T>
class transaction_sender
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    transaction_sender() noexcept = default;

    /// Sends `items` as one transaction: all of them are queued, or none is. Returns `send_status::sent`,
    /// `full` (no room now; nothing was queued, send the same group again later) or `too_large` (more than
    /// max_items(); it will never fit). Both refusals are counted.
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] send_status try_send(std::span<const T> items) noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(owner != nullptr);
        if (items.size() > owner->most_items)
        {
            owner->refused_too_large.add();
            return send_status::too_large;
        }
        // One record: written whole, then published by the ring's one release store in commit(). Records are
        // sized for max_items at setup, so the ring answers sent or full here, never too_large.
        return writer.try_write(0, std::as_bytes(items));
    }

    /// Sends the listed items as one transaction (see the span overload).
    /// Thread: producer. Real-time: wait-free.
    [[nodiscard]] send_status try_send(std::initializer_list<T> items) noexcept COURIER_REALTIME
    {
        return try_send(std::span<const T>(items.begin(), items.size()));
    }

    /// The channel's counters (see transaction::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] transaction_stats stats() const noexcept COURIER_REALTIME { return owner->stats(); }

private:
    friend class transaction<T>;
    transaction_sender(byte_ring_writer w, transaction<T>& o) noexcept : writer(std::move(w)), owner(&o) {}

    byte_ring_writer writer;
    transaction<T>* owner = nullptr;
};

/// The applying end of a transaction channel. Move-only; one thread applies at a time.
template <transaction_item T>
class transaction_receiver
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    transaction_receiver() noexcept = default;

    /// Calls `handle(const transaction_view<T>&)` once per queued transaction, oldest first, for up to
    /// `max_transactions` transactions, and returns how many it handled. Each call sees one whole
    /// transaction; the view is invalid once the handler returns, when the record's space goes back to the
    /// sender. Nothing is destroyed (items are trivially copyable). It returns fewer than `max_transactions`
    /// only when none is left, so the end is a poll source for audio_poll through drain_source (delivery.h).
    /// Thread: consumer. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t max_transactions) noexcept;

    /// The channel's counters (see transaction::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] transaction_stats stats() const noexcept COURIER_REALTIME { return owner->stats(); }

private:
    friend class transaction<T>;
    transaction_receiver(byte_ring_reader r, transaction<T>& o) noexcept : reader(std::move(r)), owner(&o) {}

    byte_ring_reader reader;
    transaction<T>* owner = nullptr;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <transaction_item T>
std::size_t transaction<T>::ring_bytes(std::size_t max_items, std::size_t queued)
{
    if (max_items == 0 || queued == 0)
        throw std::invalid_argument("courier::transaction: max_items and queued_transactions must be at least 1");
    constexpr std::size_t limit = std::size_t{1} << 31;  // byte_ring's own limit
    if (max_items > limit / sizeof(T))
        throw std::invalid_argument("courier::transaction: max_items too large");
    // A record is an 8-byte header and the payload rounded up to 8 (byte_ring's layout). From any position,
    // `queued` records fit in (queued + 1) records' worth of bytes: the one skip at the end of the buffer
    // wastes less than one record. That is also at least two records, so max_payload() covers max_items.
    const std::size_t record = 8 + (max_items * sizeof(T) + 7) / 8 * 8;
    if (queued > limit / record - 1)  // not queued + 1, which wraps to 0 for SIZE_MAX
        throw std::invalid_argument("courier::transaction: the ring would pass 2 GiB");
    return (queued + 1) * record;
}

template <transaction_item T>
template <class Handler>
std::size_t transaction_receiver<T>::drain(Handler&& handle, std::size_t max_transactions) noexcept
{
    COURIER_EXPECTS(owner != nullptr);
    std::size_t handled = 0;
    while (handled < max_transactions)
    {
        const auto record = reader.peek();
        if (!record)
            break;
        // The record was published whole by one release store (paired with peek's acquire load), so this
        // view holds every item of the transaction or the record would not be visible at all.
        const transaction_view<T> view(record->payload);
        handle(view);
        reader.release();  // the record's bytes go back to the sender; nothing to destroy
        ++handled;
    }
    owner->applied.add(handled);
    return handled;
}

}  // namespace courier
