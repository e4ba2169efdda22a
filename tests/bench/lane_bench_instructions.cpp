// SPDX-License-Identifier: MIT
// lane_bench's instruction-count mode: the plain loop of one contender on one thread, for callgrind
// (docs/performance.md, "Instructions per message").
#include "tests/bench/lane_bench_instructions.h"

#include "tests/bench/lane_bench_options.h"
#include "tests/bench/lane_bench_queues.h"
#include "tests/bench/lane_bench_threads.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>

namespace courier::bench {

// Never inlined, so callgrind sees one call per message on each side: the names are what --toggle-collect matches.
template <class Queue>
[[gnu::noinline]] bool courier_bench_send_one(Queue& queue, std::uint64_t value) noexcept
{
    return queue.try_push(value);
}

template <class Queue>
[[gnu::noinline]] bool courier_bench_receive_one(Queue& queue, std::uint64_t& out) noexcept
{
    return queue.try_pop(out);
}

namespace {

template <class Queue>
void plain_loop(std::uint64_t messages)
{
    const auto queue = std::make_unique<Queue>(queue_capacity);
    constexpr std::uint64_t burst = queue_capacity / 2;
    std::uint64_t wrong = 0;
    for (std::uint64_t sent = 0; sent < messages;)
    {
        const std::uint64_t count = std::min(burst, messages - sent);
        for (std::uint64_t i = 0; i < count; ++i)
            if (!courier_bench_send_one(*queue, sent + i))
                throw std::logic_error("instruction loop: a half-full queue refused a message");
        for (std::uint64_t i = 0; i < count; ++i)
        {
            std::uint64_t value = 0;
            if (!courier_bench_receive_one(*queue, value) || value != sent + i)
                ++wrong;
        }
        sent += count;
    }
    require_in_order(wrong, "instruction loop");
}

}  // namespace

const char* instruction_queue_names() noexcept
{
    return "lane ring moodycamel"
#if COURIER_BENCH_HAVE_BOOST
           " boost"
#endif
#if COURIER_BENCH_HAVE_ATOMIC_QUEUE
           " atomic_queue"
#endif
        ;
}

int run_instruction_loop(const std::string& queue, std::uint64_t messages)
{
    if (queue == "lane")
        plain_loop<courier_lane_queue>(messages);
    else if (queue == "ring")
        plain_loop<minimal_ring>(messages);
    else if (queue == "moodycamel")
        plain_loop<moodycamel_queue>(messages);
#if COURIER_BENCH_HAVE_BOOST
    else if (queue == "boost")
        plain_loop<boost_spsc_queue>(messages);
#endif
#if COURIER_BENCH_HAVE_ATOMIC_QUEUE
    else if (queue == "atomic_queue")
        plain_loop<atomic_queue_spsc>(messages);
#endif
    else
    {
        std::fprintf(stderr, "courier_lane_bench: --instructions takes one of: %s\n", instruction_queue_names());
        return 2;
    }
    std::printf("instructions: %s, %llu messages sent and received on one thread\n", queue.c_str(),
                static_cast<unsigned long long>(messages));
    return 0;
}

}  // namespace courier::bench
