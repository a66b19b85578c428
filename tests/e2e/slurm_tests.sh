# slurm_tests.sh: end-to-end tests on a real Slurm cluster, run by
# tests/e2e/slurm.sh (which starts the cluster and exports
# SLURMRESTD_URL, SLURM_JWT and SLURM_CONF).

FIX="$ROOT/tests/fixtures/slurm"

# slurm_state ID: Slurm's own job_state of lepton job ID (its last Slurm
# job), asked of slurmrestd directly, not through lepton.
slurm_state() {
	$PY - "$LEPTON_HOME/slurm/jobs/$1/job.json" <<'PYEOF'
import json, os, sys, urllib.request
sid = json.load(open(sys.argv[1]))["slurm_ids"][-1]
req = urllib.request.Request(os.environ["SLURMRESTD_URL"] +
    "/slurm/v0.0.38/job/%d" % sid, headers={
    "X-SLURM-USER-NAME": "root", "X-SLURM-USER-TOKEN": os.environ["SLURM_JWT"]})
print(json.load(urllib.request.urlopen(req, timeout=10))["jobs"][0]["job_state"])
PYEOF
}

# Slurm jobs still pending or running under a name.
slurm_live() {
	squeue -h -n "$1" -t PENDING,RUNNING -o %i 2>/dev/null
}

now_ms() { date +%s%3N; }

# wait_log ID TEXT: until lepton job ID's log holds TEXT (30 s at most).
wait_log() {
	wait_for 30 sh -c "grep -q '$2' '$LEPTON_HOME/slurm/jobs/$1/log' 2>/dev/null"
}

# until_state ID STATE SECONDS: poll Slurm until the job is in STATE.
until_state() {
	_end=$(($(date +%s) + $3))
	while [ "$(slurm_state "$1")" != "$2" ]; do
		[ "$(date +%s)" -lt $_end ] || { squeue -t all -o "%i %j %T %r %N" >&2; return 1; }
		sleep 0.1
	done
}

test_slurm_check() {
	run $LEPTON check slurm
	expect_rc 0
	expect_out "from SLURMRESTD_URL"
	expect_out "token      from SLURM_JWT, accepted"
	expect_out "Slurm 22."
	run $LEPTON --json check slurm
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["providers"][0]["details"]["nodes"]')" = 2 ] ||
	    fail "two nodes expected: $(cat "$out")"
	api=$(jget "$out" 'd["result"]["providers"][0]["details"]["api"]')
	[ "$api" -ge 36 ] || fail "api $api"
}

