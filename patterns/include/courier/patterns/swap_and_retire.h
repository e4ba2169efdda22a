// SPDX-License-Identifier: MIT
// Swap: a whole prepared structure replaces the audio side's current one in O(1), and the old one goes back
// to die on the control side (docs/patterns/swap_and_retire.md).
#pragma once

#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/patterns/deferred_delete.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

/// A snapshot of a swap_and_retire's counters; each field is exact for some moment during the call.
struct swap_and_retire_stats
{
    lane_stats publications;        ///< `sent` = published, `received` = adopted by the audio side
    in_flight_stats returns;  ///< structures published and not yet collected: `out` = in flight, `refused` =
                              ///< try_publish refusals, `returned` = replaced structures sent back
};

/// One structure the audio side reads every callback (a voice graph, a settings block, a wavetable), replaced
/// as a whole. The control side builds the new one at leisure, however large, and try_publish()es it; the
/// audio side's acquire(), at the start of a callback, swaps two pointers and sends the old structure back
/// through a deferred_delete, so its cost does not depend on the structure's size and nothing is copied,
/// allocated or destroyed there. The old structure dies in the control side's collect().
///
/// **Sizing (why neither lane can overflow):** at most `max_in_flight` structures are published and not yet
/// collected (queued for the audio side, or replaced and waiting for collect()). try_publish enforces it by
/// taking one reservation of the deferred_delete per structure; both lanes hold `max_in_flight`. Each
/// adoption moves one structure out of the lane in and one into the lane back, so the count stays put.
///
/// **Teardown:** the destructor, on the control thread after the audio stream has stopped, destroys the
/// current structure and every one still queued or waiting to be collected, there.
template <class S>
class swap_and_retire
{
    static_assert(std::is_nothrow_destructible_v<S>, "courier::swap_and_retire: S must be nothrow-destructible");

public:
    /// Starts with `initial` as the current structure and room for `max_in_flight` more. Throws
    /// std::invalid_argument when `initial` is null or `max_in_flight` is 0.
    /// Thread: setup. Real-time: no (allocates).
    swap_and_retire(std::unique_ptr<S> initial, std::size_t max_in_flight);

    swap_and_retire(const swap_and_retire&) = delete;
    swap_and_retire& operator=(const swap_and_retire&) = delete;

    /// Destroys the current structure and all those queued or waiting to be collected, on this thread.
    /// Thread: setup (the control thread, after the audio stream has stopped). Real-time: no (frees).
    ~swap_and_retire() = default;  // ✗ `live`, then the lane's queued structures, then the retired ones die here

    // ----- control side ---------------------------------------------------------------------------------

    /// Hands `fresh` to the audio side, which adopts it in its next acquire(), and leaves `fresh` empty.
    /// Returns false, leaving `fresh` untouched and counting the refusal, when `max_in_flight` structures are
    /// still out: collect() and try again.
    /// Thread: control (the one control thread of this object). Real-time: wait-free.
    [[nodiscard]] bool try_publish(std::unique_ptr<S>&& fresh) noexcept COURIER_REALTIME;

    /// Destroys the structures the audio side has replaced, here on the control thread, and returns how many.
    /// Call it regularly (on a timer, or before publishing).
    /// Thread: control. Real-time: no (runs S's destructor and frees).
    std::size_t collect() noexcept { return graveyard.collect(); }  // ✗ replaced structures die in here

    /// Structures published and not yet collected.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME 
    {
        return static_cast<std::size_t>(graveyard.stats().out);
    }

    /// The most structures in flight at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t max_in_flight() const noexcept COURIER_REALTIME { return graveyard.capacity(); }

    // ----- audio side -----------------------------------------------------------------------------------

    /// Adopts the newest published structure, if any, and returns the current one. Each structure replaced is
    /// sent back to the control side, never destroyed here. Costs a few pointer moves per structure published
    /// since the last call (at most `max_in_flight`), whatever the structures' size.
    /// Thread: audio. Real-time: wait-free.
    S& acquire() noexcept COURIER_REALTIME
    {
        return acquire([](S&, S&) noexcept {});
    }

