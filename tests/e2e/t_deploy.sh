# t_deploy.sh: the iris example deployed for real, end to end.

# Labels of rows 1, 51 and 101 of iris.csv: setosa, versicolor, virginica.
ROWS='{"inputs": [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]]}'

deploy_iris() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	expect_out "iris revision 1 ready on local"
}

test_deploy_predict_status_stop() {
	deploy_iris
	run $LEPTON predict iris -d "$ROWS"
	expect_rc 0
	[ "$(jget "$out" 'd["classes"]')" = "[0, 1, 2]" ] ||
	    fail "classes: $(cat "$out")"
	run $LEPTON --json status iris
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["state"]')" = running ] || fail "not running"
	[ "$(jget "$out" 'd["result"]["ready"]')" = 2 ] || fail "not 2 ready"
	port=$(jget "$out" 'd["result"]["endpoint"].rsplit(":", 1)[1]')
	pids=$(jget "$out" '" ".join(str(r["pid"]) for r in d["result"]["replicas"]) + " " + str(d["result"]["supervisor_pid"])')
	for p in $pids; do pid_alive "$p" || fail "pid $p not alive"; done
	run $LEPTON status
	expect_rc 0
	expect_out "iris"
	expect_out "running"
	run $LEPTON stop iris
	expect_rc 0
	expect_out "iris stopped"
	for p in $pids; do pid_alive "$p" && fail "pid $p still alive"; done
	[ -z "$(procs_with "$T/iris")" ] || fail "left: $(procs_with "$T/iris")"
	port_open "$port" && fail "port $port still listening"
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["state"]')" = stopped ] || fail "not stopped"
	run $LEPTON predict iris -d "$ROWS"
	expect_rc 11
	expect_err "deployment 'iris' is stopped"
}

test_batch_150_rows_in_input_order() {
	deploy_iris
	tail -n +2 "$ROOT/examples/iris/iris.csv" | awk -F, \
	    '{ printf "{\"inputs\": [[%s, %s, %s, %s]]}\n", $1, $2, $3, $4 }' \
	    >"$T/in.jsonl"
	run $LEPTON predict iris -f "$T/in.jsonl" -c 8
	expect_rc 0
	cp "$out" "$T/c8.jsonl"
	[ "$(wc -l <"$T/c8.jsonl")" = 150 ] || fail "$(wc -l <"$T/c8.jsonl") lines"
	run $LEPTON predict iris -f "$T/in.jsonl" -c 1
	cmp -s "$out" "$T/c8.jsonl" || fail "-c 8 and -c 1 differ: order lost"
	# In order: line i is row i of iris.csv, so it mostly has row i's label.
	ok=$($PY - "$T/c8.jsonl" "$ROOT/examples/iris/iris.csv" <<'PY'
import json, sys
labels = [int(l.split(",")[4]) for l in open(sys.argv[2]).read().split("\n")[1:] if l]
got = [json.loads(l)["classes"][0] for l in open(sys.argv[1])]
print(sum(a == b for a, b in zip(got, labels)))
PY
)
	[ "$ok" -ge 142 ] || fail "only $ok of 150 rows match their label"
}

test_batch_reports_bad_lines_and_goes_on() {
	deploy_iris
	printf '%s\n' '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' 'not json' \
	    '{"inputs": [[1, 2]]}' '{"inputs": [[6.3, 3.3, 6.0, 2.5]]}' \
	    >"$T/in.jsonl"
	run $LEPTON predict iris -f "$T/in.jsonl" -c 4
	expect_rc 1
	expect_err "line 2: not JSON"
	expect_err "line 3:"
	expect_err "2 of 4 lines failed"
	[ "$(wc -l <"$out")" = 4 ] || fail "want 4 lines: $(cat "$out")"
	[ "$(sed -n 2p "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["line"])')" = 2 ] || fail "line 2"
	[ "$(sed -n 3p "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["error"]["status"])')" = 400 ] || fail "line 3 status"
	[ "$(sed -n 4p "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["classes"])')" = "[2]" ] || fail "line 4"
}

