// SPDX-License-Identifier: MIT
// Compiled with COURIER_CHECKS=1, like a plugin's debug build, and linked with checks_off.cpp: the two must
// agree on every object's layout, so a lane built here works when the other file sends through it.
#include <courier/byte_ring.h>
#include <courier/lane.h>

#include <cstddef>
#include <cstdio>
#include <new>

std::size_t lane_size_without_checks();
std::size_t byte_ring_size_without_checks();
bool send_without_checks(courier::lane_sender<int>& tx, int value);
void construct_guard_without_checks(void* storage);

namespace {
int violations = 0;
void count_violation(const courier::contract_violation&) noexcept { ++violations; }
}  // namespace

int main()
{
    if (sizeof(courier::lane<int>) != lane_size_without_checks() ||
        sizeof(courier::byte_ring) != byte_ring_size_without_checks())
    {
        std::printf("layouts differ between COURIER_CHECKS=1 and COURIER_CHECKS=0\n");
        return 1;
    }
    // A guard built where checks are off, then checked where they are on: the check must find a guard it
    // can read (nobody inside), not stale bytes. The storage starts as garbage on purpose.
    courier::set_contract_violation_handler(&count_violation);
    alignas(courier::role_guard) unsigned char storage[sizeof(courier::role_guard) + 8];
    for (auto& byte : storage)
        byte = 0xAB;
    construct_guard_without_checks(storage);
    auto* guard = std::launder(reinterpret_cast<courier::role_guard*>(storage));
    {
        const courier::role_guard::scope first(*guard);
    }
    {
        const courier::role_guard::scope second(*guard);
    }
    guard->expect_idle();
    if (violations != 0)
    {
        std::printf("a guard constructed with checks off reads as held by another thread\n");
        return 1;
    }

    courier::lane<int> l(4);
    auto tx = l.sender();
    auto rx = l.receiver();
    for (int i = 0; i < 3; ++i)
        if (!send_without_checks(tx, i))
            return 1;
    for (int i = 0; i < 3; ++i)
        if (rx.try_receive() != i)
            return 1;
    std::printf("layouts agree and a lane crosses the two settings\n");
    return 0;
}
