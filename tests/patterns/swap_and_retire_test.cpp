// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/swap_and_retire.h>: the audio side's cost does not depend on the structure's size (counted,
// not timed), and every replaced structure dies once, on the control thread.
#include <courier/patterns/swap_and_retire.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"
#include "tests/support/tracked.h"
#include "tests/support/overlapping_threads.h"
#include "tests/support/two_live_threads.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::swap_and_retire;
using courier::test::tracked;
using courier::test::tracking_log;

namespace {

// Every construction, copy, assignment, destruction and read of an element, counted on the thread doing it.
thread_local std::uint64_t element_operations = 0;

struct counted_element
{
    counted_element() noexcept { ++element_operations; }
    counted_element(const counted_element& other) noexcept : value(other.value) { ++element_operations; }
    counted_element& operator=(const counted_element& other) noexcept
    {
        value = other.value;
        ++element_operations;
        return *this;
    }
    ~counted_element() { ++element_operations; }
    [[nodiscard]] float read() const noexcept
    {
        ++element_operations;
        return value;
    }
    float value = 0.0f;
};

// A structure the audio side reads every block, of any size.
struct wavetable
{
    wavetable(tracking_log& log, std::uint64_t id, std::size_t size) : tag(log, id), samples(size) {}
    tracked tag;  // records on which thread the table dies
    std::vector<counted_element> samples;
};

// What the audio side's acquire() cost, counted on the audio thread.
struct audio_cost
{
    std::size_t heap_calls = 0;
    std::uint64_t element_operations = 0;
    std::uint64_t adopted = 0;
};

}  // namespace

TEST_CASE("swap_and_retire")
{
    SUBCASE("acquire adopts the published structure, and the old one dies in collect on the control thread")
    {
        // [swap-and-retire]
        tracking_log log;  // home: this thread, the control side
        swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 2048), 2);
        auto fresh = std::make_unique<wavetable>(log, 1u, 4096);  // built at leisure, off the audio thread
        REQUIRE(tables.try_publish(std::move(fresh)));
        std::uint64_t playing = 99;
        std::thread audio([&] {
            playing = tables.acquire().tag.number();  // two pointer moves, whatever the size
        });
        audio.join();
        CHECK(playing == 1);
        CHECK(log.live == 2);  // the old table is on its way back, not destroyed
        CHECK(tables.collect() == 1);  // ✗ the old table dies here, on the control thread
        CHECK(log.live == 1);
        CHECK(log.destroyed_away_from_home == 0);
        // [swap-and-retire]
    }

    SUBCASE("acquire touches no element and allocates nothing, for structures of 10, 1,000 and 100,000 elements")
    {
        tracking_log log;
        std::vector<audio_cost> costs;
        for (const std::size_t size : {std::size_t{10}, std::size_t{1'000}, std::size_t{100'000}})
        {
            swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, size), 2);
            REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, 1u, size)));
            audio_cost cost;
            std::thread audio([&] {
                const courier::test::allocation_counter allocations;
                const std::uint64_t before = element_operations;  // this thread's count
                const wavetable& table = tables.acquire();
                cost = {allocations.count(), element_operations - before, table.tag.number()};
            });
            audio.join();
            costs.push_back(cost);
            const std::uint64_t before = element_operations;
            CHECK(tables.collect() == 1);
            CHECK(element_operations - before == size);  // the cost moved here: one destructor per element
        }
        for (const audio_cost& cost : costs)
        {
            CHECK(cost.heap_calls == 0);
            CHECK(cost.element_operations == 0);
            CHECK(cost.adopted == 1);
        }
    }

    SUBCASE("current returns the structure acquire last adopted, without adopting a newer one")
    {
        tracking_log log;
        swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 4), 2);
        REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, 1u, 4)));
        CHECK(tables.current().tag.number() == 0);
        CHECK(tables.acquire().tag.number() == 1);
        CHECK(tables.current().tag.number() == 1);
        CHECK(tables.current().samples[0].read() == 0.0f);
    }

    SUBCASE("acquire adopts every structure published since the last call and returns the newest")
    {
        tracking_log log;
        swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 4), 3);
        for (std::uint64_t id = 1; id <= 3; ++id)
            REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, id, 4)));
        CHECK(tables.acquire().tag.number() == 3);
        CHECK(tables.stats().publications.received == 3);
        CHECK(tables.collect() == 3);  // the initial one and the two that were current only for a moment
        CHECK(log.live == 1);
        CHECK(tables.in_flight() == 0);
    }

    SUBCASE("try_publish returns false and leaves the structure with the caller when max_in_flight are out")
    {
        tracking_log log;
        swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 4), 1);
        REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, 1u, 4)));
        auto second = std::make_unique<wavetable>(log, 2u, 4);
        CHECK_FALSE(tables.try_publish(std::move(second)));
        REQUIRE(second != nullptr);
        (void)tables.acquire();
        CHECK_FALSE(tables.try_publish(std::move(second)));  // the old one still counts until collected
        CHECK(tables.collect() == 1);
        CHECK(tables.try_publish(std::move(second)));
        CHECK(second == nullptr);
        CHECK(tables.stats().returns.refused == 2);
        CHECK(tables.max_in_flight() == 1);
    }

    SUBCASE("acquire and current neither allocate nor free")
    {
        tracking_log log;
        swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 64), 8);
        for (std::uint64_t id = 1; id <= 8; ++id)
            REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, id, 64)));
        {
            const courier::test::allocation_counter allocations;
            for (int block = 0; block < 4; ++block)
                (void)tables.acquire();
            (void)tables.current();
            CHECK(allocations.count() == 0);
        }
        CHECK(log.live == 9);
        CHECK(tables.collect() == 8);
    }

    SUBCASE("the destructor destroys the current, queued and retired structures, each once, on the destroying thread")
    {
        tracking_log log;  // home: this thread, which destroys the swap_and_retire
        {
            swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 16), 4);
            REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, 1u, 16)));
            std::thread audio([&] { (void)tables.acquire(); });  // table 0 is retired, not collected
            audio.join();
            REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, 2u, 16)));  // queued, never adopted
            CHECK(log.live == 3);
            tables.reset_thread_roles();  // the audio thread has stopped
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 3);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("stats count publications, adoptions, refusals and collections")
    {
        tracking_log log;
        swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 4), 2);
        REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, 1u, 4)));
        REQUIRE(tables.try_publish(std::make_unique<wavetable>(log, 2u, 4)));
        CHECK_FALSE(tables.try_publish(std::make_unique<wavetable>(log, 3u, 4)));
        (void)tables.acquire();
        CHECK(tables.collect() == 2);
        const auto s = tables.stats();
        CHECK(s.publications.sent == 2);
        CHECK(s.publications.received == 2);
        CHECK(s.returns.refused == 1);
        CHECK(s.returns.returned == 2);
        CHECK(s.returns.taken == 2);
        CHECK(s.returns.out == 0);
    }

    SUBCASE("acquire reports a second audio thread inside it at the same time, and a hand-over passes")
    {
        tracking_log log;
        {
            const courier::test::violation_recorder violations;
            swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 4), 2);
            courier::test::run_overlapping([&] { (void)tables.acquire(); }, [&] { (void)tables.acquire(); });
            CHECK(violations.count() == 1);
        }
        {
            const courier::test::violation_recorder violations;
            swap_and_retire<wavetable> tables(std::make_unique<wavetable>(log, 0u, 4), 2);
            courier::test::run_on_two_live_threads([&] { (void)tables.acquire(); },
                                                   [&] {
                                                       tables.reset_thread_roles();
                                                       (void)tables.acquire();
                                                   });
            CHECK(violations.count() == 0);
        }
    }

    SUBCASE("construction refuses a null initial structure and max_in_flight 0")
    {
        tracking_log log;
        CHECK_THROWS_AS(swap_and_retire<wavetable>(nullptr, 2), std::invalid_argument);
        CHECK_THROWS_AS(swap_and_retire<wavetable>(std::make_unique<wavetable>(log, 0u, 4), 0), std::invalid_argument);
        CHECK(log.live == 0);
    }
}

