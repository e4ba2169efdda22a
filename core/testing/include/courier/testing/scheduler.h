// SPDX-License-Identifier: MIT
// A deterministic test harness: a simulated audio clock and a seeded scheduler that runs a control side and an
// audio side as interleaved steps on two real threads, one step at a time, so a failure replays from its seed
// (docs/testing.md).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace courier::testing {

/// A small, fast, portable pseudo-random generator (splitmix64): the same seed gives the same sequence on every
/// platform and standard library, which std::uniform_int_distribution does not promise.
class seeded_random
{
public:
    /// A generator whose sequence is a function of `seed` only.
    /// Thread: any. Real-time: wait-free.
    explicit seeded_random(std::uint64_t seed) noexcept : state(seed) {}

    /// The next 64 random bits.
    /// Thread: the owner. Real-time: wait-free.
    std::uint64_t next() noexcept
    {
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

    /// A number in [0, bound), bound > 0.
    /// Thread: the owner. Real-time: wait-free.
    std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }

    /// True with probability `percent` / 100.
    /// Thread: the owner. Real-time: wait-free.
    bool chance(std::uint64_t percent) noexcept { return below(100) < percent; }

private:
    std::uint64_t state;
};

/// The audio side's clock in a simulation: it advances by one block per audio step, never by wall time, so a
/// scenario that reads it replays exactly.
class simulated_clock
{
public:
    /// A clock at frame 0 that moves `block_frames` per audio step at `sample_rate`.
    /// Thread: setup. Real-time: wait-free.
    simulated_clock(double sample_rate, std::uint32_t block_frames) noexcept : rate(sample_rate), block(block_frames) {}

    /// Frames played so far (the start of the current block).
    /// Thread: the audio side. Real-time: wait-free.
    [[nodiscard]] std::uint64_t frames() const noexcept { return played; }

    /// Blocks played so far.
    /// Thread: the audio side. Real-time: wait-free.
    [[nodiscard]] std::uint64_t blocks() const noexcept { return played / block; }

    /// Seconds played so far.
    /// Thread: the audio side. Real-time: wait-free.
    [[nodiscard]] double seconds() const noexcept { return static_cast<double>(played) / rate; }

    /// Frames per block.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint32_t block_frames() const noexcept { return block; }

    /// Moves on by one block (the scheduler calls it after each audio step).
    /// Thread: the audio side. Real-time: wait-free.
    void advance() noexcept { played += block; }

private:
    double rate;
    std::uint32_t block;
    std::uint64_t played = 0;
};

/// Which side a step belongs to.
enum class side : std::uint8_t
{
    control,
    audio,
};

/// What a step sees: its side, the global step number, its side's own random stream, and the audio clock.
struct step_context
{
    side who;
    std::uint64_t step;
    seeded_random& random;
    simulated_clock& clock;
};

/// How a run ended.
struct run_result
{
    bool finished = false;       ///< both sides returned false before the step limit
    std::uint64_t steps = 0;     ///< steps run
    std::uint64_t control_steps = 0;
    std::uint64_t audio_steps = 0;
    std::string error;           ///< an exception thrown by a step, or the step limit, else empty
};

/// Options of one run.
struct schedule_options
{
    std::uint64_t max_steps = 100000;  ///< a run that needs more is reported as not finished
    double sample_rate = 48000.0;
    std::uint32_t block_frames = 64;
};

/// Runs a control side and an audio side, each on its own std::thread (so thread identities, pools' return
/// lanes and role guards behave as in a program), but one step at a time: after each step the seed decides
/// which side runs the next one. Steps are functions `bool(step_context&)` that return false when their side
/// has nothing more to do; a side that returned false is not run again, and the run ends when both have.
/// Everything a step does happens before the next step starts (the baton is handed over under a mutex), so a
/// run is a pure function of the seed, and the same seed replays the same interleaving.
///
/// The interleaving policy varies with the seed too: each run draws how often control runs (from 10% to 90%)
/// and how long bursts of one side last, so that thousands of seeds cover starved, balanced and bursty
/// schedules.
class scheduler
{
public:
    using step_function = std::function<bool(step_context&)>;

    /// A scheduler for one run under `seed`.
    /// Thread: setup. Real-time: no.
    explicit scheduler(std::uint64_t seed, schedule_options options = {}) noexcept
        : seed_value(seed), opts(options), clock(options.sample_rate, options.block_frames)
    {
    }

