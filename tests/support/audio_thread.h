// SPDX-License-Identifier: MIT
// A test helper: one persistent "audio" thread that runs a simulated callback once per request, so that code
// which tells threads apart (pool sources, reference holders, role guards) meets a real, distinct audio thread.
#pragma once

#include "tests/support/allocation_counter.h"

#include <atomic>
#include <cstddef>
#include <thread>
#include <utility>

namespace courier::test {

/// Starts a thread that runs `block()` each time run_block() asks, and counts the heap calls each run makes
/// on that thread. Requests and completions are handed over with acquire/release atomics, never by sleeping.
template <class Block>
class audio_thread
{
public:
    explicit audio_thread(Block b) : block(std::move(b)), worker([this] { loop(); }) {}
    audio_thread(const audio_thread&) = delete;
    audio_thread& operator=(const audio_thread&) = delete;

    ~audio_thread()
    {
        requested.store(-1, std::memory_order_release);  // pairs with the acquire load in loop
        worker.join();
    }

    /// Runs one block on the audio thread, waits for it, and returns the heap calls it made there.
    std::size_t run_block()
    {
        const int next = completed.load(std::memory_order_relaxed) + 1;
        requested.store(next, std::memory_order_release);  // pairs with the acquire load in loop
        while (completed.load(std::memory_order_acquire) != next)  // pairs with the release store in loop
            std::this_thread::yield();
        return heap_calls;
    }

private:
    void loop()
    {
        for (;;)
        {
            const int next = requested.load(std::memory_order_acquire);
            if (next < 0)
                return;
            if (next == completed.load(std::memory_order_relaxed))
            {
                std::this_thread::yield();
                continue;
            }
            const allocation_counter allocations;
            block();
            heap_calls = allocations.count();
            completed.store(next, std::memory_order_release);
        }
    }

    Block block;
    std::atomic<int> requested{0};
    std::atomic<int> completed{0};
    std::size_t heap_calls = 0;  // written by the audio thread before it publishes `completed`
    std::thread worker;          // last: it starts once everything above is built
};

}  // namespace courier::test
