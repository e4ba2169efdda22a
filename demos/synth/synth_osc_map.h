// SPDX-License-Identifier: MIT
// The synth's OSC vocabulary, /synth/*: the address map courier-synth and the plugin register with their OSC
// endpoint (docs/osc.md, "The address map"). Header-only and free of audio headers, so the plugin
// and the OSC fuzz target need no other synth source for it.
#pragma once

#include <courier/osc/address_map.h>
#include "demos/synth/synth_events.h"

namespace courier::synth {

/// The /synth/ addresses, their arguments and the synth event each becomes:
///   /synth/gain f [0, 4]               -> set_gain, value
///   /synth/cutoff f [10, 20000] Hz     -> set_cutoff, value
///   /synth/waveform i 0|1|2            -> set_waveform, key (0 sine, 1 saw, 2 square)
///   /synth/note_on ii | if             -> note_on, key = note [0, 127], value = velocity (ii: 0..127 / 127; if: [0, 1])
///   /synth/note_off i [0, 127]         -> note_off, key
///   /synth/all_notes_off               -> all_notes_off
/// Thread: setup. Real-time: no (allocates).
[[nodiscard]] inline osc::address_map osc_address_map()
{
    using osc::arg_target;
    using osc::float_arg;
    using osc::int_arg;
    osc::address_map map;
    map.add("/synth/gain", set_gain, {{float_arg(arg_target::value, 0.0, 4.0)}});
    map.add("/synth/cutoff", set_cutoff, {{float_arg(arg_target::value, 10.0, 20000.0)}});
    map.add("/synth/waveform", set_waveform, {{int_arg(arg_target::key, 0.0, 2.0)}});
    map.add("/synth/note_on", note_on,
            {{int_arg(arg_target::key, 0.0, 127.0), int_arg(arg_target::value, 0.0, 127.0, 1.0 / 127.0)},
             {int_arg(arg_target::key, 0.0, 127.0), float_arg(arg_target::value, 0.0, 1.0)}});
    map.add("/synth/note_off", note_off, {{int_arg(arg_target::key, 0.0, 127.0)}});
    map.add("/synth/all_notes_off", all_notes_off, {{}});
    return map;
}

}  // namespace courier::synth
