// SPDX-License-Identifier: MIT
// chatter's loop: the --control-rate thread's no-op messages, half through the mailbox, half by name
// (demos/synth/README.md, "How it runs").
#include "demos/synth/chatter.h"

#include <chrono>
#include <thread>
#include <utility>

namespace courier::synth {

void chatter::run(audio::engine_sender to_audio, registry_reader<audio::engine_event> names, double per_second)
{
    using clock = std::chrono::steady_clock;
    names.refresh();  // adopts the names published at setup
    const auto start = clock::now();
    while (!stop.load(std::memory_order_relaxed))  // a flag; nothing is read through it
    {
        const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
        const auto due = static_cast<std::uint64_t>(elapsed * per_second);
        while (sent + sent_by_name + refused < due)
        {
            audio::engine_event e;
            const std::uint64_t n = sent + sent_by_name + refused;
            e.tag = static_cast<std::uint32_t>(n);
            if (n % 2 == 0)
                (to_audio.try_send(e) ? sent : refused) += 1;  // never silent: counted and reported
            else
                (names.try_send("/synth", std::move(e)) == send_status::sent ? sent_by_name : refused) += 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    done.store(true, std::memory_order_release);  // pairs with the acquire of a waiter (courier-synth --soak's drain)
}

}  // namespace courier::synth
