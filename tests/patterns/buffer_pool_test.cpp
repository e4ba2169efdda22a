// SPDX-License-Identifier: MIT
// Tests for <courier/patterns/buffer_pool.h> (context-local pool, closed-loop buffers): nothing is allocated after
// Setup, at most count() buffers are ever in flight, a starved producer hears it as a value, and every buffer
// is accounted for at the end.
#include <courier/patterns/buffer_pool.h>

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
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using courier::buffer_lease;
using courier::in_flight_stats;
using courier::buffer_pool;
using courier::test::tracking_log;

namespace {

// A block of samples with the number of the block it was last filled for.
struct block
{
    std::vector<float> samples;  // sized at setup: its memory is allocated once, in the pool's constructor
    std::uint64_t sequence = 0;
};

block make_prototype(std::size_t frames) { return block{std::vector<float>(frames, 0.0f), 0}; }

// A buffer that records its copies and destructions, so a test can see where each buffer dies.
struct tracked_buffer
{
    explicit tracked_buffer(tracking_log& l) noexcept : log(&l), tag(l, 0) {}
    tracked_buffer(const tracked_buffer& other) noexcept : log(other.log), tag(*other.log, 0) {}
    tracked_buffer& operator=(const tracked_buffer&) = delete;
    tracking_log* log;
    courier::test::tracked tag;
};

}  // namespace

