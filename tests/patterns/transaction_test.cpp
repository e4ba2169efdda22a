// SPDX-License-Identifier: MIT
// Tests for <courier/experimental/transaction.h>: a group applies whole or not at all, sends succeed or fail whole, sizing.
#include <courier/experimental/transaction.h>

#include <courier/lane.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/stress_scale.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

using courier::send_status;
using courier::transaction;
using courier::transaction_view;

namespace {

// One item: "set parameter `index` to `value`".
struct set_param
{
    std::uint32_t index;
    float value;
};

struct filter_state
{
    std::array<float, 4> params{};  // cutoff, resonance, type, drive
    int transactions = 0;
};

void apply(const transaction_view<set_param>& group, filter_state& state) noexcept
{
    for (const set_param item : group)
        state.params[item.index] = item.value;
    ++state.transactions;
}

}  // namespace

TEST_CASE("transaction")
{
    filter_state state;

    SUBCASE("drain hands each transaction whole to one handler call, oldest first")
    {
        // [transaction-send-apply]
        transaction<set_param> changes(8, 4);  // up to 8 items per group, 4 groups queued
        auto to_audio = changes.sender();
        auto on_audio = changes.receiver();
        // Control: cutoff, resonance and type change together, or not at all.
        REQUIRE(to_audio.try_send({{0, 800.0f}, {1, 0.7f}, {2, 1.0f}}) == send_status::sent);
        REQUIRE(to_audio.try_send({{0, 1200.0f}}) == send_status::sent);

        // Audio, at the start of a block: whole transactions only.
        CHECK(on_audio.drain([&](const auto& group) { apply(group, state); }, 16) == 2);
        CHECK(state.transactions == 2);
        CHECK(state.params == std::array{1200.0f, 0.7f, 1.0f, 0.0f});
        // [transaction-send-apply]
    }

    SUBCASE("drain stops at max_transactions, between two transactions, never inside one")
    {
        transaction<set_param> changes(4, 8);
        auto tx = changes.sender();
        auto rx = changes.receiver();
        for (std::uint32_t k = 1; k <= 5; ++k)
        {
            const auto v = static_cast<float>(k);
            REQUIRE(tx.try_send({{0, v}, {1, v}, {2, v}, {3, v}}) == send_status::sent);
        }
        int calls = 0;
        bool whole = true;
        while (rx.drain([&](const auto& group) { apply(group, state); }, 2) > 0)
        {
            ++calls;
            // Between calls, the four values always come from one transaction.
            whole = whole && state.params[0] == state.params[1] && state.params[1] == state.params[2] &&
                    state.params[2] == state.params[3];
        }
        CHECK(whole);
        CHECK(calls == 3);
        CHECK(state.params[3] == 5.0f);
        CHECK(changes.stats().applied == 5);
    }

    SUBCASE("a plain lane drained with a budget shows half-applied groups, which a transaction never does")
    {
        // The same four items sent one by one: a budget of 2 ends the callback halfway through a group. This is
        // the failure the invariant checks in this file would catch.
        courier::lane<set_param> items(16);
        auto tx = items.sender();
        auto rx = items.receiver();
        for (std::uint32_t i = 0; i < 4; ++i)
            REQUIRE(tx.try_send(set_param{i, 9.0f}));
        rx.drain([&](set_param&& p) { state.params[p.index] = p.value; }, 2);
        CHECK(state.params[1] != state.params[2]);  // half of the group is visible
    }

    SUBCASE("try_send returns full and queues nothing when the whole transaction does not fit")
    {
        // [transaction-full]
        transaction<set_param> changes(4, 1);
        auto tx = changes.sender();
        auto rx = changes.receiver();
        const std::array<set_param, 4> group{{{0, 1.0f}, {1, 1.0f}, {2, 1.0f}, {3, 1.0f}}};
        while (tx.try_send(group) == send_status::sent) {}  // fill the ring
        const auto queued = changes.stats().sent;
        CHECK(tx.try_send(group) == send_status::full);
        CHECK(changes.stats().sent == queued);  // not one item of the refused group went in
        CHECK(rx.drain([&](const auto& g) { apply(g, state); }, 1) == 1);
        CHECK(tx.try_send(group) == send_status::sent);  // the same group, sent again once there is room
        // [transaction-full]
        CHECK(changes.stats().refused_full == 2);  // the loop's last try and the explicit one
    }

    SUBCASE("try_send returns too_large for more items than max_items, and counts it")
    {
        transaction<set_param> changes(2, 4);
        CHECK(changes.max_items() == 2);
        auto tx = changes.sender();
        CHECK(tx.try_send({{0, 1.0f}, {1, 1.0f}, {2, 1.0f}}) == send_status::too_large);
        CHECK(tx.try_send({{0, 1.0f}, {1, 1.0f}}) == send_status::sent);
        CHECK(tx.stats().refused_too_large == 1);
        CHECK(tx.stats().sent == 1);
    }

    SUBCASE("the ring holds queued_transactions full-size transactions whatever position it is at")
    {
        for (std::size_t max_items : {1u, 3u, 8u, 13u})
            for (std::size_t queued : {1u, 2u, 5u})
            {
                transaction<set_param> changes(max_items, queued);
                auto tx = changes.sender();
                auto rx = changes.receiver();
                const std::vector<set_param> full(max_items, set_param{0, 1.0f});
                bool all_fit = true;
                for (int offset = 0; offset < 40; ++offset)
                {
                    // Move the ring's position on by one small transaction, then queue `queued` full ones.
                    REQUIRE(tx.try_send({{0, 0.0f}}) == send_status::sent);
                    REQUIRE(rx.drain([](const auto&) {}, 1) == 1);
                    for (std::size_t i = 0; i < queued; ++i)
                        all_fit = all_fit && tx.try_send(full) == send_status::sent;
                    CHECK(rx.drain([](const auto&) {}, queued + 1) == queued);
                }
                CHECK(all_fit);
            }
    }

    SUBCASE("an empty transaction arrives as an empty view")
    {
        transaction<set_param> changes(2, 2);
        auto tx = changes.sender();
        auto rx = changes.receiver();
        REQUIRE(tx.try_send(std::span<const set_param>()) == send_status::sent);
        std::size_t sizes = 99;
        bool empty = false;
        CHECK(rx.drain(
                  [&](const transaction_view<set_param>& g) {
                      sizes = g.size();
                      empty = g.empty() && g.begin() == g.end();
                  },
                  4) == 1);
        CHECK(sizes == 0);
        CHECK(empty);
    }

    SUBCASE("a view yields the items in the order they were sent, by index and by iterator")
    {
        transaction<set_param> changes(3, 1);
        auto tx = changes.sender();
        auto rx = changes.receiver();
        REQUIRE(tx.try_send({{7, 0.5f}, {8, 1.5f}, {9, 2.5f}}) == send_status::sent);
        std::vector<std::uint32_t> order;
        order.reserve(6);
        rx.drain(
            [&](const transaction_view<set_param>& g) {
                REQUIRE(g.size() == 3);
                CHECK(g[1].value == 1.5f);
                for (auto it = g.begin(); it != g.end(); it++)
                    order.push_back((*it).index);
                for (const set_param p : g)
                    order.push_back(p.index);
            },
            1);
        CHECK(order == std::vector<std::uint32_t>{7, 8, 9, 7, 8, 9});
    }

    SUBCASE("try_send and drain neither allocate nor free")
    {
        transaction<set_param> changes(4, 4);
        auto tx = changes.sender();
        auto rx = changes.receiver();
        const courier::test::allocation_counter allocations;
        for (int round = 0; round < 50; ++round)
        {
            REQUIRE(tx.try_send({{0, 1.0f}, {1, 2.0f}}) == send_status::sent);
            REQUIRE(tx.try_send({{2, 3.0f}}) == send_status::sent);
            REQUIRE(rx.drain([&](const auto& g) { apply(g, state); }, 4) == 2);
        }
        (void)rx.stats();
        CHECK(allocations.count() == 0);
        CHECK(state.transactions == 100);
    }

    SUBCASE("sender and receiver throw when taken twice, and zero sizes are refused")
    {
        transaction<set_param> changes(1, 1);
        (void)changes.sender();
        (void)changes.receiver();
        CHECK_THROWS_AS((void)changes.sender(), std::logic_error);
        CHECK_THROWS_AS((void)changes.receiver(), std::logic_error);
        CHECK_THROWS_AS(transaction<set_param>(0, 1), std::invalid_argument);
        CHECK_THROWS_AS(transaction<set_param>(1, 0), std::invalid_argument);
        CHECK_THROWS_AS(transaction<set_param>(std::size_t{1} << 30, 4), std::invalid_argument);
    }
}

