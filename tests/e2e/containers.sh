#!/bin/sh
# containers.sh: the containers suite. For each engine, Debian's dockerd
# and Podman's API service (tests/engines/containers, every file under a
# temporary directory, a unix socket): start it once, run the provider
# contract (CHECK_LEPTON) and tests/e2e/containers_tests.sh against it,
# stop it. One SKIP line per engine that this machine cannot run (not
# root, or the packages missing: 'make deps-containers').
: "${LEPTON:?set LEPTON to the binary under test}"
here=$(cd "$(dirname "$0")" && pwd)
engine="$here/../engines/containers"
rc=0
for E in ${LEP_ENGINES:-docker podman}; do
	if ! why=$("$engine" have "$E"); then
		echo "SKIP: containers suite on $E ($why; 'make" \
		    "deps-containers' as root installs it)"
		continue
	fi
	DIR=$(mktemp -d /tmp/lep-$E-XXXX)
	t0=$(date +%s)
	if ! "$engine" up "$E" "$DIR" >"$DIR.up" 2>"$DIR.err"; then
		cat "$DIR.err"
		echo "not ok - the $E engine did not start"
		"$engine" down "$E" "$DIR" >/dev/null 2>&1
		rm -f "$DIR.up" "$DIR.err"
		rc=1
		continue
	fi
	(
		set -a
		. "$DIR.up"
		set +a
		export LEP_ENGINE_DIR="$DIR"
		echo "figure: $E engine start ms: $ENGINE_UP_MS"
		crc=0
		if [ -n "${CHECK_LEPTON:-}" ]; then
			LEP_CONTRACT_PROVIDERS=containers \
			    LEP_TEST_KEEP_ENV="DOCKER_HOST" \
			    CK_RUN_SUITE=contract "$CHECK_LEPTON"
			crc=$?
		fi
		E2E_FILES="$here/containers_tests.sh $here/umask_containers_tests.sh" \
		    sh "$here/run.sh"
		r=$?
		[ $r = 0 ] && r=$crc
		exit $r
	)
	r=$?
	[ $r = 0 ] || rc=$r
	"$engine" down "$E" "$DIR" >"$DIR.down" 2>&1 || cat "$DIR.down"
	sed -n "s/^ENGINE_DOWN_MS=/figure: $E engine stop ms: /p" "$DIR.down"
	echo "figure: containers suite on $E s: $(($(date +%s) - t0))"
	rm -f "$DIR.up" "$DIR.err" "$DIR.down"
done
exit $rc
