// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of allocate-in-the-source/return-to-source, pool variant (<courier/object_pool.h>) and refcount
// variant (<courier/experimental/shared_message.h>), from a simulated callback marked COURIER_REALTIME: under
// RealtimeSanitizer any allocation or free inside it aborts; elsewhere the allocation counter checks the same.
#include <courier/lane.h>
#include <courier/object_pool.h>
#include <courier/experimental/shared_message.h>

#include "tests/support/audio_thread.h"
#include "tests/support/tracked.h"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace {

struct sample
{
    sample(courier::test::tracking_log& log, std::uint64_t id) noexcept : tag(log, id) { frames.fill(static_cast<float>(id)); }
    courier::test::tracked tag;  // not trivially destructible: it must die on the GUI thread, its source
    std::array<float, 16> frames{};
};

using meter_block = std::array<float, 16>;  // trivially destructible: fine to make and destroy on audio

struct audio_side
{
    // From the GUI's pools: received, read and dropped here (they go back and die on the GUI thread).
    courier::lane_receiver<courier::pool_ptr<sample>> one_shots;
    courier::lane_receiver<courier::shared_message<sample>> shared_samples;
    std::array<courier::shared_message<sample>, 4> voices;
    // The audio side's own pools: it is their source.
    courier::object_pool<meter_block>* meters = nullptr;
    courier::lane_sender<courier::pool_ptr<meter_block>> meters_out;
    courier::shared_message_pool<meter_block>* scopes = nullptr;
    courier::lane_sender<courier::shared_message<meter_block>> scopes_out;
    float output = 0.0f;
    std::uint32_t references = 0;
};

void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    // Pool variant, receiving side: read, then drop (the handle goes back through the return lane).
    if (auto one_shot = a.one_shots.try_receive())
        a.output += (**one_shot).frames[0];
    // Refcount variant, holder side: share one sample among voices, drop the old references.
    if (auto fresh = a.shared_samples.try_receive())
    {
        a.voices[0] = *fresh;              // copy: a reference more
        a.voices[1] = std::move(*fresh);   // move: the old references drop here
        a.voices[2] = a.voices[0];
        a.references = a.voices[0].use_count();
        a.voices[3].reset();
    }
    for (const auto& voice : a.voices)
        if (voice)
            a.output += voice->frames[0] + (*voice).frames[1] + voice.get()->frames[2];
    // Both variants, source side: the audio thread makes messages from its own pools for the GUI.
    if (auto block = a.meters->try_make())
        (void)a.meters_out.try_send(std::move(block));  // refused: the handle returns to the pool here
    a.meters->collect();
    (void)a.meters->stats();
    if (auto scope = a.scopes->try_make())
        (void)a.scopes_out.try_send(std::move(scope));
    a.scopes->collect();
    (void)a.scopes->in_use();
    (void)a.scopes->capacity();
    (void)a.scopes->exhausted();
}

}  // namespace

TEST_CASE("return_to_source realtime: one simulated callback uses both variants without allocating or freeing")
{
    courier::test::tracking_log log;  // home: this thread, the GUI
    courier::object_pool<sample> one_shot_pool(4);
    courier::shared_message_pool<sample> sample_pool(8);
    courier::object_pool<meter_block> meter_pool(4);
    courier::shared_message_pool<meter_block> scope_pool(4);
    courier::lane<courier::pool_ptr<sample>> one_shots(4);
    courier::lane<courier::shared_message<sample>> shared_samples(4);
    courier::lane<courier::pool_ptr<meter_block>> meters(4);
    courier::lane<courier::shared_message<meter_block>> scopes(4);

    audio_side a;
    a.one_shots = one_shots.receiver();
    a.shared_samples = shared_samples.receiver();
    a.meters = &meter_pool;
    a.meters_out = meters.sender();
    a.scopes = &scope_pool;
    a.scopes_out = scopes.sender();
    auto one_shot_tx = one_shots.sender();
    auto sample_tx = shared_samples.sender();
    auto meter_rx = meters.receiver();
    auto scope_rx = scopes.receiver();

    {
        courier::test::audio_thread audio([&] { process_block(a); });
        for (std::uint64_t block = 0; block < 50; ++block)
        {
            // GUI side: may allocate and free; the audio side must not.
            one_shot_pool.collect();  // ✗ messages the audio side dropped die here, on the GUI thread
            sample_pool.collect();
            REQUIRE(one_shot_tx.try_send(one_shot_pool.try_make(log, block)));
            REQUIRE(sample_tx.try_send(sample_pool.try_make(log, block)));

            CHECK(audio.run_block() == 0);

            CHECK(a.references == 3);
            CHECK(meter_rx.try_receive().has_value());  // dropped here: goes back to the audio side's pool
            CHECK(scope_rx.try_receive().has_value());
        }
    }  // the audio thread has stopped
    CHECK(one_shot_pool.collect() == 1);  // the last block's one-shot
    CHECK(sample_pool.collect() == 1);    // the sample the last block replaced
    for (auto& voice : a.voices)
        voice.reset();  // on the GUI thread, the source: the last sample dies at once
    CHECK(log.live == 0);
    CHECK(log.destroyed == 100);
    CHECK(log.destroyed_away_from_home == 0);
}
