#!/bin/sh
# slurm.sh: the Slurm suite. Starts a real two-node Slurm cluster
# (tests/engines/slurm: munged, slurmctld, two slurmd, slurmrestd on
# 127.0.0.1), runs tests/e2e/slurm_tests.sh and slurm_fault_tests.sh (the
# same through tests/faultproxy.py) against it through run.sh,
# and the provider contract suite (CHECK_LEPTON), and stops it. Prints one SKIP line when this machine cannot run Slurm
# (not root, or the packages missing: 'make deps-slurm').
: "${LEPTON:?set LEPTON to the binary under test}"
here=$(cd "$(dirname "$0")" && pwd)
engine="$here/../engines/slurm"
if ! why=$("$engine" have); then
	echo "SKIP: Slurm suite ($why; 'make deps-slurm' as root installs Slurm)"
	exit 0
fi
# slurmrestd runs as nobody and must reach DIR's files: not under a
# 0700 directory.
CL=$(mktemp -d /tmp/lepton-slurm-XXXXXX)
chmod 755 "$CL"
stop() {
	"$engine" down "$CL" >"$CL/down.out" 2>&1
	sed -n 's/^SLURM_DOWN_MS=/figure: cluster stop ms: /p' "$CL/down.out"
	rm -rf "$CL"
}
trap stop EXIT
trap 'exit 130' INT TERM
t0=$(date +%s)
if ! "$engine" up "$CL" 2 >"$CL/up.out" 2>"$CL/up.err"; then
	cat "$CL/up.err"
	echo "not ok - the Slurm cluster did not start"
	exit 1
fi
echo "figure: cluster start ms: $(sed -n 's/^SLURM_UP_MS=//p' "$CL/up.out")"
SLURMRESTD_URL=$(sed -n 's/^SLURMRESTD_URL=//p' "$CL/up.out")
SLURM_JWT=$(cat "$CL/jwt")
SLURM_CONF="$CL/slurm.conf"
export SLURMRESTD_URL SLURM_JWT SLURM_CONF
crc=0
# The provider contract (tests/check_contract.c) on this cluster, with the
# Check binary built beside lepton ($CHECK_LEPTON).
if [ -n "${CHECK_LEPTON:-}" ]; then
	LEP_CONTRACT_PROVIDERS=slurm LEP_TEST_KEEP_ENV="SLURM_JWT SLURMRESTD_URL" \
	    CK_RUN_SUITE=contract "$CHECK_LEPTON"
	crc=$?
fi
E2E_FILES="$here/slurm_tests.sh $here/slurm_fault_tests.sh" sh "$here/run.sh"
rc=$?
[ $rc = 0 ] && rc=$crc
echo "figure: Slurm suite s: $(($(date +%s) - t0))"
exit $rc
