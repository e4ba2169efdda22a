// SPDX-License-Identifier: MIT
// A test helper that makes two threads overlap inside one role deterministically: the first is parked inside its
// first guarded call while the second makes its call.
#pragma once

#include <courier/role_guard.h>

#include <latch>
#include <utility>
#include <thread>

namespace courier::test {

namespace detail {

// Set on the thread that is to park, cleared once it has: the hook below parks only that thread, only once.
inline thread_local std::latch* park_inside = nullptr;
inline thread_local std::latch* park_until = nullptr;

inline void park_in_role() noexcept
{
    if (park_inside == nullptr)
        return;
    std::latch* inside = std::exchange(park_inside, nullptr);
    inside->count_down();  // the second thread may now make its call
    park_until->wait();    // and this one stays inside the role until it has
}

}  // namespace detail

/// Runs `first` on one thread and `second` on another so that they overlap: the first thread is parked inside
/// its first guarded call (right after entering the role) until `second` has returned; then `first` finishes.
/// `second` therefore meets a role that is held, and the two calls' bodies still run one after the other, so the
/// test has no data race of its own. If `first` enters no role at all, the two simply run one after the other.
template <class First, class Second>
void run_overlapping(First&& first, Second&& second)
{
    std::latch inside(1);
    std::latch second_done(1);
    const auto previous = courier::detail::on_role_entered.exchange(&detail::park_in_role);
    std::thread a([&] {
        detail::park_inside = &inside;
        detail::park_until = &second_done;
        first();
        if (detail::park_inside != nullptr)  // entered no role: let the second thread go anyway
        {
            detail::park_inside = nullptr;
            inside.count_down();
        }
    });
    std::thread b([&] {
        inside.wait();
        second();
        second_done.count_down();
    });
    b.join();
    a.join();
    courier::detail::on_role_entered.store(previous);
}

}  // namespace courier::test
