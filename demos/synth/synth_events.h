// SPDX-License-Identifier: MIT
// The engine_event types courier-synth understands, on their own so that the OSC vocabulary (synth_osc_map.h)
// and its fuzz target need no audio header (demos/synth/README.md).
#pragma once

#include <cstdint>

namespace courier::synth {

/// The engine_event types the synth understands; anything else is ignored.
enum event_type : std::uint16_t
{
    note_on = 1,        ///< key = MIDI note (0..127), value = velocity (0..1]; velocity 0 is a note off
    note_off = 2,       ///< key = MIDI note
    set_gain = 3,       ///< value = linear output gain (clamped to [0, 4])
    set_cutoff = 4,     ///< value = low-pass cutoff in Hz (clamped to [10, 0.45 * sample rate])
    set_waveform = 5,   ///< key = 0 sine, 1 saw, 2 square
    all_notes_off = 6,  ///< every voice releases
};

}  // namespace courier::synth
