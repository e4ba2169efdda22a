// SPDX-License-Identifier: MIT
// A copyable value naming one sender's lane into a port, which can travel inside a message and fails safely
// once the port is gone (docs/patterns/ports.md).
#pragma once

#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/mailbox.h>
#include <courier/send_status.h>
#include <courier/patterns/port_table.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace courier {

namespace detail {

// What an open port owns: its fan-in lanes and their ends. Lives in the port; reached from a channel only
// through the slot's state pointer, after the generation check.
template <class Message>
struct port_state
{
    port_state(std::size_t lanes, std::size_t lane_capacity)
        : box(lanes, lane_capacity), receiver(box.receiver()), senders(lanes)
    {
    }

    mailbox<Message> box;
    mailbox_receiver<Message> receiver;         // used by the owner thread
    std::vector<lane_sender<Message>> senders;  // senders[k] used by the holder of the channel to lane k
};

}  // namespace detail

/// A capability to send into one lane of one port: {table, slot, generation, lane}. It is a small copyable
/// value (24 bytes), so it can be stored anywhere and carried inside a message, for example as the place a
/// reply must go. try_send never touches a port that has closed: it checks the slot's generation first (see
/// port_table) and answers `send_status::gone`.
///
/// **One lane, one thread.** A channel is *one producer lane*, and lanes are single-producer: copies of a
/// channel may exist anywhere, but only one thread may send through them at a time (the lane's debug role
/// guard reports two senders at once). Give every sending thread its own channel, from port::connect(). For
/// replies, the requester connects one lane of its own port per thread that will answer, and puts *that
/// thread's* channel in the requests it sends there.
template <class Message>
class channel
{
public:
    /// A channel to nowhere: try_send answers `gone`.
    channel() noexcept = default;

    /// Moves `message` into the port's lane. Returns `send_status::sent`; or `full` (the lane is full; counted in
    /// the lane's `refused`) or `gone` (the port has closed; counted in port_table::gone(), except for an
    /// empty channel, which names no table), leaving `message` untouched. It never answers anything else. Never waits: while the port closes,
    /// the closing thread waits for this call, not the other way round. Marked real-time: it moves the message
    /// and does a fixed number of atomic operations (two atomic adds: single instructions on x86-64 and
    /// ARMv8.1; see port_table).
    /// Thread: the one thread that owns this lane. Real-time: wait-free.
    [[nodiscard]] send_status try_send(Message&& message) const noexcept COURIER_REALTIME;

    /// True while the port is open (a later try_send may still find it closed).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] bool is_open() const noexcept COURIER_REALTIME { return destination.is_open(); }

    /// The port this channel leads to.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] port_address address() const noexcept COURIER_REALTIME { return destination; }

    /// Which of the port's lanes this channel sends into.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint32_t lane() const noexcept COURIER_REALTIME { return lane_index; }

    /// True when this channel names a port (open or not).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return destination.table != nullptr; }

    /// True when both lead to the same lane of the same port.
    /// Thread: any. Real-time: wait-free.
    friend bool operator==(const channel&, const channel&) noexcept = default;

private:
    friend class port<Message>;
    channel(port_address p, std::uint32_t lane) noexcept : destination(p), lane_index(lane) {}

    port_address destination;
    std::uint32_t lane_index = 0;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Message>
send_status channel<Message>::try_send(Message&& message) const noexcept
{
    const port_table* table = destination.table;
    if (table == nullptr)
        return send_status::gone;
    auto& gate = table->gate(destination.slot_index, lane_index);
    auto& slot = table->slots[destination.slot_index];

    // The two seq_cst operations below pair with port_table::close's seq_cst generation store and count loads:
    // either close sees our increment and waits for us, or we see its new generation and leave the lanes alone.
    // A counter, not a flag: a stale channel's thread may be in here on the same lane index at the same time.
    gate.active.fetch_add(1, std::memory_order_seq_cst);
    if (slot.generation.load(std::memory_order_seq_cst) != destination.slot_generation)
    {
        gate.active.fetch_sub(1, std::memory_order_release);  // pairs with close's count load
        gate.gone.fetch_add(1, std::memory_order_relaxed);    // a counter; stale channels may share it
        return send_status::gone;
    }
    // The generation load above acquired port_table::open's release store, so `state` is this port's.
    auto* state = static_cast<detail::port_state<Message>*>(slot.state);
    const bool queued = state->senders[lane_index].try_send(std::move(message));
    // Pairs with close's count load: our push happens before the closer destroys the lanes.
    gate.active.fetch_sub(1, std::memory_order_release);
    return queued ? send_status::sent : send_status::full;
}

}  // namespace courier
