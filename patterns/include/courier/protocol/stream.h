// SPDX-License-Identifier: MIT
// Sequences and streams: ordered items, and for a finite stream one end marker after the last item
// (docs/patterns/protocol_stream.md).
#pragma once

#include <courier/protocol/duplex.h>

#include <variant>

namespace courier::protocol {

template <class T>
class stream;

/// The writing party of a stream: items in order, then (for a finite stream) the end marker, once.
template <class T>
class stream_writer
{
public:
    /// Makes an item from `args` in the writer's pool and sends it. Returns `closed` once the end was sent;
    /// otherwise as message_sender::try_send (a refused item dies here; send it again to keep the sequence).
    /// Thread: the writer. Real-time: wait-free if T's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_write(Args&&... args) noexcept
    {
        if (finished)
            return send_status::closed;
        const send_status o = end.try_post(written + 1, detail::stream_kind::item, std::forward<Args>(args)...);
        if (o == send_status::sent)
            ++written;
        return o;
    }

    /// Sends the end marker (its id is the number of items written). Returns `closed` if it was already sent:
    /// the end goes out exactly once. On `full` try again later; the stream is not ended until it is sent.
    /// Thread: the writer. Real-time: wait-free.
    [[nodiscard]] send_status try_end() noexcept COURIER_REALTIME
    {
        if (finished)
            return send_status::closed;
        const send_status o = end.try_signal(written, detail::stream_kind::end);
        finished = o == send_status::sent;
        return o;
    }

    /// True once the end marker was sent.
    /// Thread: the writer. Real-time: wait-free.
    [[nodiscard]] bool ended() const noexcept COURIER_REALTIME { return finished; }

    /// Items sent so far.
    /// Thread: the writer. Real-time: wait-free.
    [[nodiscard]] std::uint64_t items() const noexcept COURIER_REALTIME { return written; }

    /// Destroys the items that came back; returns how many.
    /// Thread: the writer. Real-time: wait-free if T's destructor is.
    std::size_t collect() noexcept { return end.collect(); }

    /// Items out now (at most the credits).
    /// Thread: the writer. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return end.in_flight(); }

    /// The counts of sends and refusals by reason.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME { return end.stats(); }

private:
    friend class stream<T>;
    explicit stream_writer(party<T, std::monostate, detail::stream_kind>& e) noexcept : end(e) {}
    party<T, std::monostate, detail::stream_kind>& end;
    // The writer's thread only.
    std::uint64_t written = 0;
    bool finished = false;
};

/// The reading party of a stream.
template <class T>
class stream_reader
{
public:
    /// Calls `on_item(std::uint64_t index, T&)` for each item in order (index from 1), and `on_end(std::uint64_t
    /// items)` once, for the end marker, after the last item; up to `max` messages; returns how many.
    /// Thread: the reader. Real-time: wait-free if the handlers are.
    template <class OnItem, class OnEnd>
    std::size_t drain(OnItem&& on_item, OnEnd&& on_end, std::size_t max) noexcept;

    /// True once the end marker was read.
    /// Thread: the reader. Real-time: wait-free.
    [[nodiscard]] bool finished() const noexcept COURIER_REALTIME { return ended; }

    /// Stops an infinite stream from the reading side: the writer's later sends answer gone. Returns
    /// how many queued messages it dropped. The reader's thread must have stopped reading.
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return end.close(); }

private:
    friend class stream<T>;
    explicit stream_reader(party<std::monostate, T, detail::stream_kind>& e) noexcept : end(e) {}
    party<std::monostate, T, detail::stream_kind>& end;
    bool ended = false;  // the reader's thread only
};

/// An ordered stream from one writer to one reader, either of them the audio thread. Lanes are FIFO and
/// the end marker is sent once, after the last item, so the reader sees it once, after every item.
template <class T>
class stream
{
public:
    using writer_type = stream_writer<T>;
    using reader_type = stream_reader<T>;

    /// Opens the stream in `table` (two free slots); the writer has `credits` items out at most.
    /// Thread: setup. Real-time: no (allocates).
    stream(port_table& table, std::size_t credits) : link(table, credits, 1, 1), w(link.a()), r(link.b()) {}

    /// The writing party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] writer_type& writer() noexcept COURIER_REALTIME { return w; }

    /// The reading party.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] reader_type& reader() noexcept COURIER_REALTIME { return r; }

private:
    duplex<T, std::monostate, detail::stream_kind> link;
    stream_writer<T> w;
    stream_reader<T> r;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
template <class OnItem, class OnEnd>
std::size_t stream_reader<T>::drain(OnItem&& on_item, OnEnd&& on_end, std::size_t max) noexcept
{
    return end.drain(
        [&](envelope<T, detail::stream_kind, std::monostate>&& m) {
            if (m.kind == detail::stream_kind::item)
                on_item(m.id, *m.body);
            else
            {
                ended = true;
                on_end(m.id);
            }
        },
        max);
}

}  // namespace courier::protocol
