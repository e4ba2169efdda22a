// SPDX-License-Identifier: MIT
// The /load disk worker (audio/osc/osc_load_worker.h) when an allocation on its thread throws: the request gets
// its final /fail reply and the worker keeps serving, instead of std::terminate (docs/osc.md, "/load"). Its own
// executable, because the failing allocator replaces the global operator new. And sample_count, which refuses a
// /load whose frames x channels would not fit one buffer (or would wrap).
#include "audio/osc/osc_load_worker.h"
#include "tests/osc/failing_allocator.h"

#include <courier/patterns/port_table.h>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

using namespace courier;
using namespace courier::osc;

namespace {

// Takes the load replies until the final one for `id` comes, and returns it (nullopt if none comes within a
// minute: a hung worker fails the test instead of hanging it).
using load_client = protocol::request_reply<load_request, load_reply>::client_type;

std::optional<load_reply> final_reply(load_client& client, std::uint64_t id)
{
    std::optional<load_reply> last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (!last && std::chrono::steady_clock::now() < deadline)
    {
        (void)client.drain(
            [&](std::uint64_t from, protocol::reply_status status, load_reply* reply) {
                if (from == id && status == protocol::reply_status::answered && reply != nullptr)
                    last = *reply;
            },
            16);
        (void)client.collect();
        std::this_thread::yield();
    }
    return last;
}

}  // namespace

TEST_CASE("load_worker: an allocation that throws on the worker" * doctest::test_suite("stress"))
{
    port_table table(2, 2);
    protocol::request_reply<load_request, load_reply> loads(table, 1, 4);
    std::atomic<bool> stop{false};
    load_worker worker(loads.server(), stop);
    std::thread disk([&] {
        courier::test::fail_allocations_from(2048);  // this thread only: copying a long path fails
        worker.run();
    });
    auto& client = loads.client();

    SUBCASE("run answers too_long when copying the path throws, and serves the next load")
    {
        const std::string long_name(4000, 'a');  // made here, on the test's thread, where nothing fails
        const std::size_t refused_before = courier::test::refused_allocations();
        const courier::ticket first = client.try_request(std::filesystem::path(long_name), std::uint64_t{100});
        REQUIRE(first.result == courier::send_status::sent);
        worker.wake();
        const std::optional<load_reply> failed = final_reply(client, first.id);
        REQUIRE(failed.has_value());
        CHECK(failed->error == load_error::too_long);
        CHECK(courier::test::refused_allocations() > refused_before);

        // A short path allocates little: the worker is still there and answers it.
        const courier::ticket second =
            client.try_request(std::filesystem::path("no-such-file.wav"), std::uint64_t{100});
        REQUIRE(second.result == courier::send_status::sent);
        worker.wake();
        const std::optional<load_reply> missing = final_reply(client, second.id);
        REQUIRE(missing.has_value());
        CHECK(missing->error == load_error::cannot_open);
    }

    stop.store(true, std::memory_order_relaxed);  // a flag; the join below synchronises
    worker.wake();
    disk.join();
    (void)client.collect();
}

TEST_CASE("sample_count")
{
    SUBCASE("sample_count multiplies frames by channels when the samples fit one buffer")
    {
        CHECK(sample_count(48000, 2) == std::optional<std::size_t>(96000));
        CHECK(sample_count(0, 1) == std::optional<std::size_t>(0));
    }
    SUBCASE("sample_count refuses a product that would not fit, or wrap, and channels that are not positive")
    {
        const std::uint64_t most = static_cast<std::uint64_t>(PTRDIFF_MAX) / sizeof(float);
        const struct
        {
            std::uint64_t frames;
            int channels;
        } refused[] = {
            {std::uint64_t{1} << 62, 4},   // 2^64 samples: wraps to 0 in 64 bits
            {std::uint64_t{1} << 63, 2},   // the same
            {UINT64_MAX, 1},               // more than memory holds
            {most / 2 + 1, 2},             // just past the largest buffer
            {48000, 0},
            {48000, -1},
        };
        for (const auto& r : refused)
        {
            CAPTURE(r.frames);
            CAPTURE(r.channels);
            CHECK_FALSE(sample_count(r.frames, r.channels).has_value());
        }
        CHECK(sample_count(most / 2, 2) == std::optional<std::size_t>(most / 2 * 2));
    }
}
