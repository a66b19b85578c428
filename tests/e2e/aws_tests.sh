# aws_tests.sh: end-to-end tests of the aws provider against moto, run by
# tests/e2e/aws.sh with LEP_MOTO_URL (moto itself), LEP_LAYER_URL (the
# layer in front of it, which lepton talks to), LEP_MOTO_AK/SK (moto's
# keys) and LEP_MOTO_ROLE set. lepton reads its keys from a throwaway
# ~/.aws profile, never from the environment; what it did is checked with
# the aws CLI against moto directly. moto's state is shared by the tests:
# each uses names of its own.

PROFILE=lepton-e2e

# aws_setup [SECRET]: HOME with ~/.aws for profile lepton-e2e, and lepton
# configured to use it with moto's role.
aws_setup() {
	export HOME="$T/h"
	mkdir -p "$HOME/.aws" "$LEPTON_HOME"
	cat >"$HOME/.aws/credentials" <<EOF
[$PROFILE]
aws_access_key_id = $LEP_MOTO_AK
aws_secret_access_key = ${1:-$LEP_MOTO_SK}
EOF
	cat >"$HOME/.aws/config" <<EOF
[profile $PROFILE]
region = us-east-1
EOF
	chmod 600 "$HOME/.aws/credentials" "$HOME/.aws/config"
	cat >"$LEPTON_HOME/config.json" <<EOF
{"aws": {"profile": "$PROFILE", "role_arn": "$LEP_MOTO_ROLE"}}
EOF
	export AWS_ENDPOINT_URL="$LEP_LAYER_URL"
	unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION
}

# mcli ARGS...: the aws CLI against moto itself, with moto's keys.
mcli() {
	env -u AWS_PROFILE AWS_ENDPOINT_URL="$LEP_MOTO_URL" AWS_ACCESS_KEY_ID="$LEP_MOTO_AK" \
	    AWS_SECRET_ACCESS_KEY="$LEP_MOTO_SK" AWS_DEFAULT_REGION=us-east-1 \
	    AWS_MAX_ATTEMPTS=1 AWS_CONFIG_FILE=/dev/null \
	    aws "$@"
}

# names KIND PREFIX: moto's SageMaker KIND (endpoints, endpoint-configs,
# models) whose names start with PREFIX, sorted, one a line (boto3 against
# moto: the aws CLI takes a second to start, and this is asked often).
names() {
	env -u AWS_PROFILE AWS_ENDPOINT_URL="$LEP_MOTO_URL" \
	    AWS_ACCESS_KEY_ID="$LEP_MOTO_AK" AWS_SECRET_ACCESS_KEY="$LEP_MOTO_SK" \
	    AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null $PY -c '
import boto3, sys
sm = boto3.client("sagemaker")
kind, pre = sys.argv[1], sys.argv[2]
if kind == "endpoints":
    n = [e["EndpointName"] for e in sm.list_endpoints(MaxResults=100)["Endpoints"]]
elif kind == "endpoint-configs":
    n = [e["EndpointConfigName"] for e in sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]]
else:
    n = [e["ModelName"] for e in sm.list_models(MaxResults=100)["Models"]]
for x in sorted(n):
    if x.startswith(pre):
        print(x)
' "$1" "$2"
}

# An AWS service spec named $1 in the sandbox's iris copy (extra lines $2).
aws_spec() {
	d=$(iris_copy)
	sed "s/^name: iris-sm/name: $1/" "$d/service-aws.yaml" >"$d/$1.yaml"
	[ -z "${2:-}" ] || printf '%s\n' "$2" >>"$d/$1.yaml"
	echo "$d/$1.yaml"
}

# queue BODY...: moto's next InvokeEndpoint answers.
queue() {
	_r=$($PY -c 'import json,sys; print(json.dumps({"results": [{"Body": b, "ContentType": "application/json"} for b in sys.argv[1:]]}))' "$@")
	curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
	    "$LEP_MOTO_URL/moto-api/static/sagemaker/endpoint-results" -d "$_r" ||
	    fail "cannot queue InvokeEndpoint answers"
}

