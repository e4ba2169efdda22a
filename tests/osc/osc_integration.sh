#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The OSC endpoint end to end (docs/osc.md, "Testing"): courier-synth runs with the endpoint on a loopback UDP
# port, a Unix socket and a TCP port (offline driver paced in real time); liblo-tools' oscsend drives it (also over
# TCP) and oscdump receives
# the replies (sent to oscdump's port with the reply-port argument). Checks: parameter changes heard in the audio
# (the /status reply's peak meter and voices), the /status reply, a /meters subscription ending with its final
# acknowledgement, /load with progress replies, rejected input counted, a bundle applied at its time tag
# (courier_osc_client), /status over the Unix socket, and a clean stop on SIGTERM.
#   osc_integration.sh <courier-synth> <courier_osc_client> <work directory>
set -u
. "$(dirname "$0")/../support/script_helpers.sh"
synth=$1
client=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

synth_pid=""
dump_pid=""
cleanup() {
    [ -n "$synth_pid" ] && kill "$synth_pid" 2>/dev/null
    [ -n "$dump_pid" ] && kill "$dump_pid" 2>/dev/null
}
fail() {
    echo "osc_integration: FAIL: $*"
    cleanup
    echo "--- courier-synth output"; cat synth.log 2>/dev/null
    echo "--- oscdump output"; cat dump.txt 2>/dev/null
    exit 1
}

# A sound file for /load, rendered by courier-synth itself.
"$synth" --offline --output tone.wav > render.log 2>&1 || fail "could not render tone.wav"
printf '0 gain 0.5\n0.1 end\n' > quiet.score

"$synth" --offline --score quiet.score --osc-port 0 --osc-socket "$work/synth.sock" --osc-load-root "$work" \
         --osc-tcp 0 --duration 60 > synth.log 2>&1 &
synth_pid=$!
for _ in $(seq 1 400); do grep -q "listening on" synth.log && break; sleep 0.05; done
port=$(grep -o "udp 127.0.0.1:[0-9]*" synth.log | cut -d: -f2)
[ -n "$port" ] || fail "courier-synth did not report its OSC port"
tcp_port=$(grep -o "tcp 127.0.0.1:[0-9]* (size_prefix)" synth.log | cut -d: -f2 | cut -d' ' -f1)
[ -n "$tcp_port" ] || fail "courier-synth did not report its OSC TCP port"
echo "courier-synth listens on UDP port $port and TCP port $tcp_port"

start_oscdump dump.txt || fail "could not start oscdump"
echo "oscdump listens on UDP port $reply"

# /status (request/reply).
n=$(lines); oscsend localhost "$port" /status i "$reply"
status=$(wait_for "^[^ ]+ /status " "$n") || fail "no /status reply"
echo "status: $status"
[ "$(field "$status" voices)" = "0" ] || fail "voices sound before any note"

# Parameter changes, heard in the rendered audio: a note at gain 1 is loud, gain 0 is silent.
oscsend localhost "$port" /synth/waveform i 2
oscsend localhost "$port" /synth/gain f 1.0
oscsend localhost "$port" /synth/note_on ii 60 100
sleep 0.5
n=$(lines); oscsend localhost "$port" /status i "$reply"
status=$(wait_for "^[^ ]+ /status " "$n") || fail "no /status reply after note_on"
echo "after note_on: $status"
[ "$(field "$status" voices)" = "1" ] || fail "note_on did not start one voice"
awk -v p="$(field "$status" peak)" 'BEGIN { exit !(p > 0.1) }' || fail "the note is not audible (peak)"
oscsend localhost "$port" /synth/gain f 0
sleep 0.5
n=$(lines); oscsend localhost "$port" /status i "$reply"
status=$(wait_for "^[^ ]+ /status " "$n") || fail "no /status reply after gain 0"
echo "after gain 0: $status"
awk -v p="$(field "$status" peak)" 'BEGIN { exit !(p == 0) }' || fail "gain 0 did not silence the output"
oscsend localhost "$port" /synth/all_notes_off

