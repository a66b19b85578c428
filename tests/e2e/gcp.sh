#!/bin/sh
# gcp.sh: the GCP suite. tests/gcp/vertex_server.py (a loopback Google
# token endpoint, Vertex AI, Cloud Storage and Cloud Logging, strict to
# the Vertex discovery document, every JWT verified) is started once with
# a throwaway service-account key; gcloud itself is run against it
# (tests/gcp/gcloud_xcheck.sh) and records its request sequence; then
# tests/e2e/gcp_tests.sh runs with lepton pointed at the same server the
# way Google's own tools are: the key's token_uri,
# CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM, STORAGE_EMULATOR_HOST and
# CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING. One SKIP line without
# python3-cryptography.
: "${LEPTON:?set LEPTON to the binary under test}"
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
if ! $PY -c 'import cryptography' 2>/dev/null; then
	echo "SKIP: gcp suite (python3-cryptography is missing)"
	exit 0
fi
DIR=$(mktemp -d /tmp/lep-gcpv-XXXX)
t0=$(date +%s)
cleanup() {
	[ -s "$DIR/srv.pid" ] && kill "$(cat "$DIR/srv.pid")" 2>/dev/null
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$DIR/sa.pem" || exit 1
# sakey URI: the service-account key file, token_uri URI, 0600.
sakey() {
	(umask 077 && $PY - "$DIR/sa.pem" "$1" >"$DIR/sa.json.new" &&
	    mv "$DIR/sa.json.new" "$DIR/sa.json") <<'PY'
import json, sys
pem, uri = sys.argv[1:]
json.dump({"type": "service_account", "project_id": "proj-1",
           "private_key_id": "kid-e2e", "private_key": open(pem).read(),
           "client_email": "lepton-e2e@proj-1.iam.gserviceaccount.com",
           "client_id": "1234567890",
           "auth_uri": "https://accounts.google.com/o/oauth2/auth",
           "token_uri": uri, "universe_domain": "googleapis.com"},
          sys.stdout, indent=1)
PY
}
# The server takes the key's public half; its token_uri is set after.
sakey http://127.0.0.1:9/token
$PY "$here/../gcp/vertex_server.py" --port-file "$DIR/srv.port" \
    --key "$DIR/sa.json" --log "$DIR/srv.log" </dev/null \
    >"$DIR/srv.out" 2>&1 &
echo $! >"$DIR/srv.pid"
n=100
while [ ! -s "$DIR/srv.port" ] && [ $n -gt 0 ]; do
	sleep 0.1
	n=$((n - 1))
done
if [ ! -s "$DIR/srv.port" ]; then
	cat "$DIR/srv.out"
	echo "not ok - vertex_server.py did not start"
	exit 1
fi
port=$(cat "$DIR/srv.port")
export LEP_GCP_URL="http://127.0.0.1:$port"
sakey "$LEP_GCP_URL/token"
rm -f "$DIR/sa.pem"
export LEP_GCP_KEY="$DIR/sa.json" LEP_GCP_DIR="$DIR"
echo "figure: gcp server start s: $(($(date +%s) - t0))"
rc=0
# The server itself, on what gcloud does not reach (splits, undeploy
# rules, faults, job clock, uploads, paging, log filters).
$PY "$here/../gcp/server_selftest.py" || rc=1
if command -v gcloud >/dev/null 2>&1; then
	sh "$here/../gcp/gcloud_xcheck.sh" "$DIR/gcloud.seq" || rc=1
	export LEP_GCLOUD_SEQ="$DIR/gcloud.seq"
else
	echo "SKIP: gcloud cross-check (no gcloud)"
fi
# The provider contract's API cases (probe, unknown names, refusals)
# on the gcp row, against the server: it runs no workload, so the
# workload cases stay with a real account.
if [ -n "${CHECK_LEPTON:-}" ]; then
	echo "Running the provider contract's API cases on gcp (loopback Vertex)"
	LEP_GCP_API=1 GOOGLE_APPLICATION_CREDENTIALS="$LEP_GCP_KEY" \
	    CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM="$LEP_GCP_URL/" \
	    STORAGE_EMULATOR_HOST="$LEP_GCP_URL" \
	    CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING="$LEP_GCP_URL/" \
	    LEP_TEST_KEEP_ENV="GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM STORAGE_EMULATOR_HOST CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING" \
	    LEP_GCP_IMAGE=us-docker.pkg.dev/proj-1/lepton/contract:1 \
	    CK_RUN_SUITE=contract CK_RUN_CASE=contract-api \
	    LEPTON="$LEPTON" "$CHECK_LEPTON" || rc=1
fi
E2E_FILES="$here/gcp_tests.sh" sh "$here/run.sh" || rc=1
echo "figure: gcp suite s: $(($(date +%s) - t0))"
exit $rc