# The driver's count and time from -v output: "N SageMaker calls, M ms".
figure_calls() {
	sed -n "s/.*aws: [a-z0-9-]* [a-z ]*: \([0-9]*\) SageMaker calls, \([0-9]*\) ms.*/figure: $1: \1 calls, \2 ms/p" "$err"
}

# The endpoint's config, as moto says.
serving_config() {
	mcli sagemaker describe-endpoint --endpoint-name "$1" \
	    --query EndpointConfigName --output text
}

test_aws_check_names_the_profile() {
	aws_setup
	s=$(date +%s%N)
	run $LEPTON check aws
	e=$(date +%s%N)
	expect_rc 0
	expect_out "profile $PROFILE"
	expect_out "account    123456789012"
	expect_out "region     us-east-1"
	expect_out "$LEP_LAYER_URL (from AWS_ENDPOINT_URL)"
	echo "figure: lepton check aws ms: $(((e - s) / 1000000))"
	s=$(date +%s%N)
	mcli sts get-caller-identity >/dev/null || fail "aws sts failed"
	e=$(date +%s%N)
	echo "figure: aws sts get-caller-identity ms: $(((e - s) / 1000000))"
	run $LEPTON check aws --json
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["providers"][0]["details"]["account"]')" = 123456789012 ] ||
	    fail "no account in --json"
}

test_aws_deploy_predict_update_rollback_stop() {
	aws_setup
	spec=$(aws_spec sm-main)
	run $LEPTON -v deploy "$spec"
	expect_rc 0
	expect_out "sm-main revision 1 ready on aws"
	figure_calls "deploy to InService"
	# moto (the aws CLI) sees what lepton made.
	[ "$(names endpoints sm-main)" = sm-main ] || fail "no endpoint"
	[ "$(names endpoint-configs sm-main)" = sm-main-r1 ] || fail "configs: $(names endpoint-configs sm-main)"
	[ "$(names models sm-main)" = sm-main-r1 ] || fail "models: $(names models sm-main)"
	[ "$(mcli sagemaker describe-endpoint --endpoint-name sm-main --query EndpointStatus --output text)" = InService ] ||
	    fail "not InService"
	mcli sagemaker describe-endpoint-config --endpoint-config-name sm-main-r1 \
	    --query 'ProductionVariants[0].InstanceType' --output text | grep -q '^ml\.m5\.large$' ||
	    fail "instance type not the planner's"
	mcli s3 ls --recursive s3://lepton-123456789012-us-east-1 | grep -q 'sm-main/r1/model.tar.gz' ||
	    fail "no model.tar.gz in S3"
	# predict: one request, signed.
	queue '{"classes": [0]}'
	run $LEPTON predict sm-main -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	expect_rc 0
	expect_out '"classes": [0]'
	# A batch: three lines, three answers, in order.
	printf '%s\n' '{"i": 1}' '{"i": 2}' '{"i": 3}' >"$T/batch.jsonl"
	queue '{"c": 1}' '{"c": 2}' '{"c": 3}'
	run $LEPTON predict sm-main -f "$T/batch.jsonl"
	expect_rc 0
	[ "$(wc -l <"$out")" = 3 ] || fail "batch: $(cat "$out")"
	# A load run: one body, one signature.
	run $LEPTON predict sm-main -d '{"i": 1}' --duration 1s --concurrency 2
	expect_rc 0
	grep -q "p50" "$out" "$err" || fail "no load summary: $(cat "$out" "$err")"
	# The same over libcurl (https's engine), signed once.
	run $LEPTON predict sm-main -d '{"i": 1}' --requests 20 --engine curl
	expect_rc 0
	# Longer than a signature holds: refused, not sent unsigned.
	run $LEPTON predict sm-main -d '{"i": 1}' --duration 10m
	expect_rc 2
	expect_err "signs each request"
	run $LEPTON status sm-main
	expect_rc 0
	expect_out "running"
	# Update: a new model and config; the endpoint switches.
	sed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' "$spec"
	run $LEPTON -v deploy "$spec"
	expect_rc 0
	figure_calls "update"
	[ "$(serving_config sm-main)" = sm-main-r2 ] || fail "update: serving $(serving_config sm-main)"
	[ "$(names endpoint-configs sm-main | tr '\n' ' ')" = "sm-main-r1 sm-main-r2 " ] ||
	    fail "configs after update: $(names endpoint-configs sm-main)"
	# Rollback: back to revision 1's config, nothing new made.
	run $LEPTON -v rollback sm-main
	expect_rc 0
	figure_calls "rollback"
	[ "$(serving_config sm-main)" = sm-main-r1 ] || fail "rollback: serving $(serving_config sm-main)"
	[ "$(names models sm-main | wc -l)" = 2 ] || fail "rollback made a model"
	run $LEPTON history sm-main
	expect_rc 0
	expect_out rollback
	# Stop: nothing left on SageMaker.
	run $LEPTON -v stop sm-main
	expect_rc 0
	figure_calls "stop"
	[ -z "$(names endpoints sm-main)$(names endpoint-configs sm-main)$(names models sm-main)" ] ||
	    fail "left after stop: $(names endpoints sm-main) $(names endpoint-configs sm-main) $(names models sm-main)"
	run $LEPTON status sm-main
	expect_out stopped
}

