#!/bin/sh
# tests/aws/creds.sh: the AWS credential chain of lib/aws next to
# botocore's, case by case (tests/aws/creds.py), against moto with SigV4
# checking (tests/engines/aws) and a loopback SSO recorder (sso-rec.py).
# One SKIP line where moto or boto3 is missing. AWS_CREDS: the test
# program (make build/aws_creds).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
engine=$here/../engines/aws
: "${AWS_CREDS:?set AWS_CREDS to build/aws_creds}"
if ! why=$("$engine" have); then
	echo "SKIP aws-creds: $why"
	exit 0
fi
dir=$(mktemp -d /tmp/lep-aws-XXXXXX)
rec=
cleanup() {
	[ -n "$rec" ] && kill "$rec" 2>/dev/null
	"$engine" down "$dir/moto" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
env=$("$engine" up "$dir/moto") || { echo "FAIL aws-creds: moto did not start"; exit 1; }
eval "$env"
python3 "$here/sso-rec.py" "$dir/sso-rec.port" "$dir/sso-rec.log" &
rec=$!
i=0
while [ ! -s "$dir/sso-rec.port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
AWS_TEST_DIR=$dir AWS_CREDS=$AWS_CREDS python3 "$here/creds.py"
