// SPDX-License-Identifier: MIT
// A lane of in-place closures, run in order on the receiving thread (docs/patterns/closure.md).
#pragma once

#include <courier/closure.h>
#include <courier/lane.h>

#include <cstddef>
#include <utility>

namespace courier {

template <class Signature, std::size_t Size>
class command_sender;
template <class Signature, std::size_t Size>
class command_receiver;

/// A lane whose messages are closures: the sender writes "what to do" as a lambda, and the receiver runs
/// them in order, for example at the start of each audio callback with the engine's state as argument.
/// `Signature` is what the receiver passes in (`void(engine_state&)`), `Size` the capture bytes per command.
/// Commands die on the receiving thread right after they run (see closure for what that means).
template <class Signature = void(), std::size_t Size = 48>
class command_lane
{
public:
    using command = closure<Signature, Size>;
    /// The ends' types, for a processor that holds them as members: `command_lane<void(state&)>::receiver_type`.
    using sender_type = command_sender<Signature, Size>;
    using receiver_type = command_receiver<Signature, Size>;

    /// Holds at most `capacity` commands; allocates all storage now.
    /// Thread: setup. Real-time: no (allocates).
    explicit command_lane(std::size_t capacity) : commands(capacity) {}

    /// Hands out the sending end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] command_sender<Signature, Size> sender() { return command_sender<Signature, Size>(commands.sender()); }

    /// Hands out the running end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] command_receiver<Signature, Size> receiver()
    {
        return command_receiver<Signature, Size>(commands.receiver());
    }

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return commands.stats(); }

private:
    lane<command> commands;
};

/// The sending end of a command lane.
template <class Signature, std::size_t Size>
class command_sender
{
public:
    command_sender() noexcept = default;

    /// Stores `f` in the lane, or returns false and leaves `f` untouched when the lane is full. A callable
    /// larger than `Size` bytes does not compile.
    /// Thread: producer. Real-time: wait-free if F's move constructor is.
    template <class F>
    [[nodiscard]] bool try_send(F&& f) noexcept
    {
        // Built in place inside the queue, and only once room is known, so a refusal leaves `f` as it was.
        return to_receiver.try_emplace(std::forward<F>(f));
    }

    /// The lane's counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return to_receiver.stats(); }

private:
    friend class command_lane<Signature, Size>;
    explicit command_sender(lane_sender<closure<Signature, Size>> s) noexcept : to_receiver(std::move(s)) {}

    lane_sender<closure<Signature, Size>> to_receiver;
};

template <class R, class... Args, std::size_t Size>
class command_receiver<R(Args...), Size>
{
public:
    command_receiver() noexcept = default;

    /// Runs up to `max_count` queued commands in the order they were sent, passing each `args`, and returns
    /// how many ran. Each command is destroyed right after it runs, on this thread. Like every once-per-block
    /// call in courier, what it acts on comes first and the budget last: `poll(state, 16)`.
    /// Thread: consumer. Real-time: wait-free if the commands and their destructors are.
    std::size_t poll(Args... args, std::size_t max_count) noexcept
    {
        // Run where they lie: a closure is cheaper to call in its slot than to move out first.
        return from_sender.drain_in_place([&](closure<R(Args...), Size>& command) { command(args...); }, max_count);
    }

    /// poll() with a budget of the lane's capacity: runs every command queued when it starts.
    /// Thread: consumer. Real-time: wait-free if the commands and their destructors are.
    std::size_t poll(Args... args) noexcept { return poll(args..., from_sender.stats().capacity); }

private:
    friend class command_lane<R(Args...), Size>;
    explicit command_receiver(lane_receiver<closure<R(Args...), Size>> r) noexcept : from_sender(std::move(r)) {}

    lane_receiver<closure<R(Args...), Size>> from_sender;
};

}  // namespace courier