    /// Runs the two sides to completion (or to the step limit) and returns how it went. The sides' threads are
    /// started here and joined before it returns.
    /// Thread: setup. Real-time: no (starts threads, waits).
    run_result run(step_function control_step, step_function audio_step);

    /// The seed of this run.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t seed() const noexcept { return seed_value; }

    /// The simulated audio clock.
    /// Thread: the sides, within their steps; setup after run(). Real-time: wait-free.
    [[nodiscard]] simulated_clock& audio_clock() noexcept { return clock; }

private:
    static constexpr int turn_control = 0;
    static constexpr int turn_audio = 1;
    static constexpr int turn_over = 2;

    void side_loop(side who, step_function& body, seeded_random& random) noexcept;
    int choose_next() noexcept;  // called by the side that holds the baton
    // Both run on the two sides' own threads (never an audio callback's): they lock and may sleep.
    int wait_for_baton(int me);  // blocks until `turn` is `me` or turn_over, and returns it
    void hand_over(int next);    // sets `turn` and wakes the waiting side

    std::uint64_t seed_value;
    schedule_options opts;
    simulated_clock clock;

    // Touched only by the side holding the baton (handed over through `turn`).
    seeded_random chooser{0};
    std::uint64_t control_percent = 50;
    std::uint64_t burst_left = 0;
    int last = turn_control;
    bool done[2] = {false, false};
    run_result result;

    // The baton: whose step is next. A mutex and a condition variable rather than std::atomic::wait: CI once saw
    // `unit` (which runs these fuzzers) never end, and a condition variable's predicate, checked under the lock,
    // cannot miss a handover, whatever the library's wait does. A handover costs one futex wake either way.
    std::mutex baton_mutex;
    std::condition_variable baton_moved;
    int turn = turn_control;  // guarded by baton_mutex
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

inline run_result scheduler::run(step_function control_step, step_function audio_step)
{
    chooser = seeded_random(seed_value);
    control_percent = 10 + chooser.below(81);
    burst_left = 0;
    done[0] = done[1] = false;
    result = {};
    seeded_random control_random(seed_value ^ 0xC0DEC0DEC0DEC0DEull);
    seeded_random audio_random(seed_value ^ 0xA0D10A0D10A0D10Aull);
    last = chooser.chance(control_percent) ? turn_control : turn_audio;
    turn = last;  // before the threads start, which orders it before their first look
    std::thread control([&] { side_loop(side::control, control_step, control_random); });
    std::thread audio([&] { side_loop(side::audio, audio_step, audio_random); });
    control.join();
    audio.join();  // the joins make every step's effects visible here
    return result;
}

inline int scheduler::choose_next() noexcept
{
    if (done[0] && done[1])
    {
        result.finished = true;
        return turn_over;
    }
    if (result.steps >= opts.max_steps)
    {
        result.error = "the run did not finish within max_steps";
        return turn_over;
    }
    int next = last;
    if (burst_left > 0)
        --burst_left;
    else
    {
        next = chooser.chance(control_percent) ? turn_control : turn_audio;
        burst_left = chooser.chance(20) ? chooser.below(8) : 0;  // sometimes one side runs several steps in a row
    }
    if (done[next])
        next = 1 - next;
    last = next;
    return next;
}

inline int scheduler::wait_for_baton(int me)
{
    std::unique_lock lock(baton_mutex);  // the unlock in hand_over makes the other side's step visible here
    baton_moved.wait(lock, [&] { return turn == me || turn == turn_over; });
    return turn;
}

inline void scheduler::hand_over(int next)
{
    {
        const std::lock_guard lock(baton_mutex);
        turn = next;
    }
    baton_moved.notify_all();
}

inline void scheduler::side_loop(side who, step_function& body, seeded_random& random) noexcept
{
    const int me = who == side::control ? turn_control : turn_audio;
    for (;;)
    {
        const int now = wait_for_baton(me);
        if (now == turn_over)
            return;
        step_context context{who, result.steps, random, clock};
        try
        {
            if (!body(context))
                done[me] = true;
        }
        catch (const std::exception& e)
        {
            result.error = std::string(who == side::control ? "control" : "audio") + " step threw: " + e.what();
        }
        catch (...)
        {
            result.error = "a step threw";
        }
        ++result.steps;
        ++(who == side::control ? result.control_steps : result.audio_steps);
        if (who == side::audio)
            clock.advance();
        const int next = result.error.empty() ? choose_next() : turn_over;
        hand_over(next);
        if (next == turn_over)
            return;
    }
}

}  // namespace courier::testing
