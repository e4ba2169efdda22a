#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the plugin's Standalone app in a real X server (Xvfb) on a JACK dummy server, clicks its "Hold A4"
# button, its gain slider and its graph "Swap" button with xdotool as a person would, takes a screenshot after
# each step, and checks that the meters, the scope, the swap panel and the health panel changed between the
# shots. The PNGs stay in OUT.
# Usage (under tests/support/with_jack_dummy.sh): standalone_xvfb.sh STANDALONE_APP OUT_DIR
# Exit status 0 when every check passes; 1 with the reason otherwise.
set -uo pipefail
. "$(dirname "$0")/../support/script_helpers.sh"

app=$1
out=$2
require_tools standalone_xvfb Xvfb xdotool import compare convert
fresh_standalone_out "$out"

xvfb_pid=""
app_pid=""
stop() { stop_pids "$app_pid" "$xvfb_pid"; }
trap stop EXIT
fail() { echo "standalone_xvfb: FAIL: $*" >&2; exit 1; }

start_xvfb "$out" || fail "Xvfb did not start: $(cat "$out/xvfb.log")"

HOME="$out/home" "$app" >"$out/app.log" 2>&1 &
app_pid=$!
window=$(find_window "courier plugin") ||
  fail "no window named 'courier plugin' within 30 s ($(xvfb_state)); app log: $(cat "$out/app.log")"
sleep 3  # let the audio device open and the meters settle

eval "$(xdotool getwindowgeometry --shell "$window")"  # X Y WIDTH HEIGHT
# The editor (900 x 620) fills the bottom of the window; the Standalone's title bar is above it.
ex=$((X + (WIDTH - 900) / 2))
ey=$((Y + HEIGHT - 620))
echo "window $window at ${X},${Y} ${WIDTH}x${HEIGHT}; editor at ${ex},${ey}"

shot() { import -window root "$out/$1.png" || fail "import $1"; }
# Regions of the editor (see demos/plugin/plugin_editor.cpp, resized()): name x y w h, editor coordinates.
crop() {  # crop SHOT REGION X Y W H
  convert "$out/$1.png" -crop "$5x$6+$((ex + $3))+$((ey + $4))" +repage "$out/$1-$2.png"
}
changed() {  # changed A B REGION: pixels differing between two crops
  compare -metric AE "$out/$1-$3.png" "$out/$2-$3.png" null: 2>&1 | cut -d' ' -f1
}
regions() {
  crop "$1" meter 782 34 110 230
  crop "$1" scope 438 34 344 230
  crop "$1" health 8 286 884 326
}

shot 1-idle
regions 1-idle
xdotool mousemove "$((ex + 68))" "$((ey + 182))" click 1   # "Hold A4": a play_note command
sleep 2
shot 2-note
regions 2-note
xdotool mousemove "$((ex + 120))" "$((ey + 50))" click 1   # the gain slider, near its low end
sleep 2
shot 3-gain-down
regions 3-gain-down
xdotool mousemove "$((ex + 258))" "$((ey + 219))" click 1  # "Swap": a new voice graph through swap_and_retire
sleep 1
shot 4-swap
regions 4-swap
crop 3-gain-down swap 8 202 430 34
crop 4-swap swap 8 202 430 34

meter_12=$(changed 1-idle 2-note meter)
scope_12=$(changed 1-idle 2-note scope)
health_12=$(changed 1-idle 2-note health)
meter_23=$(changed 2-note 3-gain-down meter)
swap_34=$(changed 3-gain-down 4-swap swap)
health_34=$(changed 3-gain-down 4-swap health)
echo "pixels changed: meter idle->note $meter_12, scope idle->note $scope_12, health idle->note $health_12," \
     "meter note->gain down $meter_23, swap panel $swap_34, health gain down->swap $health_34"
echo "screenshots: $out/1-idle.png $out/2-note.png $out/3-gain-down.png $out/4-swap.png"
[ "$meter_12" -gt 200 ] 2>/dev/null || fail "the meters did not move when the note started ($meter_12 pixels)"
[ "$scope_12" -gt 200 ] 2>/dev/null || fail "the scope did not change when the note started ($scope_12 pixels)"
[ "$health_12" -gt 20 ] 2>/dev/null || fail "the health panel's numbers did not change ($health_12 pixels)"
[ "$meter_23" -gt 50 ] 2>/dev/null || fail "the meters did not drop when the gain went down ($meter_23 pixels)"
[ "$swap_34" -gt 20 ] 2>/dev/null || fail "the swap panel did not report the swap ($swap_34 pixels)"
[ "$health_34" -gt 20 ] 2>/dev/null || fail "the health panel did not change after the swap ($health_34 pixels)"
kill -0 "$app_pid" 2>/dev/null || fail "the app exited early: $(cat "$out/app.log")"
echo "standalone_xvfb: PASS"