test_aws_stop_leaves_lists_empty() {
	# The acceptance check as written: the lists themselves, empty.
	aws_setup
	spec=$(aws_spec sm-empty)
	run $LEPTON deploy "$spec"
	expect_rc 0
	run $LEPTON stop sm-empty
	expect_rc 0
	# With the aws CLI, as a user would look (earlier tests stopped
	# theirs; the lists hold nothing of this suite's).
	for k in endpoints endpoint-configs models; do
		l=$(mcli sagemaker list-$k --output text | grep 'sm-')
		[ -z "$l" ] || fail "aws sagemaker list-$k: $l"
	done
}

test_aws_train_registers_a_version() {
	aws_setup
	d=$(iris_copy)
	s=$(date +%s%N)
	run $LEPTON train "$d/train-aws.yaml"
	expect_rc 0
	expect_out "registered iris@v1"
	echo "figure: train ms: $((($(date +%s%N) - s) / 1000000))"
	id=$(ls "$LEPTON_HOME/aws/jobs" | sed -n 's/\.json$//p')
	mcli sagemaker describe-training-job --training-job-name "$id" \
	    --query 'ResourceConfig.[InstanceType,InstanceCount]' --output text |
	    grep -q 'ml.m5.large.*1' || fail "training job not as planned"
	run $LEPTON models show iris@v1
	expect_rc 0
	expect_out "$id"
	mcli s3 ls --recursive s3://lepton-123456789012-us-east-1 |
	    grep -q "jobs/$id/code/sourcedir.tar.gz" || fail "no code in S3"
	# Its logs, as SageMaker would write them (moto writes none).
	g=/aws/sagemaker/TrainingJobs
	mcli logs create-log-group --log-group-name $g 2>/dev/null
	mcli logs create-log-stream --log-group-name $g --log-stream-name "$id/algo-1-1765000000"
	mcli logs put-log-events --log-group-name $g --log-stream-name "$id/algo-1-1765000000" \
	    --log-events timestamp=$(date +%s000),message="epoch 300 accuracy 0.97" >/dev/null
	run $LEPTON logs "$id"
	expect_rc 0
	expect_out "epoch 300 accuracy 0.97"
}

test_aws_stop_a_training_job() {
	aws_setup
	d=$(iris_copy)
	run $LEPTON train --detach "$d/train-aws.yaml"
	[ "$rc" = 0 ] || [ "$rc" = 2 ] || fail "train: $rc $(cat "$err")"
	[ "$rc" = 2 ] && return 0	# no --detach: the job already ended
	id=$(ls "$LEPTON_HOME/aws/jobs" | sed -n 's/\.json$//p')
	run $LEPTON stop "$id"
	expect_rc 0
}

