# t_recover.sh: a lepton killed with SIGKILL at any moment leaves a state
# the next command recovers from, without a manual step.

recover_spec() {
	mkdir -p "$T/svc"
	cat >"$T/svc/service.yaml" <<YAML
kind: service
name: phoenix
run: exec python3 -m http.server --bind 127.0.0.1 --directory "$T/svc" "\$LEPTON_PORT"
env: {ROUND: "$1"}
service:
  readiness: {path: /, timeout: 20}
  replicas: 2
YAML
	echo "$T/svc/service.yaml"
}

# kill_deploy SPEC: a deploy, killed -9 after 50-400 ms.
kill_deploy() {
	$LEPTON deploy "$1" >/dev/null 2>&1 &
	_p=$!
	sleep "$(awk -v s="$$$i" 'BEGIN { srand(s); printf "%.2f", 0.05 + rand() * 0.35 }')"
	kill -9 $_p 2>/dev/null
	wait $_p 2>/dev/null
}

test_deploy_after_killed_deploy_from_stopped() {
	i=0
	while [ $i -lt 8 ]; do
		i=$((i + 1))
		s=$(recover_spec "$i")
		kill_deploy "$s"
		run $LEPTON deploy "$s"
		[ $rc = 0 ] || fail "try $i: exit $rc: $(cat "$err")"
		run $LEPTON stop phoenix
		expect_rc 0
	done
	gone() { [ -z "$(procs_with "$T/svc")" ]; }
	wait_for 10 gone || fail "left running: $(procs_with "$T/svc")"
}

test_deploy_after_killed_update_from_running() {
	s=$(recover_spec 0)
	run $LEPTON deploy "$s"
	expect_rc 0
	i=0
	while [ $i -lt 6 ]; do
		i=$((i + 1))
		kill_deploy "$(recover_spec "k$i")"
		s=$(recover_spec "$i")
		run $LEPTON deploy "$s"
		[ $rc = 0 ] || fail "try $i: exit $rc: $(cat "$err")"
		run $LEPTON --json status phoenix
		[ "$(jget "$out" 'd["result"]["state"]')" = running ] ||
		    fail "try $i: $(cat "$out")"
	done
	run $LEPTON stop phoenix
	expect_rc 0
	gone() { [ -z "$(procs_with "$T/svc")" ]; }
	wait_for 10 gone || fail "left running: $(procs_with "$T/svc")"
}

test_rotated_secret_rolls_a_new_revision() {
	mkdir -p "$T/sec"
	cat >"$T/sec/service.yaml" <<YAML
kind: service
name: rotor
run: printf %s "\$CANARY" >"$T/sec/seen"; exec python3 -m http.server --bind 127.0.0.1 --directory "$T/sec" "\$LEPTON_PORT"
secrets: [CANARY]
service:
  readiness: {path: /, timeout: 20}
YAML
	CANARY=old-value-4f1 run $LEPTON deploy "$T/sec/service.yaml"
	expect_rc 0
	[ "$(cat "$T/sec/seen")" = old-value-4f1 ] || fail "seen: $(cat "$T/sec/seen")"
	CANARY=old-value-4f1 run $LEPTON deploy "$T/sec/service.yaml"
	expect_rc 0
	expect_out "unchanged"
	CANARY=new-value-9c2 run $LEPTON deploy "$T/sec/service.yaml"
	expect_rc 0
	grep -q unchanged "$out" && fail "a rotated secret was 'unchanged'"
	[ "$(cat "$T/sec/seen")" = new-value-9c2 ] || fail "seen: $(cat "$T/sec/seen")"
	# Unset: refused, as on a first deploy, and nothing changes.
	run env -u CANARY $LEPTON deploy "$T/sec/service.yaml"
	expect_rc 4
	expect_err "secret 'CANARY' is not set"
	[ "$(cat "$T/sec/seen")" = new-value-9c2 ] || fail "restarted"
	# Only a keyed hash reaches the state repository.
	git -C "$LEPTON_HOME/state" cat-file --batch-all-objects --batch |
	    grep -a -e old-value-4f1 -e new-value-9c2 && fail "value in git"
	run $LEPTON stop rotor
	expect_rc 0
}

# The wrappers (sh -c) and the supervisor killed -9: their servers live on.
kill_wrappers() {
	kill -9 $($PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['pid'], *[r['pid'] for v in d['revisions'] for r in v['replicas']])" "$LEPTON_HOME/local/phoenix/state.json")
}

test_servers_outliving_their_wrappers_are_reaped() {
	# No exec: sh -c stays as the wrapper, the server its child.
	s=$(recover_spec 1)
	sed -i 's/run: exec /run: /' "$s"
	run $LEPTON deploy "$s"
	expect_rc 0
	server() {
		run $LEPTON --json status phoenix
		pid=$(jget "$out" 'd["result"]["replicas"][0]["pid"]')
		grep -q http.server "/proc/$pid/cmdline" 2>/dev/null
	}
	wait_for 10 server || fail "status shows pid $pid, not the server"
	old=$pid
	kill_wrappers
	sleep 0.3
	pid_alive "$old" || fail "nothing outlived the wrappers"
	s=$(recover_spec 2)
	sed -i 's/run: exec /run: /' "$s"
	run $LEPTON deploy "$s"
	expect_rc 0
	expect_err "left behind"
	! pid_alive "$old" || fail "server $old outlived the next deploy"
	wait_for 10 server || fail "status shows pid $pid, not the server"
	kill_wrappers
	run $LEPTON stop phoenix
	expect_rc 0
	gone() { [ -z "$(procs_with "$T/svc")" ]; }
	wait_for 10 gone || fail "left running: $(procs_with "$T/svc")"
}
