// SPDX-License-Identifier: MIT
// A test helper that runs two actions on two threads that are both alive, one after the other.
#pragma once

#include <latch>
#include <thread>

namespace courier::test {

/// Runs `first` on one thread, then `second` on another while the first thread is still alive, then joins
/// both. Two live threads never share an id, whereas a thread started after another was joined may get the
/// same id (glibc reuses pthread_t), which is how a role guard would meet a real second producer.
template <class First, class Second>
void run_on_two_live_threads(First&& first, Second&& second)
{
    std::latch first_done(1);
    std::latch second_done(1);
    std::thread a([&] {
        first();
        first_done.count_down();
        second_done.wait();  // stay alive until the other thread has acted
    });
    std::thread b([&] {
        first_done.wait();
        second();
        second_done.count_down();
    });
    a.join();
    b.join();
}

}  // namespace courier::test
