# SPDX-License-Identifier: MIT
# Shell functions the end-to-end test scripts share (tests/gui, tests/osc; see tests/gui/README.md): stopping
# processes by id, a private Xvfb display, the Standalone's JACK settings, and an oscdump that collects replies.
# Source it from a bash script: . "$(dirname "$0")/../support/script_helpers.sh"

# require_tools SCRIPT TOOL...: exits 1, naming SCRIPT and the missing tool, unless every TOOL is on the PATH.
require_tools() {
  local script=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$script: $tool not found (scripts/install-deps test)" >&2; exit 1; }
  done
}

# fresh_standalone_out OUT_DIR: empties OUT_DIR and gives it a home (OUT_DIR/home) whose settings point the
# plugin's Standalone at the JACK server; requires JACK_DEFAULT_SERVER (tests/support/with_jack_dummy.sh).
fresh_standalone_out() {
  : "${JACK_DEFAULT_SERVER:?run me under tests/support/with_jack_dummy.sh}"
  rm -rf "$1"
  mkdir -p "$1/home"
  write_standalone_jack_settings "$1/home"
}

# stop_pids PID...: sends TERM to each live process, waits up to $stop_wait_tenths tenths of a second (default
# 30), then KILL; reaps each one. Empty arguments are skipped.
stop_pids() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      for _ in $(seq "${stop_wait_tenths:-30}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  return 0
}

# start_xvfb OUT_DIR: starts Xvfb on a free display that it picks itself (-displayfd: no race with another
# script choosing the same number), exports DISPLAY and sets xvfb_pid. Returns 0 only once an X client has
# connected; 1 when Xvfb exits or does not answer within 10 s (its log is OUT_DIR/xvfb.log). The caller stops
# "$xvfb_pid". Hosts that load the plugin without a window (jalv, Ardour's scanner and Lua session) need one too:
# with no DISPLAY, JUCE falls back to ":0.0", which may be another test's Xvfb, and the host dies ("X connection
# to :0.0 broken") when that test ends.
start_xvfb() {
  local number_file="$1/xvfb.display" number=""
  : >"$number_file"
  Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp 3>"$number_file" >"$1/xvfb.log" 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 100); do
    number=$(head -n 1 "$number_file" | tr -d '[:space:]')
    [ -n "$number" ] && break
    kill -0 "$xvfb_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  [ -n "$number" ] || return 1
  export DISPLAY=":$number"
  for _ in $(seq 100); do
    xdotool getmouselocation >/dev/null 2>&1 && return 0
    kill -0 "$xvfb_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# find_window NAME [SECONDS]: prints the id of the first visible window called NAME, polling every 0.2 s for up
# to SECONDS (default 30); returns 1 when none appears. A poll that cannot reach the X server counts as "not
# yet" (a run once saw xdotool fail to open the display right after Xvfb had answered).
find_window() {
  local id="" tries=$(( ${2:-30} * 5 ))
  for _ in $(seq "$tries"); do
    id=$(xdotool search --onlyvisible --name "$1" 2>/dev/null | head -n 1)
    if [ -n "$id" ]; then echo "$id"; return 0; fi
    sleep 0.2
  done
  return 1
}

# xvfb_state: one line on the Xvfb started by start_xvfb, for failure messages.
xvfb_state() {
  if kill -0 "${xvfb_pid:-0}" 2>/dev/null; then echo "Xvfb $DISPLAY alive"; else echo "Xvfb exited"; fi
}

# write_standalone_jack_settings HOME_DIR: the plugin's Standalone reads its audio device from
# ~/.config/<name>.settings; this points it at the JACK server (48 kHz, 256 frames).
write_standalone_jack_settings() {
  mkdir -p "$1/.config"
  cat >"$1/.config/courier plugin.settings" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<PROPERTIES>
  <VALUE name="audioSetup">
    <DEVICESETUP deviceType="JACK" audioOutputDeviceName="system" audioInputDeviceName="system"
                 audioDeviceRate="48000" audioDeviceBufferSize="256"/>
  </VALUE>
</PROPERTIES>
XML
}

# start_oscdump FILE: liblo's oscdump on a free UDP port (tries 8 random ones), writing to FILE. Sets reply (the
# port), dump_pid and dump_file; returns 1 when none would start.
start_oscdump() {
  dump_file=$1
  : >"$dump_file"
  dump_pid=""
  for _ in 1 2 3 4 5 6 7 8; do
    reply=$((20000 + (RANDOM % 20000)))
    oscdump -L "$reply" >"$dump_file" 2>&1 &
    dump_pid=$!
    sleep 0.3
    kill -0 "$dump_pid" 2>/dev/null && return 0
    dump_pid=""
  done
  return 1
}

# lines: how many lines oscdump has written so far.
lines() { wc -l <"$dump_file"; }

# wait_for REGEX AFTER_LINE: waits up to 10 s for a line of oscdump's output after line AFTER_LINE that matches
# REGEX; prints it, or returns 1.
wait_for() {
  local line
  for _ in $(seq 1 200); do
    line=$(tail -n +"$(($2 + 1))" "$dump_file" | grep -m1 -E -- "$1")
    if [ -n "$line" ]; then echo "$line"; return 0; fi
    sleep 0.05
  done
  return 1
}

# field LINE NAME: the number after "NAME" in a /status reply line as oscdump prints it.
field() { echo "$1" | grep -o "\"$2\" [-0-9.e]*" | awk '{print $2}'; }