    /// Like acquire(), and calls `handover(fresh, old)` for each structure adopted, before the old one is sent
    /// back: the last moment the audio side may read the old one (carry held notes, filter state or a
    /// declick offset over to the new one). `handover` must be wait-free and noexcept.
    /// Thread: audio. Real-time: wait-free if `handover` is.
    template <class Handover>
    S& acquire(Handover&& handover) noexcept COURIER_REALTIME;

    /// The current structure, without looking for a newer one.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] S& current() noexcept COURIER_REALTIME { return *live; }

    // ----- any thread / setup ---------------------------------------------------------------------------

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] swap_and_retire_stats stats() const noexcept COURIER_REALTIME
    {
        return {publications.stats(), graveyard.stats()};
    }

    /// Lets new threads take over the control and audio roles (say the device restarted its callback on a
    /// new thread). The old threads must have stopped using this object.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        to_audio.reset_thread_role();
        from_control.reset_thread_role();
        graveyard.reset_thread_roles();
    }

private:
    static std::unique_ptr<S> checked(std::unique_ptr<S> initial)
    {
        if (initial == nullptr)
            throw std::invalid_argument("courier::swap_and_retire: the initial structure must not be null");
        return initial;
    }

    // Written at setup only.
    deferred_delete<S> graveyard;  // the way back; one reservation per structure in flight
    lane<std::unique_ptr<S>> publications;
    lane_sender<std::unique_ptr<S>> to_audio;       // used by the control thread
    lane_receiver<std::unique_ptr<S>> from_control;  // used by the audio thread

    // Written by the audio thread only (and at setup).
    std::unique_ptr<S> live;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class S>
swap_and_retire<S>::swap_and_retire(std::unique_ptr<S> initial, std::size_t max_in_flight)
    : graveyard(max_in_flight), publications(max_in_flight), to_audio(publications.sender()),
      from_control(publications.receiver()), live(checked(std::move(initial)))
{
}

template <class S>
bool swap_and_retire<S>::try_publish(std::unique_ptr<S>&& fresh) noexcept
{
    COURIER_EXPECTS(fresh != nullptr);
    if (!graveyard.try_reserve())
        return false;  // counted in stats().returns.refused
    // Cannot fail: the lane holds max_in_flight structures, and each one in it holds a reservation.
    if (to_audio.try_send(std::move(fresh)))
        return true;
    COURIER_FAIL("swap_and_retire::try_publish: the lane was full although a reservation was free");
    graveyard.cancel_reservation();
    return false;
}

template <class S>
template <class Handover>
S& swap_and_retire<S>::acquire(Handover&& handover) noexcept
{
    static_assert(std::is_nothrow_invocable_v<Handover&, S&, S&>,
                  "courier::swap_and_retire::acquire: the handover must be noexcept and take (S& fresh, S& old)");
    // At most max_in_flight structures per call, even if the control side keeps publishing while we adopt.
    // The lane must free the slot *before* the old structure is retired (try_receive does; drain_in_place would
    // not), or the control side could collect it, reuse its reservation and find the lane still full.
    for (std::size_t adopted = 0; adopted < publications.capacity(); ++adopted)
    {
        auto fresh = from_control.try_receive();  // the slot is free again from here
        if (!fresh)
            break;
        live.swap(*fresh);  // `*fresh` now owns the old structure
        handover(*live, **fresh);  // the old one is still ours until retire() below
        // ✗ not here: the old structure travels back and dies in collect(), on the control thread. Cannot fail:
        // the reservation the new one took in try_publish now stands for the old one.
        graveyard.retire(std::move(*fresh));
    }  // `fresh` dies here empty: nothing to free
    return *live;
}

}  // namespace courier
