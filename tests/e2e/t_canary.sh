# t_canary.sh: secret values through every command that reads, shows,
# records or forwards a deployment or a job: specs that name
# LEAK_CANARY_ENV (from the environment) and LEAK_CANARY_STORE (from the
# secret store), services and jobs, updates, rollbacks, failures and a
# killed supervisor (slurm_tests.sh and containers_tests.sh have one test
# each on those providers). Under tests/e2e/canary.sh the values are the
# run's canaries and the scan after the run searches everywhere; run
# alone, a test makes values of the same shape and checks its home and
# outputs (canary_values and canary_nowhere_else, in lib.sh).

ROWS='{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]]}'

# As lib.sh's, and every output kept, not only the last (canary_hook.sh
# does the same for every other test under canary.sh).
run() {
	out=$T/out.$$ err=$T/err.$$
	"$@" >"$out" 2>"$err"
	rc=$?
	cat "$out" >>"$T/canary.out"
	cat "$err" >>"$T/canary.err"
	return 0
}

# The replicas print each value's sha256, never the value.
leaky_spec() {
	cat >"$1/leaky.yaml" <<'YAML'
kind: service
name: leaky
model: {name: iris, path: ./model}
secrets: [LEAK_CANARY_ENV, LEAK_CANARY_STORE]
run: |
  echo "env sha $(printf %s "$LEAK_CANARY_ENV" | sha256sum | cut -c1-64)"
  echo "store sha $(printf %s "$LEAK_CANARY_STORE" | sha256sum | cut -c1-64)"
  exec python3 serve.py --port "$LEPTON_PORT" --model "$LEPTON_MODEL_DIR"
env: {PYTHONUNBUFFERED: "1", ROUND: "1"}
service:
  path: /predict
  readiness: {path: /healthz, timeout: 30}
YAML
	echo "$1/leaky.yaml"
}

test_leak_canary_service_through_every_command() {
	canary_values
	s=$(leaky_spec "$(iris_copy)")
	for a in "validate $s" "--json validate $s" "deploy -n $s" \
	    "--json cost $s"; do
		run $LEPTON $a
		expect_rc 0
	done
	run $LEPTON -v --json deploy "$s"
	expect_rc 0
	run $LEPTON logs leaky
	expect_rc 0
	expect_shas
	for a in "status" "--json status" "-v status leaky" \
	    "--json status leaky" "--json logs leaky" "logs --tail 1 leaky" \
	    "history leaky" "--json history leaky" "models" "--json models" \
	    "cost report" "--json cost report"; do
		run $LEPTON $a
		expect_rc 0
	done
	run $LEPTON predict leaky -d "$ROWS"
	expect_rc 0
	run $LEPTON -v --json predict leaky -d "$ROWS"
	expect_rc 0
	printf '%s\n' "$ROWS" "not json" "$ROWS" >"$T/rows.jsonl"
	run $LEPTON predict leaky -f "$T/rows.jsonl" -c 2
	expect_rc 1
	run $LEPTON --json predict leaky -d "$ROWS" -n 20 -c 2
	expect_rc 0
	# A plain URL: the caller's LEPTON_TOKEN (the canary run's), refused.
	run $LEPTON --json status leaky
	ep=$(jget "$out" 'd["result"]["endpoint"]')
	run $LEPTON -v predict "$ep/predict" -d "$ROWS"
	expect_rc 4
	run $LEPTON --json predict "$ep/predict" -d "$ROWS" -n 5
	# A second revision, then back to the first.
	sed -i 's/ROUND: "1"/ROUND: "2"/' "$s"
	run $LEPTON deploy "$s"
	expect_rc 0
	run $LEPTON logs leaky
	expect_shas
	run $LEPTON -v rollback leaky
	expect_rc 0
	run $LEPTON --json history leaky
	expect_rc 0
	run $LEPTON deploy "$s"
	expect_rc 0
	run $LEPTON state fsck
	expect_rc 0
	run $LEPTON -v stop leaky
	expect_rc 0
	run $LEPTON --json status leaky
	expect_rc 0
	canary_nowhere_else
}

