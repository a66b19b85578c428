# t_failure.sh: what goes wrong must fail clearly and leave nothing behind.

spec_in() {
	mkdir -p "$T/svc"
	cat >"$T/svc/service.yaml"
	echo "$T/svc/service.yaml"
}

test_readiness_never_passes_fails_within_timeout() {
	s=$(spec_in <<'YAML'
kind: service
name: sleepy
run: exec python3 -c "import time; time.sleep(600)" never-ready-marker
service:
  readiness: {path: /healthz, timeout: 2}
  replicas: 2
YAML
)
	t0=$(date +%s)
	run $LEPTON deploy "$s"
	t=$(($(date +%s) - t0))
	expect_rc 8
	expect_err "readiness probe GET /healthz did not pass within 2s"
	[ $t -le 15 ] || fail "took ${t}s"
	gone() { [ -z "$(procs_with never-ready-marker)" ]; }
	wait_for 15 gone || fail "left running: $(procs_with never-ready-marker)"
	run $LEPTON --json status sleepy
	[ "$(jget "$out" 'd["result"]["state"]')" = failed ] || fail "state: $(cat "$out")"
}

test_replica_crash_before_ready_fails_fast() {
	s=$(spec_in <<'YAML'
kind: service
name: crashy
run: echo "boom" >&2; exit 3
service:
  readiness: {timeout: 60}
YAML
)
	t0=$(date +%s)
	run $LEPTON deploy "$s"
	expect_rc 1
	expect_err "replica 0 exited (exit status 3) before it was ready"
	[ $(($(date +%s) - t0)) -le 10 ] || fail "slow"
	run $LEPTON logs crashy
	expect_out "boom"
}

test_setup_failure_is_reported() {
	s=$(spec_in <<'YAML'
kind: service
name: badsetup
setup: echo "installing"; exit 4
run: exec python3 -m http.server "$LEPTON_PORT"
YAML
)
	run $LEPTON deploy "$s"
	expect_rc 1
	expect_err "setup failed (exit status 4)"
	run $LEPTON logs badsetup --setup
	expect_out "installing"
}

test_failed_update_keeps_old_revision_serving() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	sed -i 's/^run: .*/run: exit 5/' "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 1
	expect_err "revision 2 of 'iris' failed"
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["state"]')" = running ] || fail "not running"
	[ "$(jget "$out" 'd["result"]["revision"]')" = 1 ] || fail "not rev 1"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
}

test_dead_supervisor_is_seen_and_cleaned_up() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	run $LEPTON --json status iris
	sup=$(jget "$out" 'd["result"]["supervisor_pid"]')
	kill -9 "$sup"
	sleep 0.2
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["state"]')" = degraded ] || fail "state: $(cat "$out")"
	jget "$out" 'd["result"]["message"]' | grep -q "supervisor is not running" ||
	    fail "message"
	run $LEPTON stop iris
	expect_rc 0
	gone() { [ -z "$(procs_with "$T/iris")" ]; }
	wait_for 15 gone || fail "left: $(procs_with "$T/iris")"
	# And the next deploy starts over without a manual step.
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
}

test_predict_errors_have_their_codes() {
	run $LEPTON predict nothing-here -d '{}'
	expect_rc 5
	run $LEPTON predict http://127.0.0.1:9/ -d '{}' --timeout 2
	expect_rc 7
	run $LEPTON predict http://127.0.0.1:9/ -d 'not json'
	expect_rc 2
	expect_err "request body: line 1 col 1: invalid JSON"
}

# Two revisions of a small service; $S is its state repository.
two_revisions() {
	s=$(spec_in <<'YAML'
kind: service
name: web
run: exec python3 -m http.server "$LEPTON_PORT"
service:
  readiness: {path: /, timeout: 20}
YAML
)
	run $LEPTON deploy "$s"
	expect_rc 0
	printf 'env: {COLOUR: blue}\n' >>"$s"
	run $LEPTON deploy "$s"
	expect_rc 0
	S=$LEPTON_HOME/state
}

# A state repository that cannot be read is an error, never "stopped" or
# "not deployed": as root, chmod stops nothing, so corrupt a git object.
test_unreadable_revision_is_an_error_not_a_stop() {
	two_revisions
	blob=$(git -C "$S" rev-parse HEAD~1:deployments/web.json)
	obj=$S/objects/$(echo "$blob" | cut -c1-2)/$(echo "$blob" | cut -c3-)
	[ -f "$obj" ] || fail "no loose object $obj"
	chmod u+w "$obj"
	echo "not zlib" >"$obj"
	run $LEPTON rollback web
	expect_rc 1
	expect_err "state repository"
	grep -q "is a stop" "$err" && fail "a corrupt object read as a stop"
	run $LEPTON --json status web
	[ "$(jget "$out" 'd["result"]["revision"]')" = 2 ] || fail "moved"
}

# A damaged HEAD ref is not "no history yet".
test_corrupt_head_is_an_error_not_not_deployed() {
	two_revisions
	echo "0123 not an object id" >"$S/refs/heads/main"
	run $LEPTON history web
	expect_rc 15
	expect_err "state repository"
	run $LEPTON rollback web
	expect_rc 15
	expect_err "state repository"
	# A changed spec: the deploy must not start before it can record.
	sed -i 's/blue/red/' "$s"
	run $LEPTON deploy "$s"
	expect_rc 15
	expect_err "state repository"
	run $LEPTON --json status web
	[ "$(jget "$out" 'd["result"]["revision"]')" = 2 ] || fail "deployed"
}
