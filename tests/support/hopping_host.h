// SPDX-License-Identifier: MIT
// A test helper that plays a plugin host: it runs the audio callback on a different worker thread each block,
// one block at a time, as REAPER, Bitwig and CLAP hosts may.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <semaphore>
#include <set>
#include <thread>
#include <vector>

namespace courier::test {

/// Owns `workers` threads that stay alive (so their ids are all different) and runs blocks on them in turn:
/// block i on worker i % workers. The hand-over between blocks goes through semaphores outside the callback, so
/// each block happens before the next, as in a real host; no two blocks ever overlap.
class hopping_host
{
public:
    explicit hopping_host(std::size_t workers = 3)
    {
        for (std::size_t i = 0; i < workers; ++i)
            threads.push_back(std::make_unique<worker>(*this));
    }

    hopping_host(const hopping_host&) = delete;
    hopping_host& operator=(const hopping_host&) = delete;

    ~hopping_host()
    {
        for (auto& w : threads)
        {
            w->stop = true;  // read by the worker after acquiring `go`, which orders it
            w->go.release();
            w->thread.join();
        }
    }

    /// Calls `callback(block)` for block = 0 .. blocks - 1, each on the next worker thread, and returns when the
    /// last has finished.
    void run(std::size_t blocks, const std::function<void(std::size_t)>& callback)
    {
        current = &callback;
        for (std::size_t block = 0; block < blocks; ++block)
        {
            worker& w = *threads[block % threads.size()];
            w.block = block;
            w.go.release();    // pairs with the worker's acquire: the previous block happens before this one
            finished.acquire();  // pairs with the worker's release: this block happens before the next
        }
        current = nullptr;
    }

    /// How many different threads have run blocks so far.
    [[nodiscard]] std::size_t threads_seen() const { return seen.size(); }

private:
    struct worker
    {
        explicit worker(hopping_host& h) : thread([this, &h] { h.serve(*this); }) {}
        std::binary_semaphore go{0};
        std::size_t block = 0;
        bool stop = false;
        std::thread thread;  // last: starts after the members above exist
    };

    void serve(worker& w)
    {
        for (;;)
        {
            w.go.acquire();
            if (w.stop)
                return;
            seen.insert(std::this_thread::get_id());
            (*current)(w.block);
            finished.release();
        }
    }

    std::vector<std::unique_ptr<worker>> threads;
    const std::function<void(std::size_t)>* current = nullptr;
    std::binary_semaphore finished{0};
    std::set<std::thread::id> seen;  // written by the block's worker; blocks never overlap
};

}  // namespace courier::test
