#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Several courier nodes driven by one controller through courier-router (docs/osc.md, "Several nodes"): three
# courier-synth nodes, on 127.0.0.2 (UDP) and 127.0.0.3 (TCP size prefix, TCP SLIP), each on the offline driver
# paced in real time and recording what it plays; the router on 127.0.0.1 sends /nodeK/... to node K and /all/...
# to every node. courier_multi_node sends immediate notes, packets the router must reject and two timed bundles,
# then finds the notes in each node's recording and checks each against the frame its time tag names on that
# node's clock; the spread between nodes is printed. Every process is started and stopped by its id.
#   multi_node.sh <courier-synth> <courier-router> <courier_multi_node> <work directory>
set -u
. "$(dirname "$0")/../support/script_helpers.sh"
synth=$1
router=$2
controller=$3
work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1

pids=()
router_pid=""
fail() {
    echo "multi_node: FAIL: $*"
    stop_pids "$router_pid" "${pids[@]}"
    for f in node1.log node2.log node3.log router.log; do echo "--- $f"; cat "$f" 2>/dev/null; done
    exit 1
}
# wait_for_line FILE PATTERN: up to 20 s for PATTERN to appear in FILE.
wait_for_line() {
    for _ in $(seq 1 400); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

printf '0 gain 0.5\n0.1 end\n' > quiet.score  # no notes of its own: only what the controller sends
rate=48000
block=256
# node K: address, OSC option, the framing word it prints
addresses=(127.0.0.2 127.0.0.3 127.0.0.3)
options=(--osc-port --osc-tcp --osc-tcp-slip)
printed=("udp 127.0.0.2:[0-9]*" "tcp 127.0.0.3:[0-9]* (size_prefix)" "tcp 127.0.0.3:[0-9]* (slip)")
for k in 1 2 3; do
    "$synth" --offline --score quiet.score --sample-rate $rate --block-size $block --osc-bind "${addresses[k-1]}" \
             "${options[k-1]}" 0 --output "node$k.wav" --duration 60 > "node$k.log" 2>&1 &
    pids+=($!)
done
ports=()
origins=()
for k in 1 2 3; do
    wait_for_line "node$k.log" "listening on" || fail "node$k did not start"
    port=$(grep -o "${printed[k-1]}" "node$k.log" | head -n 1 | sed 's/^[a-z]* [0-9.]*:\([0-9]*\).*/\1/')
    origin=$(grep -o "frame 0 at time tag [0-9]*" "node$k.log" | grep -o "[0-9]*$")
    [ -n "$port" ] && [ -n "$origin" ] || fail "node$k did not report its port and its clock's origin"
    ports+=("$port")
    origins+=("$origin")
done
echo "nodes: /node1 udp 127.0.0.2:${ports[0]}, /node2 tcp 127.0.0.3:${ports[1]}, /node3 slip 127.0.0.3:${ports[2]}"

"$router" --udp 0 --tcp 0 --route "/node1=udp:127.0.0.2:${ports[0]}" --route "/node2=tcp:127.0.0.3:${ports[1]}" \
          --route "/node3=slip:127.0.0.3:${ports[2]}" > router.log 2>&1 &
router_pid=$!
wait_for_line router.log "listening on" || fail "courier-router did not start"
router_udp=$(grep -o "udp 127.0.0.1:[0-9]*" router.log | cut -d: -f2)
router_tcp=$(grep -o "tcp 127.0.0.1:[0-9]* (size_prefix)" router.log | cut -d: -f2 | cut -d' ' -f1)
[ -n "$router_udp" ] && [ -n "$router_tcp" ] || fail "courier-router did not report its ports"
echo "router: udp $router_udp, tcp $router_tcp"

"$controller" send "$router_udp" "$router_tcp" 3 plan.txt || fail "the controller could not send"
stop_pids "$router_pid"
router_pid=""
stop_pids "${pids[@]}"
pids=()
cat router.log

# The router: every message routed, none lost, the three bad packets rejected and counted.
expected=$(grep -o "^messages [0-9]*" plan.txt | cut -d' ' -f2)
grep -Eq "rejected 3, lost 0$" router.log || fail "the router did not reject exactly 3 packets with none lost"
grep -Eq "\($expected messages to nodes\)" router.log || fail "the router did not hand the nodes $expected messages"
for p in unknown_address not_aligned pattern_unsupported; do
    grep -Eq "rejected $p +1$" router.log || fail "the router did not count its $p packet"
done
for k in 1 2 3; do
    grep -Eq "node /node$k .*messages 6, full 0, failed 0" router.log || fail "node$k's path lost or missed messages"
done
# Each node: the immediate note and the note-off applied, the four bundled messages scheduled, none late.
for k in 1 2 3; do
    echo "--- node$k"; grep -E "recorded|applied|rejected" "node$k.log"
    grep -q "recorded [0-9]* frames to node$k.wav$" "node$k.log" || fail "node$k did not record its run whole"
    grep -Eq "applied 2, scheduled 4 \(late bundles 0," "node$k.log" || fail "node$k did not apply what it was sent"
    grep -Eq "refused 0, verbs 0, rejected 0" "node$k.log" || fail "node$k refused or rejected a message"
done

"$controller" check plan.txt $rate $block node1.wav "${origins[0]}" node2.wav "${origins[1]}" \
              node3.wav "${origins[2]}" || fail "the recordings do not hold the notes where they belong"
echo "multi_node: PASS"
