// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/requester.h>: a request carries its id and reply channel, the responder answers through
// that channel, and every reply reaches the requester that asked, exactly once, with many of each at once.
#include <courier/patterns/port_registry.h>
#include <courier/patterns/requester.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using courier::channel;
using courier::port;
using courier::port_registry;
using courier::port_table;
using courier::requester;
using courier::send_status;
using courier::test::tracked;
using courier::test::tracking_log;

TEST_CASE("requester")
{
    SUBCASE("a request carries its reply channel, and try_reply answers the requester that sent it")
    {
        // [request-reply]
        port_table table(8, 2);
        requester<int, int> gui(table, 1, 16);       // the GUI's reply port, with 1 lane per answering thread
        const auto reply_from_audio = gui.reply_channel();  // reserved for the audio thread, at setup
        port<requester<int, int>::request_type> processor(table, 1, 16);  // a stand-in processor (audio side)
        const auto to_processor = processor.connect();                    // the GUI's lane into it

        const auto ticket = gui.try_request(to_processor, reply_from_audio, 21);  // GUI thread
        REQUIRE(ticket.result == send_status::sent);

        processor.drain(  // audio thread: answer through the channel the request carries
            [](requester<int, int>::request_type&& request) {
                (void)courier::try_reply(request, request.body * 2);  // a refusal would be counted by the lane
            },
            8);

        int answer = 0;
        gui.drain([&](std::uint64_t id, int value) { answer = id == ticket.id ? value : -1; }, 8);
        CHECK(answer == 42);
        CHECK(gui.outstanding() == 0);
        // [request-reply]
    }

    SUBCASE("try_request answers full or gone, leaves the question untouched and uses up no id")
    {
        tracking_log log;
        port_table table(4, 1);
        requester<tracked, int> asker(table, 1, 4);
        const auto reply_via = asker.reply_channel();
        port<requester<tracked, int>::request_type> target(table, 1, 1);
        const auto to_target = target.connect();

        const auto first = asker.try_request(to_target, reply_via, tracked(log, 1));
        CHECK(first.result == send_status::sent);
        CHECK(first.id == 1);
        tracked question(log, 2);
        const auto refused = asker.try_request(to_target, reply_via, std::move(question));
        CHECK(refused.result == send_status::full);
        CHECK(refused.id == 0);
        CHECK(question.number() == 2);  // still the caller's
        CHECK(asker.outstanding() == 1);

        CHECK(target.close() == 1);  // the queued request dies here, unanswered
        CHECK_FALSE(to_target.is_open());  // which is how the requester learns it will get no reply
        const auto gone = asker.try_request(to_target, reply_via, std::move(question));
        CHECK(gone.result == send_status::gone);
        CHECK(question.number() == 2);
        CHECK(asker.outstanding() == 1);
        CHECK(log.destroyed == 1);
    }

    SUBCASE("try_reply answers full or gone and leaves the answer untouched")
    {
        port_table table(4, 1);
        auto asker = std::make_unique<requester<int, std::unique_ptr<int>>>(table, 1, 1);
        const auto reply_via = asker->reply_channel();
        port<requester<int, std::unique_ptr<int>>::request_type> target(table, 1, 4);
        const auto to_target = target.connect();
        REQUIRE(asker->try_request(to_target, reply_via, 1).result == send_status::sent);
        REQUIRE(asker->try_request(to_target, reply_via, 2).result == send_status::sent);

        std::vector<requester<int, std::unique_ptr<int>>::request_type> requests;
        target.drain([&](requester<int, std::unique_ptr<int>>::request_type&& r) { requests.push_back(std::move(r)); },
                     4);
        REQUIRE(requests.size() == 2);
        CHECK(courier::try_reply(requests[0], std::make_unique<int>(10)) == send_status::sent);
        auto answer = std::make_unique<int>(20);
        CHECK(courier::try_reply(requests[1], std::move(answer)) == send_status::full);  // one reply fits
        REQUIRE(answer != nullptr);
        CHECK(*answer == 20);
        CHECK(asker->stats(0).refused == 1);

        asker.reset();  // the requester is gone while a request of its is still unanswered
        CHECK(courier::try_reply(requests[1], std::move(answer)) == send_status::gone);
        REQUIRE(answer != nullptr);
        CHECK(*answer == 20);
    }

    SUBCASE("reply_channel throws when every reply lane is reserved; address names the reply port")
    {
        port_table table(2, 2);
        requester<int, int> asker(table, 2, 4);
        const auto a = asker.reply_channel();
        const auto b = asker.reply_channel();
        CHECK(a.address() == asker.address());
        CHECK(b.address() == asker.address());
        CHECK(a.lane() != b.lane());
        CHECK_THROWS_AS((void)asker.reply_channel(), std::length_error);
        CHECK(asker.stats(1).sent == 0);
    }

    SUBCASE("try_request, try_reply and drain neither allocate nor free")
    {
        port_table table(4, 1);
        requester<std::unique_ptr<int>, std::unique_ptr<int>> asker(table, 1, 4);
        const auto reply_via = asker.reply_channel();
        port<requester<std::unique_ptr<int>, std::unique_ptr<int>>::request_type> target(table, 1, 4);
        const auto to_target = target.connect();
        auto question = std::make_unique<int>(1);
        const courier::test::allocation_counter allocations;
        REQUIRE(asker.try_request(to_target, reply_via, std::move(question)).result == send_status::sent);
        target.drain(
            [&](requester<std::unique_ptr<int>, std::unique_ptr<int>>::request_type&& r) {
                (void)courier::try_reply(r, std::move(r.body));  // the question goes back as the answer
            },
            4);
        CHECK(asker.drain([&](std::uint64_t, std::unique_ptr<int>&& a) { question = std::move(a); }, 4) == 1);
        CHECK(allocations.count() == 0);
        REQUIRE(question != nullptr);
        CHECK(*question == 1);
    }
}

