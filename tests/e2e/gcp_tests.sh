# gcp_tests.sh: end-to-end tests of the gcp provider against
# tests/gcp/vertex_server.py, run by tests/e2e/gcp.sh with LEP_GCP_URL
# (the server), LEP_GCP_KEY (a service-account key whose token_uri is the
# server's) and LEP_GCP_DIR set. lepton finds everything as gcloud users'
# tools do: GOOGLE_APPLICATION_CREDENTIALS and the SDKs' endpoint
# variables. What it did is read back from the server's own state
# (GET /_control/state), which only the server's handling of the
# published API changes. The server's state is shared by the tests: each
# uses names of its own.

# gcp_setup: a clean HOME, the key, the endpoint overrides.
gcp_setup() {
	export HOME="$T/h"
	mkdir -p "$HOME" "$LEPTON_HOME"
	export GOOGLE_APPLICATION_CREDENTIALS="$LEP_GCP_KEY"
	export CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM="$LEP_GCP_URL/"
	export STORAGE_EMULATOR_HOST="$LEP_GCP_URL"
	export CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING="$LEP_GCP_URL/"
	export CLOUDSDK_CONFIG="$T/gcloud" GCE_METADATA_HOST=127.0.0.1:9
	unset GOOGLE_CLOUD_PROJECT CLOUDSDK_CORE_PROJECT
}

# ctl JSON: the server's test control.
ctl() {
	curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
	    "$LEP_GCP_URL/_control" -d "$1" || fail "control: $1"
}

# sq EXPR: a Python expression on s, the server's state.
sq() {
	curl -fsS "$LEP_GCP_URL/_control/state" >"$T/state.json" || fail "no state"
	$PY -c "import json,sys; s=json.load(open(sys.argv[1])); print($1)" "$T/state.json"
}

# What the server holds of deployment $1: its endpoints, models and
# objects, one word each (empty: nothing).
held() {
	sq "' '.join(sorted([e['displayName'] for e in s['endpoints'] if e.get('displayName') == '$1'] + [m['displayName'] for m in s['models'] if m['displayName'].startswith('$1-r')] + [o for b in s['buckets'].values() for o in b if o.startswith('$1/')]))"
}

# The sandbox's iris copy, without the containers suite's image root
# (50 MB, built there when missing): what a spec's directory holds is
# packed and uploaded, and the tests need not wait for that much.
gcp_iris() {
	_d=$(iris_copy)
	rm -rf "$_d/container"
	echo "$_d"
}

# A GCP service spec named $1 in the sandbox's iris copy (extra lines $2).
gcp_spec() {
	d=$(gcp_iris)
	sed "s/^name: iris-vx/name: $1/" "$d/service-gcp.yaml" >"$d/$1.yaml"
	[ -z "${2:-}" ] || printf '%s\n' "$2" >>"$d/$1.yaml"
	echo "$d/$1.yaml"
}

# reqs: the server's request log so far, "METHOD PATH" a line.
reqs() {
	curl -fsS "$LEP_GCP_URL/_control/log" |
	    $PY -c 'import json,sys; [print(r["method"], r["path"]) for r in json.load(sys.stdin)]'
}

# The driver's count and time from -v output: "N Google calls, M ms".
figure_calls() {
	sed -n "s/.*gcp: [a-z0-9-]* [a-z ]*: \([0-9]*\) Google calls, \([0-9]*\) ms.*/figure: $1: \1 calls, \2 ms/p" "$err"
}

test_gcp_check_names_the_key() {
	gcp_setup
	s=$(date +%s%N)
	run $LEPTON check gcp
	e=$(date +%s%N)
	expect_rc 0
	expect_out "service_account"
	expect_out "$LEP_GCP_KEY"
	expect_out "lepton-e2e@proj-1.iam.gserviceaccount.com"
	expect_out "proj-1"
	echo "figure: lepton check gcp (token fetched) ms: $(((e - s) / 1000000))"
	s=$(date +%s%N)
	run $LEPTON check gcp
	e=$(date +%s%N)
	expect_rc 0
	expect_out "cache"
	echo "figure: lepton check gcp (token cached) ms: $(((e - s) / 1000000))"
	if command -v gcloud >/dev/null 2>&1; then
		gcloud auth activate-service-account --key-file "$LEP_GCP_KEY" \
		    >/dev/null 2>&1 || fail "gcloud cannot use the key"
		s=$(date +%s%N)
		gcloud auth print-access-token >/dev/null 2>&1 || fail "gcloud print-access-token"
		e=$(date +%s%N)
		echo "figure: gcloud auth print-access-token ms: $(((e - s) / 1000000))"
	fi
}

