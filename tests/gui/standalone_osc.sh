#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the plugin's Standalone app in Xvfb on a JACK dummy server with COURIER_PLUGIN_OSC_PORT=0 (its OSC
# endpoint on a free UDP port of 127.0.0.1), drives it with liblo-tools' oscsend (synth commands, an unknown
# address, wrong arguments and a datagram that is not OSC), and checks that (a) the health panel's OSC rows are
# drawn and changed between a screenshot before and one after the messages, (b) /synth/gain and /synth/waveform,
# being host parameters, moved the editor's Synth level slider and waveform box, and (c) /status replies reach
# oscdump and count what was sent. The PNGs and oscdump's output stay in OUT (demos/plugin/README.md, "OSC").
# Usage (under tests/support/with_jack_dummy.sh): standalone_osc.sh STANDALONE_APP OUT_DIR
# Exit status 0 when every check passes; 1 with the reason otherwise.
set -uo pipefail
. "$(dirname "$0")/../support/script_helpers.sh"

app=$1
out=$2
require_tools standalone_osc Xvfb xdotool import compare convert oscsend oscdump
fresh_standalone_out "$out"

xvfb_pid=""
app_pid=""
dump_pid=""
stop() { stop_pids "$dump_pid" "$app_pid" "$xvfb_pid"; }
trap stop EXIT
fail() { echo "standalone_osc: FAIL: $*" >&2; echo "--- app log"; cat "$out/app.log" 2>/dev/null; echo "--- oscdump"; cat "$out/dump.txt" 2>/dev/null; exit 1; }

start_xvfb "$out" || fail "Xvfb did not start: $(cat "$out/xvfb.log")"

HOME="$out/home" COURIER_PLUGIN_OSC_PORT=0 "$app" >"$out/app.log" 2>&1 &
app_pid=$!
window=$(find_window "courier plugin") || fail "no window named 'courier plugin' within 30 s ($(xvfb_state))"
port=$(grep -o "listening on udp 127.0.0.1:[0-9]*" "$out/app.log" | cut -d: -f2)
[ -n "$port" ] || fail "the app did not report its OSC port"
echo "the Standalone's OSC endpoint listens on UDP port $port"
sleep 3  # let the audio device open and the meters settle

start_oscdump "$out/dump.txt" || fail "could not start oscdump"

eval "$(xdotool getwindowgeometry --shell "$window")"  # X Y WIDTH HEIGHT
ex=$((X + (WIDTH - 900) / 2))
ey=$((Y + HEIGHT - 620))
shot() { import -window root "$out/$1.png" || fail "import $1"; }
crop() {  # crop SHOT REGION X Y W H (editor coordinates; see plugin_editor.cpp, resized(), and health_panel.h)
  convert "$out/$1.png" -crop "$5x$6+$((ex + $3))+$((ey + $4))" +repage "$out/$1-$2.png"
}
changed() { compare -metric AE "$out/$1-$3.png" "$out/$2-$3.png" null: 2>&1 | cut -d' ' -f1; }
# The OSC rows are the panel's rows 6 on (endpoint, inbox, rejected total, one per reason seen): panel top 286
# + 6 margin + 2 x 18 header lines + 5 x 17 rows = 413; six rows of 17 pixels.
osc_rows() { crop "$1" osc 8 413 884 102; }
# The Synth level slider with its text box, and the waveform box below it (editor rows at y 100 to 160).
controls() { crop "$1" controls 0 100 440 60; }
drawn() {  # drawn SHOT: pixels of the OSC rows' crop that are not the panel's background (0x161a20)
  convert "$out/$1-osc.png" -fill black -opaque "#161a20" -fill white +opaque black -format "%[fx:round(mean*w*h)]" info:
}

shot 1-before
osc_rows 1-before
controls 1-before
n=$(lines); oscsend localhost "$port" /status i "$reply"
first=$(wait_for "^[^ ]+ /status " "$n") || fail "no /status reply before the messages"
echo "status before: $first"

oscsend localhost "$port" /synth/waveform i 2
oscsend localhost "$port" /synth/gain f 1.0
oscsend localhost "$port" /synth/note_on ii 69 100
oscsend localhost "$port" /synth/cutoff f 2000
oscsend localhost "$port" /synth/volume f 1          # an unknown address: rejected (unknown_address)
oscsend localhost "$port" /synth/note_on s hello     # wrong arguments: rejected (wrong_arg_count)
printf 'not osc at all' >"/dev/udp/127.0.0.1/$port"  # not an OSC packet: rejected
sleep 1.5
n=$(lines); oscsend localhost "$port" /status i "$reply"
second=$(wait_for "^[^ ]+ /status " "$n") || fail "no /status reply after the messages"
echo "status after: $second"
sleep 1  # the panel refreshes at 30 Hz
shot 2-after
osc_rows 2-after
controls 2-after
oscsend localhost "$port" /synth/all_notes_off

drawn_1=$(drawn 1-before)
drawn_2=$(drawn 2-after)
osc_12=$(changed 1-before 2-after osc)
controls_12=$(changed 1-before 2-after controls)
echo "OSC rows: $drawn_1 pixels drawn before, $drawn_2 after; $osc_12 pixels changed"
echo "screenshots: $out/1-before.png $out/2-after.png (OSC rows: $out/1-before-osc.png $out/2-after-osc.png)"
[ "$drawn_1" -gt 300 ] 2>/dev/null || fail "the OSC rows are not drawn ($drawn_1 pixels)"
[ "$osc_12" -gt 20 ] 2>/dev/null || fail "the OSC rows did not change after the messages ($osc_12 pixels)"
echo "controls: $controls_12 pixels changed ($out/1-before-controls.png, $out/2-after-controls.png)"
# /synth/gain and /synth/waveform are host parameters: the editor's Synth level slider and waveform box follow.
[ "$controls_12" -gt 100 ] 2>/dev/null ||
  fail "/synth/gain and /synth/waveform did not move the Synth level slider and waveform box ($controls_12 pixels)"
[ "$(field "$second" osc_applied)" = "4" ] || fail "the endpoint did not pass on 4 synth messages"
[ "$(field "$second" osc_rejected)" = "3" ] || fail "the endpoint did not reject 3 bad packets"
[ "$(field "$second" immediate_applied)" = "4" ] || fail "the audio side did not apply the 4 messages"
frames_1=$(field "$first" frames)
frames_2=$(field "$second" frames)
[ "${frames_2:-0}" -gt "${frames_1:-0}" ] 2>/dev/null || fail "the plugin's frame clock did not advance"
[ "$(field "$second" voices)" = "1" ] || fail "the OSC note_on did not start one voice (voices in /status)"
kill -0 "$app_pid" 2>/dev/null || fail "the app exited early"
echo "standalone_osc: PASS"
