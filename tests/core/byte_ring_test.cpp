// SPDX-License-Identifier: MIT
// Tests for <courier/byte_ring.h>: contiguous messages across the wrap point, full and too_large, stress.
#include <courier/byte_ring.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::byte_ring;
using courier::send_status;

namespace {
// Fills `payload` with bytes derived from `seed`, so the reader can tell a torn or misplaced message.
void fill(std::span<std::byte> payload, std::uint32_t seed)
{
    for (std::size_t i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<std::byte>((seed * 31u + i) & 0xFFu);
}

bool intact(std::span<const std::byte> payload, std::uint32_t seed)
{
    for (std::size_t i = 0; i < payload.size(); ++i)
        if (payload[i] != static_cast<std::byte>((seed * 31u + i) & 0xFFu))
            return false;
    return true;
}
}  // namespace

TEST_CASE("byte_ring")
{
    SUBCASE("peek returns the tag and payload written by try_write, and release frees it")
    {
        // [byte-ring-write-peek-release]
        byte_ring ring(256);
        auto w = ring.writer();
        auto r = ring.reader();
        const char text[] = "note on";
        REQUIRE(w.try_write(7, std::as_bytes(std::span(text))) == send_status::sent);
        auto m = r.peek();
        REQUIRE(m.has_value());
        CHECK(m->tag == 7);
        CHECK(m->payload.size() == sizeof text);
        CHECK(std::memcmp(m->payload.data(), text, sizeof text) == 0);
        r.release();
        CHECK_FALSE(r.peek().has_value());
        // [byte-ring-write-peek-release]
    }

    SUBCASE("peek before release returns the same message again")
    {
        byte_ring ring(128);
        auto w = ring.writer();
        auto r = ring.reader();
        REQUIRE(w.try_write_value(1, 10.0) == send_status::sent);
        REQUIRE(w.try_write_value(2, 20.0) == send_status::sent);
        CHECK(r.peek()->tag == 1);
        CHECK(r.peek()->tag == 1);
        r.release();
        auto second = r.peek();
        REQUIRE(second.has_value());
        CHECK(second->tag == 2);
        CHECK(courier::byte_ring_reader::value_of<double>(*second) == 20.0);
        CHECK_FALSE(courier::byte_ring_reader::value_of<float>(*second).has_value());  // wrong size
    }

    SUBCASE("a message that would straddle the end is written whole at the start")
    {
        byte_ring ring(128);
        auto w = ring.writer();
        auto r = ring.reader();
        // Records of 64 and 56 bytes move the positions to 120, so only 8 bytes remain before the end.
        for (std::size_t payload : {56u, 48u})
        {
            REQUIRE(w.try_write(1, std::vector<std::byte>(payload)) == send_status::sent);
            REQUIRE(r.peek().has_value());
            r.release();
        }
        auto grant = w.try_begin(2, 24);  // needs 32 contiguous bytes: skips the last 8, writes at 0
        REQUIRE(grant);
        CHECK(reinterpret_cast<std::uintptr_t>(grant.payload.data()) % 8 == 0);
        fill(grant.payload, 2);
        w.commit(grant);
        auto m = r.peek();
        REQUIRE(m.has_value());
        CHECK(m->tag == 2);
        CHECK(m->payload.size() == 24);
        CHECK(intact(m->payload, 2));
        r.release();
        CHECK_FALSE(r.peek().has_value());
    }

    SUBCASE("try_begin says full when the reader has not freed enough, and ok once it has")
    {
        byte_ring ring(64);
        auto w = ring.writer();
        auto r = ring.reader();
        REQUIRE(w.try_write(1, std::vector<std::byte>(24)) == send_status::sent);  // 32 bytes
        REQUIRE(w.try_write(2, std::vector<std::byte>(24)) == send_status::sent);  // 64 bytes: full
        CHECK(w.try_write(3, std::vector<std::byte>(0)) == send_status::full);
        CHECK(ring.stats().refused_full == 1);
        (void)r.peek();
        r.release();
        CHECK(w.try_write(3, std::vector<std::byte>(0)) == send_status::sent);
        CHECK(ring.stats().high_water_bytes == 64);
    }

    SUBCASE("a payload larger than max_payload is refused as too_large, never as full")
    {
        byte_ring ring(100);  // rounds up to 128
        CHECK(ring.capacity() == 128);
        CHECK(ring.max_payload() == 56);
        auto w = ring.writer();
        CHECK(w.try_write(1, std::vector<std::byte>(57)) == send_status::too_large);
        CHECK(w.try_begin(1, 1'000'000).status == send_status::too_large);
        CHECK(w.try_write(1, std::vector<std::byte>(56)) == send_status::sent);
        CHECK(ring.stats().refused_too_large == 2);
        CHECK(ring.stats().written == 1);
    }

    SUBCASE("commit with a shorter size publishes only the bytes used")
    {
        byte_ring ring(128);
        auto w = ring.writer();
        auto r = ring.reader();
        // [byte-ring-grant-commit]
        auto grant = w.try_begin(9, 40);
        REQUIRE(grant);
        fill(grant.payload.first(5), 9);
        w.commit(grant, 5);
        auto m = r.peek();
        REQUIRE(m.has_value());
        CHECK(m->payload.size() == 5);
        CHECK(intact(m->payload, 9));
        r.release();
        // [byte-ring-grant-commit]
        // The next record starts right after the shortened one (8 header + 8 padded payload bytes on), so the
        // unused part of the reservation was given back.
        auto next = w.try_begin(1, 8);
        REQUIRE(next);
        CHECK(next.payload.data() - grant.payload.data() == 16);
        w.commit(next);
    }

    SUBCASE("writing and reading neither allocate nor free")
    {
        byte_ring ring(256);
        auto w = ring.writer();
        auto r = ring.reader();
        const std::array<std::byte, 20> payload{};
        const courier::test::allocation_counter allocations;
        for (int i = 0; i < 100; ++i)
        {
            REQUIRE(w.try_write(3, payload) == send_status::sent);
            REQUIRE(r.peek().has_value());
            r.release();
        }
        CHECK(allocations.count() == 0);
    }

    SUBCASE("writer and reader throw when taken twice")
    {
        byte_ring ring(64);
        (void)ring.writer();
        (void)ring.reader();
        CHECK_THROWS_AS((void)ring.writer(), std::logic_error);
        CHECK_THROWS_AS((void)ring.reader(), std::logic_error);
    }
}

TEST_CASE("byte_ring: messages of every size cross threads whole and in order" * doctest::test_suite("stress"))
{
    const std::uint32_t count = static_cast<std::uint32_t>(courier::test::stress_count(1'000'000));
    byte_ring ring(1024);
    const std::size_t largest = ring.max_payload();
    auto w = ring.writer();
    auto r = ring.reader();

    std::thread producer([&] {
        for (std::uint32_t i = 0; i < count; ++i)
        {
            const std::size_t size = (i * 7919u) % (largest + 1);
            courier::write_grant grant;
            while (!(grant = w.try_begin(i, size)))
                std::this_thread::yield();
            fill(grant.payload, i);
            w.commit(grant);
        }
    });

    std::uint32_t expected = 0;
    std::uint32_t damaged = 0;
    while (expected < count)
    {
        auto m = r.peek();
        if (!m)
            continue;
        const std::size_t size = (expected * 7919u) % (largest + 1);
        if (m->tag != expected || m->payload.size() != size || !intact(m->payload, expected))
            ++damaged;
        r.release();
        ++expected;
    }
    producer.join();
    CHECK(damaged == 0);
    CHECK_FALSE(r.peek().has_value());
    CHECK(ring.stats().written == count);
    CHECK(ring.stats().refused_too_large == 0);
}
