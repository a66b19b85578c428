#!/bin/sh
# canary.sh: the leak-canary run. Makes three unique canaries
# (tests/e2e/canary.py): LEAK_CANARY_ENV, exported to every test; the
# store's, sealed into every test's home as LEAK_CANARY_STORE before the
# test starts (tests/e2e/canary_hook.sh); and the caller's LEPTON_TOKEN.
# tests/e2e/t_canary.sh sends the first two through deploy, update,
# rollback, predict, logs, status, history, models, train, failures and a
# killed supervisor; the rest of the suite carries them as it runs. Every
# process's argv is sampled meanwhile (and each replica's environment, for
# LEPTON_TOKEN's canary). Afterwards every output, every file under every
# test's directory (each LEPTON_HOME included), every git object there and
# /dev/shm/lepton-* are searched for each canary raw, base64, URL-encoded,
# JSON-escaped and hex, and for the endpoint tokens and secret keys lepton
# made, each allowed only in the files canary.py names. Exits 1 on any hit
# or failed test.
#
# `make canary`: the whole end-to-end suite, then the Slurm and the
# containers suites where this machine runs them (CANARY_SUITES="e2e"
# picks; E2E_ONLY and LEP_ENGINES work as for them). `make check` runs
# CANARY_QUICK=1: t_canary.sh and a sample of the suites that handle
# secrets, tokens and the state repository. KEEP=1 keeps the directory.
: "${LEPTON:?set LEPTON to the binary under test}"
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
# Short: a test's unix sockets live under it. Others may pass through
# (not list) to a test's directory, as they may through /tmp: a
# container's own user reads its model there.
C=$(mktemp -d /tmp/lepcan-XXXXXX)
mkdir "$C/r"
chmod 711 "$C" "$C/r"
"$PY" "$here/canary.py" make "$C/v" || exit 1
# The search itself first: each canary planted in each encoding is found.
"$PY" "$here/canary.py" selftest "$C/v" || exit 1
CANARY_DIR=$C/v
LEAK_CANARY_ENV=$(cat "$CANARY_DIR/env")
# Tests that look at the store, or want no LEPTON_HOME made: no store
# canary (the environment's and LEPTON_TOKEN's still).
CANARY_NO_STORE="test_secret_* test_deploy_invalid_spec_changes_nothing
    test_validate_refuses_keys_its_provider_cannot_honour
    test_home_others_may_write_is_refused"
E2E_HOOK=$here/canary_hook.sh
E2E_TOPDIR=$C/r
export CANARY_DIR LEAK_CANARY_ENV CANARY_NO_STORE E2E_HOOK E2E_TOPDIR
unset CHECK_LEPTON

"$PY" "$here/canary.py" sample "$CANARY_DIR" "$C/r" "$C/procs.json" \
    "$C/stop" "$LEPTON" &
sampler=$!
trap 'touch "$C/stop"; exit 130' INT TERM

# suite NAME SCRIPT [E2E_ONLY]: run it, its output kept for the search.
rc=0
suite() {
	{ E2E_ONLY=${3:-${E2E_ONLY:-}} sh "$2"; echo $? >"$C/rc.$1"; } 2>&1 |
	    tee "$C/r/$1.out"
	[ "$(cat "$C/rc.$1")" = 0 ] || rc=1
}
t0=$(date +%s)
if [ -n "${CANARY_QUICK:-}" ]; then
	suite e2e "$here/run.sh" "test_leak_canary_
	    test_secret_reaches_the_replica_from_the_store
	    test_secret_reaches_a_job_from_the_store
	    test_secrets_reach_the_process_and_nowhere_else
	    test_endpoint_needs_the_token test_rotated_secret_rolls
	    test_batch_reports_bad_lines test_logs_tail_follow_and_json
	    test_state_push_and_pull test_aliases_move_with_a_reflog"
else
	for s in ${CANARY_SUITES:-e2e slurm containers}; do
		case $s in
		e2e) suite e2e "$here/run.sh" ;;
		slurm|containers) suite $s "$here/$s.sh" ;;
		esac
	done
fi
touch "$C/stop"
wait $sampler
echo "canary: suites ran in $(($(date +%s) - t0))s"
"$PY" "$here/canary.py" scan "$CANARY_DIR" "$C/procs.json" "$C/r" || rc=1
if [ $rc = 0 ] && [ -z "${KEEP:-}" ]; then
	rm -rf "$C"
else
	echo "canary: kept $C"
fi
exit $rc
