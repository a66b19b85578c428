#!/bin/sh
# aws.sh: the AWS suite. moto_server (tests/engines/aws: loopback, SigV4
# and IAM checking on) is started once, tests/aws/moto_layer.py in front
# of it (botocore validation of every SageMaker body, UpdateEndpoint and
# StopTrainingJob, faults); then tests/e2e/aws_tests.sh runs with lepton
# pointed at the layer (AWS_ENDPOINT_URL) and the aws CLI at moto itself.
# One SKIP line where this machine cannot run moto.
: "${LEPTON:?set LEPTON to the binary under test}"
here=$(cd "$(dirname "$0")" && pwd)
engine="$here/../engines/aws"
if ! why=$("$engine" have); then
	echo "SKIP: aws suite ($why; pip install 'moto[server]' awscli boto3)"
	exit 0
fi
DIR=$(mktemp -d /tmp/lep-aws-XXXX)
t0=$(date +%s)
cleanup() {
	[ -s "$DIR/layer.pid" ] && kill "$(cat "$DIR/layer.pid")" 2>/dev/null
	"$engine" down "$DIR/moto" >/dev/null 2>&1
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
if ! "$engine" up "$DIR/moto" >"$DIR/env" 2>"$DIR/err"; then
	cat "$DIR/err"
	echo "not ok - moto did not start"
	exit 1
fi
echo "figure: moto start s: $(($(date +%s) - t0))"
(
	set -a
	. "$DIR/env"
	set +a
	python3 "$here/../aws/moto_layer.py" "$AWS_ENDPOINT_URL" \
	    "$DIR/layer.port" "$DIR/layer.log" </dev/null >"$DIR/layer.out" 2>&1 &
	echo $! >"$DIR/layer.pid"
	n=100
	while [ ! -s "$DIR/layer.port" ] && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ -s "$DIR/layer.port" ] || { cat "$DIR/layer.out"; exit 1; }
	# The tests' own view: moto direct, with the harness's keys; lepton
	# sees the layer and reads its keys from a profile each test writes.
	export LEP_MOTO_URL="$AWS_ENDPOINT_URL" LEP_MOTO_AK="$AWS_ACCESS_KEY_ID"
	export LEP_MOTO_SK="$AWS_SECRET_ACCESS_KEY" LEP_MOTO_ROLE="$MOTO_ROLE_ARN"
	export LEP_LAYER_URL="http://127.0.0.1:$(cat "$DIR/layer.port")"
	export LEP_LAYER_LOG="$DIR/layer.log"
	# The provider contract's API cases (probe, unknown names,
	# refusals) on the aws row, against the layer: moto runs no
	# workload, so the workload cases stay with a real account.
	if [ -n "${CHECK_LEPTON:-}" ]; then
		echo "Running the provider contract's API cases on aws (moto)"
		LEP_AWS_MOTO=1 AWS_ENDPOINT_URL="$LEP_LAYER_URL" \
		    LEP_TEST_KEEP_ENV="AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY" \
		    LEP_AWS_IMAGE=123456789012.dkr.ecr.us-east-1.amazonaws.com/contract:1 \
		    AWS_REGION=us-east-1 \
		    CK_RUN_SUITE=contract CK_RUN_CASE=contract-api \
		    LEPTON="$LEPTON" "$CHECK_LEPTON" || exit 1
	fi
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN MOTO_ROLE_ARN
	E2E_FILES="$here/aws_tests.sh" sh "$here/run.sh"
)
rc=$?
echo "figure: aws suite s: $(($(date +%s) - t0))"
if grep -q REFUSED "$DIR/layer.log"; then
	rc=1
	echo "not ok - the layer refused bodies botocore's model rejects:"
	grep REFUSED "$DIR/layer.log" | sed 's/^/    /'
fi
exit $rc
