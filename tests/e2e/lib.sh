# lib.sh: helpers for the end-to-end tests, sourced by run.sh.
# Every test runs in its own subshell with its own LEPTON_HOME; a failed
# assertion prints why and exits that subshell non-zero.

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${PYTHON:-python3}

fail() {
	echo "    FAIL: $*" >&2
	exit 1
}

# run CMD...: sets $rc, $out (stdout file) and $err (stderr file).
run() {
	out=$T/out.$$ err=$T/err.$$
	"$@" >"$out" 2>"$err"
	rc=$?
	return 0
}

expect_rc() {
	[ "$rc" = "$1" ] || fail "exit $rc, want $1; stderr: $(head -c 600 "$err")"
}

expect_err() {
	grep -qF -- "$1" "$err" || fail "stderr lacks '$1': $(head -c 600 "$err")"
}

expect_out() {
	grep -qF -- "$1" "$out" || fail "stdout lacks '$1': $(head -c 600 "$out")"
}

# jq-like: jget FILE EXPR (Python expression on d, the parsed document).
jget() {
	$PY -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# A copy of the iris example in the test's sandbox.
iris_copy() {
	mkdir -p "$T/iris"
	cp -r "$ROOT/examples/iris/." "$T/iris/"
	echo "$T/iris"
}

# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	_n=$(($1 * 10)); shift
	while [ $_n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# Alive and not a zombie (PID 1 in a container may never reap them).
pid_alive() {
	_st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$_st" ] && [ "${_st#Z}" = "$_st" ]
}

port_open() {
	$PY -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1', int(sys.argv[1]))) != 0)" "$1"
}

# Processes whose command line holds a marker (the sandbox path).
procs_with() {
	pgrep -f -- "$1" 2>/dev/null | grep -v "^$$\$" || true
}

# load_begin NAME MAX: predict requests ($ROWS) to NAME one at a time in
# the background, at most MAX, until load_end; which sets $n (sent) and
# $bad (failed), their errors in $T/load.err.
load_begin() {
	rm -f "$T/stop-load"
	(
		i=0 bad=0
		while [ ! -e "$T/stop-load" ] && [ $i -lt "$2" ]; do
			$LEPTON predict "$1" -d "$ROWS" >/dev/null 2>>"$T/load.err" ||
			    bad=$((bad + 1))
			i=$((i + 1))
		done
		echo "$i $bad" >"$T/load.result"
	) &
	loader=$!
}

load_end() {
	touch "$T/stop-load"
	wait $loader
	read n bad <"$T/load.result"
}

# Secret values through a provider (t_canary.sh, and one test each in
# slurm_tests.sh and containers_tests.sh): specs that name
# LEAK_CANARY_ENV and LEAK_CANARY_STORE, whose replicas and jobs print
# "env sha ..." and "store sha ..." (expect_shas), never the values.
# canary_values: LEAK_CANARY_ENV exported, LEAK_CANARY_STORE in this
# home's store; $T/want.env and $T/want.store hold their sha256.
canary_values() {
	rnd() { od -An -N10 -tx1 /dev/urandom | tr -d ' \n'; }
	if [ -z "${LEAK_CANARY_ENV:-}" ]; then
		LEAK_CANARY_ENV="CNRYe$(rnd) \"q's\\b\$x /+=&%"
		export LEAK_CANARY_ENV
	fi
	sf=${CANARY_DIR:+$CANARY_DIR/store}
	if [ -z "$sf" ]; then
		sf=$T/store.value
		printf 'CNRYs%s "q'\''s\\b$x\n-----END KEY-----' "$(rnd)" >"$sf"
	fi
	$LEPTON secret list 2>/dev/null | grep -q '^LEAK_CANARY_STORE ' ||
	    $LEPTON secret set LEAK_CANARY_STORE <"$sf" >/dev/null 2>&1 ||
	    fail "cannot store LEAK_CANARY_STORE"
	printf %s "$LEAK_CANARY_ENV" | sha256sum | cut -c1-64 >"$T/want.env"
	sha256sum <"$sf" | cut -c1-64 >"$T/want.store"
}

expect_shas() {
	expect_out "env sha $(cat "$T/want.env")"
	expect_out "store sha $(cat "$T/want.store")"
}

# Every output this test captured, every FILE named, and every file of
# its home but the deployments' 0600 secrets.json, lack the start of both
# values, and of the caller's LEPTON_TOKEN if set (the sealed copies in
# the store are ciphertext). The patterns
# are in a file outside $T, for grep -f: never in an argv, nor left for
# canary.sh to find.
canary_nowhere_else() {
	cores=$(mktemp)
	{ printf %s "$LEAK_CANARY_ENV" | head -c 25; echo
	  head -c 25 "$sf"; echo
	  [ -z "${LEPTON_TOKEN:-}" ] ||
	      { printf %s "$LEPTON_TOKEN" | head -c 25; echo; }; } >"$cores"
	why=
	cat "$T"/out.* "$T"/err.* "$T"/canary.out "$T"/canary.err "$@" \
	    2>/dev/null | grep -aFf "$cores" >/dev/null &&
	    why="a value in the output"
	grep -rlaFf "$cores" "$LEPTON_HOME" |
	    grep -v '/\(local\|containers\)/[^/]*/secrets\.json$' >"$T/hits"
	[ -s "$T/hits" ] && why="a value in: $(cat "$T/hits")"
	git -C "$LEPTON_HOME/state" cat-file --batch-all-objects --batch |
	    grep -aFf "$cores" >/dev/null && why="a value in the state repository"
	ps -eo args | grep -aFf "$cores" >/dev/null && why="a value in an argv"
	rm -f "$cores"
	[ -z "$why" ] || fail "$why"
}

# Stop every deployment of this test, whatever happened.
cleanup_home() {
	[ -d "$LEPTON_HOME/deployments" ] || return 0
	for f in "$LEPTON_HOME"/deployments/*.json; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .json)
		$LEPTON stop --grace 2 "$n" >/dev/null 2>&1
	done
}