test_slurm_iris_lifecycle() {
	d=$(iris_copy)
	# Time to RUNNING, as Slurm itself reports it.
	t0=$(now_ms)
	run $LEPTON train -d "$d/train-slurm.yaml"
	expect_rc 0
	id=$(cat "$out")
	n=0
	while [ "$(slurm_state "$id")" = PENDING ] && [ $n -lt 600 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	echo "figure: train to Slurm RUNNING ms: $(($(now_ms) - t0))"
	wait_for 60 sh -c "$LEPTON --json status --jobs | grep -q '\"model\": \"iris@v1\"'" ||
	    fail "iris@v1 not registered: $($LEPTON status --jobs)"
	[ "$(slurm_state "$id")" = COMPLETED ] || fail "Slurm says $(slurm_state "$id")"
	run $LEPTON models show iris
	expect_rc 0
	expect_out "v1"

	t0=$(now_ms)
	run $LEPTON deploy "$d/service-slurm.yaml"
	expect_rc 0
	echo "figure: deploy to ready ms: $(($(now_ms) - t0))"
	expect_out "ready on slurm"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
	expect_out "setosa"
	v1=$(jget "$out" 'd["model_version"]')
	# A token is required: the endpoint is reachable without lepton.
	ep=$($LEPTON --json status iris | $PY -c 'import json,sys; print(json.load(sys.stdin)["result"]["endpoint"])')
	code=$($PY -c 'import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/predict", b"{}", timeout=5); print(200)
except urllib.error.HTTPError as e:
    print(e.code)' "$ep")
	[ "$code" = 401 ] || fail "unauthenticated predict got $code"

	# A second version, deployed; then back to the first.
	sed -i 's/EPOCHS: "300"/EPOCHS: "5"/' "$d/train-slurm.yaml"
	run $LEPTON train "$d/train-slurm.yaml"
	expect_rc 0
	expect_out "registered iris@v2"
	run $LEPTON deploy "$d/service-slurm.yaml"
	expect_rc 0
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["revision"]')" = 2 ] || fail "revision 2 expected"
	[ "$(slurm_live iris | wc -l)" = 1 ] || fail "old revision's job still runs: $(squeue)"
	run $LEPTON rollback iris
	expect_rc 0
	expect_out "back on revision 1"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
	[ "$(jget "$out" 'd["model_version"]')" = "$v1" ] || fail "not v1 after rollback"
	run $LEPTON history iris
	expect_rc 0
	[ "$(grep -c slurm "$out")" = 3 ] || fail "3 revisions on slurm expected: $(cat "$out")"
	run $LEPTON logs iris
	expect_rc 0
	expect_out "POST /predict"
	run $LEPTON stop iris
	expect_rc 0
	wait_for 15 sh -c "[ -z \"\$(squeue -h -n iris -t PENDING,RUNNING,COMPLETING -o %i)\" ]" ||
	    fail "iris still in Slurm: $(squeue)"
	run $LEPTON status iris
	expect_out "stopped"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 11
}

test_slurm_two_nodes_ranks() {
	run $LEPTON train "$FIX/ranks.yaml"
	expect_rc 0
	id=$($LEPTON --json status --jobs | $PY -c 'import json,sys; print(json.load(sys.stdin)["result"]["jobs"][0]["id"])')
	run $LEPTON logs "$id"
	expect_rc 0
	expect_out "rank=0 of 2"
	expect_out "rank=1 of 2"
	[ "$(grep -o 'node=n[0-9]' "$out" | sort -u | wc -l)" = 2 ] ||
	    fail "both ranks on one node: $(cat "$out")"
	[ "$(grep -o 'master=[0-9.]*:[0-9]*' "$out" | sort -u | wc -l)" = 1 ] ||
	    fail "ranks disagree on the master: $(cat "$out")"
	expect_out "setup on rank 1"
}

test_slurm_exit_code() {
	run $LEPTON train "$FIX/exit3.yaml"
	expect_rc 14
	expect_err "exit status 3"
	expect_err "FAILED"
	run $LEPTON --json status --jobs
	[ "$(jget "$out" 'd["result"]["jobs"][0]["state"]')" = failed ] || fail "not failed"
	[ "$(jget "$out" 'd["result"]["jobs"][0]["exit_code"]')" = 3 ] || fail "not exit 3"
	# Recorded once, in the state repository.
	run $LEPTON history
	[ "$(git -C "$LEPTON_HOME/state" log --oneline | grep -c 'exit3')" = 1 ] ||
	    fail "the end was not recorded once: $(git -C "$LEPTON_HOME/state" log --oneline)"
}

test_slurm_cancel() {
	run $LEPTON train -d "$FIX/sleep.yaml"
	expect_rc 0
	id=$(cat "$out")
	wait_log "$id" started || fail "never started"
	run $LEPTON stop "$id"
	expect_rc 0
	expect_out "cancelled"
	[ "$(slurm_state "$id")" = CANCELLED ] || fail "Slurm says $(slurm_state "$id")"
	# Slurm says CANCELLED before slurmstepd has killed the step's
	# processes: they go within seconds, not necessarily at once (once,
	# in CI, not within 15 s: the survivor is shown if it happens again).
	nosleep() { [ -z "$(procs_with 'sleep 300')" ]; }
	wait_for 45 nosleep ||
	    fail "the job's process survived: $(ps -o pid,ppid,pgid,etime,args -p "$(procs_with 'sleep 300' | tr '\n' ',' | sed 's/,$//')" 2>&1)"
}

test_slurm_node_fail_restart() {
	run $LEPTON train -d "$FIX/restart.yaml"
	expect_rc 0
	id=$(cat "$out")
	wait_log "$id" attempt || fail "never started"
	node=$(squeue -h -n "$id" -o %N)
	scontrol update nodename="$node" state=down reason=lepton-e2e
	until_state "$id" NODE_FAIL 30 || fail "no NODE_FAIL: $(slurm_state "$id")"
	scontrol update nodename="$node" state=resume 2>/dev/null
	wait_for 60 sh -c "$LEPTON --json status --jobs | grep -q '\"state\": \"succeeded\"'" ||
	    fail "not resubmitted to success: $($LEPTON status --jobs)"
	[ "$(jget "$LEPTON_HOME/slurm/jobs/$id/job.json" 'd["restarts"]')" = 1 ] ||
	    fail "restarts: $(cat "$LEPTON_HOME/slurm/jobs/$id/job.json")"
	[ "$(grep -c attempt "$LEPTON_HOME/slurm/jobs/$id/log")" -ge 2 ] || fail "ran once"
}

test_slurm_engine_down() {
	SLURMRESTD_URL=http://127.0.0.1:9 run $LEPTON train "$FIX/exit3.yaml"
	expect_rc 7
	expect_err "cannot reach slurmrestd at http://127.0.0.1:9"
	SLURMRESTD_URL=http://127.0.0.1:9 run $LEPTON check slurm
	expect_rc 7
	env -u SLURMRESTD_URL $LEPTON train "$FIX/exit3.yaml" >"$T/o" 2>"$T/e"
	[ $? = 7 ] || fail "no URL: want exit 7"
	grep -q "no slurmrestd URL" "$T/e" || fail "$(cat "$T/e")"
	[ ! -d "$LEPTON_HOME/jobs" ] || [ -z "$(ls "$LEPTON_HOME/jobs")" ] ||
	    fail "a job record was left: $(ls "$LEPTON_HOME/jobs")"
	# Slurm down hides none of the local jobs.
	d=$(iris_copy)
	run $LEPTON train "$d/train.yaml"
	expect_rc 0
	run $LEPTON train -d "$FIX/sleep.yaml"
	expect_rc 0
	id=$(cat "$out")
	SLURMRESTD_URL=http://127.0.0.1:9 run $LEPTON status --jobs
	expect_rc 0
	expect_out "succeeded"
	expect_out "unknown"
	expect_err "cannot reach slurmrestd"
	run $LEPTON stop "$id"
	expect_rc 0
	# Nor of the deployments.
	sed -i 's/alias: latest/path: .\/model/' "$d/service-slurm.yaml"
	sed -i 's/^name: iris/name: iris-s/' "$d/service-slurm.yaml"
	run $LEPTON deploy "$d/service-slurm.yaml"
	expect_rc 0
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	SLURMRESTD_URL=http://127.0.0.1:9 run $LEPTON status
	expect_rc 0
	grep -q "^iris  *running  *local" "$out" || fail "$(cat "$out")"
	grep -q "^iris-s  *unknown  *slurm" "$out" || fail "$(cat "$out")"
	SLURMRESTD_URL=http://127.0.0.1:9 run $LEPTON status iris-s
	expect_rc 7
	run $LEPTON stop iris-s
	expect_rc 0
	run $LEPTON stop iris
	expect_rc 0
}

test_slurm_bad_token() {
	SLURM_JWT=garbage run $LEPTON train "$FIX/exit3.yaml"
	expect_rc 4
	expect_err "not a JWT"
	# Well formed, signed with another key: slurmctld refuses it.
	forged=$($PY -c 'import base64,json,time
b=lambda x: base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode()
print(b({"alg":"HS256","typ":"JWT"})+"."+b({"exp":int(time.time())+600,"iat":int(time.time()),"sun":"root"})+".c2lnbmF0dXJl")')
	SLURM_JWT=$forged run $LEPTON check slurm
	expect_rc 4
	expect_err "slurmctld refused"
	SLURM_JWT=$forged run $LEPTON train "$FIX/exit3.yaml"
	expect_rc 4
	expired=$($PY -c 'import base64,json
b=lambda x: base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode()
print(b({"alg":"HS256"})+"."+b({"exp":1000,"sun":"root"})+".c2ln")')
	SLURM_JWT=$expired run $LEPTON check slurm
	expect_rc 4
	expect_err "expired"
	# The token never reaches output or the state repository.
	! grep -rqF "$SLURM_JWT" "$LEPTON_HOME" "$out" "$err" 2>/dev/null ||
	    fail "the token leaked"
}

test_slurm_infeasible() {
	d="$T/spec"
	mkdir -p "$d"
	printf 'kind: job\nname: big\nplacement: {providers: [slurm]}\nresources: {cpus: 64}\nrun: "true"\n' >"$d/big.yaml"
	run $LEPTON train "$d/big.yaml"
	expect_rc 10
	expect_err "can hold it"
	printf 'kind: job\nname: wide\nplacement: {providers: [slurm]}\nrun: "true"\njob: {nodes: 3}\n' >"$d/wide.yaml"
	run $LEPTON train "$d/wide.yaml"
	expect_rc 10
	printf 'kind: job\nname: nopart\nplacement: {providers: [slurm], partition: gpu}\nrun: "true"\n' >"$d/nopart.yaml"
	run $LEPTON train "$d/nopart.yaml"
	expect_rc 10
	expect_err "no nodes in partition 'gpu'"
	run $LEPTON cost "$FIX/ranks.yaml"
	expect_rc 0
	expect_out "slurm"
}

test_slurm_moves_only_a_stopped_deployment() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	sed -i 's/alias: latest/path: .\/model/' "$d/service-slurm.yaml"
	run $LEPTON deploy "$d/service-slurm.yaml"
	expect_rc 6
	expect_err "deployed on 'local', not 'slurm'"
	run $LEPTON stop iris
	expect_rc 0
	run $LEPTON deploy "$d/service-slurm.yaml"
	expect_rc 0
	expect_out "ready on slurm"
	# Back to the local revision while slurm serves: refused, unchanged.
	run $LEPTON rollback -t 1 iris
	expect_rc 6
	expect_err "deployed on 'slurm', not 'local'"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
	run $LEPTON stop iris
	expect_rc 0
	run $LEPTON rollback -t 1 iris
	expect_rc 0
	run $LEPTON status iris
	expect_out "provider:    local"
	run $LEPTON stop iris
	expect_rc 0
}

test_slurm_secrets_reach_the_job_and_nowhere_else() {
	d="$T/spec"
	mkdir -p "$d"
	# The spec holds a digest of the value, not the value.
	h=$(printf %s s3cr3t-value-42 | sha256sum | cut -c1-16)
	cat >"$d/secret.yaml" <<YEOF
kind: job
name: secretive
placement: {providers: [slurm]}
secrets: [E2E_SLURM_SECRET]
run: '[ "\$(printf %s "\$E2E_SLURM_SECRET" | sha256sum | cut -c1-16)" = $h ] && echo secret-ok'
YEOF
	E2E_SLURM_SECRET=s3cr3t-value-42 run $LEPTON train "$d/secret.yaml"
	expect_rc 0
	id=$($LEPTON --json status --jobs | $PY -c 'import json,sys; print(json.load(sys.stdin)["result"]["jobs"][0]["id"])')
	grep -q secret-ok "$LEPTON_HOME/slurm/jobs/$id/log" || fail "the job did not get it"
	! grep -rqF s3cr3t-value-42 "$LEPTON_HOME" "$out" "$err" ||
	    fail "the secret was written: $(grep -rlF s3cr3t-value-42 "$LEPTON_HOME")"
	git -C "$LEPTON_HOME/state" log -p | grep -qF s3cr3t-value-42 &&
	    fail "the secret is in the state repository"
	# Not set: refused before anything is submitted.
	env -u E2E_SLURM_SECRET $LEPTON train "$d/secret.yaml" >"$T/o" 2>"$T/e"
	[ $? = 4 ] || fail "unset secret: want exit 4"
	return 0
}

test_slurm_deploy_killed_while_starting() {
	d=$(iris_copy)
	sed -i 's/alias: latest/path: .\/model/' "$d/service-slurm.yaml"
	cp "$d/service-slurm.yaml" "$d/slow.yaml"
	sed -i 's/^run: /run: sleep 5; /' "$d/slow.yaml"
	$LEPTON deploy "$d/slow.yaml" >/dev/null 2>&1 &
	pid=$!
	wait_for 20 sh -c "[ -n \"\$(squeue -h -n iris -t RUNNING -o %i)\" ]" ||
	    fail "the slow revision never ran"
	stale=$(squeue -h -n iris -o %i)
	kill -9 $pid
	wait $pid 2>/dev/null
	run $LEPTON deploy "$d/service-slurm.yaml"
	expect_rc 0
	expect_err "left starting by an interrupted deploy"
	wait_for 15 sh -c "! squeue -h -j $stale -t PENDING,RUNNING -o %i 2>/dev/null | grep -q ." ||
	    fail "the interrupted deploy's job $stale still runs"
	[ "$(slurm_live iris | wc -l)" = 1 ] || fail "$(squeue)"
	run $LEPTON predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
	run $LEPTON stop iris
	expect_rc 0
}

test_slurm_job_that_cannot_see_the_shared_dir() {
	# Hold every CPU so that lepton's job waits; meanwhile its probe
	# changes, as if the node mounted something else at that path.
	blocker=$(sbatch --parsable -N2 --exclusive -o /dev/null --wrap 'sleep 60')
	wait_for 20 sh -c "[ \"\$(squeue -h -j $blocker -o %T)\" = RUNNING ]" ||
	    fail "blocker did not start"
	run $LEPTON train -d "$FIX/exit3.yaml"
	expect_rc 0
	id=$(cat "$out")
	[ "$(slurm_state "$id")" = PENDING ] || fail "not pending: $(slurm_state "$id")"
	echo elsewhere >"$LEPTON_HOME/slurm/jobs/$id/probe"
	scancel "$blocker"
	wait_for 30 sh -c "$LEPTON --json status --jobs | grep -q '\"state\": \"failed\"'" ||
	    fail "$($LEPTON status --jobs)"
	run $LEPTON --json status --jobs
	expect_out "could not see the shared directory"
	[ "$(jget "$out" 'd["result"]["jobs"][0]["exit_code"]')" = 97 ] || fail "not 97"
	run $LEPTON logs "$id"
	expect_out "is not visible on"
}

test_slurm_logs_follow_until_the_job_ends() {
	d="$T/spec"
	mkdir -p "$d"
	printf 'kind: job\nname: ticker\nplacement: {providers: [slurm]}\nrun: echo tick-1; sleep 2; echo tick-2\n' >"$d/ticker.yaml"
	run $LEPTON train -d "$d/ticker.yaml"
	expect_rc 0
	id=$(cat "$out")
	run timeout 30 $LEPTON logs -f "$id"
	expect_rc 0
	expect_out "tick-1"
	expect_out "tick-2"
	run $LEPTON --json logs "$id"
	expect_rc 0
	[ "$(jget "$out" 'len(d["result"]["lines"])')" = 2 ] || fail "$(cat "$out")"
}

test_slurm_missing_output_registers_nothing() {
	d="$T/spec"
	mkdir -p "$d"
	printf 'kind: job\nname: noout\nmodel: {name: noout}\nplacement: {providers: [slurm]}\nrun: echo did nothing\njob: {outputs: {model: ./out/model}}\n' >"$d/noout.yaml"
	run $LEPTON train "$d/noout.yaml"
	expect_rc 14
	expect_err "does not share with the cluster"
	run $LEPTON models
	! grep -q noout "$out" || fail "registered: $(cat "$out")"
}

test_slurm_settings_from_config_json() {
	mkdir -p "$LEPTON_HOME"
	printf 'SLURM_JWT=%s\n' "$SLURM_JWT" >"$T/jwt"
	chmod 600 "$T/jwt"
	printf '{"slurm": {"url": "%s", "token_file": "%s", "user": "root", "partition": "debug"}}\n' \
	    "$SLURMRESTD_URL" "$T/jwt" >"$LEPTON_HOME/config.json"
	env -u SLURMRESTD_URL -u SLURM_JWT $LEPTON check slurm >"$T/o" 2>"$T/e" ||
	    fail "config only: $(cat "$T/e")"
	grep -q "(from config)" "$T/o" || fail "$(cat "$T/o")"
	grep -q "token      from config token_file, accepted" "$T/o" || fail "$(cat "$T/o")"
	env -u SLURMRESTD_URL -u SLURM_JWT $LEPTON train "$FIX/ranks.yaml" >"$T/o" 2>"$T/e" ||
	    fail "train from config: $(cat "$T/e")"
	# The environment wins over the file.
	SLURMRESTD_URL=http://127.0.0.1:9 run $LEPTON check slurm
	expect_rc 7
	expect_out "(from SLURMRESTD_URL)"
	# A token file others can read is refused.
	chmod 644 "$T/jwt"
	env -u SLURM_JWT $LEPTON check slurm >"$T/o" 2>"$T/e"
	[ $? = 4 ] || fail "a 0644 token file: want exit 4: $(cat "$T/e")"
	grep -q "holds secrets" "$T/e" || fail "$(cat "$T/e")"
	# Bad JSON in the file: its path, line and column.
	echo '{"slurm": ' >"$LEPTON_HOME/config.json"
	run $LEPTON check slurm
	expect_rc 1
	expect_err "config.json"
}

test_slurm_ctrl_c_stops_following_not_the_job() {
	timeout --preserve-status -s INT 3 $LEPTON train "$FIX/sleep.yaml" >"$T/o" 2>"$T/e"
	rc=$?
	[ $rc = 130 ] || fail "want exit 130, got $rc: $(cat "$T/e")"
	grep -q "it goes on" "$T/e" || fail "$(cat "$T/e")"
	id=$($LEPTON --json status --jobs | $PY -c 'import json,sys; print(json.load(sys.stdin)["result"]["jobs"][0]["id"])')
	[ "$(slurm_state "$id")" = RUNNING ] || fail "Slurm says $(slurm_state "$id")"
	run $LEPTON stop "$id"
	expect_rc 0
}

# Both secret sources through a Slurm job and a Slurm service (see
# canary_values in lib.sh; tests/e2e/canary.sh searches everything after).
test_slurm_leak_canary_job_and_service() {
	canary_values
	mkdir -p "$T/leak"
	cat >"$T/leak/job.yaml" <<'YAML'
kind: job
name: leakyjob
placement: {providers: [slurm]}
secrets: [LEAK_CANARY_ENV, LEAK_CANARY_STORE]
run: |
  echo "env sha $(printf %s "$LEAK_CANARY_ENV" | sha256sum | cut -c1-64)"
  echo "store sha $(printf %s "$LEAK_CANARY_STORE" | sha256sum | cut -c1-64)"
YAML
	run $LEPTON -v train "$T/leak/job.yaml"
	expect_rc 0
	id=$($LEPTON --json status --jobs | $PY -c 'import json,sys; print(json.load(sys.stdin)["result"]["jobs"][0]["id"])')
	run $LEPTON logs "$id"
	expect_shas
	run $LEPTON --json status "$id"
	expect_rc 0
	cat >"$T/leak/service.yaml" <<'YAML'
kind: service
name: leakysvc
placement: {providers: [slurm]}
secrets: [LEAK_CANARY_ENV, LEAK_CANARY_STORE]
run: |
  echo "env sha $(printf %s "$LEAK_CANARY_ENV" | sha256sum | cut -c1-64)"
  echo "store sha $(printf %s "$LEAK_CANARY_STORE" | sha256sum | cut -c1-64)"
  exec python3 -m http.server "$LEPTON_PORT"
service:
  readiness: {path: /, timeout: 60}
YAML
	run $LEPTON -v deploy "$T/leak/service.yaml"
	expect_rc 0
	run $LEPTON logs leakysvc
	expect_shas
	for a in "--json status leakysvc" "history leakysvc" "-v stop leakysvc"; do
		run $LEPTON $a
		expect_rc 0
	done
	canary_nowhere_else
}