test_gcp_deploy_predict_canary_rollback_stop() {
	gcp_setup
	spec=$(gcp_spec vx-main)
	run $LEPTON -v deploy "$spec"
	expect_rc 0
	expect_out "vx-main revision 1 ready on gcp"
	figure_calls "deploy"
	[ "$(held vx-main)" = "vx-main vx-main-r1 vx-main/r1/model.tar.gz" ] ||
	    fail "held: $(held vx-main)"
	[ "$(sq "[e['trafficSplit'] for e in s['endpoints'] if e.get('displayName') == 'vx-main'][0]")" = "{'1': 100}" ] ||
	    fail "split: $(sq "[e['trafficSplit'] for e in s['endpoints'] if e.get('displayName') == 'vx-main']")"
	[ "$(sq "[d['dedicatedResources']['machineSpec']['machineType'] for e in s['endpoints'] if e.get('displayName') == 'vx-main' for d in e['deployedModels']][0]")" != "" ] ||
	    fail "no machine type"
	# predict: :predict with the bearer token; the server says which
	# deployed model answered.
	run $LEPTON predict vx-main -d '{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
	expect_out '"deployedModelId": "1"'
	printf '%s\n' '{"instances": [1]}' '{"instances": [2]}' '{"instances": [3]}' >"$T/batch.jsonl"
	run $LEPTON predict vx-main -f "$T/batch.jsonl"
	expect_rc 0
	[ "$(wc -l <"$out")" = 3 ] || fail "batch: $(cat "$out")"
	run $LEPTON predict vx-main -d '{"instances": [1]}' --duration 1s --concurrency 2
	expect_rc 0
	# An update as a canary: 20% to revision 2, then promoted.
	cat >>"$spec" <<'YAML'
  rollout:
    strategy: canary
    percent: 20
    bake: 1s
YAML
	sed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' "$spec"
	run $LEPTON -v deploy "$spec"
	expect_rc 0
	figure_calls "canary update"
	reqs | grep -q "PATCH .*endpoints/" || fail "no traffic move"
	[ "$(sq "[e['trafficSplit'] for e in s['endpoints'] if e.get('displayName') == 'vx-main'][0]")" = "{'2': 100}" ] ||
	    fail "not promoted: $(sq "[e['trafficSplit'] for e in s['endpoints'] if e.get('displayName') == 'vx-main']")"
	curl -fsS "$LEP_GCP_URL/_control/log" | $PY -c '
import json, sys
for r in json.load(sys.stdin):
    if r["path"].endswith(":deployModel") and (r["body"] or {}).get("trafficSplit") == {"0": 20, "1": 80}:
        sys.exit(0)
sys.exit(1)' || fail "no 20/80 split asked for"
	# Rollback: revision 1's model deployed again, nothing uploaded.
	run $LEPTON -v rollback vx-main
	expect_rc 0
	figure_calls "rollback"
	[ "$(sq "sorted(d['id'] for e in s['endpoints'] if e.get('displayName') == 'vx-main' for d in e['deployedModels'])")" = "['3']" ] ||
	    fail "after rollback: $(sq "[e['deployedModels'] for e in s['endpoints'] if e.get('displayName') == 'vx-main']")"
	[ "$(sq "len([m for m in s['models'] if m['displayName'].startswith('vx-main-r')])")" = 2 ] ||
	    fail "rollback uploaded a model"
	run $LEPTON predict vx-main -d '{"instances": [1]}'
	expect_rc 0
	expect_out '"modelDisplayName": "vx-main-r1"'
	run $LEPTON -v stop vx-main
	expect_rc 0
	figure_calls "stop"
	[ -z "$(held vx-main)" ] || fail "left after stop: $(held vx-main)"
	run $LEPTON status vx-main
	expect_out stopped
}

