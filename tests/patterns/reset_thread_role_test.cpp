// SPDX-License-Identifier: MIT
// The ends of state_commands, state_observer and timed_events: two threads inside an end
// at the same time are a contract violation; a hand-over from one thread to the next (what a host does between
// blocks) is not, with or without reset_thread_role.
#include <courier/patterns/state_commands.h>
#include <courier/patterns/state_observer.h>
#include <courier/patterns/timed_events.h>

#include "tests/support/overlapping_threads.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <utility>

namespace {

struct level
{
    float value = 0.0F;
};

struct set_level
{
    float value;
    void apply(level& l) const noexcept { l.value = value; }
};

// Builds a fresh End (a struct owning a pattern, with use() on one of its ends and reset() marking a hand-over of
// that end) for each of three runs: two threads inside use() at the same time; one after the other without
// reset(); one after the other with it. Returns the violations of the first run, and of the other two together.
template <class End>
std::pair<int, int> violations_overlapping_and_handed_over()
{
    std::pair<int, int> seen;
    {
        const courier::test::violation_recorder violations;
        End end;
        courier::test::run_overlapping([&] { end.use(); }, [&] { end.use(); });
        seen.first = violations.count();
    }
    {
        const courier::test::violation_recorder violations;
        {
            End end;
            courier::test::run_on_two_live_threads([&] { end.use(); }, [&] { end.use(); });
        }
        {
            End end;
            courier::test::run_on_two_live_threads([&] { end.use(); }, [&] {
                end.reset();
                end.use();
            });
        }
        seen.second = violations.count();
    }
    return seen;
}

using commands = courier::state_commands<level, set_level>;

struct command_sender_end
{
    commands lane{16};
    commands::sender_type sender = lane.sender();
    void use() { (void)sender.try_send(set_level{0.5F}); }
    void reset() { sender.reset_thread_role(); }
};

struct command_receiver_end
{
    commands lane{16};
    courier::state_command_receiver<level, set_level> receiver = lane.receiver();
    level state;
    void use() { (void)receiver.poll(state); }
    void reset() { receiver.reset_thread_role(); }
};

struct publisher_end
{
    courier::state_observer<level> meters;
    courier::state_publisher<level> publisher = meters.publisher();
    void use() { publisher.publish(level{0.25F}); }
    void reset() { publisher.reset_thread_role(); }
};

// The publisher as the GUI's settings copy: modify changes it in place, under the same role guard.
struct settings_end
{
    courier::state_observer<level> settings;
    courier::state_publisher<level> gui = settings.publisher();
    void use() { gui.modify([](level& l) { l.value += 0.25F; }); }
    void reset() { gui.reset_thread_role(); }
};

struct reader_end
{
    courier::state_observer<level> meters;
    courier::state_reader<level> reader = meters.reader();
    void use() { (void)reader.poll(); }
    void reset() { reader.reset_thread_role(); }
};

struct timed_sender_end
{
    courier::timed_events<int> events{16, 16};
    courier::timed_events<int>::sender_type sender = events.sender();
    void use() { (void)sender.try_send({0, 1}); }
    void reset() { sender.reset_thread_role(); }
};

struct timed_receiver_end
{
    courier::timed_events<int> events{16, 16};
    courier::timed_event_receiver<int> receiver = events.receiver();
    std::uint64_t clock = 0;
    void use()
    {
        for (const auto& part : receiver.begin_block(clock, 64))
            static_cast<void>(part);
        clock += 64;
    }
    void reset() { receiver.reset_thread_role(); }
};

}  // namespace

TEST_CASE("reset_thread_role")
{
    SUBCASE("state_commands' sender and receiver report two threads inside at once and accept a hand-over")
    {
        const auto sender = violations_overlapping_and_handed_over<command_sender_end>();
        const auto receiver = violations_overlapping_and_handed_over<command_receiver_end>();
        CHECK(sender.first > 0);
        CHECK(sender.second == 0);
        CHECK(receiver.first > 0);
        CHECK(receiver.second == 0);
    }

    SUBCASE("state_publisher and state_reader report two threads inside at once and accept a hand-over")
    {
        const auto publisher = violations_overlapping_and_handed_over<publisher_end>();
        const auto reader = violations_overlapping_and_handed_over<reader_end>();
        const auto settings = violations_overlapping_and_handed_over<settings_end>();
        CHECK(publisher.first > 0);
        CHECK(publisher.second == 0);
        CHECK(settings.first > 0);
        CHECK(settings.second == 0);
        CHECK(reader.first > 0);
        CHECK(reader.second == 0);
    }

    SUBCASE("timed_events' sender and timed_event_receiver report two threads inside at once and accept a hand-over")
    {
        const auto sender = violations_overlapping_and_handed_over<timed_sender_end>();
        const auto receiver = violations_overlapping_and_handed_over<timed_receiver_end>();
        CHECK(sender.first > 0);
        CHECK(sender.second == 0);
        CHECK(receiver.first > 0);
        CHECK(receiver.second == 0);
    }
}
