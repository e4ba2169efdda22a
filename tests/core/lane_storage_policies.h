// SPDX-License-Identifier: MIT
// The lane storage policies that the lane tests run every guarantee on, as doctest template parameters
// (docs/patterns/lane.md).
#pragma once

#include <courier/ring_storage.h>
#include <courier/rwq_storage.h>

namespace courier::test {

/// lane<T, rwq_storage<T>>: moodycamel::ReaderWriterQueue plus counters.
struct on_moodycamel
{
    template <class T>
    using storage = courier::rwq_storage<T>;
};

/// lane<T, ring_storage<T>>: courier's own ring, the default.
struct on_ring
{
    template <class T>
    using storage = courier::ring_storage<T>;
};

}  // namespace courier::test