test_killed_replica_is_restarted() {
	deploy_iris
	run $LEPTON --json status iris
	victim=$(jget "$out" 'd["result"]["replicas"][0]["pid"]')
	kill -9 "$victim"
	# At once, status tells the truth: one replica is gone.
	run $LEPTON --json status iris
	st=$(jget "$out" 'd["result"]["state"]')
	[ "$st" = degraded ] || [ "$st" = running ] || fail "state $st"
	restarted() {
		$LEPTON --json status iris >"$T/s.json" 2>/dev/null &&
		[ "$(jget "$T/s.json" 'd["result"]["state"]')" = running ] &&
		[ "$(jget "$T/s.json" 'd["result"]["replicas"][0]["restarts"]')" = 1 ]
	}
	wait_for 15 restarted || fail "not restarted: $(cat "$T/s.json")"
	new=$(jget "$T/s.json" 'd["result"]["replicas"][0]["pid"]')
	[ "$new" != "$victim" ] || fail "same pid"
	run $LEPTON logs iris --replica 0
	# status shows the server, not its sh -c: the shell reports 137.
	grep -qE "lepton: replica 0 exited \((signal 9|exit status 137)\); restarting" "$out" ||
	    fail "no restart line: $(cat "$out")"
	run $LEPTON predict iris -d "$ROWS"
	expect_rc 0
}

test_update_switches_with_no_failed_request() {
	deploy_iris
	run $LEPTON --json status iris
	ep1=$(jget "$out" 'd["result"]["endpoint"]')
	old=$(jget "$out" '" ".join(str(r["pid"]) for r in d["result"]["replicas"])')
	# A load that runs through the whole switch, one request at a time.
	load_begin iris 2000
	sleep 0.5
	sed -i 's/PYTHONUNBUFFERED: "1"/PYTHONUNBUFFERED: "1"\n  VARIANT: "b"/' \
	    "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	expect_out "iris revision 2 ready"
	sleep 0.5
	load_end
	[ "$n" -ge 10 ] || fail "only $n requests during the switch"
	[ "$bad" = 0 ] || fail "$bad of $n requests failed: $(head -5 "$T/load.err")"
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["endpoint"]')" = "$ep1" ] || fail "endpoint moved"
	[ "$(jget "$out" 'd["result"]["revision"]')" = 2 ] || fail "revision"
	# The old revision's replicas are gone once drained.
	gone() { for p in $old; do pid_alive "$p" && return 1; done; return 0; }
	wait_for 15 gone || fail "old replicas still alive: $old"
	echo "figure: switch: $n requests, $bad failed"
}

test_same_spec_again_is_a_no_op() {
	deploy_iris
	run $LEPTON --json status iris
	pids=$(jget "$out" '[r["pid"] for r in d["result"]["replicas"]]')
	run $LEPTON --json deploy "$d/service.yaml"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["changed"]')" = False ] || fail "changed"
	[ "$(jget "$out" 'd["result"]["revision"]')" = 1 ] || fail "revision moved"
	run $LEPTON --json status iris
	[ "$(jget "$out" '[r["pid"] for r in d["result"]["replicas"]]')" = "$pids" ] ||
	    fail "replicas were replaced"
	# Different model bytes are a different deploy.
	echo " " >>"$d/model/model.json"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	expect_out "revision 2 ready"
}

test_logs_tail_follow_and_json() {
	deploy_iris
	$LEPTON predict iris -d "$ROWS" >/dev/null || fail "predict"
	run $LEPTON logs iris --tail 1
	expect_rc 0
	[ "$(wc -l <"$out")" = 2 ] || fail "want one line per replica: $(cat "$out")"
	grep -q '^r0| ' "$out" || fail "no r0 prefix"
	run $LEPTON --json logs iris
	expect_rc 0
	jget "$out" 'd["result"]["lines"][0]["source"]' | grep -q '^r[01]$' ||
	    fail "json lines"
	run $LEPTON --json logs -f iris
	expect_rc 2
	# --follow ends when the deployment stops.
	$LEPTON logs -f iris >"$T/follow.out" 2>&1 &
	f=$!
	sleep 0.5
	$LEPTON stop iris >/dev/null
	wait_for 5 eval '! kill -0 $f 2>/dev/null' || fail "logs -f did not end"
	grep -q "serving iris" "$T/follow.out" || fail "follow printed nothing"
}
