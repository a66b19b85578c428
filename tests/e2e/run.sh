#!/bin/sh
# run.sh: end-to-end tests against the real binary ($LEPTON) and real
# processes. Runs every test_* function of tests/e2e/t_*.sh, each in a
# subshell with a fresh LEPTON_HOME, and ends with "N passed, N failed".
# E2E_ONLY="pattern..." runs the tests whose name holds one of the
# patterns; E2E_FILES names other test files (the Slurm suite:
# tests/e2e/slurm.sh). A test's "figure: ..." lines are shown under it.
# For the leak-canary run (tests/e2e/canary.sh): E2E_HOOK, a file each
# test's subshell sources just before the test, and E2E_TOPDIR, where
# the tests' directories go, kept whatever the outcome.

: "${LEPTON:?set LEPTON to the binary under test}"
export LEPTON
unset LEPTON_HOME LEPTON_TOKEN XDG_DATA_HOME
export LC_ALL=C TZ=UTC
# No test leaves loopback: gcp's credential chain would ask the metadata
# server at 169.254.169.254; nothing listens on the discard port.
unset GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_CONFIG
export GCE_METADATA_HOST=127.0.0.1:9
# Nor a user's cluster: kubectl's KUBECONFIG, one file that is not there.
export KUBECONFIG=/nonexistent/lepton-tests/kubeconfig
here=$(cd "$(dirname "$0")" && pwd)
TOP=$(mktemp -d "${E2E_TOPDIR:-/tmp}/lepton-e2e-XXXXXX")
pass=0 failn=0 failed=""
t0=$(date +%s)
for f in ${E2E_FILES:-"$here"/t_*.sh}; do
	for t in $(sed -n 's/^\(test_[a-z0-9_]*\)() *{.*/\1/p' "$f"); do
		if [ -n "${E2E_ONLY:-}" ]; then
			for p in $E2E_ONLY; do
				case "$t" in *"$p"*) break ;; esac
			done
			case "$t" in *"$p"*) ;; *) continue ;; esac
		fi
		T="$TOP/$t"
		mkdir -p "$T"
		s=$(date +%s)
		(
			. "$here/lib.sh"
			. "$f"
			export LEPTON_HOME="$T/home" T
			trap cleanup_home EXIT
			[ -z "${E2E_HOOK:-}" ] || . "$E2E_HOOK"
			$t
		) >"$T/log" 2>&1
		r=$?
		d=$(($(date +%s) - s))
		if [ $r = 0 ]; then
			pass=$((pass + 1))
			echo "ok - $t (${d}s)"
			sed -n 's/^figure: /    /p' "$T/log"
		else
			failn=$((failn + 1))
			failed="$failed $t"
			echo "not ok - $t (${d}s)"
			sed 's/^/    /' "$T/log"
		fi
	done
done
echo "e2e: $(($(date +%s) - t0))s"
[ $failn = 0 ] && [ -z "${E2E_TOPDIR:-}" ] && rm -rf "$TOP"
echo "$pass passed, $failn failed"
[ $failn = 0 ]
