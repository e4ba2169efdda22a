#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The soak and fault-injection test (docs/testing.md "Soak"): courier-synth on PortAudio through a JACK dummy
# server with everything at once, while faults are injected; prints a table of the run's figures and checks them.
#
# Phase "main" (JACK dummy server, 48 kHz, 256 frames), for --seconds:
#   load      a control thread at 10,000 messages/s (half mailbox, half by name to /synth); OSC clients: a flood at
#             --rate datagrams/s (/synth/ messages, bundles, 1 % malformed packets of 10 kinds, /status), a loop
#             that opens and closes /meters and /events subscriptions; a file streamed from disk; a graph swap
#             every second
#   faults    the disk worker stalls 0.6 s (its read-ahead is 0.34 s) every 40 blocks; the stream is stopped for
#             5.5 s and restarted (every lane fills, graph publications run out of credit, the OSC lanes refuse);
#             the main thread stops polling for 0.3 s every 7 s (the scope pool runs empty); two OSC clients
#             vanish mid-subscription (their 5 s lease runs out and frees their slots) and one mid-/load, and
#             /status probes check that others are still served
#   limits    after the flood: the subscriber cap filled from one socket after another until /subscribe is
#             refused (too_many_subscribers, at the sender, counted by the endpoint), every slot given back; two
#             /load requests at once until the second is refused (busy, at the sender, counted); TCP connections
#             opened until the connection cap closes new ones at once (at the client, counted)
#   end       courier-synth stops its control thread, waits until every lane is empty, stops, and prints figures
# Phase "kill": courier-synth under the same control load and an OSC flood; the JACK server is killed (SIGKILL).
#             courier-synth must notice (no callback for 2 s), print a clear error, tear everything down on its
#             main thread (the driver abandons the stream PortAudio can no longer stop), print its figures, and
#             exit 1; in an ASan build with no leak.
#
# Fails on: a lost message (sent != applied + refused on any path, or anything left queued after the drain), a
# refusal that did not reach its sender (the control thread's count, /fail replies by reason), a buffer of the disk
# loop missing at the end, a graph destroyed off the main thread, a leak (LeakSanitizer, in an ASan build), a
# sanitizer or contract report, a fault that did not happen (a lane never full, no underrun), or a hang.
#
# Usage: tests/soak/soak.sh [--synth PATH] [--client PATH] [--work DIR] [--seconds S | --minutes M] [--rate N]
#   defaults: build/normal's courier-synth and courier_soak_osc_client, a temporary folder, 40 s, 20000/s.
# Exit status 0 and "soak: PASS" when every check holds; 1 and "soak: FAIL" otherwise.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

synth="$root/build/normal/demos/synth/courier-synth"
client="$root/build/normal/tests/soak/courier_soak_osc_client"
work=""
seconds=40
rate=20000
phase=""
while [ $# -gt 0 ]; do
  case "$1" in
    --synth) synth=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --phase) phase=$2; shift 2 ;;
    -h|--help) sed -n '3,27p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 20 ]; then
  echo "soak.sh: --seconds wants a whole number of at least 20, got '$seconds'" >&2
  exit 2
fi

failed=0
check() {  # check DESCRIPTION COMMAND...: runs the test command, prints ok or FAIL with the description
  if "${@:2}"; then
    echo "  ok    $1"
  else
    echo "  FAIL  $1"
    failed=1
  fi
}

# ----- figures: courier-synth's "soak: <name> <value>" lines, its OSC report, the clients' lines ---------------
# A missing figure reads 0 (arithmetic stays valid); the "printed its figures" check catches a missing report.
fig() { awk -v k="$2" '$1 == "soak:" && $2 == k { v = $3 } END { print (v == "" ? 0 : v) }' "$1"; }
lane() {  # lane LOG NAME FIELD
  awk -v n="$2" -v f="$3" '$1 == "soak:" && $2 == "lane" && $3 == n { for (i = 4; i < NF; i += 2) if ($i == f) v = $(i + 1) }
                           END { print (v == "" ? 0 : v) }' "$1"
}
osc() {  # osc LOG REGEX: the first group of the endpoint report's line matching REGEX
  sed -nE "s/.*$2.*/\\1/p" "$1" | tail -n 1 | grep . || echo 0
}
client_fig() {  # client_fig NAME FILES...: the sum of "client <mode>: NAME value" over the files
  local name=$1; shift
  cat "$@" 2>/dev/null | awk -v k="$name" '{ line = $0; sub(/^client [^:]*: /, "", line); n = split(line, w, " ")
      key = w[1]; for (i = 2; i < n; ++i) key = key " " w[i]; if (key == k) s += w[n] } END { print s + 0 }'
}
eq() { [ "$1" = "$2" ]; }
gt0() { [ "$1" -gt 0 ]; }