test_aws_canary_promotes() {
	aws_setup
	spec=$(aws_spec sm-canary)
	run $LEPTON deploy "$spec"
	expect_rc 0
	cat >>"$spec" <<'EOF'
  rollout:
    strategy: canary
    percent: 20
    bake: 1s
EOF
	sed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' "$spec"
	run $LEPTON -v deploy "$spec"
	expect_rc 0
	grep -q "switch" "$LEP_LAYER_LOG" || true
	grep -q "sm-canary-r1 -> sm-canary-r2-canary" "$LEP_LAYER_LOG" ||
	    fail "no canary config served: $(cat "$LEP_LAYER_LOG")"
	[ "$(serving_config sm-canary)" = sm-canary-r2 ] || fail "not promoted: $(serving_config sm-canary)"
	mcli sagemaker describe-endpoint-config --endpoint-config-name sm-canary-r2-canary \
	    --query 'ProductionVariants[].InitialVariantWeight' --output text | grep -q '80.0.*20.0' ||
	    fail "canary weights"
	run $LEPTON stop sm-canary
	expect_rc 0
	[ -z "$(names models sm-canary)$(names endpoint-configs sm-canary)" ] || fail "canary left"
}

test_aws_logs_from_cloudwatch() {
	aws_setup
	spec=$(aws_spec sm-logs)
	run $LEPTON deploy "$spec"
	expect_rc 0
	g=/aws/sagemaker/Endpoints/sm-logs
	mcli logs create-log-group --log-group-name $g
	mcli logs create-log-stream --log-group-name $g --log-stream-name AllTraffic/i-1
	mcli logs put-log-events --log-group-name $g --log-stream-name AllTraffic/i-1 \
	    --log-events timestamp=$(date +%s000),message="serving on 8080" >/dev/null
	run $LEPTON logs sm-logs
	expect_rc 0
	expect_out "serving on 8080"
	mcli logs put-log-events --log-group-name $g --log-stream-name AllTraffic/i-1 \
	    --log-events timestamp=$(($(date +%s) + 1))000,message="second line" >/dev/null
	# --tail N: the last N lines, as text too, not only with --json.
	run $LEPTON logs --tail 1 sm-logs
	expect_rc 0
	expect_out "second line"
	grep -q "serving on 8080" "$out" && fail "--tail 1 printed every line"
	# --replica K: refused (streams are named by instance id), not ignored.
	run $LEPTON logs --replica 0 sm-logs
	expect_rc 9
	expect_err "cannot show one replica's log"
	run $LEPTON stop sm-logs
}

# predict --revision and --shadow on an endpoint: the serving revision
# is the endpoint itself; another is refused, never silently the endpoint.
test_aws_predict_revision() {
	aws_setup
	spec=$(aws_spec sm-rev)
	run $LEPTON deploy "$spec"
	expect_rc 0
	# (moto's canned answers are shared by the tests: what comes back
	# is not checked, only that it was asked.)
	run $LEPTON predict sm-rev -d '{"i": 1}' --revision 1
	expect_rc 0
	run $LEPTON predict sm-rev -d '{"i": 1}' --revision 2
	expect_rc 11
	expect_err "revision 2 of 'sm-rev' is not serving"
	printf '%s\n' '{"i": 1}' >"$T/one.jsonl"
	run $LEPTON predict sm-rev -f "$T/one.jsonl" --shadow 1
	[ "$rc" != 9 ] && [ "$rc" != 11 ] || fail "--shadow 1 refused: $(cat "$err")"
	run $LEPTON stop sm-rev
	expect_rc 0
}

test_aws_wrong_secret_is_auth_naming_the_source() {
	aws_setup "wrongwrongwrongwrongwrongwrongwrongwrong"
	run $LEPTON check aws
	expect_rc 4
	expect_err "shared-credentials-file"
	spec=$(aws_spec sm-auth)
	run $LEPTON deploy "$spec"
	expect_rc 4
	grep -q wrongwrongwrong "$out" "$err" && fail "the secret was printed"
	[ -z "$(names models sm-auth)" ] || fail "something was made"
}

