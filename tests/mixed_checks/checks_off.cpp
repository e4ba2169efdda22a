// SPDX-License-Identifier: MIT
// Compiled with COURIER_CHECKS=0, like a library built with NDEBUG: sends through a lane made elsewhere.
#include <courier/byte_ring.h>
#include <courier/lane.h>

#include <cstddef>

std::size_t lane_size_without_checks() { return sizeof(courier::lane<int>); }
std::size_t byte_ring_size_without_checks() { return sizeof(courier::byte_ring); }

bool send_without_checks(courier::lane_sender<int>& tx, int value) { return tx.try_send(value); }

// Constructs a role guard the way a checks-off library would, in storage the caller provides.
void construct_guard_without_checks(void* storage) { ::new (storage) courier::role_guard; }
