// SPDX-License-Identifier: MIT
// Every constructor that takes a size refuses one too large for memory, or one that would wrap in a sum or a
// product, at setup with a clear std::invalid_argument or std::length_error from courier, never a wrapped size,
// undefined behaviour (std::bit_ceil past 2^63) or a bare std::bad_alloc (docs/contracts.md).
#include <courier/byte_ring.h>
#include <courier/command_lane.h>
#include <courier/lane.h>
#include <courier/mailbox.h>
#include <courier/object_pool.h>
#include <courier/ring_storage.h>
#include <courier/rwq_storage.h>
#include <courier/patterns/buffer_pool.h>
#include <courier/experimental/credit_sender.h>
#include <courier/patterns/deferred_delete.h>
#include <courier/patterns/port.h>
#include <courier/patterns/port_registry.h>
#include <courier/patterns/port_table.h>
#include <courier/experimental/priority_lanes.h>
#include <courier/patterns/requester.h>
#include <courier/experimental/shared_message.h>
#include <courier/patterns/swap_and_retire.h>
#include <courier/patterns/timed_events.h>
#include <courier/experimental/transaction.h>
#include <courier/protocol/duplex.h>
#include <courier/protocol/request_reply.h>
#include <courier/protocol/stream.h>
#include <courier/protocol/subscription.h>

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace courier;

namespace {

constexpr std::size_t most = std::numeric_limits<std::size_t>::max();
constexpr std::size_t above_2_63 = (std::size_t{1} << 63) + 1;  // std::bit_ceil of it overflows

struct event
{
    std::uint64_t value = 0;
};

enum class kind : std::uint8_t
{
    message,
};

struct setup_case
{
    std::string what;
    std::function<void()> construct;
};

// What the construction threw: "" when it returned, the message of a courier refusal (invalid_argument or
// length_error), or "other: <what>" for anything else (bad_alloc, bad_array_new_length, vector's own errors).
std::string refusal(const std::function<void()>& construct)
{
    try
    {
        construct();
        return "";
    }
    catch (const std::invalid_argument& e)
    {
        return e.what();
    }
    catch (const std::length_error& e)
    {
        return e.what();
    }
    catch (const std::exception& e)
    {
        return std::string("other: ") + e.what();
    }
}

}  // namespace

TEST_CASE("setup size limits")
{
    SUBCASE("every size-taking constructor refuses an absurd size with courier's own clear error")
    {
        // Each row builds its own port_table where it needs one, so a refusal leaves no port open behind it.
        const std::vector<setup_case> cases = {
            {"ring_storage above 2^63", [] { ring_storage<int> r(above_2_63); }},
            {"ring_storage of SIZE_MAX", [] { ring_storage<int> r(most); }},
            {"ring_storage of 0", [] { ring_storage<int> r(0); }},
            {"lane above 2^63", [] { lane<int> l(above_2_63); }},
            {"lane of SIZE_MAX", [] { lane<int> l(most); }},
            {"lane on rwq_storage of SIZE_MAX", [] { lane<int, rwq_storage<int>> l(most); }},
            {"rwq_storage above 2^63", [] { rwq_storage<int> r(above_2_63); }},
            {"command_lane of SIZE_MAX", [] { command_lane<void()> c(most); }},
            {"mailbox of SIZE_MAX producers", [] { mailbox<int> m(most, 4); }},
            {"mailbox of SIZE_MAX-message lanes", [] { mailbox<int> m(2, most); }},
            {"byte_ring of SIZE_MAX bytes", [] { byte_ring b(most); }},
            {"object_pool of SIZE_MAX", [] { object_pool<int> p(most); }},
            {"object_pool of 2^32", [] { object_pool<int> p(std::size_t{1} << 32); }},
            {"buffer_pool of SIZE_MAX", [] { buffer_pool<std::vector<float>> p(most, std::vector<float>(4)); }},
            {"timed_events buffer of SIZE_MAX", [] { timed_events<event> t(4, most); }},
            {"timed_events lane of SIZE_MAX", [] { timed_events<event> t(most, 4); }},
            {"port_table of SIZE_MAX slots", [] { port_table t(most, 1); }},
            {"port_table of 2^32 - 2 slots x 2^32 - 1 lanes", [] { port_table t(UINT32_MAX - 1, UINT32_MAX); }},
            {"port of SIZE_MAX lanes", [] { port_table t(2, 2); port<int> p(t, most, 4); }},
            {"port of SIZE_MAX-message lanes", [] { port_table t(2, 2); port<int> p(t, 1, most); }},
            {"duplex with SIZE_MAX markers",
             [] { port_table t(2, 2); protocol::duplex<int, int, kind> d(t, 1, 1, most); }},
            {"duplex with SIZE_MAX credits", [] { port_table t(2, 2); protocol::duplex<int, int, kind> d(t, most, 1, 0); }},
            {"request_reply with SIZE_MAX progress credits",
             [] { port_table t(2, 2); protocol::request_reply<int, int> m(t, 1, most); }},
            {"request_reply with SIZE_MAX credits and progress credits",
             [] { port_table t(2, 2); protocol::request_reply<int, int> m(t, most, 1); }},
            {"request_reply with SIZE_MAX credits", [] { port_table t(2, 2); protocol::request_reply<int, int> r(t, most); }},
            {"request_reply with 2^63 credits (twice that wraps)",
             [] { port_table t(2, 2); protocol::request_reply<int, int> f(t, std::size_t{1} << 63); }},
            {"stream with SIZE_MAX credits", [] { port_table t(2, 2); protocol::stream<int> s(t, most); }},
            {"subscription with SIZE_MAX credits", [] { port_table t(2, 2); protocol::subscription<int> s(t, most); }},
            {"requester with SIZE_MAX responder threads",
             [] { port_table t(2, 2); requester<int, int> r(t, most, 4); }},
            {"credit_sender of SIZE_MAX credits", [] { credit_sender<int> c(most); }},
            {"deferred_delete of SIZE_MAX", [] { deferred_delete<int> d(most); }},
            {"priority_lanes of SIZE_MAX", [] { priority_lanes<int> p(most, 4, 1); }},
            {"shared_message_pool of SIZE_MAX", [] { shared_message_pool<int> p(most); }},
            {"swap_and_retire of SIZE_MAX in flight", [] { swap_and_retire<int> s(std::make_unique<int>(0), most); }},
            {"port_registry of SIZE_MAX in flight", [] { port_registry<int> r(most); }},
            {"transaction of SIZE_MAX items", [] { transaction<event> t(most, 4); }},
            {"transaction of SIZE_MAX queued", [] { transaction<event> t(4, most); }},
        };
        for (const setup_case& c : cases)
        {
            CAPTURE(c.what);
            const std::string why = refusal(c.construct);
            CAPTURE(why);
            CHECK(why.rfind("courier::", 0) == 0);  // refused by courier, and saying so
        }
    }
}