test_aws_secrets_never_leak() {
	aws_setup
	spec=$(aws_spec sm-leak)
	run $LEPTON -v deploy "$spec"
	expect_rc 0
	cat "$out" "$err" >"$T/all"
	queue '{"x": 1}'
	run $LEPTON -v predict sm-leak -d '{"x": 1}'
	cat "$out" "$err" >>"$T/all"
	run $LEPTON -v stop sm-leak
	cat "$out" "$err" >>"$T/all"
	# A server (a proxy's page, an error) quoting the request's secrets
	# back: the error names the call, never the secret.
	spec=$(aws_spec sm-leak2)
	for f in "{\"op\": \"CreateModel\", \"nth\": 1, \"status\": 400, \"body\": \"<html>X-Amz-Security-Token: $LEP_MOTO_SK</html>\"}" \
	    "{\"op\": \"CreateModel\", \"nth\": 1, \"status\": 400, \"ctype\": \"application/x-amz-json-1.1\", \"body\": \"{\\\"__type\\\": \\\"ValidationException\\\", \\\"message\\\": \\\"key $LEP_MOTO_SK\\\"}\"}"; do
		curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/faults" -d "$f" ||
		    fail "fault"
		run $LEPTON deploy "$spec"
		expect_rc 7
		cat "$out" "$err" >>"$T/all"
		curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/reset"
	done
	expect_err "[redacted]"
	run $LEPTON stop sm-leak2
	grep -qF "$LEP_MOTO_SK" "$T/all" && fail "secret in output: $(grep -F "$LEP_MOTO_SK" "$T/all")"
	grep -rqF "$LEP_MOTO_SK" "$LEPTON_HOME" && fail "secret under LEPTON_HOME"
	(cd "$LEPTON_HOME/state" && git log -p --all 2>/dev/null | grep -qF "$LEP_MOTO_SK") &&
	    fail "secret in the state repository"
	return 0
}

test_aws_refuses_what_it_cannot() {
	aws_setup
	spec=$(aws_spec sm-refuse "setup: echo hi")
	run $LEPTON deploy "$spec"
	expect_rc 9
	expect_err "provider 'aws' cannot honour 'setup'"
	spec=$(aws_spec sm-refuse2)
	sed -i 's/^  path: \/invocations/  path: \/predict/' "$spec"
	run $LEPTON deploy "$spec"
	expect_rc 9
	expect_err "/invocations"
	# No role: said, before anything is made.
	echo '{"aws": {"profile": "'$PROFILE'"}}' >"$LEPTON_HOME/config.json"
	spec=$(aws_spec sm-refuse3)
	run $LEPTON deploy "$spec"
	expect_rc 2
	expect_err "LEPTON_AWS_ROLE_ARN"
	[ -z "$(names models sm-refuse)" ] || fail "something was made"
}

