// SPDX-License-Identifier: MIT
// Runs every audio-side entry point of <courier/patterns/buffer_pool.h>, with the audio thread as producer (scope
// buffers to the GUI) and as consumer (blocks from a disk worker), from a simulated callback marked
// COURIER_REALTIME: under RealtimeSanitizer any allocation or free inside it aborts; elsewhere the allocation
// counter checks the same.
#include <courier/patterns/buffer_pool.h>

#include "tests/support/audio_thread.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

namespace {

using samples = std::vector<float>;  // owns heap memory, allocated once when the pool is built

struct audio_side
{
    courier::buffer_pool<samples>* scope = nullptr;  // audio → GUI → back: the audio thread is the producer
    courier::buffer_pool<samples>* disk = nullptr;   // worker → audio → back: the audio thread is the consumer
    float level = 0.0f;
    std::uint64_t skipped = 0;
};

void process_block(audio_side& a) noexcept COURIER_REALTIME
{
    if (auto block = a.disk->try_receive())  // play the block the worker read, then hand it back
    {
        a.level = (*block)[0] + block->back() + (*block.get())[1];
        (void)block.index();
        block.reset();  // through the return lane, to the worker
    }
    if (auto frame = a.scope->try_acquire())
    {
        (*frame)[0] = a.level;
        a.scope->send(std::move(frame));
    }
    else
    {
        ++a.skipped;  // the GUI is behind: skip this frame, never wait
    }
    courier::buffer_lease<samples> spare;
    spare = a.scope->try_acquire();  // taken and dropped on the producer: back to its own free list
    spare.reset();
    (void)a.scope->stats().out;
    (void)a.scope->count();
    (void)a.scope->stats();
}

}  // namespace

TEST_CASE("buffer_pool realtime: one simulated callback produces and consumes buffers without allocating or freeing")
{
    courier::buffer_pool<samples> scope(4, samples(256, 0.0f));
    courier::buffer_pool<samples> disk(4, samples(256, 0.0f));
    audio_side a;
    a.scope = &scope;
    a.disk = &disk;
    {
        courier::test::audio_thread audio([&] { process_block(a); });
        for (int block = 0; block < 50; ++block)
        {
            // The worker's and the GUI's side, here on this thread: never allocates either, after setup.
            if (auto fresh = disk.try_acquire())
            {
                (*fresh)[0] = static_cast<float>(block);
                disk.send(std::move(fresh));
            }
            CHECK(audio.run_block() == 0);
            CHECK(a.level == static_cast<float>(block));
            auto frame = scope.try_receive();
            REQUIRE(frame);
            CHECK((*frame)[0] == static_cast<float>(block));
        }  // each scope frame dropped here: back to the audio thread through the return lane
    }
    CHECK(a.skipped == 0);
    CHECK(scope.stats().out == 0);
    CHECK(disk.stats().out == 0);
}