# Bad input: counted (the replies go to oscsend's own port, which is gone; the counters are checked at the end).
oscsend localhost "$port" /synth/gain f 7
oscsend localhost "$port" /synth/volume f 1
oscsend localhost "$port" /synth/note_on s hello

# A subscription: /done /subscribe, notifications, and nothing after the final /done /unsubscribe.
n=$(lines); oscsend localhost "$port" /subscribe sfi /meters 20 "$reply"
wait_for '/done ssf "/subscribe" "/meters"' "$n" > /dev/null || fail "no /done /subscribe"
sleep 0.6
oscsend localhost "$port" /unsubscribe si /meters "$reply"
ack=$(wait_for '/done ss "/unsubscribe" "/meters"' "$n") || fail "no final /done /unsubscribe"
sleep 0.4
ack_line=$(grep -n -m1 '"/unsubscribe"' dump.txt | cut -d: -f1)
meters=$(tail -n +"$(( n + 1 ))" dump.txt | grep -c " /meters ")
after=$(tail -n +"$(( ack_line + 1 ))" dump.txt | grep -c " /meters ")
echo "subscription: $meters /meters notifications, then: $ack; $after after it"
[ "$meters" -ge 5 ] || fail "too few /meters notifications ($meters in 0.6 s at 20 per second)"
[ "$after" -eq 0 ] || fail "/meters notifications after the final acknowledgement"

# /load: progress replies, then /done; a path outside the load root is refused.
n=$(lines); oscsend localhost "$port" /load si tone.wav "$reply"
done_line=$(wait_for '/(done|fail) .*"/load"' "$n") || fail "no /done or /fail for /load"
echo "load: $done_line"
echo "$done_line" | grep -q "/done" || fail "/load tone.wav failed"
progress=$(tail -n +"$(( n + 1 ))" dump.txt | grep -c "/load/progress")
[ "$progress" -ge 1 ] || fail "no /load/progress replies"
n=$(lines); oscsend localhost "$port" /load si ../tone.wav "$reply"
refused=$(wait_for '/fail ss "/load"' "$n") || fail "no /fail for a path outside the root"
echo "$refused" | grep -q path_not_allowed || fail "../tone.wav was not refused as path_not_allowed"

# Over TCP from liblo (osc.tcp URLs: int32 size-prefix framing), one connection per oscsend.
oscsend "osc.tcp://localhost:$tcp_port" /synth/cutoff f 900 || fail "oscsend over TCP failed"
oscsend "osc.tcp://localhost:$tcp_port" /synth/note_off i 61 || fail "oscsend over TCP failed"

# A bundle with a time tag 1 s ahead, from liblo's lo_send_bundle_from.
"$client" bundle "$port" 1.0 || fail "the bundle was not applied at its time tag"

# /status over the Unix datagram socket, from a liblo client bound to a socket of its own.
"$client" unix "$work/synth.sock" "$work/client.sock" || fail "no /status reply over the Unix socket"

# Stop on SIGTERM; the counters must show the three rejected messages and no crash.
kill -TERM "$synth_pid"
wait "$synth_pid"
code=$?
synth_pid=""
kill "$dump_pid" 2>/dev/null
dump_pid=""
cat synth.log
[ "$code" -eq 0 ] || fail "courier-synth exited with $code"
grep -q "stopped after .* (signal)" synth.log || fail "courier-synth did not stop on SIGTERM"
grep -Eq "rejected out_of_range +1$" synth.log || fail "the out-of-range gain was not counted"
grep -Eq "rejected unknown_address +1$" synth.log || fail "the unknown address was not counted"
grep -Eq "rejected wrong_arg_count +1$" synth.log || fail "note_on with one argument was not counted"
grep -Eq "tcp: connections 2 \(refused 0, cut 0, idle 0, auth failed 0\), packets 2, framing errors 0" synth.log ||
    fail "the two TCP messages from oscsend were not counted"
[ ! -e "$work/synth.sock" ] || fail "the Unix socket file was not removed"
echo "osc_integration: PASS"
