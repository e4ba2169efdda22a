// SPDX-License-Identifier: MIT
// An object's own mailbox: fan-in lanes from its connected senders, drained one message at a time by the thread
// that owns the object, and closed safely while channels to it still exist (docs/patterns/ports.md).
#pragma once

#include <courier/contracts.h>
#include <courier/lane_stats.h>
#include <courier/patterns/channel.h>
#include <courier/patterns/port_table.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>

namespace courier {

/// The receive queue an object owns, as an actor owns its mailbox: a processor, a voice allocator, a sampler
/// on the audio side, or the GUI or an OSC endpoint on a control thread. Each sender connects once and gets a
/// channel to a lane of its own (a mailbox underneath), and only the owner thread drains the port, one message
/// at a time, round-robin over the lanes, with a budget per call. The object shares no state: everything it is
/// told arrives through its port.
///
/// A port opens in a slot of a port_table when constructed and closes when destroyed (or by close()). Channels
/// and addresses may outlive it: after the close they answer `gone` and never reach the freed lanes.
///
/// **Messages still queued when the port closes are destroyed on the closing thread** (a control thread), in
/// close(), which returns how many; they are not returned to their senders. The owner must have stopped
/// draining the port before it closes (for an audio-side object: unlinked from the audio graph first).
template <class Message>
class port
{
public:
    /// Opens a port with room for `lanes` senders (at most the table's max_lanes()) of `lane_capacity` messages
    /// each. Throws std::invalid_argument for 0 or too many lanes, std::length_error when the table is full.
    /// Thread: control. Real-time: no (allocates, locks the table).
    port(port_table& table, std::size_t lanes, std::size_t lane_capacity);

    /// Takes over `other`'s open port; `other` is left closed.
    /// Thread: control. Real-time: wait-free.
    port(port&& other) noexcept
        : table(std::exchange(other.table, nullptr)), name(std::exchange(other.name, {})),
          state(std::move(other.state))
    {
    }

    /// Closes this port (see close()), then takes over `other`'s.
    /// Thread: control. Real-time: no (waits for senders, frees).
    port& operator=(port&& other) noexcept
    {
        if (this != &other)
        {
            (void)close();
            table = std::exchange(other.table, nullptr);
            name = std::exchange(other.name, {});
            state = std::move(other.state);
        }
        return *this;
    }

    port(const port&) = delete;
    port& operator=(const port&) = delete;

    /// Closes the port; see close().
    /// Thread: control (the owner has stopped draining). Real-time: no (waits for senders, frees).
    ~port() { (void)close(); }

    /// Gives one sender thread a lane of its own and returns the channel to it. Throws std::length_error when
    /// every lane is connected and std::logic_error when the port is closed. Calls must not overlap.
    /// Thread: control. Real-time: no (may throw).
    [[nodiscard]] channel<Message> connect();

    /// Calls `handle(Message&&)` for up to `budget` messages, one at a time, taking one from each non-empty
    /// lane in turn (see mailbox_receiver::drain); returns how many it handled. Each message dies right after
    /// its call, on this thread. A closed port handles nothing.
    /// Thread: the owner. Real-time: wait-free if `handle` and Message's destructor are.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t budget) noexcept
    {
        COURIER_EXPECTS(state != nullptr);
        return state == nullptr ? 0 : state->receiver.drain(std::forward<Handler>(handle), budget);
    }

    /// Closes the port: every later send through a channel to it answers `gone`. Waits until no sender is
    /// inside a send, then destroys the lanes and the messages still in them, here, and returns how many
    /// messages it destroyed. Does nothing (and returns 0) for a closed port.
    /// Thread: control (the owner has stopped draining). Real-time: no (waits for senders, frees).
    std::size_t close() noexcept;

    /// True until close().
    /// Thread: any holder of the port. Real-time: wait-free.
    [[nodiscard]] bool is_open() const noexcept COURIER_REALTIME { return state != nullptr; }

    /// The port's name in its table, for comparison and is_open() checks from anywhere; stays valid (and
    /// answers is_open() == false) after the close.
    /// Thread: any holder of the port. Real-time: wait-free.
    [[nodiscard]] port_address address() const noexcept COURIER_REALTIME { return name; }

    /// Lets a new thread take over draining (say the audio device restarted its callback on a new thread). The
    /// old owner must have stopped draining.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME
    {
        if (state != nullptr)
            state->receiver.reset_thread_role();
    }

    /// How many lanes the port has, connected or not.
    /// Thread: any holder of the port. Real-time: wait-free.
    [[nodiscard]] std::size_t lane_count() const noexcept COURIER_REALTIME
    {
        return state == nullptr ? 0 : state->senders.size();
    }

    /// How many lanes connect() has handed out.
    /// Thread: any holder of the port. Real-time: wait-free.
    [[nodiscard]] std::size_t connected() const noexcept COURIER_REALTIME
    {
        return state == nullptr ? 0 : state->box.producer_count();
    }

    /// The counters of lane `lane` (`refused` counts the sends it answered `full`).
    /// Thread: any holder of the port. Real-time: wait-free.
    [[nodiscard]] lane_stats stats(std::size_t lane) const noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(state != nullptr && lane < state->senders.size());
        return state->box.stats(lane);
    }

private:
    static std::size_t checked(const port_table& table, std::size_t lanes)
    {
        if (lanes == 0 || lanes > table.max_lanes())
            throw std::invalid_argument("courier::port: lanes must be between 1 and the table's max_lanes()");
        return lanes;
    }

    // Written by the control thread (construction, close, moves).
    port_table* table = nullptr;
    port_address name;
    std::unique_ptr<detail::port_state<Message>> state;  // null once closed
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Message>
port<Message>::port(port_table& t, std::size_t lanes, std::size_t lane_capacity)
    : table(&t), state(std::make_unique<detail::port_state<Message>>(checked(t, lanes), lane_capacity))
{
    name = t.open(state.get());  // may throw; `state` then dies here, unpublished
}

template <class Message>
channel<Message> port<Message>::connect()
{
    if (state == nullptr)
        throw std::logic_error("courier::port: connect() on a closed port");
    const std::size_t lane = state->box.producer_count();
    if (lane == state->senders.size())
        throw std::length_error("courier::port: every lane is connected");
    // The sender is stored before the channel exists, and the channel reaches its thread through something that
    // synchronises, so that thread sees it.
    state->senders[lane] = state->box.add_producer();
    return channel<Message>(name, static_cast<std::uint32_t>(lane));
}

template <class Message>
std::size_t port<Message>::close() noexcept
{
    if (state == nullptr)
        return 0;
    // After this, no sender is inside the lanes and none will enter them again.
    table->close(name.slot());
    // Exact, not a snapshot: every send finished before close() saw its lane counts at 0 (acquire), and the owner
    // stopped draining before this call.
    std::size_t leftover = 0;
    for (std::size_t lane = 0; lane < state->box.producer_count(); ++lane)
        leftover += static_cast<std::size_t>(state->box.stats(lane).depth());
    state.reset();  // ✗ the lanes, and every message still queued in them, die here, on the closing thread
    return leftover;
}

}  // namespace courier
