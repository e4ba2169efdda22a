// SPDX-License-Identifier: MIT
// The shared vocabulary: send_status names and the single-writer counter.
#include <courier/counter.h>
#include <courier/send_status.h>

#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>
#include <thread>

TEST_CASE("send_status: every status has its own name")
{
    using courier::send_status;
    const send_status all[] = {send_status::sent, send_status::full, send_status::no_credit,
                               send_status::gone, send_status::closed, send_status::too_large};
    for (send_status s : all) {
        CHECK(std::string_view(courier::to_string(s)) != "unknown");
        for (send_status other : all)
            if (other != s)
                CHECK(std::string_view(courier::to_string(s)) != courier::to_string(other));
    }
    CHECK(std::string_view(courier::to_string(static_cast<send_status>(200))) == "unknown");
}

TEST_CASE("counter: add, raise_to and set by the writer; a reader on another thread sees the final count")
{
    courier::counter c;
    CHECK(c.load() == 0);
    c.add();
    c.add(4);
    CHECK(c.load() == 5);
    c.raise_to(3);
    CHECK(c.load() == 5);
    c.raise_to(9);
    CHECK(c.load() == 9);
    c.set(0);
    CHECK(c.load() == 0);

    constexpr std::uint64_t adds = 100000;
    std::thread writer([&] {
        for (std::uint64_t i = 0; i < adds; ++i)
            c.add();
    });
    std::uint64_t last = 0;
    bool monotonic = true;
    for (int i = 0; i < 1000; ++i) {
        const std::uint64_t now = c.load();
        monotonic = monotonic && now >= last;
        last = now;
    }
    writer.join();
    CHECK(monotonic);
    CHECK(c.load() == adds);
}