# A deploy that fails at call k (the layer's fault, an error lepton does
# not retry), before SageMaker acts or after (the answer lost): the record
# names exactly what exists, a re-run converges with no duplicates, and
# stop leaves nothing. A create whose answer was lost is found by a
# describe and the deploy goes on.
test_aws_partial_failure_converges() {
	aws_setup
	k=0 recovered=0
	for op in CreateModel CreateEndpointConfig CreateEndpoint DescribeEndpoint; do
		for after in false true; do
			k=$((k + 1))
			n=sm-fault$k
			spec=$(aws_spec $n)
			curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/faults" \
			    -d "{\"op\": \"$op\", \"nth\": 1, \"after\": $after, \"status\": 400, \"code\": \"InjectedFault\"}" ||
			    fail "fault"
			run $LEPTON deploy "$spec"
			[ "$rc" = 0 ] && recovered=$((recovered + 1))
			f="$LEPTON_HOME/aws/services/$n.json"
			rec=$(jget "$f" '" ".join(sorted(d["models"]))')
			[ "$rec" = "$(names models $n | tr '\n' ' ' | sed 's/ $//')" ] ||
			    fail "$op/$after: record says models '$rec', moto has '$(names models $n)'"
			rec=$(jget "$f" '" ".join(sorted(d["configs"]))')
			[ "$rec" = "$(names endpoint-configs $n | tr '\n' ' ' | sed 's/ $//')" ] ||
			    fail "$op/$after: record says configs '$rec', moto has '$(names endpoint-configs $n)'"
			curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/reset"
			run $LEPTON deploy "$spec"
			expect_rc 0
			[ "$(names endpoints $n)" = $n ] || fail "$op/$after: no endpoint after re-run"
			run $LEPTON stop $n
			expect_rc 0
			[ -z "$(names endpoints $n)$(names endpoint-configs $n)$(names models $n)" ] ||
			    fail "$op/$after: left after stop"
		done
	done
	echo "figure: partial-failure cases: $k, $recovered recovered within the deploy"
}

# A 2xx that is not SageMaker's answer (a proxy's HTML page, an object
# of the wrong shape) to a create or describe: PROVIDER, and the record
# names nothing that does not exist; a re-run converges, stop cleans.
test_aws_garbage_answer_is_not_a_resource() {
	aws_setup
	k=0
	for c in 'CreateModel <html><body>ok</body></html>' 'CreateEndpointConfig {}' \
	    'DescribeEndpoint {}' 'CreateEndpoint <html>'; do
		op=${c%% *} body=${c#* }
		{
			k=$((k + 1))
			n=sm-junk$k
			spec=$(aws_spec $n)
			b=$($PY -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$body")
			curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/faults" \
			    -d "{\"op\": \"$op\", \"nth\": 1, \"body\": $b}" ||
			    fail "fault"
			run $LEPTON deploy "$spec"
			expect_rc 7
			f="$LEPTON_HOME/aws/services/$n.json"
			rec=$(jget "$f" '" ".join(sorted(d["models"]))')
			[ "$rec" = "$(names models $n | tr '\n' ' ' | sed 's/ $//')" ] ||
			    fail "$op/$body: record says models '$rec', moto has '$(names models $n)'"
			rec=$(jget "$f" '" ".join(sorted(d["configs"]))')
			[ "$rec" = "$(names endpoint-configs $n | tr '\n' ' ' | sed 's/ $//')" ] ||
			    fail "$op/$body: record says configs '$rec', moto has '$(names endpoint-configs $n)'"
			[ "$(jget "$f" 'd.get("endpoint", False)')" = False ] ||
			    fail "$op/$body: record says the endpoint exists"
			curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/reset"
			run $LEPTON deploy "$spec"
			expect_rc 0
			run $LEPTON stop $n
			expect_rc 0
			[ -z "$(names endpoints $n)$(names endpoint-configs $n)$(names models $n)" ] ||
			    fail "$op/$body: left after stop"
		}
	done
}

# kill -9 of a deploy while SageMaker acts on a create (its answer held
# by the layer): stop deletes what it made; after another kill, a re-run
# converges and stop leaves the lists empty.
test_aws_deploy_killed_mid_create() {
	aws_setup
	k=0
	for op in CreateModel CreateEndpointConfig CreateEndpoint; do
		k=$((k + 1))
		n=sm-kill$k
		spec=$(aws_spec $n)
		for then in stop deploy; do
			curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/faults" \
			    -d "{\"op\": \"$op\", \"nth\": 1, \"delay_s\": 30}" ||
			    fail "fault"
			before=$(grep -c "DELAYED $op" "$LEP_LAYER_LOG")
			$LEPTON deploy "$spec" >/dev/null 2>&1 &
			pid=$!
			i=0
			while [ "$(grep -c "DELAYED $op" "$LEP_LAYER_LOG")" = "$before" ] &&
			    [ $i -lt 100 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -9 $pid
			wait $pid 2>/dev/null
			curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/reset"
			if [ $then = deploy ]; then
				run $LEPTON deploy "$spec"
				expect_rc 0
			fi
			run $LEPTON stop $n
			expect_rc 0
			[ -z "$(names endpoints $n)$(names endpoint-configs $n)$(names models $n)" ] ||
			    fail "$op/$then: left after stop: $(names endpoints $n) $(names endpoint-configs $n) $(names models $n)"
		done
	done
}

# A model over 8 MiB goes up in parts (each part's payload hash signed,
# each checked by moto); what lands is a real model.tar.gz.
test_aws_large_model_goes_in_parts() {
	aws_setup
	spec=$(aws_spec sm-big)
	d=$(dirname "$spec")
	head -c 20000000 /dev/urandom >"$d/model/weights.bin"
	run $LEPTON deploy "$spec"
	expect_rc 0
	mcli s3api head-object --bucket lepton-123456789012-us-east-1 \
	    --key sm-big/r1/model.tar.gz --query ETag --output text | grep -q -- '-3"$' ||
	    fail "not a 3-part upload"
	mcli s3 cp --no-progress s3://lepton-123456789012-us-east-1/sm-big/r1/model.tar.gz "$T/m.tgz" >/dev/null
	tar tzf "$T/m.tgz" | grep -q 'weights.bin' || fail "not a tar.gz with the model"
	run $LEPTON stop sm-big
	expect_rc 0
}

# No capacity in the region (the layer refuses it as SageMaker would).
# Pinned to that region: exit 16, and nothing of the attempt is left
# there (lib/ records it as never started).
test_aws_no_capacity_in_a_pinned_region() {
	aws_setup
	spec=$(aws_spec sm-cap "placement: {providers: [aws], regions: [us-east-1]}")
	sed -i '/^placement:$/,/^  providers: \[aws\]$/d' "$spec"
	curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/faults" \
	    -d '{"region": "us-east-1", "code": "ResourceLimitExceeded", "ops": ["CreateEndpoint"]}' ||
	    fail "fault"
	run $LEPTON deploy "$spec"
	curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/reset"
	expect_rc 16
	expect_err "ResourceLimitExceeded"
	[ -z "$(names endpoints sm-cap)$(names endpoint-configs sm-cap)$(names models sm-cap)" ] ||
	    fail "the attempt left: $(names models sm-cap) $(names endpoint-configs sm-cap)"
	run $LEPTON stop sm-cap
}

# Not pinned: the plan's next region (the layer refuses us-east-1 only).
test_aws_no_capacity_moves_to_the_next_region() {
	aws_setup
	spec=$(aws_spec sm-move)
	curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/faults" \
	    -d '{"region": "us-east-1", "code": "InsufficientCapacity", "ops": ["CreateEndpoint"]}' ||
	    fail "fault"
	run $LEPTON deploy "$spec"
	curl -fsS -o /dev/null -X POST "$LEP_LAYER_URL/layer/reset"
	expect_rc 0
	r=$(jget "$LEPTON_HOME/aws/services/sm-move.json" 'd["region"]')
	[ "$r" != us-east-1 ] || fail "still in us-east-1"
	[ -z "$(names models sm-move)" ] || fail "left in us-east-1: $(names models sm-move)"
	mcli sagemaker describe-endpoint --region "$r" --endpoint-name sm-move \
	    --query EndpointStatus --output text | grep -q InService || fail "not in service in $r"
	queue '{"moved": true}'
	run $LEPTON predict sm-move -d '{"x": 2}'
	expect_rc 0
	run $LEPTON stop sm-move
	expect_rc 0
	[ "$(mcli sagemaker list-models --region "$r" --output text | grep -c sm-move)" = 0 ] ||
	    fail "left in $r"
}

# No placement.regions: the profile's region, as the aws CLI would use
# it, not the catalog's cheapest.
test_aws_region_is_the_profiles() {
	aws_setup
	sed -i 's/^region = us-east-1/region = us-west-2/' "$HOME/.aws/config"
	spec=$(aws_spec sm-west)
	run $LEPTON deploy "$spec"
	expect_rc 0
	[ "$(jget "$LEPTON_HOME/aws/services/sm-west.json" 'd["region"]')" = us-west-2 ] ||
	    fail "not in the profile's region: $(cat "$LEPTON_HOME/aws/services/sm-west.json")"
	mcli sagemaker describe-endpoint --region us-west-2 --endpoint-name sm-west \
	    --query EndpointStatus --output text | grep -q InService || fail "not in service in us-west-2"
	[ -z "$(names endpoints sm-west)" ] || fail "made in us-east-1 too"
	run $LEPTON stop sm-west
	expect_rc 0
	[ "$(mcli sagemaker list-models --region us-west-2 --output text | grep -c sm-west)" = 0 ] ||
	    fail "left in us-west-2"
}