TEST_CASE("buffer_pool")
{
    SUBCASE("lease_type lets a processor hold a lease as a member")
    {
        courier::buffer_pool<std::vector<float>> pool(1, std::vector<float>(4));
        struct processor
        {
            courier::buffer_pool<std::vector<float>>::lease_type filling;
        };
        processor p{pool.try_acquire()};
        REQUIRE(p.filling);
        CHECK(p.filling->size() == 4);
        CHECK(pool.stats().out == 1);
        p.filling.reset();
        CHECK(pool.stats().out == 0);
    }

    SUBCASE("a buffer goes round the loop: the audio thread fills and sends it, the GUI reads it and drops the lease")
    {
        // [buffer-pool-loop]
        buffer_pool<block> scope(2, make_prototype(256));  // setup: every buffer allocated here, once
        std::size_t audio_heap_calls = 1;
        std::thread audio([&] {                            // the producer
            const courier::test::allocation_counter allocations;
            for (std::uint64_t n = 1; n <= 3; ++n)
                if (auto lease = scope.try_acquire())      // empty when both buffers are out: skip a frame
                {
                    lease->samples[0] = static_cast<float>(n);
                    lease->sequence = n;
                    scope.send(std::move(lease));          // cannot fail: the lane holds every buffer
                }
            audio_heap_calls = allocations.count();
        });
        audio.join();
        CHECK(audio_heap_calls == 0);
        CHECK(scope.stats().refused == 1);                 // the third frame found no free buffer
        auto first = scope.try_receive();                  // the GUI, the consumer
        REQUIRE(first);
        CHECK(first->sequence == 1);
        first.reset();                                     // back to the audio thread, through the return lane
        CHECK(scope.stats().out == 1);
        // [buffer-pool-loop]
    }

    SUBCASE("try_acquire returns an empty lease and counts it when every buffer is in flight")
    {
        buffer_pool<block> pool(3, make_prototype(8));
        std::vector<buffer_lease<block>> leases;
        for (int i = 0; i < 3; ++i)
        {
            leases.push_back(pool.try_acquire());
            REQUIRE(leases.back());
        }
        CHECK_FALSE(pool.try_acquire());
        CHECK(pool.stats().refused == 1);
        CHECK(pool.stats().out == 3);
        leases.pop_back();  // dropped on the producer: straight back to its free list
        CHECK(pool.try_acquire());
    }

    SUBCASE("a lease dropped on the producer goes straight back to its free list, without a trip through the lane")
    {
        buffer_pool<block> pool(1, make_prototype(8));
        auto lease = pool.try_acquire();
        REQUIRE(lease);
        lease.reset();
        CHECK_FALSE(lease);
        CHECK(pool.stats().returned == 0);
        CHECK(pool.try_acquire());
    }

    SUBCASE("try_receive returns the buffers in the order they were sent, and an empty lease when none waits")
    {
        buffer_pool<block> pool(4, make_prototype(8));
        CHECK_FALSE(pool.try_receive());
        for (std::uint64_t n = 1; n <= 3; ++n)
        {
            auto lease = pool.try_acquire();
            REQUIRE(lease);
            lease->sequence = n;
            pool.send(std::move(lease));
            CHECK_FALSE(lease);
        }
        for (std::uint64_t n = 1; n <= 3; ++n)
        {
            auto lease = pool.try_receive();
            REQUIRE(lease);
            CHECK(lease->sequence == n);
        }
        CHECK_FALSE(pool.try_receive());
    }

    SUBCASE("index names each buffer, and get and operator* reach it")
    {
        buffer_pool<block> pool(3, make_prototype(4));
        std::set<std::uint32_t> seen;
        std::vector<buffer_lease<block>> leases;
        for (int i = 0; i < 3; ++i)
        {
            leases.push_back(pool.try_acquire());
            seen.insert(leases.back().index());
            CHECK(leases.back().get() == &*leases.back());
            CHECK((*leases.back()).samples.size() == 4);
        }
        CHECK(seen == std::set<std::uint32_t>{0, 1, 2});
        buffer_lease<block> empty;
        CHECK(empty.get() == nullptr);
        empty = std::move(leases[0]);  // move assignment takes the buffer over
        CHECK(empty.index() == *seen.begin());
        CHECK_FALSE(leases[0]);
    }

    SUBCASE("a buffer keeps its contents and memory between leases: nothing is allocated after setup")
    {
        buffer_pool<block> pool(2, make_prototype(1024));
        const auto memory_of_each = [&] {
            std::set<const float*> memory;
            auto a = pool.try_acquire();
            auto b = pool.try_acquire();
            memory.insert(a->samples.data());
            memory.insert(b->samples.data());
            return memory;
        };
        const auto before = memory_of_each();
        {
            const courier::test::allocation_counter allocations;
            for (int round = 0; round < 100; ++round)
            {
                auto lease = pool.try_acquire();
                REQUIRE(lease);
                lease->samples[5] = static_cast<float>(round);
                pool.send(std::move(lease));
                auto received = pool.try_receive();
                REQUIRE(received);
                CHECK(received->samples[5] == static_cast<float>(round));
            }
            CHECK(allocations.count() == 0);
        }
        CHECK(memory_of_each() == before);  // the same two blocks of samples, never reallocated
    }

    SUBCASE("stats count acquisitions, sends, returns, starvation and the high-water mark")
    {
        buffer_pool<block> pool(2, make_prototype(8));
        auto a = pool.try_acquire();
        auto b = pool.try_acquire();
        CHECK_FALSE(pool.try_acquire());
        pool.send(std::move(a));
        std::thread consumer([&] { CHECK(pool.try_receive()); });  // dropped there: through the return lane
        consumer.join();
        const auto s = pool.stats();
        CHECK(s.capacity == 2);
        CHECK(pool.count() == 2);
        CHECK(s.taken == 2);
        CHECK(s.refused == 1);
        CHECK(pool.sent() == 1);
        CHECK(s.returned == 1);
        CHECK(s.out == 1);
        CHECK(s.high_water == 2);
        CHECK(s.broken == 0);
    }

    SUBCASE("two threads dropping unsent leases at the same time are reported")
    {
        const courier::test::violation_recorder violations;
        buffer_pool<block> pool(2, make_prototype(8));
        auto a = pool.try_acquire();  // unsent: both belong to the producer's role
        auto b = pool.try_acquire();
        courier::test::run_overlapping([&] { a.reset(); }, [&] { b.reset(); });
        CHECK(violations.count() == 1);
        CHECK(violations.last().find("producer") != std::string::npos);
    }

    SUBCASE("a lease returns the way it came, whichever thread drops it")
    {
        const courier::test::violation_recorder violations;
        buffer_pool<block> pool(2, make_prototype(8));
        auto unsent = pool.try_acquire();
        pool.send(pool.try_acquire());
        buffer_lease<block> received = pool.try_receive();
        REQUIRE(received);
        // Another thread drops both: the unsent one goes to the free list, the received one through the lane.
        std::thread([&] {
            unsent.reset();
            received.reset();
        }).join();
        const in_flight_stats s = pool.stats();
        CHECK(s.returned == 1);  // only the received lease took the return lane
        CHECK(s.out == 0);
        CHECK(violations.count() == 0);
    }

    SUBCASE("new threads become the producer and the consumer, with or without reset_thread_roles")
    {
        const courier::test::violation_recorder violations;
        buffer_pool<block> pool(2, make_prototype(8));
        buffer_lease<block> held;
        courier::test::run_on_two_live_threads(
            [&] {
                auto lease = pool.try_acquire();
                pool.send(std::move(lease));
            },
            [&] {
                pool.reset_thread_roles();  // the first producer has stopped
                held = pool.try_acquire();
                pool.send(std::move(held));
            });
        CHECK(violations.count() == 0);
        pool.reset_thread_roles();
        CHECK(pool.try_receive());
        CHECK(pool.try_receive());
        CHECK(violations.count() == 0);
    }

    SUBCASE("the destructor takes back buffers still queued and destroys each buffer once, on the destroying thread")
    {
        tracking_log log;  // home: this thread, which builds and destroys the pool
        {
            const tracked_buffer prototype(log);
            buffer_pool<tracked_buffer> pool(3, prototype);
            CHECK(log.live == 4);  // the prototype and three copies
            std::thread producer([&] {
                for (int i = 0; i < 2; ++i)
                    pool.send(pool.try_acquire());
            });
            producer.join();
            CHECK(pool.stats().out == 2);  // two buffers queued for a consumer that never came
        }
        CHECK(log.live == 0);
        CHECK(log.destroyed == 4);
        CHECK(log.destroyed_away_from_home == 0);
    }

    SUBCASE("count 0 is refused")
    {
        CHECK_THROWS_AS(buffer_pool<block>(0, make_prototype(8)), std::invalid_argument);
    }
}

