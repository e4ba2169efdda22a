// SPDX-License-Identifier: MIT
// Property checks for protocol runs under the deterministic harness: a failure log and trackers for the
// invariants of the two-party protocols (docs/testing.md).
#pragma once

#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace courier::testing {

/// Records failed properties without stopping the run (so a test can assert that a broken protocol is caught).
/// Used from the steps of one scheduler run, which never overlap.
class property_log
{
public:
    /// Records `what` as failed when `holds` is false; returns `holds`.
    /// Thread: any one at a time (the scheduler's steps). Real-time: no (may allocate the message).
    bool expect(bool holds, const std::string& what)
    {
        if (!holds)
        {
            ++count;
            if (first.empty())
                first = what;
        }
        return holds;
    }

    /// True when no property failed.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] bool ok() const noexcept { return count == 0; }

    /// The first failure's text, or empty.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] const std::string& first_failure() const noexcept { return first; }

    /// How many checks failed.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] std::uint64_t failures() const noexcept { return count; }

private:
    std::string first;
    std::uint64_t count = 0;
};

/// Tracks the messages of correlated requests: each started id must end with exactly one terminal, and nothing
/// may arrive for an id after its terminal.
class terminal_tracker
{
public:
    /// A tracker that reports to `log`.
    /// Thread: setup. Real-time: no.
    explicit terminal_tracker(property_log& log) : out(&log) {}

    /// Notes that request `id` was sent.
    /// Thread: the scheduler's steps, one at a time. Real-time: no (allocates).
    void started(std::uint64_t id)
    {
        out->expect(state.emplace(id, open).second, "id " + std::to_string(id) + " started twice");
    }

    /// Notes a non-terminal message (progress, notification) for `id`.
    /// Thread: the scheduler's steps, one at a time. Real-time: no (allocates).
    void non_terminal(std::uint64_t id, const char* what)
    {
        const auto it = state.find(id);
        out->expect(it != state.end(), std::string(what) + " for unknown id " + std::to_string(id));
        if (it != state.end())
            out->expect(it->second == open, std::string(what) + " after the terminal of id " + std::to_string(id));
    }

    /// Notes a terminal message (reply, final, ack, result, cancelled, gone) for `id`.
    /// Thread: the scheduler's steps, one at a time. Real-time: no (allocates).
    void terminal(std::uint64_t id, const char* what)
    {
        const auto it = state.find(id);
        out->expect(it != state.end(), std::string(what) + " for unknown id " + std::to_string(id));
        if (it == state.end())
            return;
        out->expect(it->second == open, std::string("second terminal (") + what + ") for id " + std::to_string(id));
        it->second = settled;
    }

    /// Checks that every started id has had its terminal; call at the end of a run.
    /// Thread: setup (after the run). Real-time: no (allocates).
    void all_settled()
    {
        for (const auto& [id, s] : state)
            out->expect(s == settled, "id " + std::to_string(id) + " never got its terminal");
    }

    /// How many ids were started.
    /// Thread: setup. Real-time: wait-free.
    [[nodiscard]] std::size_t count() const noexcept { return state.size(); }

private:
    static constexpr int open = 0;
    static constexpr int settled = 1;
    property_log* out;
    std::map<std::uint64_t, int> state;
};

/// Counts the live instances of a message type and checks that each dies exactly once, on the thread of the
/// pool it came from: give each message a `pool_witness::token` made on its source thread.
class pool_witness
{
public:
    /// A member for a message: counts one live message from construction to destruction, and records a
    /// destruction away from the thread that made it. Moving passes the count on (and keeps the home thread).
    /// Thread: the scheduler's steps, one at a time. Real-time: wait-free.
    class token
    {
    public:
        explicit token(pool_witness& w) noexcept : owner(&w), home(std::this_thread::get_id()) { ++w.made; }
        token(token&& other) noexcept : owner(other.owner), home(other.home) { other.owner = nullptr; }
        token& operator=(token&&) = delete;
        ~token()
        {
            if (owner == nullptr)
                return;
            ++owner->died;
            if (owner->tearing_down)
                ++owner->died_at_teardown;
            else if (std::this_thread::get_id() != home)
                ++owner->died_away;
        }

    private:
        pool_witness* owner;
        std::thread::id home;
    };

    /// From now on, destructions are counted as teardown (the link's destruction after both sides stopped, on
    /// the setup thread), not as deaths away from the source.
    /// Thread: setup (after the run). Real-time: wait-free.
    void begin_teardown() noexcept { tearing_down = true; }

    /// Messages made and destroyed so far, destroyed on a thread other than their source's, and destroyed at
    /// teardown.
    /// Thread: setup (after the run). Real-time: wait-free.
    [[nodiscard]] std::uint64_t made_count() const noexcept { return made; }
    [[nodiscard]] std::uint64_t died_count() const noexcept { return died; }
    [[nodiscard]] std::uint64_t died_away_count() const noexcept { return died_away; }
    [[nodiscard]] std::uint64_t died_at_teardown_count() const noexcept { return died_at_teardown; }

    /// Checks that every message made has died exactly once, on its source thread (or at teardown, at most
    /// `teardown_allowed` of them); call after the link is gone.
    /// Thread: setup. Real-time: no (allocates).
    void check(property_log& log, const char* what, std::uint64_t teardown_allowed = 0) const
    {
        std::ostringstream s;
        s << what << ": made " << made << ", died " << died << ", away from source " << died_away
          << ", at teardown " << died_at_teardown;
        log.expect(made == died && died_away == 0 && died_at_teardown <= teardown_allowed, s.str());
    }

private:
    // Steps never overlap, and the scheduler hands the baton over with acquire/release; the final check runs
    // after the threads are joined. So plain counters are enough.
    std::uint64_t made = 0;
    std::uint64_t died = 0;
    std::uint64_t died_away = 0;
    std::uint64_t died_at_teardown = 0;
    bool tearing_down = false;
};

}  // namespace courier::testing