wait_for_port() {  # wait_for_port LOG PID: the OSC port courier-synth listens on, once it says so
  local port=""
  for _ in $(seq 200); do
    port=$(sed -nE 's/.*listening on udp 127\.0\.0\.1:([0-9]+).*/\1/p' "$1")
    [ -n "$port" ] && break
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "$port"
}

wait_exit() {  # wait_exit PID SECONDS: its exit status, or 124 after killing it when it does not exit in time
  local pid=$1 limit=$2
  for _ in $(seq $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 124
  fi
  wait "$pid"
}

# An AddressSanitizer build (LeakSanitizer runs at its exit). grep -c reads all of nm's output: with pipefail, an
# early grep -q exit would make nm's SIGPIPE fail the pipeline.
sanitizer_build() { [ "$(nm "$synth" 2>/dev/null | grep -c '__asan_')" -gt 0 ]; }

# ----- phase main --------------------------------------------------------------------------------------------
phase_main() {
  local log=$work/synth.log pause_every=12 lease=5
  [ "$seconds" -gt 120 ] && pause_every=30
  "$synth" --host-api jack --osc-port 0 --osc-tcp 0 --osc-load-root "$work" --osc-lease "$lease" --score "$work/soak.score" --control-rate 10000 \
           --stream "$work/tone.wav" --stream-loop --stream-gain 0.2 --stream-stall-every 40 --stream-stall 0.6 \
           --soak "$seconds" --soak-swap-every 1 --soak-pause-every "$pause_every" --soak-pause-for 5.5 \
           --soak-stall-every 7 --soak-stall-for 0.3 >"$log" 2>&1 &
  local synth_pid=$!
  local port
  port=$(wait_for_port "$log" "$synth_pid")
  if [ -z "$port" ]; then
    echo "soak.sh: courier-synth did not start its OSC endpoint. Its output:"; sed 's/^/  /' "$log"
    kill -KILL "$synth_pid" 2>/dev/null; wait "$synth_pid" 2>/dev/null
    return 1
  fi
  local client_seconds=$((seconds - 8)) started=$SECONDS pids=()
  "$client" flood "$port" "$client_seconds" "$rate" >"$work/flood.out" 2>&1 & pids+=($!)
  "$client" subscribe "$port" "$client_seconds" >"$work/subscribe.out" 2>&1 & pids+=($!)
  sleep 3  # a timeline of faults, not synchronisation: each client checks its own replies
  local vanished=0 probes=0
  for i in 1 2; do
    "$client" vanish-subscribe "$port" >"$work/vanish-subscribe$i.out" 2>&1 && vanished=$((vanished + 1))
  done
  "$client" vanish-load "$port" load.wav >"$work/vanish-load.out" 2>&1
  while [ $((SECONDS - started)) -lt "$client_seconds" ]; do
    probes=$((probes + 1))
    "$client" status "$port" >"$work/status$probes.out" 2>&1
    sleep 4
  done
  for p in "${pids[@]}"; do wait "$p"; done
  # The limits, once the flood and the subscription loop are over (their requests would meet the full cap): by
  # now the vanished subscribers' leases ran out, so the cap is the endpoint's whole max_subscribers.
  "$client" fill-subscribers "$port" >"$work/limit-subscribers.out" 2>&1
  local tcp_port
  tcp_port=$(sed -nE 's/.* tcp 127\.0\.0\.1:([0-9]+) .*/\1/p' "$log" | head -n 1)
  "$client" fill-connections "${tcp_port:-0}" >"$work/limit-connections.out" 2>&1
  "$client" load-busy "$port" load.wav >"$work/limit-load.out" 2>&1
  local status=0
  wait_exit "$synth_pid" $((seconds + 60)) || status=$?

  # The figures.
  local flood=$work/flood.out
  local cb ob load xr
  cb=$(fig "$log" callbacks); ob=$(fig "$log" over_budget); load=$(fig "$log" max_load); xr=$(fig "$log" xruns)
  local c_mail c_name c_ref m0s m0r m0f m0q m0h m0c p0s p0r p0f p0q p0h p0c m1s m1r m1f m1q m1h ts tr tf tq
  c_mail=$(fig "$log" control_sent_mailbox); c_name=$(fig "$log" control_sent_by_name); c_ref=$(fig "$log" control_refused)
  m0s=$(lane "$log" mailbox0 sent); m0r=$(lane "$log" mailbox0 received); m0f=$(lane "$log" mailbox0 refused)
  m0q=$(lane "$log" mailbox0 queued); m0h=$(lane "$log" mailbox0 high_water); m0c=$(lane "$log" mailbox0 capacity)
  p0s=$(lane "$log" port/synth0 sent); p0r=$(lane "$log" port/synth0 received); p0f=$(lane "$log" port/synth0 refused)
  p0q=$(lane "$log" port/synth0 queued); p0h=$(lane "$log" port/synth0 high_water); p0c=$(lane "$log" port/synth0 capacity)
  m1s=$(lane "$log" mailbox1 sent); m1r=$(lane "$log" mailbox1 received); m1f=$(lane "$log" mailbox1 refused)
  m1q=$(lane "$log" mailbox1 queued); m1h=$(lane "$log" mailbox1 high_water)
  ts=$(lane "$log" timed sent); tr=$(lane "$log" timed received); tf=$(lane "$log" timed refused); tq=$(lane "$log" timed queued)
  local imm port_app timed_app graph_app
  imm=$(fig "$log" immediate_applied); port_app=$(fig "$log" port_applied); timed_app=$(fig "$log" timed_applied)
  graph_app=$(fig "$log" graph_applied)
  local dgrams kdrop o_app o_sched o_ref o_verbs o_rej subs loads_done loads_failed replies_failed late_b
  dgrams=$(osc "$log" 'datagrams ([0-9]+) \(kernel dropped')
  kdrop=$(osc "$log" 'kernel dropped ([0-9]+)\)')
  o_app=$(osc "$log" '^  applied ([0-9]+), scheduled')
  o_sched=$(osc "$log" 'scheduled ([0-9]+) \(late bundles')
  late_b=$(osc "$log" 'late bundles ([0-9]+),')
  o_ref=$(osc "$log" '\), refused ([0-9]+), verbs')
  o_verbs=$(osc "$log" 'verbs ([0-9]+), rejected')
  o_rej=$(osc "$log" 'verbs [0-9]+, rejected ([0-9]+)')
  subs=$(osc "$log" 'subscribers at stop ([0-9]+)')
  loads_done=$(osc "$log" 'loads done ([0-9]+)')
  loads_failed=$(osc "$log" 'loads done [0-9]+, failed ([0-9]+)')
  replies_failed=$(osc "$log" 'replies [0-9]+ \(failed ([0-9]+)\)')
  local all_clients=("$work"/flood.out "$work"/subscribe.out "$work"/vanish-*.out "$work"/status*.out "$work"/limit-*.out)
  local subs_refused subs_expired l_held l_refused l_released l_resent b_done b_busy b_other
  subs_refused=$(osc "$log" 'subscribers at stop [0-9]+ \(refused ([0-9]+)')
  subs_expired=$(osc "$log" 'subscribers at stop [0-9]+ \(refused [0-9]+, expired ([0-9]+)\)')
  l_held=$(client_fig held "$work/limit-subscribers.out"); l_refused=$(client_fig refused "$work/limit-subscribers.out")
  l_released=$(client_fig released "$work/limit-subscribers.out"); l_resent=$(client_fig resent "$work/limit-subscribers.out")
  b_done=$(client_fig done "$work/limit-load.out"); b_busy=$(client_fig busy "$work/limit-load.out")
  b_other=$(client_fig other "$work/limit-load.out")
  local t_held t_refused t_counted
  t_held=$(client_fig held "$work/limit-connections.out"); t_refused=$(client_fig refused "$work/limit-connections.out")
  t_counted=$(osc "$log" 'tcp: connections [0-9]+ \(refused ([0-9]+)')
  local c_sent f_fails f_lane f_timed f_drops f_valid f_bundles f_bad
  c_sent=$(client_fig sent "${all_clients[@]}")
  f_fails=$(client_fig fails "$flood"); f_lane=$(client_fig "fail lane_full" "$flood")
  f_timed=$(client_fig "fail timed_lane_full" "$flood"); f_drops=$(client_fig reply_drops "$flood")
  f_valid=$(client_fig valid "$flood"); f_bundles=$(client_fig bundles "$flood"); f_bad=$(client_fig malformed "$flood")
  local s_open s_close s_after s_lost s_notes answered
  s_open=$(client_fig opened "$work/subscribe.out"); s_close=$(client_fig closed "$work/subscribe.out")
  s_after=$(client_fig after_ack "$work/subscribe.out"); s_lost=$(client_fig lost_acks "$work/subscribe.out")
  s_notes=$(client_fig notifications "$work/subscribe.out")
  answered=$(client_fig answered "$work"/status*.out)
  local score_events
  score_events=$(grep -cE '^[0-9.]+ +(on|off|alloff|gain|cutoff|wave)' "$work/soak.score")

  echo
  echo "soak run: $seconds s on JACK (dummy backend, 48000 Hz, 256 frames), OSC flood at $rate datagrams/s"
  printf '| %-50s | %24s |\n' "figure" "value"
  printf '|%s|%s|\n' "$(printf -- '-%.0s' $(seq 52))" "$(printf -- '-%.0s' $(seq 26))"
  row() { printf '| %-50s | %24s |\n' "$1" "$2"; }
  row "callbacks" "$cb"
  row "over-budget callbacks (max load)" "$ob ($load)"
  row "xruns reported by PortAudio" "$xr"
  row "stream pauses (5.5 s each)" "$(fig "$log" pauses)"
  row "main-thread stalls (0.3 s each)" "$(fig "$log" stalls)"
  row "graph swaps published / refused" "$(fig "$log" swaps) / $(fig "$log" swaps_refused)"
  row "graphs adopted / returned" "$(fig "$log" graphs_adopted) / $(fig "$log" graphs_returned)"
  row "disk blocks read / played" "$(fig "$log" stream_blocks_read) / $(fig "$log" stream_blocks_played)"
  row "disk underruns (frames of silence)" "$(fig "$log" stream_underruns) ($(fig "$log" stream_underrun_frames))"
  row "disk buffers home at the end" "$(fig "$log" stream_buffers_home) of $(fig "$log" stream_buffers)"
  row "scope buffers sent / starved" "$(fig "$log" scope_sent) / $(fig "$log" scope_starved)"
  row "drain after the run (s)" "$(fig "$log" drain_seconds)"
  echo
  printf '| %-28s | %10s | %10s | %10s | %8s | %6s | %10s |\n' path sent applied refused "left" lost "high water"
  path() {  # path NAME SENT APPLIED REFUSED LEFT HIGH
    local lost=$(($2 - $3 - $5))
    printf '| %-28s | %10s | %10s | %10s | %8s | %6s | %10s |\n' "$1" "$2" "$3" "$4" "$5" "$lost" "$6"
  }
  path "control -> mailbox" "$m0s" "$m0r" "$m0f" "$m0q" "$m0h/$m0c"
  path "control -> /synth by name" "$p0s" "$p0r" "$p0f" "$p0q" "$p0h/$p0c"
  path "OSC -> mailbox" "$m1s" "$m1r" "$m1f" "$m1q" "$m1h"
  path "score + OSC bundles -> timed" "$ts" "$timed_app" "$tf" "$tq" "$(lane "$log" timed high_water)"
  printf '| %-28s | %10s | %10s | %10s | %8s | %6s | %10s |\n' "every path, at the graph" \
         "$((m0s + p0s + m1s + ts))" "$graph_app" "" "" "$((m0s + p0s + m1s + ts - graph_app))" ""
  echo
  row "OSC datagrams sent by the clients" "$c_sent"
  row "OSC datagrams read / kernel dropped" "$dgrams / $kdrop"
  row "OSC messages applied / scheduled" "$o_app / $o_sched"
  row "OSC refused (lane_full, timed_lane_full)" "$o_ref"
  row "OSC verbs / rejected" "$o_verbs / $o_rej"
  local reasons
  reasons=$(sed -nE 's/^    rejected ([a-z_]+) +([0-9]+)$/\1/p' "$log")
  for r in $reasons; do
    row "  rejected $r (sent / /fail back)" \
        "$(osc "$log" "rejected $r +([0-9]+)$") ($(client_fig "malformed $r" "$flood") / $(client_fig "fail $r" "$flood"))"
  done
  row "  /fail lane_full / timed_lane_full back" "$f_lane / $f_timed"
  row "subscriptions opened / closed" "$s_open / $s_close"
  row "  requests resent (the kernel dropped one)" "$(client_fig resent "$work/subscribe.out")"
  row "notifications / after the final ack" "$s_notes / $s_after"
  row "clients vanished mid-subscription" "$vanished"
  row "  their leases expired ($lease s)" "$subs_expired"
  row "subscriber cap: slots held / refused at the cap" "$l_held / $l_refused"
  row "  refusals counted by the endpoint / released" "$subs_refused / $l_released"
  row "subscribers kept at stop" "$subs"
  row "TCP connection cap: held / closed at once" "$t_held / $t_refused"
  row "  refusals counted by the endpoint" "$t_counted"
  row "/load done / failed" "$loads_done / $loads_failed"
  row "  /load busy at the sender (done after)" "$b_busy ($b_done)"
  row "/status probes answered" "$answered of $probes"
  row "replies that failed to send" "$replies_failed"
  if sanitizer_build; then
    row "leaks (LeakSanitizer)" "$(grep -c 'ERROR: LeakSanitizer' "$log")"
  else
    row "leaks" "n/a (not an ASan build)"
  fi
  row "graphs made / destroyed on main thread" "$(fig "$log" graphs_made) / $(fig "$log" graphs_destroyed_on_control)"
  row "objects destroyed on the wrong thread" "$(fig "$log" graphs_destroyed_elsewhere)"
  echo

  echo "checks (phase main)"
  check "courier-synth printed its figures" grep -q '^soak: graphs_destroyed_elsewhere' "$log"
  check "courier-synth exited 0 after draining (exit $status)" eq "$status" 0
  check "every lane drained before the stream stopped" eq "$(fig "$log" drained)" 1
  check "no sanitizer or contract report" eval "! grep -qE 'Sanitizer|contract violated|runtime error' '$log'"
  check "control -> mailbox: the control thread's count is the lane's" eq "$c_mail" "$m0s"
  check "control -> /synth: the control thread's count is the lane's" eq "$c_name" "$p0s"
  check "control thread: every refusal came back to it (counted $c_ref)" eq "$c_ref" "$((m0f + p0f))"
  check "control -> mailbox: nothing lost or left" eq "$m0s" "$m0r"
  check "control -> /synth: nothing lost or left" eq "$p0s" "$p0r"
  check "OSC -> mailbox: every message the endpoint queued was applied" eq "$o_app" "$m1s"
  check "OSC -> mailbox: nothing lost or left" eq "$m1s" "$m1r"
  check "timed lane: score events + OSC scheduled = sent" eq "$ts" "$((score_events + o_sched))"
  check "timed lane: every event applied" eq "$ts" "$timed_app"
  check "engine: mailbox applied = lanes received" eq "$imm" "$((m0r + m1r))"
  check "engine: port applied = lane received" eq "$port_app" "$p0r"
  check "graphs: every event the engine applied reached a graph" eq "$graph_app" "$((imm + port_app + timed_app))"
  check "mailbox lane driven full (high water $m0h of $m0c)" eq "$m0h" "$m0c"
  check "port lane driven full (high water $p0h of $p0c)" eq "$p0h" "$p0c"
  check "OSC lane refused messages (lane_full: $m1f)" gt0 "$m1f"
  check "graph publications ran out of credit" gt0 "$(fig "$log" swaps_refused)"
  check "graph refusals counted by the engine too" eq "$(fig "$log" swaps_refused)" "$(fig "$log" graph_publish_refused)"
  check "scope pool ran empty (starved)" gt0 "$(fig "$log" scope_starved)"
  check "disk stalls caused underruns, counted" gt0 "$(fig "$log" stream_underruns)"
  check "disk loop: no buffer lost" eq "$(fig "$log" stream_buffers_home)" "$(fig "$log" stream_buffers)"
  check "audio continued after the stalls (blocks played > 100)" gt0 "$(( $(fig "$log" stream_blocks_played) > 100 ? 1 : 0 ))"
  check "graphs: none destroyed off the main thread" eq "$(fig "$log" graphs_destroyed_elsewhere)" 0
  check "graphs: every one made was destroyed" eq "$(fig "$log" graphs_made)" "$(fig "$log" graphs_destroyed_on_control)"
  check "OSC: clients' datagrams = read + kernel dropped" eq "$c_sent" "$((dgrams + kdrop))"
  # refused counts messages: a refused bundle (two messages each) is one /fail #bundle timed_lane_full.
  if [ "$f_drops" = 0 ]; then
    check "OSC: every lane_full refusal came back as /fail ($f_lane)" eq "$f_lane" "$m1f"
    check "OSC: every refused bundle came back as /fail ($f_timed)" eq "$((2 * f_timed))" "$((o_ref - m1f))"
    check "OSC: every rejection came back as /fail" eq "$((f_fails - f_lane - f_timed))" "$o_rej"
  else
    check "OSC: /fail replies + client drops cover every refusal" gt0 \
          "$(( f_fails + f_drops >= o_rej + m1f + (o_ref - m1f) / 2 ? 1 : 0 ))"
  fi
  check "OSC: timed_lane_full refusals happened and came back" gt0 "$f_timed"
  for r in $reasons; do
    local got want
    got=$(osc "$log" "rejected $r +([0-9]+)$"); want=$(client_fig "malformed $r" "$flood")
    if [ "$kdrop" = 0 ]; then
      check "OSC: malformed $r: rejected as sent" eq "$got" "$want"
    fi
  done
  check "OSC: every kind of malformed packet was rejected by its reason" eq "$(echo "$reasons" | wc -w)" 10
  check "subscriptions: opened and closed in a loop" gt0 "$s_close"
  check "subscriptions: no notification after the final ack" eq "$s_after" 0
  check "subscriptions: no acknowledgement lost" eq "$s_lost" 0
  check "vanished clients: the endpoint still served every /status probe" eq "$answered" "$probes"
  check "vanished mid-/load: the load still finished on the worker" eq "$loads_done" "$((1 + b_done))"
  check "vanished subscribers: their leases expired, only theirs ($subs_expired of $vanished)" eq "$subs_expired" "$vanished"
  check "subscriber cap: filled to max_subscribers (8) and refused beyond it" eq "$l_held/$l_refused" "8/2"
  check "subscriber cap: every refusal reached its sender and was counted" eq "$subs_refused" "$l_refused"
  check "subscriber cap: every slot given back, nothing kept at stop" eq "$l_released/$subs" "$l_held/0"
  check "/load: a second load at once was refused busy at its sender" gt0 "$b_busy"
  check "TCP cap: filled to max_connections (8), the ones beyond closed at once" eq "$t_held/$t_refused" "8/2"
  check "TCP cap: every refusal counted by the endpoint" eq "$t_counted" "$t_refused"
  check "/load: every refusal counted (failed = busy)" eq "$loads_failed/$b_other" "$b_busy/0"
  if sanitizer_build; then
    check "no leak (LeakSanitizer)" eval "! grep -q 'ERROR: LeakSanitizer' '$log'"
  fi
  [ "$failed" -eq 0 ] || { echo "courier-synth's output:"; grep -v '^ALSA lib' "$log" | sed 's/^/  /' | tail -n 80; }
  return "$failed"
}

# ----- phase kill ----------------------------------------------------------------------------------------------
phase_kill() {
  local log=$work/kill.log
  "$synth" --host-api jack --osc-port 0 --score "$work/soak.score" --control-rate 10000 \
           --stream "$work/tone.wav" --stream-loop --soak 60 --soak-watchdog 2 >"$log" 2>&1 &
  local synth_pid=$!
  local port
  port=$(wait_for_port "$log" "$synth_pid")
  [ -n "$port" ] && "$client" flood "$port" 2 "$rate" >"$work/kill-flood.out" 2>&1
  sleep 1
  kill -KILL "$COURIER_JACK_PID"  # the server vanishes with messages in flight
  local status=0
  wait_exit "$synth_pid" 30 || status=$?
  local m0s m0r m0q p0s p0r p0q
  m0s=$(lane "$log" mailbox0 sent); m0r=$(lane "$log" mailbox0 received); m0q=$(lane "$log" mailbox0 queued)
  p0s=$(lane "$log" port/synth0 sent); p0r=$(lane "$log" port/synth0 received); p0q=$(lane "$log" port/synth0 queued)
  echo
  echo "soak: JACK server killed with messages in flight"
  printf '| %-44s | %22s |\n' "callbacks before the kill" "$(fig "$log" callbacks)"
  printf '| %-44s | %22s |\n' "control -> mailbox sent / applied / queued" "$m0s / $m0r / $m0q"
  printf '| %-44s | %22s |\n' "control -> /synth sent / applied / queued" "$p0s / $p0r / $p0q"
  printf '| %-44s | %22s |\n' "control refused (counted)" "$(fig "$log" control_refused)"
  printf '| %-44s | %22s |\n' "graphs made / destroyed on the main thread" \
         "$(fig "$log" graphs_made) / $(fig "$log" graphs_destroyed_on_control)"
  printf '| %-44s | %22s |\n' "stream abandoned to PortAudio" "$(fig "$log" stream_abandoned)"
  printf '| %-44s | %22s |\n' "teardown after the verdict (s)" "$(fig "$log" teardown_seconds)"
  printf '| %-44s | %22s |\n' "exit status" "$status"
  echo "checks (phase kill)"
  check "courier-synth exited 1, not hung or crashed (exit $status)" eq "$status" 1
  check "it said why" grep -q "the audio stream stopped: no callback for 2.0 s" "$log"
  check "it printed its figures" eq "$(fig "$log" audio_server_lost)" 1
  check "no sanitizer or contract report" eval "! grep -qE 'Sanitizer|contract violated|runtime error' '$log'"
  check "mailbox: sent = applied + queued (none unaccounted)" eq "$m0s" "$((m0r + m0q))"
  check "/synth: sent = applied + queued (none unaccounted)" eq "$p0s" "$((p0r + p0q))"
  check "control thread: every refusal counted" eq "$(fig "$log" control_refused)" \
        "$(( $(lane "$log" mailbox0 refused) + $(lane "$log" port/synth0 refused) ))"
  check "graphs: none destroyed off the main thread" eq "$(fig "$log" graphs_destroyed_elsewhere)" 0
  check "clean teardown: it ran to the end (every object destroyed)" eq "$(fig "$log" teardown_done)" 1
  check "clean teardown: the dead stream was abandoned, not waited for" eq "$(fig "$log" stream_abandoned)" 1
  check "clean teardown: every graph made died on the main thread" eq "$(fig "$log" graphs_made)" \
        "$(fig "$log" graphs_destroyed_on_control)"
  check "clean teardown: within 5 s of the verdict" eq "$(awk -v t="$(fig "$log" teardown_seconds)" 'BEGIN { print (t < 5) }')" 1
  if sanitizer_build; then
    check "no leak (LeakSanitizer)" eval "! grep -q 'ERROR: LeakSanitizer' '$log'"
  fi
  [ "$failed" -eq 0 ] || { echo "courier-synth's output:"; grep -v '^ALSA lib' "$log" | sed 's/^/  /' | tail -n 40; }
  return "$failed"
}

if [ -n "$phase" ]; then
  case "$phase" in
    main) phase_main ;;
    kill) phase_kill ;;
    *) echo "soak.sh: unknown phase '$phase'" >&2; exit 2 ;;
  esac
  status=$?
  exit "$status"
