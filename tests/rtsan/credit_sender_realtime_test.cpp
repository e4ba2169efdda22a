// SPDX-License-Identifier: MIT
// Runs the audio side of <courier/experimental/credit_sender.h> from a simulated callback marked COURIER_REALTIME, in both
// roles: receiving credited jobs from the control side, and sending credited scope frames to it. The
// RealtimeSanitizer build aborts on any allocation, free or lock inside it; other builds count allocations.
#include <courier/experimental/credit_sender.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>

namespace {

using frame = std::unique_ptr<std::array<float, 32>>;

struct audio_side
{
    courier::credit_receiver<int> jobs;        // from control: 2 in flight at most
    courier::credit_sender<frame>* scope = nullptr;  // to the GUI: frames come back to be refilled
    frame spare;                                // a frame the audio side owns between blocks
    int job_sum = 0;
    int frames_refused = 0;
};

void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    a.jobs.drain(
        [&a](int&& job) {
            a.job_sum += job;
            if (job % 2 == 0)
                a.jobs.give_back(std::move(job));
            else
                a.jobs.acknowledge();
        },
        4);
    if (auto job = a.jobs.try_receive())  // nothing left after the drain; touches try_receive
        a.jobs.acknowledge();
    (void)a.jobs.holding();
    (void)a.jobs.stats();

    a.scope->reclaim([&a](frame&& back) { a.spare = std::move(back); });  // the frame is kept, not freed
    if (a.spare)
    {
        (*a.spare)[0] = static_cast<float>(a.job_sum);
        if (a.scope->try_send(std::move(a.spare)) != courier::send_status::sent)
            ++a.frames_refused;  // `spare` is untouched: kept for the next block
    }
    (void)a.scope->available();
    (void)a.scope->in_flight();
    (void)a.scope->credits();
    (void)a.scope->stats();
}

}  // namespace

TEST_CASE("credit_sender: both ends run in a COURIER_REALTIME callback without allocating")
{
    courier::credit_sender<int> jobs(2, 4);
    courier::credit_sender<frame> scope(1);
    auto gui = scope.receiver();
    audio_side a;
    a.jobs = jobs.receiver();
    a.scope = &scope;
    a.spare = std::make_unique<std::array<float, 32>>();

    int expected = 0;
    for (int block = 0; block < 20; ++block)
    {
        jobs.reclaim([](int&&) {});
        REQUIRE(jobs.try_send(2 * block) == courier::send_status::sent);
        REQUIRE(jobs.try_send(2 * block + 1) == courier::send_status::sent);
        expected += 4 * block + 1;

        const courier::test::allocation_counter allocations;
        process_block(a);
        CHECK(allocations.count() == 0);

        auto shown = gui.try_receive();  // the GUI draws the frame and hands it back
        REQUIRE(shown.has_value());
        CHECK((**shown)[0] == static_cast<float>(expected));
        gui.give_back(std::move(*shown));
    }
    CHECK(a.frames_refused == 0);
}