test_leak_canary_job_and_its_records() {
	canary_values
	d=$(iris_copy)
	cat >"$d/leaky-train.yaml" <<'YAML'
kind: job
name: leaky-train
model: {name: iris}
secrets: [LEAK_CANARY_ENV, LEAK_CANARY_STORE]
run: |
  echo "env sha $(printf %s "$LEAK_CANARY_ENV" | sha256sum | cut -c1-64)"
  echo "store sha $(printf %s "$LEAK_CANARY_STORE" | sha256sum | cut -c1-64)"
  python3 train.py --out "$LEPTON_OUTPUT_MODEL" --epochs 20
job:
  outputs:
    model: ./out/model
YAML
	run $LEPTON -v --json train "$d/leaky-train.yaml"
	expect_rc 0
	id=$(jget "$out" 'd["result"]["id"]')
	run $LEPTON logs "$id"
	expect_rc 0
	expect_shas
	for a in "status -j" "--json status -j" "--json status $id" \
	    "--json logs $id" "models show iris" "--json models show iris" \
	    "models lineage iris@v1"; do
		run $LEPTON $a
		expect_rc 0
	done
	# A job that fails after reading its secrets.
	sed -i 's/python3 train.py.*/echo failing; exit 3/' "$d/leaky-train.yaml"
	run $LEPTON -v train "$d/leaky-train.yaml"
	[ $rc != 0 ] || fail "a failing job succeeded"
	run $LEPTON --json train "$d/leaky-train.yaml"
	id=$(jget "$out" 'd["error"].get("job") or ""' 2>/dev/null)
	run $LEPTON -v status -j
	canary_nowhere_else
}

test_leak_canary_failed_deploys_and_refusals() {
	canary_values
	mkdir -p "$T/svc"
	cat >"$T/svc/exits.yaml" <<'YAML'
kind: service
name: exits
secrets: [LEAK_CANARY_ENV, LEAK_CANARY_STORE]
run: |
  echo "env sha $(printf %s "$LEAK_CANARY_ENV" | sha256sum | cut -c1-64)"
  echo "store sha $(printf %s "$LEAK_CANARY_STORE" | sha256sum | cut -c1-64)"
  exit 3
service:
  readiness: {path: /, timeout: 10}
YAML
	run $LEPTON -v deploy "$T/svc/exits.yaml"
	[ $rc != 0 ] || fail "a replica that exits was deployed"
	run $LEPTON --json deploy "$T/svc/exits.yaml"
	[ $rc != 0 ] || fail "a replica that exits was deployed"
	run $LEPTON logs exits
	expect_shas
	run $LEPTON --json status exits
	run $LEPTON history exits
	# Never ready: deploy times out.
	sed -e 's/name: exits/name: mute/' -e 's/exit 3/exec sleep 60/' \
	    -e 's/timeout: 10/timeout: 2/' "$T/svc/exits.yaml" >"$T/svc/mute.yaml"
	run $LEPTON -v deploy "$T/svc/mute.yaml"
	expect_rc 8
	run $LEPTON stop mute
	# The store's key is not the one it was sealed with.
	LEPTON_SECRET_KEY=$($PY -c 'print("ab" * 32)') run $LEPTON -v deploy \
	    "$T/svc/exits.yaml"
	expect_rc 4
	# Nothing listens: the caller's token goes nowhere, and is not said.
	run $LEPTON -v predict http://127.0.0.1:9/ -d "$ROWS" --timeout 2
	[ $rc != 0 ] || fail "predict to a closed port succeeded"
	run $LEPTON --json predict http://127.0.0.1:9/ -d "$ROWS" -n 3 --timeout 2
	canary_nowhere_else
}