test_gcp_train_registers_a_version() {
	gcp_setup
	d=$(gcp_iris)
	s=$(date +%s%N)
	run $LEPTON train "$d/train-gcp.yaml"
	expect_rc 0
	expect_out "registered iris@v1"
	echo "figure: train ms: $((($(date +%s%N) - s) / 1000000))"
	id=$(ls "$LEPTON_HOME/gcp/jobs" | sed -n 's/\.json$//p')
	[ -n "$id" ] || fail "no job record"
	run $LEPTON models show iris@v1
	expect_rc 0
	expect_out "$id"
	sq "[j['jobSpec']['workerPoolSpecs'][0]['replicaCount'] for j in s['jobs'] if j['displayName'] == '$id']" |
	    grep -q "'1'" || fail "replicaCount: $(sq "s['jobs']")"
	run $LEPTON logs "$id"
	expect_rc 0
	[ -s "$out" ] || fail "no logs"
	# Its inputs went once it ended; its output (the model) stays.
	[ "$(sq "sorted(o for b in s['buckets'].values() for o in b if o.startswith('jobs/$id/'))")" = \
	    "['jobs/$id/output/model/model.json']" ] ||
	    fail "left in the bucket: $(sq "[o for b in s['buckets'].values() for o in b if o.startswith('jobs/$id/')]")"
}

test_gcp_stop_a_custom_job() {
	gcp_setup
	d=$(gcp_iris)
	ctl '{"job_seconds": [30, 30]}'
	run $LEPTON train --detach "$d/train-gcp.yaml"
	ctl '{"job_seconds": [1, 2]}'
	expect_rc 0
	id=$(ls "$LEPTON_HOME/gcp/jobs" | sed -n 's/\.json$//p')
	run $LEPTON stop "$id"
	expect_rc 0
	reqs | grep -q "POST .*customJobs/.*:cancel" || fail "no cancel sent"
}

test_gcp_refuses_what_it_cannot() {
	gcp_setup
	spec=$(gcp_spec vx-refuse "secrets: [MY_SECRET]")
	MY_SECRET=x run $LEPTON deploy "$spec"
	expect_rc 9
	expect_err "provider 'gcp' cannot honour 'secrets"
	spec=$(gcp_spec vx-refuse2)
	sed -i 's|^  path: /predict|  path: /v1/models/iris:predict|' "$spec"
	run $LEPTON deploy "$spec"
	expect_rc 9
	expect_err ":predict and :rawPredict"
	[ -z "$(held vx-refuse)$(held vx-refuse2)" ] || fail "something was made"
}

test_gcp_revoked_token_is_auth_naming_the_source() {
	gcp_setup
	spec=$(gcp_spec vx-auth)
	ctl '{"faults": [{"method": "POST", "path": "models:upload", "status": 401, "count": 1}]}'
	run $LEPTON deploy "$spec"
	ctl '{"faults": []}'
	expect_rc 4
	expect_err "$LEP_GCP_KEY"
	[ -z "$(sq "[m for m in s['models'] if m['displayName'].startswith('vx-auth')]" | tr -d '[]')" ] ||
	    fail "something was made"
	run $LEPTON stop vx-auth
}

test_gcp_retries_honour_retry_after() {
	gcp_setup
	spec=$(gcp_spec vx-retry)
	ctl '{"faults": [{"method": "POST", "path": "models:upload", "status": 503, "count": 1, "retry_after": 1}, {"method": "GET", "path": "endpoints/", "status": 429, "count": 1}]}'
	s=$(date +%s%N)
	run $LEPTON deploy "$spec"
	e=$(date +%s%N)
	ctl '{"faults": []}'
	expect_rc 0
	[ $(((e - s) / 1000000)) -ge 1000 ] || fail "Retry-After not waited"
	[ "$(sq "len([m for m in s['models'] if m['displayName'] == 'vx-retry-r1'])")" = 1 ] ||
	    fail "the retried upload made two models"
	run $LEPTON stop vx-retry
	expect_rc 0
	[ -z "$(held vx-retry)" ] || fail "left: $(held vx-retry)"
}

