// SPDX-License-Identifier: MIT
// Runs the audio side of <courier/experimental/transaction.h> from a simulated callback marked COURIER_REALTIME: applying
// transactions from the control side and sending one back. The RealtimeSanitizer build aborts on any
// allocation, free or lock inside it; other builds count allocations.
#include <courier/experimental/transaction.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace {

struct set_value
{
    std::uint32_t slot;
    std::int32_t value;
};

struct audio_side
{
    courier::transaction_receiver<set_value> from_control;
    courier::transaction_sender<set_value> to_control;
    std::array<std::int32_t, 4> slots{};
    int refused = 0;
};

void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    a.from_control.drain(
        [&a](const courier::transaction_view<set_value>& group) {
            for (auto it = group.begin(); it != group.end(); ++it)
                a.slots[(*it).slot] = (*it).value;
            if (!group.empty())
                a.slots[3] = group[group.size() - 1].value;
        },
        4);
    // Report two slots back as one transaction; a refusal is counted and the report is simply skipped.
    const std::array report{set_value{0, a.slots[0]}, set_value{1, a.slots[1]}};
    if (a.to_control.try_send(report) != courier::send_status::sent)
        ++a.refused;
    if (a.to_control.try_send({set_value{2, a.slots[2]}}) != courier::send_status::sent)
        ++a.refused;
    (void)a.from_control.stats();
}

}  // namespace

TEST_CASE("transaction: the audio side applies and sends transactions in a COURIER_REALTIME callback, "
          "without allocating")
{
    courier::transaction<set_value> to_audio(4, 4), from_audio(2, 4);
    auto control_tx = to_audio.sender();
    auto control_rx = from_audio.receiver();
    audio_side a;
    a.from_control = to_audio.receiver();
    a.to_control = from_audio.sender();

    for (std::int32_t block = 0; block < 20; ++block)
    {
        REQUIRE(control_tx.try_send({{0, block}, {1, -block}, {2, 2 * block}}) == courier::send_status::sent);

        const courier::test::allocation_counter allocations;
        process_block(a);
        CHECK(allocations.count() == 0);

        std::array<std::int32_t, 3> seen{};
        CHECK(control_rx.drain(
                  [&](const courier::transaction_view<set_value>& g) {
                      for (const set_value v : g)
                          seen[v.slot] = v.value;
                  },
                  4) == 2);
        CHECK(seen == std::array{block, -block, 2 * block});
    }
    CHECK(a.refused == 0);
    CHECK(a.slots[3] == 2 * 19);
}
