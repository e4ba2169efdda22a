// SPDX-License-Identifier: MIT
// A debug guard that catches a second thread using one end of a single-producer/single-consumer queue
// (docs/contracts.md, "Role guards").
#pragma once

#include <courier/contracts.h>

#include <atomic>
#include <thread>

namespace courier {

/// Remembers the first thread that acts in a role (say, "sender of this lane") and reports a contract
/// violation when another thread acts in it while the first may still be there. This is the classic silent
/// SPSC bug: two producers on one queue corrupt it without a crash until much later. With COURIER_CHECKS
/// off check() does nothing; the guard keeps its (unused) member so that layouts never depend on the setting.
///
/// Threads are told apart by std::thread::id, which the C library may give to a new thread once an old one
/// has been joined. So the guard catches two live threads sharing a role (the bug); a thread that takes over
/// after the previous one has exited and been joined may pass unnoticed, which is the one handover that is
/// safe without reset(), since the join orders the two.
class role_guard
{
public:
    /// Records the calling thread as the role's owner on first use; reports a violation if another
    /// thread already owns the role.
    /// Thread: any. Real-time: wait-free.
    void check() noexcept COURIER_REALTIME
    {
#if COURIER_CHECKS
        const auto me = std::this_thread::get_id();
        auto owner = owner_thread.load(std::memory_order_relaxed);  // only identity is compared, no data
        if (owner == me)
            return;
        if (owner == std::thread::id{} &&
            owner_thread.compare_exchange_strong(owner, me, std::memory_order_relaxed))
            return;
        report_contract_violation("one end of an SPSC queue used by a second thread", __FILE__, __LINE__);
#endif
    }

    /// Forgets the owner, so that another thread may take the role over (for example after the audio
    /// device restarts its callback on a new thread). The caller ensures the old thread has stopped.
    /// Thread: setup. Real-time: wait-free.
    void reset() noexcept COURIER_REALTIME
    {
        owner_thread.store(std::thread::id{}, std::memory_order_relaxed);
    }

private:
    // Written by the first thread to call check(), and by reset(). Present whether or not checks are on, so
    // every object holding a guard has one layout in every translation unit: a library built with NDEBUG and
    // a plugin built without it can share a lane.
    std::atomic<std::thread::id> owner_thread{};
};

}  // namespace courier
