# t_refuse.sh: what lepton must carry whole or refuse outright, never
# truncate, misname or accept and ignore (reliability issue, defects 10
# and 11).

# A tiny endpoint: POST {"say": "text" | "bytes"} answers a body that is
# not JSON and holds NUL bytes: UTF-8 text, or bytes that are not UTF-8.
nul_server() {
	cat >"$T/nul_server.py" <<'PY'
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODIES = {"text": b"a\x00b\x00\xc3\xa9\n", "bytes": b"\x89PNG\x00\xff\x00z"}

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = BODIES[req["say"]]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
	port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$PY "$T/nul_server.py" "$port" >/dev/null 2>&1 &
	server=$!
	trap 'kill $server 2>/dev/null; cleanup_home' EXIT
	wait_for 10 port_open "$port" || fail "server did not start"
}

# Defect 10a: a batch answer with NUL bytes came out cut at the first
# one ("a"). UTF-8 text is a JSON string (NUL as \u0000); other bytes are
# {"base64": ...}; --json and a single request read the same.
test_predict_batch_carries_nul_bytes_whole() {
	nul_server
	printf '{"say": "text"}\n{"say": "bytes"}\n' >"$T/in.jsonl"
	run $LEPTON predict "http://127.0.0.1:$port/" -f "$T/in.jsonl"
	expect_rc 0
	$PY - "$out" <<'PY' || fail "batch lines: $(od -c "$out" | head -5)"
import base64, json, sys
raw = open(sys.argv[1], "rb").read()
lines = [json.loads(l) for l in raw.decode("utf-8").splitlines()]
assert lines[0] == "a\x00b\x00\u00e9\n", lines[0]
assert base64.b64decode(lines[1]["base64"]) == b"\x89PNG\x00\xff\x00z", lines[1]
assert b"\\u0000" in raw, raw
PY
	run $LEPTON --json predict "http://127.0.0.1:$port/" -f "$T/in.jsonl"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["responses"][0] == "a\x00b\x00\u00e9\n"')" = True ] ||
	    fail "--json batch: $(cat "$out")"
	run $LEPTON --json predict "http://127.0.0.1:$port/" -d '{"say": "text"}'
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["response"] == "a\x00b\x00\u00e9\n"')" = True ] ||
	    fail "--json one request: $(cat "$out")"
}

# Defect 10b: a symlink loop in model.path was reported as "no such file
# or directory". Both kinds (a link to itself, a link to a directory
# above) are a symlink loop naming the link; nothing starts or is kept.
test_model_path_symlink_loop_is_named() {
	d=$(iris_copy)
	ln -s self "$d/model/self"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 1
	expect_err "model.path './model': symlink loop at '$d/./model/self'"
	grep -q "no such file" "$err" && fail "still 'no such file': $(cat "$err")"
	rm "$d/model/self"
	mkdir "$d/model/sub"
	ln -s .. "$d/model/sub/up"
	run $LEPTON --json deploy "$d/service.yaml"
	expect_rc 1
	expect_err "symlink loop at '$d/./model/sub/up': it leads back to '$d/./model'"
	[ "$(jget "$out" 'd["error"]["code"]')" = failed ] || fail "code: $(cat "$out")"
	[ -e "$LEPTON_HOME/deployments/iris.json" ] && fail "recorded anyway"
	rm "$d/model/sub/up"
	rm -r "$d/model"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 5
	expect_err "model.path './model': no such file or directory"
}

# Defect 10c: 'models tag iris v1 x.lock' exited 1 with libgit2's words,
# 'a/b' was taken. Names outside the grammar are a usage error (exit 2)
# that moves no ref; a spec cannot name them either (exit 3).
test_models_tag_refuses_bad_alias_names() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	run $LEPTON stop iris
	for a in x.lock a/b 'a..b' Prod HEAD v2 latest a_b 'a b' x-; do
		run $LEPTON models tag iris v1 "$a"
		[ "$rc" = 2 ] || fail "'$a': exit $rc, want 2: $(cat "$err")"
		expect_err "lepton: models: invalid alias '$a': "
		expect_err "hint: an alias is 1-63 lower-case letters"
		grep -q "reference name" "$err" && fail "libgit2's words: $(cat "$err")"
	done
	[ -z "$(git -C "$LEPTON_HOME/state" for-each-ref refs/lepton/aliases)" ] ||
	    fail "refs made: $(git -C "$LEPTON_HOME/state" for-each-ref refs/lepton/aliases)"
	run $LEPTON --json models tag iris v1 x.lock
	expect_rc 2
	[ "$(jget "$out" 'd["error"]["code"]')" = usage ] || fail "code: $(cat "$out")"
	run $LEPTON models tag iris v1 prod-2
	expect_rc 0
	expect_out "iris@prod-2 is now iris@v1"
	sed -i 's|  path: ./model .*|  alias: v1|' "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 3
	expect_err "'alias' cannot be 'v1': it looks like a version (vN)"
}