fi

# ----- the whole run -------------------------------------------------------------------------------------------
for tool in "$synth" "$client"; do
  [ -x "$tool" ] || { echo "soak.sh: $tool is not built (cmake --build build/normal --target courier-synth courier_soak_osc_client)" >&2; echo "soak: FAIL"; exit 1; }
done
command -v sox >/dev/null || { echo "soak.sh: sox not found: apt-get install sox" >&2; echo "soak: FAIL"; exit 1; }
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/courier-soak.XXXXXX")
mkdir -p "$work"
rm -f "$work"/*.out "$work"/*.log
work=$(cd "$work" && pwd)
sox -n -r 48000 -c 2 "$work/tone.wav" synth 3 sine 440 vol 0.3 2>/dev/null
sox -n -r 48000 -c 2 "$work/load.wav" synth 20 sine 220 vol 0.3 2>/dev/null
printf '# the soak test'"'"'s score: a note, then the run is driven by the clients\n0 gain 0.5\n0 wave saw\n0.1 on C4 0.5\n0.6 off C4\n1 end\n' >"$work/soak.score"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

echo "soak: courier-synth for $seconds s on a JACK dummy server, files in $work"
status=0
"$root/tests/support/with_jack_dummy.sh" "$0" --phase main --synth "$synth" --client "$client" --work "$work" \
    --seconds "$seconds" --rate "$rate" || status=1
"$root/tests/support/with_jack_dummy.sh" "$0" --phase kill --synth "$synth" --client "$client" --work "$work" \
    --seconds "$seconds" --rate "$rate" || status=1
if [ "$status" -eq 0 ]; then echo "soak: PASS"; else echo "soak: FAIL"; fi
exit "$status"