namespace {

// Runs a closed loop of `loop_size` buffers between two real threads until `total` buffers have crossed, and
// checks the closed-loop guarantees. The real-time side never waits for the loop: as producer (audio → GUI) it skips
// the block when no buffer is free, so that block's frame is lost and the numbers it sends have gaps; as
// consumer (disk → audio) it plays silence when no block has arrived. Either way it then yields, which stands
// for the time until its next callback. The worker producer instead retries the same block, so its numbers
// are consecutive.
void run_closed_loop(bool producer_is_audio)
{
    constexpr std::size_t loop_size = 4;
    const std::uint64_t total = courier::test::stress_count(200'000);
    buffer_pool<block> pool(loop_size, make_prototype(64));
    std::array<std::atomic<int>, loop_size> held{};  // 1 while a lease on buffer i exists, as the test sees it
    std::atomic<bool> double_lease{false};
    std::atomic<bool> torn{false};
    std::atomic<std::size_t> producer_heap_calls{1};
    std::atomic<std::size_t> consumer_heap_calls{1};
    std::atomic<std::uint64_t> skipped{0};

    std::thread producer([&] {
        const courier::test::allocation_counter allocations;
        std::uint64_t block_number = 1;
        std::uint64_t skipped_blocks = 0;
        for (std::uint64_t sent = 0; sent < total;)
        {
            auto lease = pool.try_acquire();
            if (!lease)
            {
                if (producer_is_audio)
                {
                    ++block_number;  // the audio side drops this frame and moves on
                    ++skipped_blocks;
                }
                std::this_thread::yield();  // the worker retries the same block
                continue;
            }
            if (held[lease.index()].exchange(1) != 0)
                double_lease.store(true);  // a buffer leased while someone still held it
            for (float& sample : lease->samples)
                sample = static_cast<float>(block_number % 1000);
            lease->sequence = block_number++;
            pool.send(std::move(lease));
            ++sent;
        }
        skipped.store(skipped_blocks);
        producer_heap_calls.store(allocations.count());
    });

    std::thread consumer([&] {
        const courier::test::allocation_counter allocations;
        std::uint64_t last = 0;
        for (std::uint64_t received = 0; received < total;)
        {
            auto lease = pool.try_receive();
            if (!lease)
            {
                std::this_thread::yield();  // the GUI retries; the audio side plays silence this block
                continue;
            }
            ++received;
            // In order; with no gap unless the audio side skipped frames.
            bool intact = producer_is_audio ? lease->sequence > last : lease->sequence == last + 1;
            last = lease->sequence;
            for (const float sample : lease->samples)
                intact = intact && sample == static_cast<float>(lease->sequence % 1000);  // not overwritten
            if (!intact)
                torn.store(true);
            held[lease.index()].store(0);  // before the drop: after it the producer may take it again
        }  // each lease dropped here, on the consumer: back through the return lane
        consumer_heap_calls.store(allocations.count());
    });

    producer.join();
    consumer.join();
    CHECK_FALSE(double_lease.load());
    CHECK_FALSE(torn.load());
    CHECK(producer_heap_calls.load() == 0);
    CHECK(consumer_heap_calls.load() == 0);
    const auto s = pool.stats();
    CHECK(s.high_water <= loop_size);
    CHECK(s.out == 0);
    CHECK(pool.sent() == total);
    CHECK(s.refused >= skipped.load());  // every skipped frame was a starved try_acquire, never a wait
    if (!producer_is_audio)
        CHECK(skipped.load() == 0);
    // Every buffer accounted for: this thread takes the producer's role and finds all of them free, once each.
    pool.reset_thread_roles();
    std::set<std::uint32_t> indices;
    std::vector<buffer_lease<block>> all;
    while (auto lease = pool.try_acquire())
    {
        indices.insert(lease.index());
        all.push_back(std::move(lease));
    }
    CHECK(all.size() == loop_size);
    CHECK(indices.size() == loop_size);
}

}  // namespace

TEST_CASE("buffer_pool: the audio thread fills scope buffers for the GUI, which hands them back" *
          doctest::test_suite("stress"))
{
    run_closed_loop(true);
}

TEST_CASE("buffer_pool: a disk worker fills blocks the audio thread plays and hands back" *
          doctest::test_suite("stress"))
{
    run_closed_loop(false);
}
