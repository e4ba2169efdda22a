#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Loads the plugin's LV2 bundle in a real host, jalv, on a JACK dummy server, twice: once with the gain
# parameter at GAIN_A, once at GAIN_B, both set at load (-c gain=...). Each time a 1 kHz sine at -12 dBFS is
# played into its input with sndfile-jackplay and its output recorded with jack_capture; sox measures the
# RMS level of each recording, and the test checks that the difference is 20*log10(GAIN_B/GAIN_A) dB.
# lv2info must see the plugin first. The recordings stay in OUT.
# Usage (under tests/support/with_jack_dummy.sh): lv2_jalv_gain.sh LV2_BUNDLE_PARENT_DIR PLUGIN_URI OUT_DIR
# Environment: GAIN_A (default 1.0), GAIN_B (default 0.5).
set -uo pipefail
. "$(dirname "$0")/../support/script_helpers.sh"

lv2_dir=$1
uri=$2
out=$3
gain_a=${GAIN_A:-1.0}
gain_b=${GAIN_B:-0.5}
require_tools lv2_jalv_gain jalv lv2info sox sndfile-jackplay jack_capture jack_lsp jack_connect Xvfb xdotool
: "${JACK_DEFAULT_SERVER:?run me under tests/support/with_jack_dummy.sh}"
export LV2_PATH="$lv2_dir"
rm -rf "$out"
mkdir -p "$out"
pids=()
stop_all() {
  stop_pids "${pids[@]}"
  pids=()
}
xvfb_pid=""
trap 'stop_all; stop_pids "$xvfb_pid"' EXIT
fail() { echo "lv2_jalv_gain: FAIL: $*" >&2; exit 1; }
# A display of its own, though the host opens no window (start_xvfb says why).
start_xvfb "$out" || fail "Xvfb did not start: $(cat "$out/xvfb.log")"

lv2info "$uri" >"$out/lv2info.txt" 2>&1 || fail "lv2info does not know $uri: $(cat "$out/lv2info.txt")"
grep -q "Name:.*courier plugin" "$out/lv2info.txt" || fail "lv2info shows no 'courier plugin': $(head -20 "$out/lv2info.txt")"
echo "lv2info sees $uri ($(grep -c 'Port [0-9]' "$out/lv2info.txt") ports)"

sox -n -r 48000 -c 2 -b 16 "$out/tone.wav" synth 30 sine 1000 vol 0.25 || fail "sox could not make the tone"

# The ports of JACK client $1 with direction $2 (input|output) and audio type.
ports() {
  jack_lsp -p -t "$1:" 2>/dev/null | awk -v want="$2" '
    /^[^ \t]/ { name = $0; next }
    /properties:/ { dir = ($0 ~ want) ? 1 : 0; next }
    /audio/ { if (dir) print name }'
}

measure() {  # measure NAME GAIN: records the plugin's output with gain GAIN; prints the RMS level in dB
  local name=$1 gain=$2 client="courier_$1"
  trap stop_all EXIT  # this runs in a $(...) subshell: it stops its own processes
  # jalv 1.6.6 forwards JUCE's LV2 parameters (atom properties) only with its UI machinery on: -s -U urn:none.
  # It names a property control by lilv_world_get_symbol: the URI's last path segment, made a C identifier
  # (<uri>:gain -> courier_plugin_gain).
  # Its console reads commands from stdin and quits at end of file: a FIFO held open by fd 3 keeps it running.
  rm -f "$out/jalv-$name.fifo"
  mkfifo "$out/jalv-$name.fifo"
  jalv -x -n "$client" -s -U urn:none -c "courier_plugin_gain=$gain" "$uri" <"$out/jalv-$name.fifo" >"$out/jalv-$name.log" 2>&1 &
  pids+=($!)
  exec 3>"$out/jalv-$name.fifo"
  local in_ports=""
  for _ in $(seq 100); do
    in_ports=$(ports "$client" input)
    [ "$(echo "$in_ports" | grep -c .)" -ge 2 ] && [ "$(ports "$client" output | grep -c .)" -ge 2 ] && break
    sleep 0.1
  done
  [ "$(echo "$in_ports" | grep -c .)" -ge 2 ] || fail "jalv did not come up as $client with 2 audio inputs: $(cat "$out/jalv-$name.log")"
  local out_ports
  out_ports=$(ports "$client" output)
  sndfile-jackplay -l 0 "$out/tone.wav" >/dev/null 2>"$out/play-$name.log" &  # stdout: a progress line per block
  pids+=($!)
  local play_ports=""
  for _ in $(seq 50); do
    play_ports=$(jack_lsp | grep '^jackplay:out_' || true)
    [ "$(echo "$play_ports" | grep -c .)" -ge 2 ] && break
    sleep 0.1
  done
  [ -n "$play_ports" ] || fail "sndfile-jackplay (client jackplay) has no ports: $(tail -c 500 "$out/play-$name.log")"
  paste -d' ' <(echo "$play_ports") <(echo "$in_ports") | while read -r from to; do
    jack_connect "$from" "$to" || fail "jack_connect $from $to"
  done
  sleep 1  # the parameter reaches the audio side on the plugin's control timer; the filter settles
  local capture_ports=()
  while read -r p; do capture_ports+=(--port "$p"); done <<<"$out_ports"
  jack_capture --daemon -d 2 -c 2 "${capture_ports[@]}" "$out/out-$name.wav" >"$out/capture-$name.log" 2>&1 \
    || fail "jack_capture failed: $(cat "$out/capture-$name.log")"
  exec 3>&-
  stop_all
  sox "$out/out-$name.wav" -n trim 0.2 stats 2>"$out/stats-$name.txt"
  awk '/^RMS lev dB/ { print $4 }' "$out/stats-$name.txt"
}

level_a=$(measure a "$gain_a") || exit 1
level_b=$(measure b "$gain_b") || exit 1
expected=$(awk -v a="$gain_a" -v b="$gain_b" 'BEGIN { printf "%.2f", 20 * log(b / a) / log(10) }')
difference=$(awk -v a="$level_a" -v b="$level_b" 'BEGIN { printf "%.2f", b - a }')
echo "RMS level with gain $gain_a: $level_a dB; with gain $gain_b: $level_b dB; difference $difference dB" \
     "(expected $expected dB)"
echo "recordings: $out/out-a.wav $out/out-b.wav"
awk -v a="$level_a" 'BEGIN { exit !(a > -40) }' || fail "the first recording is silent or missing ($level_a dB)"
awk -v d="$difference" -v e="$expected" 'BEGIN { exit !((d - e) < 0.1 && (e - d) < 0.1) }' \
  || fail "the level changed by $difference dB, not $expected dB"
echo "lv2_jalv_gain: PASS"
