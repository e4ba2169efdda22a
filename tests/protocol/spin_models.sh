#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Verifies the protocols' spin models (patterns/protocol/models/*.pml) exhaustively: for each configuration,
# spin -a, cc pan.c with -DSAFETY (assertions and invalid end states), ./pan over the whole state space. The
# correct models must show 0 errors over a complete search; the deliberately broken models (a publisher that
# notifies after the ack, a request_reply server whose progress takes the final replies' room) must be caught. Prints the states explored per model and writes them to WORK/spin_states.txt.
# Exits 77 (ctest's skip code) when spin is not installed.
# Usage: tests/protocol/spin_models.sh MODELS_DIR WORK_DIR [long]
#   long (or COURIER_SPIN_LONG=1) adds larger configurations (about a minute and 1 GB more).
set -euo pipefail

models=$(cd "${1:?usage: $0 MODELS_DIR WORK_DIR [long]}" && pwd)
work=${2:?usage: $0 MODELS_DIR WORK_DIR [long]}
long=${3:-${COURIER_SPIN_LONG:-}}
[ "$long" = 1 ] && long=long

if ! command -v spin >/dev/null; then
  echo "spin_models: spin not found, skipping (scripts/install-deps test installs it)"
  exit 77
fi
cc=${CC:-cc}
command -v "$cc" >/dev/null || { echo "spin_models: no C compiler ($cc) to build spin's verifier" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
summary=$work/spin_states.txt
: >"$summary"
failures=0

# verify NAME EXPECT DESCRIPTION MODEL [SPIN_DEFINES...]
#   EXPECT is "pass" (a complete search with 0 errors) or the text of the assertion spin must report.
verify() {
  local name=$1 expect=$2 description=$3 model=$4
  shift 4
  local dir=$work/$name
  mkdir -p "$dir"
  local started=$SECONDS
  if ! (cd "$dir" && spin -a "$@" "$models/$model" >spin.log 2>&1); then
    echo "FAIL $name: spin -a $* $model"; cat "$dir/spin.log"; failures=$((failures + 1)); return
  fi
  # -w: no warnings from the generated C; -DCOLLAPSE: compressed state storage (the search stays exhaustive).
  # -O0 unless asked: compiling pan.c with -O2 costs more than it saves on models of a few million states.
  if ! (cd "$dir" && "$cc" "${pan_opt:--O0}" -w -DSAFETY -DCOLLAPSE -o pan pan.c >cc.log 2>&1); then
    echo "FAIL $name: cc pan.c"; cat "$dir/cc.log"; failures=$((failures + 1)); return
  fi
  # -m: search depth (spin says "max search depth too small" if a path is longer); -w21: a 2M-slot hash table.
  (cd "$dir" && ./pan -m1000000 -w21 >pan.log 2>&1) || true
  local log=$dir/pan.log
  local states errors
  states=$(sed -n 's/^ *\([0-9][0-9.e+]*\) states, stored.*/\1/p' "$log" | head -n 1)
  errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
  local seconds=$((SECONDS - started))
  if [ "$expect" = pass ]; then
    if [ "${errors:-x}" = 0 ] && ! grep -q -e "max search depth too small" -e "Search not completed" "$log"; then
      printf '%-34s %10s states, 0 errors (%s; %ss)\n' "$name" "$states" "$description" "$seconds" | tee -a "$summary"
    else
      echo "FAIL $name ($description): spin found an error or did not complete the search"
      grep -E "violated|invalid end state|errors:|max search depth|not completed" "$log" || tail -n 20 "$log"
      (cd "$dir" && [ -f "$model.trail" ] && spin -t -p -g "$@" "$models/$model" | tail -n 60) || true
      failures=$((failures + 1))
    fi
  else
    if grep -qF "assertion violated $expect" "$log" || grep -qF "assertion violated  $expect" "$log"; then
      printf '%-34s caught after %s states: %s (%s; %ss)\n' "$name" "$states" "assertion violated $expect" \
        "$description" "$seconds" | tee -a "$summary"
    else
      echo "FAIL $name ($description): spin did not report the expected error: $expect"
      grep -E "violated|invalid end state|errors:" "$log" || tail -n 20 "$log"
      failures=$((failures + 1))
    fi
  fi
}

verify request_reply_c1 pass "credits 1, any number of requests" request_reply.pml -DCREDITS=1 -DIDS=3
verify request_reply_c2_r3 pass "credits 2, 3 requests" request_reply.pml -DCREDITS=2 -DREQUESTS=3 -DIDS=5
verify request_reply_c1_p2 pass "credits 1, 2 progress credits, any number of requests" request_reply.pml \
  -DCREDITS=1 -DIDS=3 -DPROGRESS=2
verify request_reply_c2_r2_p1 pass "credits 2, 1 progress credit, 2 requests" request_reply.pml \
  -DCREDITS=2 -DREQUESTS=2 -DIDS=5 -DPROGRESS=1
verify request_reply_progress_unreserved '(slot!=255)' "broken server: progress takes the finals' room" \
  request_reply.pml -DCREDITS=1 -DIDS=3 -DPROGRESS=1 -DPROGRESS_UNRESERVED
verify subscription_c2 pass "credits 2, any number of subscriptions" subscription.pml -DCREDITS=2 -DIDS=2
verify subscription_ack_before_forget '!(after_ack[id])' "broken publisher: ack first, forget at the next poll" \
  subscription.pml -DCREDITS=2 -DIDS=2 -DACK_BEFORE_FORGET
verify stream_c2 pass "credits 2, any number of items" stream.pml -DCREDITS=2
if [ "$long" = long ]; then
  pan_opt=-O2
  verify request_reply_c2_r4 pass "credits 2, 4 requests" request_reply.pml -DCREDITS=2 -DREQUESTS=4 -DIDS=5
  verify request_reply_c2_r3_p1 pass "credits 2, 1 progress credit, 3 requests" request_reply.pml -DCREDITS=2 \
    -DREQUESTS=3 -DIDS=5 -DPROGRESS=1
  verify subscription_c3 pass "credits 3, any number of subscriptions" subscription.pml -DCREDITS=3 -DIDS=2
  verify stream_c3 pass "credits 3, any number of items" stream.pml -DCREDITS=3
fi

if [ "$failures" -ne 0 ]; then
  echo "spin_models: $failures configuration(s) failed"
  exit 1
fi
echo "spin_models: every model verified (states per model in $summary)"
