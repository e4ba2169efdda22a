#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Loads the plugin's VST3 bundle with Ardour's scanner (ardour-vst3-scanner, from Debian's ardour package),
# which opens the module, instantiates the factory's classes and writes a cache file describing them; the test
# checks the scanner succeeded and the cache names the plugin with its audio inputs and outputs.
# Usage: vst3_ardour_scan.sh VST3_BUNDLE OUT_DIR
set -uo pipefail

bundle=$1
out=$2
scanner=${ARDOUR_VST3_SCANNER:-$(ls /usr/lib/ardour*/ardour-vst3-scanner 2>/dev/null | tail -1)}
[ -x "$scanner" ] || { echo "vst3_ardour_scan: ardour-vst3-scanner not found (apt-get install ardour)" >&2; exit 1; }
fail() { echo "vst3_ardour_scan: FAIL: $*" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out/home"
. "$(dirname "$0")/../support/script_helpers.sh"
xvfb_pid=""
trap 'stop_pids "$xvfb_pid"' EXIT
# A display of its own, though the host opens no window (start_xvfb says why).
start_xvfb "$out" || fail "Xvfb did not start: $(cat "$out/xvfb.log")"
# The scanner lives next to Ardour's private libraries (the ardour launcher sets the same path).
export LD_LIBRARY_PATH="$(dirname "$scanner")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export HOME="$out/home" XDG_CACHE_HOME="$out/home/.cache" XDG_CONFIG_HOME="$out/home/.config"
timeout 60 "$scanner" -f -v "$bundle" >"$out/scan.log" 2>&1
status=$?
cat "$out/scan.log"
[ "$status" -eq 0 ] || fail "the scanner exited with $status"
cache=$(find "$out/home" -name '*.v3i' | head -1)
[ -n "$cache" ] || fail "the scanner wrote no cache file under $out/home"
echo "cache file: $cache"
grep -q 'name="courier plugin"' "$cache" || fail "the cache names no 'courier plugin': $(cat "$cache")"
grep -q 'n_inputs="2"' "$cache" && grep -q 'n_outputs="2"' "$cache" && grep -q 'n_midi_inputs="1"' "$cache" \
  || fail "the cache does not show 2 inputs, 2 outputs and a MIDI input: $(cat "$cache")"
echo "vst3_ardour_scan: PASS"
