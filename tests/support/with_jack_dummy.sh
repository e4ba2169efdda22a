#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a command while a JACK server with the dummy backend is up, so a real, correctly paced audio callback
# runs on a machine with no sound card (CI, containers). The server gets a name of its own, exported as
# JACK_DEFAULT_SERVER (which libjack, and so PortAudio's JACK host API, connects to) and COURIER_JACK_SERVER
# (which tells courier's "jack" test cases to run), so parallel runs and a desktop JACK never meet.
# Usage: tests/support/with_jack_dummy.sh COMMAND [ARGS...]
# Environment: COURIER_JACK_RATE (default 48000), COURIER_JACK_PERIOD (frames per cycle, default 256).
# The command sees COURIER_JACK_PID, the server's process id, so a fault-injection test can kill it.
# Exit status: the command's; 1 with the reason on stderr when the server cannot start.
# Flags that make jackd run as root in a container with no D-Bus and no real-time rights:
#   --no-realtime                 no SCHED_FIFO request (it fails without CAP_SYS_NICE / rtprio limits)
#   JACK_NO_AUDIO_RESERVATION=1   no D-Bus device reservation (there is no session bus)
#   -d dummy                      a timer-paced backend that needs no device
set -uo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 COMMAND [ARGS...]" >&2
  exit 2
fi
for tool in jackd jack_wait; do
  if ! command -v "$tool" >/dev/null; then
    echo "with_jack_dummy: $tool not found: apt-get install jackd2 (or run scripts/install-deps test)" >&2
    exit 1
  fi
done

rate=${COURIER_JACK_RATE:-48000}
period=${COURIER_JACK_PERIOD:-256}
name="courier-test-$$"
log=$(mktemp "${TMPDIR:-/tmp}/with_jack_dummy.XXXXXX")

export JACK_NO_AUDIO_RESERVATION=1
export JACK_DEFAULT_SERVER="$name"
export COURIER_JACK_SERVER="$name"

# A jackd killed without cleaning up (a timed-out test, a stopped session) leaves its registration in /dev/shm,
# and JACK refuses new servers once its small registry is full ("Too many servers already active"). When no
# jackd runs at all, nothing can be using those files, so clear them. The lock keeps two of these scripts
# (ctest -j) from clearing while the other's server starts; it is released once the server is ready.
exec 9>"${TMPDIR:-/tmp}/courier-jack-start.lock"
flock 9
if ! pgrep -x jackd >/dev/null 2>&1; then
  rm -rf /dev/shm/jack_db-*  # a directory
  rm -f /dev/shm/jack-shm-registry /dev/shm/jack_courier-test-* /dev/shm/jack_sem.*courier-test-*
fi

jackd --name "$name" --no-realtime -d dummy -r "$rate" -p "$period" >"$log" 2>&1 &
jackd_pid=$!
export COURIER_JACK_PID=$jackd_pid  # for tests that kill the server on purpose (tests/soak/soak.sh)

stop_server() {
  if kill -0 "$jackd_pid" 2>/dev/null; then
    kill -TERM "$jackd_pid" 2>/dev/null
    for _ in $(seq 50); do
      kill -0 "$jackd_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$jackd_pid" 2>/dev/null && kill -KILL "$jackd_pid" 2>/dev/null
  fi
  wait "$jackd_pid" 2>/dev/null
  rm -f /dev/shm/jack_"$name"_* /dev/shm/jack_sem.*_"$name"_*  # left behind only if it had to be killed
  rm -f "$log"
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# Ready when a client can connect; give up at once if jackd has exited, or after 20 seconds.
ready=0
for _ in $(seq 20); do
  if ! kill -0 "$jackd_pid" 2>/dev/null; then
    break
  fi
  if jack_wait --wait --timeout 1 >/dev/null 2>&1; then
    ready=1
    break
  fi
done
if [ "$ready" -ne 1 ]; then
  if kill -0 "$jackd_pid" 2>/dev/null; then
    echo "with_jack_dummy: jackd (pid $jackd_pid) did not accept clients within 20 s. Its output:" >&2
  else
    echo "with_jack_dummy: jackd exited before it was ready. Its output:" >&2
  fi
  sed 's/^/  jackd: /' "$log" >&2
  exit 1
fi
echo "with_jack_dummy: JACK server '$name' running (dummy backend, $rate Hz, $period frames), pid $jackd_pid"
flock -u 9

"$@"
status=$?
exit "$status"
