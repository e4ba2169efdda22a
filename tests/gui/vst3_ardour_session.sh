#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the plugin's VST3 in an Ardour session (ardour7-lua on the dummy backend, tests/gui/vst3_ardour_session.lua)
# and checks that setting its gain from 1.0 to 0.5 lowers the track's peak by 6.02 dB (within 0.1).
# Ardour finds VST3s in ~/.vst3 through the cache its scanner writes, so HOME is a fresh folder in OUT_DIR.
# Usage: vst3_ardour_session.sh VST3_BUNDLE OUT_DIR
set -uo pipefail

bundle=$1
out=$2
scanner=${ARDOUR_VST3_SCANNER:-$(ls /usr/lib/ardour*/ardour-vst3-scanner 2>/dev/null | tail -1)}
lua=$(command -v ardour7-lua || command -v ardour8-lua || true)
[ -x "$scanner" ] && [ -n "$lua" ] || { echo "vst3_ardour_session: ardour-vst3-scanner or ardour7-lua missing (apt-get install ardour)" >&2; exit 1; }
fail() { echo "vst3_ardour_session: FAIL: $*" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/home/.vst3"
. "$(dirname "$0")/../support/script_helpers.sh"
xvfb_pid=""
trap 'stop_pids "$xvfb_pid"' EXIT
# A display of its own, though the host opens no window (start_xvfb says why).
start_xvfb "$out" || fail "Xvfb did not start: $(cat "$out/xvfb.log")"
ln -s "$bundle" "$out/home/.vst3/"
export HOME="$out/home" XDG_CACHE_HOME="$out/home/.cache" XDG_CONFIG_HOME="$out/home/.config"
LD_LIBRARY_PATH="$(dirname "$scanner")" timeout 60 "$scanner" -f "$out/home/.vst3/$(basename "$bundle")" \
  >"$out/scan.log" 2>&1 || fail "the scanner failed: $(cat "$out/scan.log")"
COURIER_SESSION_DIR="$out/session" timeout 90 "$lua" "$(dirname "$0")/vst3_ardour_session.lua" >"$out/lua.log" 2>&1
status=$?
grep -E '^(plugin|peak_)' "$out/lua.log"
[ "$status" -eq 0 ] || fail "ardour7-lua exited with $status: $(tail -5 "$out/lua.log")"
full=$(awk '/^peak_default/ { print $2 }' "$out/lua.log")
half=$(awk '/^peak_half/ { print $2 }' "$out/lua.log")
[ -n "$full" ] && [ -n "$half" ] || fail "no levels in the session's output: $(tail -5 "$out/lua.log")"
difference=$(awk -v a="$full" -v b="$half" 'BEGIN { printf "%.2f", b - a }')
echo "track peak: $full dB with gain 1.0, $half dB with gain 0.5: $difference dB (expected -6.02 dB)"
awk -v a="$full" 'BEGIN { exit !(a > -60) }' || fail "the track is silent ($full dB)"
awk -v d="$difference" 'BEGIN { exit !(d < -5.92 && d > -6.12) }' || fail "the level changed by $difference dB"
echo "vst3_ardour_session: PASS"
