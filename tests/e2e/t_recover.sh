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

# The revision status names is in the history, which has no number
# above the record's: one numbering.
same_numbers() {
	run $LEPTON --json status phoenix
	a=$(jget "$out" 'd["result"]["revision"]')
	run $LEPTON --json history phoenix
	jget "$out" '[r["revision"] for r in d["result"]["revisions"]]' |
	    grep -qw "$a" || fail "status's revision $a not in $(cat "$out")"
	r=$(jget "$LEPTON_HOME/deployments/phoenix.json" 'd["revision"]')
	b=$(jget "$out" 'd["result"]["revisions"][0]["revision"]')
	[ "$r" = "$b" ] || fail "the record says revision $r, history $b"
}

test_interrupted_and_killed_deploys_keep_one_numbering() {
	s=$(recover_spec 1)
	sed -i 's/run: exec /run: sleep 1; exec /' "$s"
	run $LEPTON deploy "$s"
	expect_rc 0
	# Ctrl-C while revision 2 starts: it goes on, and becomes ready.
	s=$(recover_spec 2)
	sed -i 's/run: exec /run: sleep 1; exec /' "$s"
	$LEPTON deploy "$s" >/dev/null 2>"$T/int.err" &
	p=$!
	sleep 0.4
	kill -INT $p
	wait $p
	[ $? = 130 ] || fail "interrupted deploy: $(cat "$T/int.err")"
	serving2() {
		run $LEPTON --json status phoenix
		[ "$(jget "$out" 'd["result"]["revision"]')" = 2 ] &&
		    [ "$(jget "$out" 'd["result"]["ready"]')" = 2 ]
	}
	wait_for 20 serving2 || fail "revision 2 never served: $(cat "$out")"
	# A deploy that fails: the automatic rollback returns to revision 2,
	# recorded as ready once it was.
	s=$(recover_spec 3)
	sed -i 's/run: exec .*/run: exit 3/' "$s"
	run $LEPTON deploy "$s"
	expect_rc 1
	expect_err "rolled back to revision 2"
	same_numbers
	# Killed after the record took its number, before the history has
	# it: the number is not lost, nor doubled. (Killed once the record
	# says so, not after a random delay: a loaded machine may not have
	# got that far in 400 ms.)
	rec="$LEPTON_HOME/deployments/phoenix.json"
	before=$(jget "$rec" 'd["revision"]')
	s=$(recover_spec 4)
	sed -i 's/run: exec /run: sleep 2; exec /' "$s"
	$LEPTON deploy "$s" >/dev/null 2>&1 &
	p=$!
	took() { [ "$(jget "$rec" 'd["revision"]' 2>/dev/null)" -gt "$before" ]; }
	wait_for 20 took
	k=$?
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	[ $k = 0 ] || fail "the record never took a number past $before"
	run $LEPTON deploy "$(recover_spec 5)"
	expect_rc 0
	expect_err "was never recorded"
	same_numbers
	run $LEPTON stop phoenix
	expect_rc 0
	same_numbers
	run $LEPTON --json history phoenix
	$PY - "$out" <<'PY' || fail "history: $(cat "$out")"
import json, sys
d = json.load(open(sys.argv[1]))["result"]["revisions"]
nums = [r["revision"] for r in d]
# Newest first, never rising; each number at most twice (interrupted,
# then ready), every one from 1 up there.
assert nums == sorted(nums, reverse=True), nums
assert set(nums) == set(range(1, max(nums) + 1)), nums
PY
}
