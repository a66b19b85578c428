# t_security.sh: tokens, secrets and the state lock.

test_endpoint_needs_the_token() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	run $LEPTON --json status iris
	ep=$(jget "$out" 'd["result"]["endpoint"]')
	run $LEPTON predict "$ep/predict" -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 4
	expect_err "HTTP 401"
	LEPTON_TOKEN=wrong run $LEPTON predict "$ep/predict" -d '{"inputs": [[1, 2, 3, 4]]}'
	expect_rc 4
	mode=$(stat -c %a "$LEPTON_HOME/local/iris/secrets.json")
	[ "$mode" = 600 ] || fail "secrets.json mode $mode"
	chmod 644 "$LEPTON_HOME/local/iris/secrets.json"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 4
	expect_err "others may read it"
	chmod 600 "$LEPTON_HOME/local/iris/secrets.json"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
}

test_secrets_reach_the_process_and_nowhere_else() {
	mkdir -p "$T/svc"
	cat >"$T/svc/service.yaml" <<'YAML'
kind: service
name: secretive
secrets: [MY_SECRET]
run: |
  echo "secret length ${#MY_SECRET}"
  exec python3 -m http.server "$LEPTON_PORT" --bind 127.0.0.1
service:
  readiness: {path: /, timeout: 20}
YAML
	run $LEPTON deploy "$T/svc/service.yaml"
	expect_rc 4
	expect_err "secret 'MY_SECRET' is not set"
	MY_SECRET=s3cr3t-value-xyz run $LEPTON deploy "$T/svc/service.yaml"
	expect_rc 0
	run $LEPTON logs secretive
	expect_out "secret length 16"
	grep -rl "s3cr3t-value-xyz" "$LEPTON_HOME" >"$T/hits" || true
	[ "$(cat "$T/hits")" = "$LEPTON_HOME/local/secretive/secrets.json" ] ||
	    fail "secret found in: $(cat "$T/hits")"
	ps -eo args | grep -q "[s]3cr3t-value-xyz" && fail "secret in argv"
	true
}

test_lock_held_elsewhere_exits_locked() {
	mkdir -p "$LEPTON_HOME"
	$PY -c '
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(30)
' "$LEPTON_HOME/lock" "$T/locked" &
	holder=$!
	wait_for 5 test -e "$T/locked" || fail "holder did not lock"
	d=$(iris_copy)
	run $LEPTON deploy --lock-timeout 1 "$d/service.yaml"
	kill $holder
	expect_rc 12
	expect_err "locked by process $holder"
}
