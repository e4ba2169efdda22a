// SPDX-License-Identifier: MIT
// Tests for <courier/protocol/stream.h>: the reader sees the end marker exactly once, after every item, in
// Order; seeded schedule fuzzing with either party as the audio thread; real threads for TSan.
#include <courier/protocol/stream.h>

#include "tests/protocol/scenario.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using courier::port_table;
using courier::send_status;
using courier::protocol::stream;
using courier::test::witnessed;

TEST_CASE("stream")
{
    SUBCASE("read hands the items in order and the end once, after the last item")
    {
        // [protocol-stream]
        port_table table(2, 1);
        stream<int> blocks(table, 4);  // a disk reader (writer) feeding a sampler (reader)
        auto& disk = blocks.writer();
        auto& sampler = blocks.reader();

        CHECK(disk.try_write(10) == send_status::sent);
        CHECK(disk.try_write(20) == send_status::sent);
        CHECK(disk.try_end() == send_status::sent);    // the end marker: once, after the last item
        CHECK(disk.try_end() == send_status::closed);  // never twice
        CHECK(disk.try_write(30) == send_status::closed);

        std::vector<int> got;
        std::uint64_t ends = 0;
        sampler.drain([&](std::uint64_t, int& block) { got.push_back(block); },
                     [&](std::uint64_t items) { ends += items; }, 8);
        CHECK(got == std::vector<int>{10, 20});
        CHECK(ends == 2);  // the end says how many items came before it
        // [protocol-stream]
        CHECK(sampler.finished());
        CHECK(disk.ended());
        CHECK(disk.items() == 2);
        CHECK(disk.collect() == 0);
        CHECK(disk.in_flight() == 0);
        CHECK(disk.stats().sent == 3);
    }

    SUBCASE("try_write reports gone when the reader closes an infinite stream")
    {
        port_table table(2, 1);
        stream<int> meters(table, 2);
        CHECK(meters.writer().try_write(1) == send_status::sent);
        CHECK(meters.reader().close() == 1);
        CHECK(meters.writer().try_write(2) == send_status::gone);
        CHECK(meters.writer().try_end() == send_status::gone);
        CHECK_FALSE(meters.writer().ended());
    }
}

namespace {

std::string stream_scenario(std::uint64_t seed)
{
    courier::test::two_party_run run(seed);
    courier::testing::pool_witness items;
    {
        courier::testing::seeded_random setup(seed);
        const std::size_t credits = 1 + setup.below(4);
        const std::uint64_t total = setup.below(40);
        port_table table(2, 1);
        stream<witnessed> s(table, credits);
        std::uint64_t read = 0;
        std::uint64_t ends = 0;
        bool writer_done = false;

        auto writer = [&](courier::testing::step_context& c) {
            auto& me = s.writer();
            me.collect();
            run.log.expect(me.in_flight() <= credits, "more items out than credits");
            if (me.items() < total)
            {
                if (c.random.chance(70))
                {
                    const send_status o = me.try_write(items, me.items() + 1);
                    run.log.expect(o == send_status::sent || o == send_status::no_credit,
                                   std::string("write refused as ") + to_string(o));
                }
                return true;
            }
            if (!me.ended())
            {
                const send_status o = me.try_end();
                run.log.expect(o == send_status::sent || o == send_status::full,
                               std::string("end refused as ") + to_string(o));
                return true;
            }
            if (!writer_done)
                writer_done = true;
            return me.in_flight() != 0;  // stay until every item came home, to collect it here
        };
        auto reader = [&](courier::testing::step_context& c) {
            auto& me = s.reader();
            me.drain(
                [&](std::uint64_t index, witnessed& item) {
                    run.log.expect(ends == 0, "an item after the end");
                    run.log.expect(index == read + 1 && item.value == index, "an item out of order");
                    ++read;
                },
                [&](std::uint64_t count) {
                    ++ends;
                    run.log.expect(ends == 1, "a second end");
                    run.log.expect(count == read && read == total, "the end before the last item");
                },
                1 + c.random.below(3));
            return !me.finished();
        };
        const std::string failure = run.run(writer, reader);
        if (!failure.empty())
            return failure;
        run.log.expect(ends == 1, "the end never arrived");
        items.begin_teardown();
    }
    items.check(run.log, "items");
    return run.log.first_failure();
}

}  // namespace

TEST_CASE("stream: seeded schedule fuzzing, the end exactly once after every item")
{
    const auto report = courier::testing::fuzz("stream", courier::test::protocol_fuzz_seeds(), stream_scenario);
    CHECK_MESSAGE(!report.failed, "seed ", report.failed_seed, ": ", report.failure);
}

TEST_CASE("stream: a writer and a reader on two threads" * doctest::test_suite("stress"))
{
    const std::uint64_t total = courier::test::stress_count(200'000);
    port_table table(2, 1);
    stream<std::uint64_t> s(table, 8);
    std::thread writer([&] {
        while (s.writer().items() < total)
        {
            if (s.writer().try_write(s.writer().items() + 1) != send_status::sent)
                std::this_thread::yield();  // the machine may have fewer cores than spinning threads
            s.writer().collect();
        }
        while (s.writer().try_end() == send_status::full)
            std::this_thread::yield();
    });
    std::uint64_t read = 0;
    std::uint64_t ends = 0;
    std::uint64_t wrong = 0;
    while (!s.reader().finished())
        if (s.reader().drain([&](std::uint64_t i,
                                std::uint64_t& v) { wrong += (i != ++read || v != i || ends != 0) ? 1u : 0u; },
                        [&](std::uint64_t n) { wrong += n != total ? 1u : 0u; ++ends; }, 64) == 0)
            std::this_thread::yield();
    writer.join();
    CHECK(wrong == 0);
    CHECK(read == total);
    CHECK(ends == 1);
}