# Defect 11: validate checked only the grammar, so a spec its provider
# refuses (deploy and train say exit 9) passed it. It now refuses the same
# way for the provider deploy would take, and passes when a listed one can.
test_validate_refuses_keys_its_provider_cannot_honour() {
	printf 'kind: job\nname: wide\nrun: "true"\njob: {nodes: 2}\n' >"$T/wide.yaml"
	run $LEPTON validate "$T/wide.yaml"
	expect_rc 9
	expect_err "lepton: validate: $T/wide.yaml: provider 'local' cannot honour 'job.nodes: 2'"
	[ -s "$out" ] && fail "stdout not empty: $(cat "$out")"
	run $LEPTON --json validate "$T/wide.yaml"
	expect_rc 9
	[ "$(jget "$out" 'd["error"]["code"]')" = unsupported ] || fail "code: $(cat "$out")"
	for k in 'service: {replicas: {min: 1, max: 3}}' \
	    'service: {replicas: {min: 2, max: 2, target_qps: 5}}' \
	    'service: {rollout: {abort_if: {error_rate: 0.01}}}' \
	    'resources: {spot: true}'; do
		printf 'kind: service\nname: s\nrun: "true"\n%s\n' "$k" >"$T/s.yaml"
		for p in local containers slurm; do
			printf 'placement: {providers: [%s]}\n' $p >>"$T/s.yaml"
			run $LEPTON validate "$T/s.yaml"
			[ "$rc" = 9 ] || fail "$p, '$k': exit $rc, want 9: $(cat "$err")"
			expect_err "provider '$p' cannot honour '"
			sed -i '$d' "$T/s.yaml"
		done
	done
	printf 'kind: job\nname: wide\nrun: "true"\nplacement: {providers: [local, slurm]}\njob: {nodes: 2}\n' \
	    >"$T/wide2.yaml"
	run $LEPTON validate "$T/wide2.yaml"
	expect_rc 0
	expect_out '"nodes": 2'
	[ -e "$LEPTON_HOME" ] && fail "LEPTON_HOME was created"
	true
}

# Defect 11: job.max_restarts was accepted on local (and containers, whose
# jobs are local's) and never acted on: a failing job ran once. Only
# Slurm resubmits (after NODE_FAIL or PREEMPTED); the others refuse it.
test_max_restarts_refused_where_nothing_resubmits() {
	printf 'kind: job\nname: mr\nrun: "echo ran >>%s/ran; exit 3"\njob: {max_restarts: 2}\n' \
	    "$T" >"$T/mr.yaml"
	for c in "train" "train --dry-run" "validate"; do
		run $LEPTON $c "$T/mr.yaml"
		expect_rc 9
		expect_err "provider 'local' cannot honour 'job.max_restarts: 2'"
		expect_err "hint: use 'max_restarts: 0', or a provider that can in placement.providers: slurm"
	done
	sleep 0.5
	[ -e "$T/ran" ] && fail "the job ran"
	sed -i 's/{max_restarts: 2}/{max_restarts: 0}/' "$T/mr.yaml"
	run $LEPTON train "$T/mr.yaml"
	expect_rc 14
	[ "$(wc -l <"$T/ran")" = 1 ] || fail "ran $(wc -l <"$T/ran") times"
	printf 'placement: {providers: [containers]}\nimage: busybox:1\n' >>"$T/mr.yaml"
	sed -i 's/{max_restarts: 0}/{max_restarts: 1}/' "$T/mr.yaml"
	run $LEPTON validate "$T/mr.yaml"
	expect_rc 9
	expect_err "provider 'containers' cannot honour 'job.max_restarts: 1'"
}

# Defect 11: on Slurm, placement.regions (or zones) only filtered the
# plan, whose regions are partitions, while the job went to
# placement.partition or the default one. Refused there; local still
# takes it as a constraint (exit 10 for a region it is not in).
test_regions_refused_where_the_job_would_not_follow() {
	printf 'kind: job\nname: rg\nrun: "true"\nplacement: {providers: [slurm], regions: [gpu]}\n' \
	    >"$T/rg.yaml"
	for c in "validate" "train --dry-run"; do
		SLURMRESTD_URL= run $LEPTON $c "$T/rg.yaml"
		expect_rc 9
		expect_err "provider 'slurm' cannot honour 'placement.regions: [gpu]'"
		expect_err "is placement.partition)"
	done
	sed -i 's/regions: \[gpu\]/zones: [a, b]/' "$T/rg.yaml"
	run $LEPTON validate "$T/rg.yaml"
	expect_rc 9
	expect_err "'placement.zones: [a, b]'"
	printf 'kind: job\nname: rg\nrun: "true"\nplacement: {regions: [us-east-1]}\n' >"$T/rl.yaml"
	run $LEPTON validate "$T/rl.yaml"
	expect_rc 0
	run $LEPTON train --dry-run "$T/rl.yaml"
	expect_rc 10
	expect_err "is in us-east-1"
}
