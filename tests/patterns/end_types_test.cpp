// SPDX-License-Identifier: MIT
// Tests for the ends' member types (sender_type, receiver_type, publisher_type, reader_type) of state_commands,
// timed_events, transaction, priority_lanes and state_observer: a processor holds its ends as members by them.
#include <courier/experimental/priority_lanes.h>
#include <courier/patterns/state_commands.h>
#include <courier/patterns/state_observer.h>
#include <courier/patterns/timed_events.h>
#include <courier/experimental/transaction.h>

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <variant>

namespace {

struct voice
{
    float gain = 1.0f;
};

struct set_gain
{
    float value;
    void apply(voice& v) const noexcept { v.gain = value; }
};

struct mute
{
    void apply(voice& v) const noexcept { v.gain = 0.0f; }
};

using commands = courier::state_commands<voice, set_gain, mute>;
using events = courier::timed_events<int>;
using groups = courier::transaction<int>;
using lanes = courier::priority_lanes<int>;
using meters = courier::state_observer<float>;

// The audio side of a processor: its ends are members, named without repeating the command list.
struct processor
{
    commands::receiver_type commands_in;
    events::receiver_type events_in;
    groups::receiver_type groups_in;
    lanes::receiver_type messages_in;
    meters::publisher_type meters_out;
    voice state;
    int total = 0;

    void process(std::uint64_t block_start) noexcept
    {
        (void)commands_in.poll(state);
        for (const auto& part : events_in.begin_block(block_start, 64))
            for (const auto& e : part.events)
                total += e.event;
        (void)groups_in.drain(
            [this](const courier::transaction_view<int>& group) {
                for (const int v : group)
                    total += v;
            },
            8);
        (void)messages_in.drain([this](int&& m, courier::priority) { total += m; }, 8);
        meters_out.publish(state.gain);
    }
};

// The control side of the same processor.
struct controller
{
    commands::sender_type commands_out;
    events::sender_type events_out;
    groups::sender_type groups_out;
    lanes::sender_type urgent_out;
    meters::reader_type meters_in;
};

}  // namespace

TEST_CASE("end member types")
{
    static_assert(std::is_same_v<commands::sender_type, courier::lane_sender<std::variant<set_gain, mute>>>);
    static_assert(std::is_same_v<commands::receiver_type, courier::state_command_receiver<voice, set_gain, mute>>);
    static_assert(std::is_same_v<events::sender_type, courier::lane_sender<courier::timed_event<int>>>);
    static_assert(std::is_same_v<events::receiver_type, courier::timed_event_receiver<int>>);
    static_assert(std::is_same_v<groups::sender_type, courier::transaction_sender<int>>);
    static_assert(std::is_same_v<groups::receiver_type, courier::transaction_receiver<int>>);
    static_assert(std::is_same_v<lanes::sender_type, courier::lane_sender<int>>);
    static_assert(std::is_same_v<lanes::receiver_type, courier::priority_receiver<int>>);
    static_assert(std::is_same_v<meters::publisher_type, courier::state_publisher<float>>);
    static_assert(std::is_same_v<meters::reader_type, courier::state_reader<float>>);

    SUBCASE("a processor holds every end as a member of the alias type, and each member works")
    {
        commands c(8);
        events e(8, 8);
        groups g(4, 4);
        lanes l(8, 8, 1);
        meters m;

        processor audio;
        controller control;
        audio.commands_in = c.receiver();
        audio.events_in = e.receiver();
        audio.groups_in = g.receiver();
        audio.messages_in = l.receiver();
        audio.meters_out = m.publisher();
        control.commands_out = c.sender();
        control.events_out = e.sender();
        control.groups_out = g.sender();
        control.urgent_out = l.urgent_sender();
        control.meters_in = m.reader();

        REQUIRE(control.commands_out.try_send(set_gain{0.5f}));
        REQUIRE(control.events_out.try_send({10, 1}));
        REQUIRE(control.groups_out.try_send({10, 20}) == courier::send_status::sent);
        REQUIRE(control.urgent_out.try_send(100));
        audio.process(0);

        CHECK(audio.total == 131);
        CHECK(audio.state.gain == 0.5f);
        REQUIRE(control.meters_in.poll());
        CHECK(control.meters_in.value() == 0.5f);
    }
}
