// SPDX-License-Identifier: MIT
// Delivery styles in one include: the audio callback polls with a budget (drain_source.h), a worker drains when
// woken (worker_loop.h), a GUI timer polls with a budget per tick (timer_poll.h) (docs/patterns/delivery.md).
#pragma once

#include <courier/patterns/drain_source.h>
#include <courier/patterns/timer_poll.h>
#include <courier/patterns/worker_loop.h>