test_leak_canary_killed_supervisor_and_the_next_deploy() {
	canary_values
	mkdir -p "$T/svc"
	cat >"$T/svc/phoenix.yaml" <<'YAML'
kind: service
name: phoenix
secrets: [LEAK_CANARY_ENV, LEAK_CANARY_STORE]
run: |
  echo "env sha $(printf %s "$LEAK_CANARY_ENV" | sha256sum | cut -c1-64)"
  echo "store sha $(printf %s "$LEAK_CANARY_STORE" | sha256sum | cut -c1-64)"
  exec python3 -m http.server --bind 127.0.0.1 "$LEPTON_PORT"
env: {ROUND: "1"}
service:
  readiness: {path: /, timeout: 20}
YAML
	run $LEPTON deploy "$T/svc/phoenix.yaml"
	expect_rc 0
	kill -9 "$(jget "$LEPTON_HOME/local/phoenix/state.json" 'd["pid"]')" ||
	    fail "no supervisor to kill"
	sleep 0.3
	run $LEPTON -v status phoenix
	sed -i 's/ROUND: "1"/ROUND: "2"/' "$T/svc/phoenix.yaml"
	run $LEPTON -v deploy "$T/svc/phoenix.yaml"
	expect_rc 0
	run $LEPTON logs phoenix
	expect_shas
	run $LEPTON -v stop phoenix
	expect_rc 0
	canary_nowhere_else
}

# A provider's credential as it arrives: a Slurm token (well formed, its
# signature the run's LEPTON_TOKEN canary) from SLURM_JWT and from a
# token_file, refused by a loopback slurmrestd or by nothing listening.
test_leak_canary_provider_credentials() {
	canary_values
	if [ -z "${LEPTON_TOKEN:-}" ]; then
		LEPTON_TOKEN=CNRYt$(od -An -N10 -tx1 /dev/urandom | tr -d ' \n')
		export LEPTON_TOKEN
	fi
	jwt=$($PY -c 'import base64, json, time
b = lambda x: base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode()
print(b({"alg": "HS256", "typ": "JWT"}) + "." + b({"exp": int(time.time()) + 600, "iat": int(time.time()), "sun": "root"}) + ".")')
	jwt=$jwt$(printf %s "$LEPTON_TOKEN" | head -c 25)
	port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$PY -c 'import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"{\"errors\": [{\"error\": \"Authentication failure\", \"error_number\": 1007}]}"
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$port" &
	server=$!
	trap 'kill $server 2>/dev/null; cleanup_home' EXIT
	wait_for 10 port_open "$port" || fail "the fake slurmrestd did not start"
	mkdir -p "$T/job"
	printf 'kind: job\nname: slurmy\nplacement: {providers: [slurm]}\nrun: "true"\n' \
	    >"$T/job/job.yaml"
	for url in "http://127.0.0.1:$port" http://127.0.0.1:9; do
		for a in "-v check slurm" "--json check slurm" "check" \
		    "-v train $T/job/job.yaml" "--json train $T/job/job.yaml"; do
			SLURMRESTD_URL=$url SLURM_JWT=$jwt run $LEPTON $a
			[ $rc != 0 ] || fail "$a: succeeded with a refused token"
		done
	done
	# From a token file lepton reads (outside $T: the test's, not
	# lepton's, and gone after).
	tf=$(mktemp)
	printf 'SLURM_JWT=%s\n' "$jwt" >"$tf"
	mkdir -p "$LEPTON_HOME"
	printf '{"slurm": {"url": "http://127.0.0.1:%s", "token_file": "%s"}}\n' \
	    "$port" "$tf" >"$LEPTON_HOME/config.json"
	for a in "-v check slurm" "--json check slurm" "-v train $T/job/job.yaml"; do
		env -u SLURM_JWT -u SLURMRESTD_URL $LEPTON $a \
		    >>"$T/canary.out" 2>>"$T/canary.err" &&
		    fail "$a: succeeded with a refused token"
	done
	rm -f "$tf" "$LEPTON_HOME/config.json"
	kill $server
	canary_nowhere_else
}
