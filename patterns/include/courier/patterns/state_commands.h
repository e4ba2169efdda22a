// SPDX-License-Identifier: MIT
// Mutate target state: typed commands that change state owned by the audio thread, applied in order at
// the start of the next callback (docs/patterns/state_commands.md).
#pragma once

#include <courier/contracts.h>
#include <courier/counter.h>
#include <courier/lane.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace courier {

/// A command for `State`: plain data (trivially copyable, so it owns nothing the audio thread would have to
/// free) with a member `void apply(State&) const noexcept` that makes the change.
template <class Command, class State>
concept state_command = std::is_trivially_copyable_v<Command> && requires(const Command& c, State& s) {
    { c.apply(s) } noexcept;
};

template <class State, class... Command>
class state_command_receiver;

/// Commands from the control side that change a `State` owned by the audio thread: "set gain to 0.5",
/// "note on 60". Each command is a small struct named after what it does; the sender sends any of the
/// listed types, and the audio side applies them at the start of each callback, in the order they were
/// accepted. A command that would not fit is refused to the sender (`false`, counted), never dropped. The
/// control side's end is a plain lane_sender of the command variant: `try_send(set_gain{0.5f})` accepts any
/// listed command (and nothing else), leaves it with the caller when the lane is full, and counts the refusal
/// in stats().refused; the audio side's end applies them.
///
/// The audio side applies at most `budget` commands per callback. With the default budget (the capacity),
/// every command accepted before a callback starts is applied in that callback. A smaller budget bounds the
/// work per callback; the rest waits in the lane, in order, for the next callback, and each call that
/// leaves commands behind is counted in over_budget().
///
/// Commands are trivially copyable, so nothing dies on the audio thread but plain bytes. The object must
/// outlive both ends; commands still queued when it is destroyed vanish with it (nothing to free).
template <class State, class... Command>
class state_commands
{
    static_assert(sizeof...(Command) > 0, "courier::state_commands: list at least one command type");
    static_assert((state_command<Command, State> && ...),
                  "courier::state_commands: each command must be trivially copyable and have a member "
                  "`void apply(State&) const noexcept`");

public:
    /// What travels in the lane: one of the command types.
    using message = std::variant<Command...>;
    /// The ends' types, for a processor that keeps them as members without repeating the command list.
    using sender_type = lane_sender<message>;
    using receiver_type = state_command_receiver<State, Command...>;

    /// Holds at most `capacity` commands and applies at most `capacity` per callback. Allocates the lane now.
    /// Throws std::invalid_argument when `capacity` is 0.
    /// Thread: setup. Real-time: no (allocates).
    explicit state_commands(std::size_t capacity) : state_commands(capacity, capacity) {}

    /// Holds at most `capacity` commands and applies at most `budget` per callback. Throws
    /// std::invalid_argument when either is 0.
    /// Thread: setup. Real-time: no (allocates).
    state_commands(std::size_t capacity, std::size_t budget) : commands(capacity), per_callback(checked(budget)) {}

    state_commands(const state_commands&) = delete;
    state_commands& operator=(const state_commands&) = delete;

    /// Hands out the control side's end: the lane's sender. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] sender_type sender() { return commands.sender(); }

    /// Hands out the audio side's end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] state_command_receiver<State, Command...> receiver()
    {
        return state_command_receiver<State, Command...>(commands.receiver(), *this);
    }

    /// The most commands queued at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t capacity() const noexcept COURIER_REALTIME { return commands.capacity(); }

    /// The most commands one poll(state) call applies.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t budget() const noexcept COURIER_REALTIME { return per_callback; }

    /// A snapshot of the lane's counters: `received` is how many commands the audio side has applied, `refused`
    /// how many sends found the lane full, depth() how many wait.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return commands.stats(); }

    /// How many poll calls stopped at their limit with commands still queued.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t over_budget() const noexcept COURIER_REALTIME { return over_budget_count.load(); }

private:
    friend class state_command_receiver<State, Command...>;

    static std::size_t checked(std::size_t budget)
    {
        if (budget == 0)
            throw std::invalid_argument("courier::state_commands: budget must be at least 1");
        return budget;
    }

    // Written at setup only (the lane's own state belongs to its ends).
    lane<message> commands;
    const std::size_t per_callback;

    // Written by the audio thread only (poll), read anywhere.
    counter over_budget_count;
};

/// The audio side's end: applies the queued commands to the state. Move-only.
template <class State, class... Command>
class state_command_receiver
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    state_command_receiver() noexcept = default;

    /// Applies up to `budget()` queued commands to `state`, oldest first, and returns how many. Call it at the
    /// start of every callback, before the state is used. A call that stops at its limit with commands still
    /// queued is counted in over_budget(); those commands wait, in order, for the next call (how many:
    /// `stats().depth()`). Each command dies right after it is applied, on this thread (it is trivially
    /// destructible: nothing is freed).
    /// Thread: audio. Real-time: wait-free if every command's apply is.
    std::size_t poll(State& state) noexcept { return poll(state, owner->per_callback); }

    /// As poll(state), but applies up to `max` commands instead of budget(). It returns fewer than `max` only
    /// when the lane is empty, so a lambda around it is a poll source for audio_poll (delivery.h), sharing one
    /// callback budget with other receivers:
    /// `audio_poll(64, [&](std::size_t max) { return commands.poll(state, max); }, other)`.
    /// Thread: audio. Real-time: wait-free if every command's apply is.
    std::size_t poll(State& state, std::size_t max) noexcept;

    /// The lane's counters (see state_commands::stats).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return owner->stats(); }

    /// How many poll calls stopped at their limit with commands still queued (see state_commands::over_budget).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t over_budget() const noexcept COURIER_REALTIME { return owner->over_budget(); }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { from_control.reset_thread_role(); }

private:
    using message = typename state_commands<State, Command...>::message;
    friend class state_commands<State, Command...>;
    state_command_receiver(lane_receiver<message> r, state_commands<State, Command...>& o) noexcept
        : from_control(std::move(r)), owner(&o)
    {
    }

    template <std::size_t... I>
    static void dispatch(const message& m, State& state, std::index_sequence<I...>) noexcept
    {
        // get_if rather than std::visit or std::get: no throwing path, and a trivially copyable variant is
        // never valueless, so exactly one arm runs.
        ((m.index() == I ? std::get_if<I>(&m)->apply(state) : void()), ...);
    }

    lane_receiver<message> from_control;
    state_commands<State, Command...>* owner = nullptr;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class State, class... Command>
std::size_t state_command_receiver<State, Command...>::poll(State& state, std::size_t max) noexcept
{
    COURIER_EXPECTS(owner != nullptr);
    // Each command dies right after its apply, inside drain, on this (the audio) thread: plain bytes, no free.
    const std::size_t applied =
        from_control.drain([&state](message&& m) { dispatch(m, state, std::index_sequence_for<Command...>{}); }, max);

    // `received` is ours and exact; `sent` may lag a send in progress by one, so depth() is a lower bound.
    // Whatever is queued stays in the lane, in order, and is applied first by the next call.
    if (applied == max && max > 0 && from_control.stats().depth() > 0)
        owner->over_budget_count.add();
    return applied;
}

}  // namespace courier
