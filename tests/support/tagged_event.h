// SPDX-License-Identifier: MIT
// An engine_event that carries only a tag, for tests that count and order messages (<courier/audio/audio_graph.h>).
#pragma once

#include <courier/audio/audio_graph.h>

#include <cstdint>

namespace courier::test {

/// An event of type 0 ("nothing" for every graph) whose tag is `tag`.
/// Thread: any. Real-time: wait-free.
inline audio::engine_event tagged_event(std::uint32_t tag) noexcept
{
    audio::engine_event e;
    e.tag = tag;
    return e;
}

}  // namespace courier::test