namespace {

// A settings block whose fields must always agree: a torn or half-built block would show.
struct settings
{
    settings(tracking_log& log, std::uint64_t id) noexcept : tag(log, id) { values.fill(id); }
    tracked tag;
    std::array<std::uint64_t, 32> values{};
};

}  // namespace

TEST_CASE("swap_and_retire: settings published while the audio thread reads them all die once, on the control thread" *
          doctest::test_suite("stress"))
{
    const std::uint64_t count = courier::test::stress_count(100'000);
    tracking_log log;  // home: this thread, the control side
    std::atomic<std::size_t> audio_heap_calls{1};
    std::atomic<bool> consistent{false};
    {
        swap_and_retire<settings> live(std::make_unique<settings>(log, 0u), 4);
        std::thread audio([&] {
            const courier::test::allocation_counter allocations;
            bool ok = true;
            std::uint64_t last = 0;
            while (last < count)
            {
                const settings& s = live.acquire();
                const std::uint64_t id = s.tag.number();
                ok = ok && id >= last;  // never goes back to an older block
                for (const std::uint64_t v : s.values)
                    ok = ok && v == id;  // never torn
                if (id == last)
                    std::this_thread::yield();  // nothing new: stands for the wait until the next callback
                last = id;
            }
            consistent.store(ok);
            audio_heap_calls.store(allocations.count());
        });
        std::unique_ptr<settings> fresh;
        for (std::uint64_t id = 1; id <= count;)
        {
            live.collect();  // ✗ replaced blocks die here, on the control thread
            if (fresh == nullptr)
                fresh = std::make_unique<settings>(log, id);
            if (live.try_publish(std::move(fresh)))
                ++id;
            else
                std::this_thread::yield();  // four blocks in flight: wait for the audio side to catch up
        }
        audio.join();
        live.collect();
        CHECK(live.in_flight() == 0);
        CHECK(live.stats().returns.broken == 0);
        live.reset_thread_roles();
    }
    CHECK(consistent.load());
    CHECK(audio_heap_calls.load() == 0);
    CHECK(log.live == 0);
    CHECK(log.destroyed == static_cast<int>(count) + 1);
    CHECK(log.destroyed_away_from_home == 0);
}