namespace {

struct query
{
    std::uint32_t asker = 0;
    std::uint64_t n = 0;
};

struct answer
{
    std::uint32_t port_index = 0;  // which stand-in processor answered
    std::uint32_t asker = 0;
    std::uint64_t twice_n = 0;
};

using ask = requester<query, answer>;

}  // namespace

TEST_CASE("requester: three requesters ask eight processors on two threads; every reply reaches its asker once" *
          doctest::test_suite("stress"))
{
    constexpr std::uint32_t askers = 3, responders = 2, processors = 8;
    const std::uint64_t per_asker = courier::test::stress_count(100'000);

    port_table table(16, askers);
    std::vector<std::unique_ptr<port<ask::request_type>>> procs;  // processor p belongs to responder p % 2
    port_registry<ask::request_type> names;
    std::vector<courier::registry_reader<ask::request_type>> readers;
    for (std::uint32_t a = 0; a < askers; ++a)
        readers.push_back(names.add_reader());
    for (std::uint32_t p = 0; p < processors; ++p)
    {
        procs.push_back(std::make_unique<port<ask::request_type>>(table, askers, 32));
        names.add("/proc/" + std::to_string(p), *procs.back());
    }
    REQUIRE(names.publish());

    std::vector<std::unique_ptr<ask>> asking;
    std::vector<std::array<channel<ask::reply_type>, responders>> reply_via(askers);
    for (std::uint32_t a = 0; a < askers; ++a)
    {
        asking.push_back(std::make_unique<ask>(table, responders, 64));
        for (std::uint32_t r = 0; r < responders; ++r)
            reply_via[a][r] = asking.back()->reply_channel();  // one lane per answering thread: the rule
    }

    std::atomic<int> errors{0};
    std::atomic<int> askers_done{0};
    std::array<std::uint64_t, askers> answered{};

    std::vector<std::thread> threads;
    for (std::uint32_t r = 0; r < responders; ++r)
        threads.emplace_back([&, r] {
            const auto answer_all = [&] {
                std::size_t handled = 0;
                for (std::uint32_t p = r; p < processors; p += responders)
                    handled += procs[p]->drain(
                        [&](ask::request_type&& request) {
                            answer a{p, request.body.asker, request.body.n * 2};
                            send_status result;
                            while ((result = courier::try_reply(request, std::move(a))) == send_status::full)
                                std::this_thread::yield();  // the asker drains its replies; never gives up
                            if (result != send_status::sent)
                                errors.fetch_add(1, std::memory_order_relaxed);
                        },
                        16);
                return handled;
            };
            while (askers_done.load(std::memory_order_acquire) < static_cast<int>(askers))  // pairs with release
                if (answer_all() == 0)
                    std::this_thread::yield();  // two cores, five threads: let the askers run
            if (answer_all() != 0)  // every request was answered before its asker finished
                errors.fetch_add(1, std::memory_order_relaxed);
        });
    for (std::uint32_t a = 0; a < askers; ++a)
        threads.emplace_back([&, a] {
            ask& me = *asking[a];
            auto& directory = readers[a];
            directory.refresh();
            // Expected answers by id (ids are 1, 2, 3, ...), and whether each has come.
            std::vector<std::uint32_t> expected_port(per_asker + 1);
            std::vector<std::uint64_t> expected_n(per_asker + 1);
            std::vector<bool> done(per_asker + 1, false);
            std::array<std::string, processors> proc_names;
            std::array<channel<ask::request_type>, processors> cached;  // routing by a kept channel
            for (std::uint32_t p = 0; p < processors; ++p)
            {
                proc_names[p] = "/proc/" + std::to_string(p);
                cached[p] = directory.find(proc_names[p]).value();
            }
            std::uint64_t issued = 0;
            std::uint32_t p = a;
            while (answered[a] < per_asker)
            {
                if (issued < per_asker && me.outstanding() < 48)
                {
                    // Even requests are routed by looking the name up, odd ones through the kept channel.
                    const auto to = issued % 2 == 0 ? directory.find(proc_names[p]).value() : cached[p];
                    const auto ticket = me.try_request(to, reply_via[a][p % responders], query{a, issued});
                    if (ticket.result == send_status::sent)
                    {
                        if (ticket.id != issued + 1)
                            errors.fetch_add(1, std::memory_order_relaxed);
                        expected_port[ticket.id] = p;
                        expected_n[ticket.id] = issued;
                        ++issued;
                        p = (p + 1) % processors;
                    }
                }
                if (me.drain(
                    [&](std::uint64_t id, answer&& reply) {
                        if (id == 0 || id > issued || done[id] || reply.asker != a ||
                            reply.port_index != expected_port[id] || reply.twice_n != 2 * expected_n[id])
                            errors.fetch_add(1, std::memory_order_relaxed);
                        else
                            done[id] = true;
                        ++answered[a];
                    },
                    16) == 0)
                    std::this_thread::yield();
            }
            if (me.outstanding() != 0)
                errors.fetch_add(1, std::memory_order_relaxed);
            askers_done.fetch_add(1, std::memory_order_release);  // pairs with the responders' acquire
        });
    for (auto& t : threads)
        t.join();

    CHECK(errors.load() == 0);
    for (std::uint32_t a = 0; a < askers; ++a)
    {
        CHECK(answered[a] == per_asker);
        CHECK(asking[a]->outstanding() == 0);
    }
}