// The control thread sends transaction k as "slot 0 = k", k % 7 filler writes, "slot 7 = k". Slots 0 and 7 match
// only between whole transactions, so the audio side checks them after every drain call and inside
// every handler call; a single half-applied transaction would show as a mismatch.
TEST_CASE("transaction: the audio side never sees half a transaction" * doctest::test_suite("stress"))
{
    struct write
    {
        std::uint32_t slot;
        std::uint32_t value;
    };
    const std::uint32_t count = static_cast<std::uint32_t>(courier::test::stress_count(300'000));
    transaction<write> changes(9, 4);  // small, so the ring is often full and wraps often
    auto tx = changes.sender();
    auto rx = changes.receiver();

    std::thread control([&] {
        std::array<write, 9> group{};
        for (std::uint32_t k = 1; k <= count; ++k)
        {
            std::size_t n = 0;
            group[n++] = write{0, k};
            for (std::uint32_t f = 0; f < k % 7; ++f)
                group[n++] = write{1 + f, k};
            group[n++] = write{7, k};
            while (tx.try_send(std::span<const write>(group.data(), n)) != send_status::sent)
                std::this_thread::yield();
        }
    });

    std::array<std::uint32_t, 8> slots{};
    std::uint32_t torn = 0;       // a state where slot 0 and slot 7 disagree
    std::uint32_t skipped = 0;    // a transaction that arrived out of order or not at all
    std::uint32_t bad_sizes = 0;  // a transaction of the wrong length
    while (slots[7] < count)
    {
        rx.drain(
            [&](const transaction_view<write>& group) {
                if (group.size() != 2 + group[0].value % 7)
                    ++bad_sizes;
                if (group[0].value != slots[0] + 1)
                    ++skipped;
                for (const write w : group)
                    slots[w.slot] = w.value;
                if (slots[0] != slots[7])
                    ++torn;
            },
            3);
        if (slots[0] != slots[7])
            ++torn;
    }
    control.join();
    CHECK(torn == 0);
    CHECK(skipped == 0);
    CHECK(bad_sizes == 0);
    CHECK(changes.stats().applied == count);
    CHECK(changes.stats().sent == count);
}