# loglen: how many requests the server's log holds now.
loglen() {
	curl -fsS "$LEP_GCP_URL/_control/log" |
	    $PY -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# polled RE FROM: has a POST whose path matches RE, sent after the
# log's first FROM requests, had its operation polled?
polled() {
	curl -fsS "$LEP_GCP_URL/_control/log" | $PY -c '
import json, re, sys
log = json.load(sys.stdin)[int(sys.argv[2] or 0):]
for i, r in enumerate(log):
    if r["method"] == "POST" and re.search(sys.argv[1], r["path"]):
        if any(x["method"] == "GET" and "/operations/" in x["path"]
               for x in log[i + 1:]):
            sys.exit(0)
sys.exit(1)' "$1" "$2"
}

# kill -9 while each long-running operation (the upload, the endpoint's
# create, the deployModel) is pending: a re-run converges on one
# endpoint and one model; a stop leaves nothing.
test_gcp_deploy_killed_mid_operation() {
	gcp_setup
	k=0
	for op in 'us-central1/models:upload$' 'us-central1/endpoints$' \
	    'us-central1/endpoints/[^/]*:deployModel$'; do
		for then in deploy stop; do
			k=$((k + 1))
			n=vx-kill$k
			spec=$(gcp_spec $n)
			ctl "{\"faults\": [{\"method\": \"POST\", \"path\": \"$op\", \"pending\": 1000, \"count\": 1}]}"
			from=$(loglen)
			$LEPTON deploy "$spec" >/dev/null 2>&1 &
			pid=$!
			wait_for 30 polled "$op" "$from"
			seen=$?
			kill -9 $pid
			wait $pid 2>/dev/null
			ctl '{"faults": []}'
			[ $seen = 0 ] || fail "$op: never polled"
			if [ $then = deploy ]; then
				run $LEPTON deploy "$spec"
				expect_rc 0
				[ "$(held $n)" = "$n $n-r1 $n/r1/model.tar.gz" ] ||
				    fail "$op: after re-run: $(held $n)"
				run $LEPTON predict $n -d '{"instances": [1]}'
				expect_rc 0
			fi
			run $LEPTON stop $n
			expect_rc 0
			[ -z "$(held $n)" ] || fail "$op/$then: left after stop: $(held $n)"
		done
	done
}

# No capacity in the first region (the server fails the deployModel
# operation with RESOURCE_EXHAUSTED): the next region of
# placement.regions, and nothing left in the first.
test_gcp_no_capacity_moves_to_the_next_region() {
	gcp_setup
	spec=$(gcp_spec vx-move)
	sed -i 's/regions: \[us-central1\]/regions: [us-central1, europe-west4]/' "$spec"
	ctl '{"faults": [{"method": "POST", "path": "locations/us-central1/endpoints/.*:deployModel", "op_error": {"code": 8, "message": "The zone does not have enough resources available to fulfill the request."}, "count": 1}]}'
	run $LEPTON deploy "$spec"
	ctl '{"faults": []}'
	expect_rc 0
	r=$(jget "$LEPTON_HOME/gcp/services/vx-move.json" 'd["region"]')
	[ "$r" = europe-west4 ] || fail "in $r"
	[ "$(sq "[e['name'] for e in s['endpoints'] if e.get('displayName') == 'vx-move' and '/us-central1/' in e['name']] + [m['name'] for m in s['models'] if m['displayName'].startswith('vx-move') and '/us-central1/' in m['name']]")" = "[]" ] ||
	    fail "left in us-central1"
	run $LEPTON stop vx-move
	expect_rc 0
	[ -z "$(held vx-move)" ] || fail "left: $(held vx-move)"
}

test_gcp_token_never_leaks() {
	gcp_setup
	spec=$(gcp_spec vx-leak)
	run $LEPTON -v deploy "$spec"
	expect_rc 0
	cat "$out" "$err" >"$T/all"
	run $LEPTON -v predict vx-leak -d '{"instances": [1]}'
	cat "$out" "$err" >>"$T/all"
	run $LEPTON -v stop vx-leak
	cat "$out" "$err" >>"$T/all"
	# The token lepton used, from its own 0600 cache.
	tok=$(for f in "$LEPTON_HOME"/cache/gcp/*; do
		$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$f" 2>/dev/null
	done | head -1)
	[ -n "$tok" ] || fail "no token to look for"
	grep -qF "$tok" "$T/all" && fail "token in output"
	(cd "$LEPTON_HOME/state" && git log -p --all 2>/dev/null | grep -qF "$tok") &&
	    fail "token in the state repository"
	key=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["private_key"].splitlines()[1])' "$LEP_GCP_KEY")
	grep -rqF "$key" "$LEPTON_HOME" && fail "key material under LEPTON_HOME"
	return 0
}

# The request sequence lepton sends for deploy and train carries the
# methods, paths and required fields gcloud's does for the same work.
test_gcp_requests_match_gcloud() {
	[ -n "${LEP_GCLOUD_SEQ:-}" ] && [ -s "$LEP_GCLOUD_SEQ" ] || {
		echo "    skip: no gcloud sequence"
		return 0
	}
	gcp_setup
	curl -fsS -o /dev/null -X POST "$LEP_GCP_URL/_control/reset" || fail reset
	spec=$(gcp_spec vx-seq)
	run $LEPTON deploy "$spec"
	expect_rc 0
	run $LEPTON predict vx-seq -d '{"instances": [1]}'
	expect_rc 0
	d=$(gcp_iris)
	run $LEPTON train "$d/train-gcp.yaml"
	expect_rc 0
	curl -fsS "$LEP_GCP_URL/_control/log" >"$T/lepton.log"
	run $LEPTON stop vx-seq
	$PY "$ROOT/tests/gcp/seq_compare.py" "$LEP_GCLOUD_SEQ" "$T/lepton.log" >"$T/cmp" 2>&1 ||
	    fail "$(cat "$T/cmp")"
	cat "$T/cmp"
}

# Ctrl-C while the deployModel is pending: the record names the
# operation that goes on (and keeps the revision pending), status says
# so, and a stop leaves nothing.
test_gcp_sigint_leaves_the_operation_named() {
	gcp_setup
	spec=$(gcp_spec vx-int)
	ctl '{"faults": [{"method": "POST", "path": ":deployModel$", "pending": 1000, "count": 1}]}'
	from=$(loglen)
	$LEPTON deploy "$spec" >"$T/int.out" 2>"$T/int.err" &
	pid=$!
	wait_for 30 polled ':deployModel$' "$from" || {
		kill -9 $pid
		ctl '{"faults": []}'
		fail "never polled"
	}
	sleep 1.5
	kill -INT $pid
	wait $pid
	rc=$?
	ctl '{"faults": []}'
	[ $rc = 130 ] || fail "rc $rc: $(cat "$T/int.err")"
	grep -q "goes on (operation projects/.*/operations/" "$T/int.err" ||
	    fail "no operation named: $(cat "$T/int.err")"
	f="$LEPTON_HOME/gcp/services/vx-int.json"
	jget "$f" 'd["operation"]["name"]' | grep -q "/operations/" ||
	    fail "record: $(cat "$f")"
	[ "$(jget "$f" 'd["pending"]')" = 1 ] || fail "pending: $(cat "$f")"
	run $LEPTON stop vx-int
	expect_rc 0
	[ -z "$(held vx-int)" ] || fail "left after stop: $(held vx-int)"
}

# A record that is valid JSON but no deployment record (an array, a
# "models" that is no array) is refused naming the file: it is not taken
# for a deployment that holds nothing, whose stop would leave all.
test_gcp_damaged_record_is_named() {
	gcp_setup
	spec=$(gcp_spec vx-bad)
	run $LEPTON deploy "$spec"
	expect_rc 0
	f="$LEPTON_HOME/gcp/services/vx-bad.json"
	cp "$f" "$T/good.json"
	for junk in '[1, 2]' '{"models": 5}' '{"region": "us-c'; do
		printf '%s\n' "$junk" >"$f"
		run $LEPTON stop vx-bad
		[ "$rc" != 0 ] || fail "$junk: stop said $(cat "$out")"
		expect_err "$f"
		[ -n "$(held vx-bad)" ] || fail "$junk: gone without a record"
	done
	cp "$T/good.json" "$f"
	run $LEPTON stop vx-bad
	expect_rc 0
	[ -z "$(held vx-bad)" ] || fail "left: $(held vx-bad)"
}

# A resumable upload (a model over 8 MiB) whose session Google no longer
# knows midway (404 on a piece, and on the status query after a 503
# burst): a new session from byte 0, and the deploy goes on.
test_gcp_resumable_upload_survives_a_lost_session() {
	gcp_setup
	spec=$(gcp_spec vx-big)
	d=$(dirname "$spec")
	rm -rf "$d/model"
	mkdir "$d/model"
	head -c 20000000 /dev/urandom >"$d/model/weights.bin"
	ctl '{"faults": [{"method": "PUT", "path": "^/upload/", "status": 404, "count": 1, "message": "No such upload session."}]}'
	run $LEPTON deploy "$spec"
	ctl '{"faults": []}'
	expect_rc 0
	[ "$(reqs | grep -c "POST /upload/storage/v1/b/.*/o$")" -ge 2 ] ||
	    fail "no new session: $(reqs | grep upload)"
	run $LEPTON stop vx-big
	expect_rc 0
	[ -z "$(held vx-big)" ] || fail "left: $(held vx-big)"
}

# train killed after customJobs.create, before its answer was recorded
# (the record as that kill leaves it: no job name, phase "submitting"):
# a stop finds the custom job by its displayName and cancels it.
test_gcp_train_killed_after_create_is_stopped() {
	gcp_setup
	d=$(gcp_iris)
	ctl '{"job_seconds": [60, 60]}'
	run $LEPTON train --detach "$d/train-gcp.yaml"
	ctl '{"job_seconds": [1, 2]}'
	expect_rc 0
	id=$(ls "$LEPTON_HOME/gcp/jobs" | sed -n 's/\.json$//p')
	f="$LEPTON_HOME/gcp/jobs/$id.json"
	$PY -c 'import json,sys
d = json.load(open(sys.argv[1])); del d["job"]; d["phase"] = "submitting"
json.dump(d, open(sys.argv[1], "w"))' "$f"
	run timeout 30 $LEPTON stop "$id"
	expect_rc 0
	[ "$(sq "[j['state'] for j in s['jobs'] if j['displayName'] == '$id']")" = "['JOB_STATE_CANCELLED']" ] ||
	    fail "not cancelled: $(sq "[(j['displayName'], j['state']) for j in s['jobs']]")"
}

# A canary's promote killed after it moved the traffic and undeployed
# the old revision, before it recorded that: the next canary deploy
# shares the endpoint with what serves now (not the recorded revision,
# which Vertex refuses in a split), and a stop leaves nothing.
test_gcp_canary_after_a_cut_promote() {
	gcp_setup
	spec=$(gcp_spec vx-cut)
	run $LEPTON deploy "$spec"
	expect_rc 0
	printf '  rollout:\n    strategy: canary\n    percent: 20\n    bake: 600s\n' >>"$spec"
	sed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' "$spec"
	$LEPTON deploy "$spec" >/dev/null 2>&1 &
	pid=$!
	wait_for 20 sh -c "$LEPTON status vx-cut | grep -q 'canary:'" ||
	    fail "no canary"
	kill -9 $pid
	wait $pid 2>/dev/null
	# What the promote did on Vertex before the kill.
	tok=$(for f in "$LEPTON_HOME"/cache/gcp/*; do
		$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$f" 2>/dev/null
	done | head -1)
	ep="$LEP_GCP_URL/v1/$(jget "$LEPTON_HOME/gcp/services/vx-cut.json" 'd["endpoint"]')"
	curl -fsS -o /dev/null -X PATCH -H "Authorization: Bearer $tok" \
	    -H 'Content-Type: application/json' "$ep?updateMask=trafficSplit" \
	    -d '{"trafficSplit": {"2": 100}}' || fail "patch"
	curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $tok" \
	    -H 'Content-Type: application/json' "$ep:undeployModel" \
	    -d '{"deployedModelId": "1"}' || fail "undeploy"
	sed -i 's/bake: 600s/bake: 1s/; s/LOG_LEVEL: debug/LOG_LEVEL: warn/' "$spec"
	run $LEPTON deploy "$spec"
	expect_rc 0
	run $LEPTON predict vx-cut -d '{"instances": [1]}'
	expect_rc 0
	run $LEPTON stop vx-cut
	expect_rc 0
	[ -z "$(held vx-cut)" ] || fail "left: $(held vx-cut)"
}

# A burst of 429 (a rate limit, RESOURCE_EXHAUSTED) that outlasts the
# retries is a transient provider error (exit 7), not "no capacity"
# (exit 16, which would send a deploy to another region).
test_gcp_rate_limit_is_not_capacity() {
	gcp_setup
	spec=$(gcp_spec vx-429)
	run $LEPTON deploy "$spec"
	expect_rc 0
	ctl '{"faults": [{"method": "GET", "path": "endpoints/", "status": 429, "retry_after": 0, "count": 30, "message": "Too many requests."}]}'
	run $LEPTON status vx-429
	ctl '{"faults": []}'
	expect_rc 7
	expect_err "429"
	run $LEPTON stop vx-429
	expect_rc 0
}

# A job whose output holds a file over 8 MiB (model weights): it is
# fetched and registered, not refused as an over-long API answer (which
# left the job "running" for ever).
test_gcp_train_output_over_8mib() {
	gcp_setup
	d=$(gcp_iris)
	ctl '{"job_seconds": [1, 6]}'
	run $LEPTON train --detach "$d/train-gcp.yaml"
	ctl '{"job_seconds": [1, 2]}'
	expect_rc 0
	id=$(ls "$LEPTON_HOME/gcp/jobs" | sed -n 's/\.json$//p')
	tok=$(for f in "$LEPTON_HOME"/cache/gcp/*; do
		$PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$f" 2>/dev/null
	done | head -1)
	head -c 12000000 /dev/urandom >"$T/weights.bin"
	curl -fsS -o /dev/null -X POST -H "Authorization: Bearer $tok" \
	    -H 'Content-Type: application/octet-stream' --data-binary @"$T/weights.bin" \
	    "$LEP_GCP_URL/upload/storage/v1/b/lepton-proj-1/o?uploadType=media&name=jobs%2F$id%2Foutput%2Fmodel%2Fweights.bin" ||
	    fail "upload"
	n=0
	while [ $n -lt 30 ]; do
		run $LEPTON status "$id"
		grep -q running "$out" || break
		sleep 1
		n=$((n + 1))
	done
	grep -q succeeded "$out" || fail "status: $(cat "$out" "$err")"
	run $LEPTON models show iris@v1
	expect_rc 0
	expect_out "$id"
}

# A model over 8 MiB goes up as a resumable upload in 8 MiB pieces; the
# server puts the pieces together (and checks their ranges).
test_gcp_large_model_goes_resumable() {
	gcp_setup
	spec=$(gcp_spec vx-large)
	d=$(dirname "$spec")
	head -c 20000000 /dev/urandom >"$d/model/weights.bin"
	run $LEPTON deploy "$spec"
	expect_rc 0
	curl -fsS "$LEP_GCP_URL/_control/log" | $PY -c '
import json, sys
log = json.load(sys.stdin)
starts = [r for r in log if r["method"] == "POST" and r["query"].get("uploadType") in ("resumable", ["resumable"]) and "vx-large" in json.dumps(r["query"])]
puts = [r for r in log if r["method"] == "PUT" and "upload" in r["path"]]
sys.exit(0 if len(starts) == 1 and len(puts) >= 3 else 1)' ||
	    fail "not one resumable upload in pieces"
	[ "$(held vx-large)" = "vx-large vx-large-r1 vx-large/r1/model.tar.gz" ] ||
	    fail "held: $(held vx-large)"
	run $LEPTON stop vx-large
	expect_rc 0
	[ -z "$(held vx-large)" ] || fail "left: $(held vx-large)"
}

# logs: Cloud Logging's entries for the endpoint, what the server's
# container wrote; and the ledger prices the deployment from the catalog.
test_gcp_logs_and_ledger() {
	gcp_setup
	spec=$(gcp_spec vx-logs)
	run $LEPTON deploy "$spec"
	expect_rc 0
	run $LEPTON predict vx-logs -d '{"instances": [1, 2]}'
	expect_rc 0
	run $LEPTON logs vx-logs
	expect_rc 0
	expect_out "model vx-logs-r1 serving on 8080"
	expect_out "predict 2 instance(s)"
	run $LEPTON logs --tail 1 vx-logs
	expect_rc 0
	[ "$(wc -l <"$out")" = 1 ] || fail "--tail 1: $(cat "$out")"
	run $LEPTON --json cost report --by provider
	expect_rc 0
	grep -q '"gcp"' "$out" || fail "no gcp segment in the ledger: $(head -c 600 "$out")"
	run $LEPTON stop vx-logs
	expect_rc 0
}

# A stop whose endpoint delete fails is not recorded as stopped: status
# asks Vertex (the endpoint still answers); the next stop finishes it.
test_gcp_failed_stop_is_not_stopped() {
	gcp_setup
	spec=$(gcp_spec vx-half)
	run $LEPTON deploy "$spec"
	expect_rc 0
	ctl '{"faults": [{"method": "DELETE", "path": "endpoints/[^/]*$", "status": 500, "count": 20}]}'
	run $LEPTON stop vx-half
	ctl '{"faults": []}'
	expect_rc 7
	expect_err "still has its endpoint"
	run $LEPTON status vx-half
	grep -q stopped "$out" && fail "status says stopped: $(cat "$out")"
	run $LEPTON stop vx-half
	expect_rc 0
	[ -z "$(held vx-half)" ] || fail "left: $(held vx-half)"
	run $LEPTON status vx-half
	expect_out stopped
}
