#!/bin/sh
# tests/gcp/gcloud_xcheck.sh [OUT]: keeps tests/gcp/vertex_server.py honest
# with gcloud itself: a throwaway service account key (openssl) whose
# token_uri is the server, a throwaway CLOUDSDK_CONFIG, then gcloud ai
# models upload / endpoints create / deploy-model / predict / custom-jobs
# create against it (once more with operations left pending, so gcloud
# polls /v1beta1 operations), each of which must succeed. Then negative
# checks that the server refuses what Google refuses: an unknown body field
# (400), a forged JWT, a request without a token (401). Writes gcloud's
# request sequence to OUT (default: not written): one line a request,
# METHOD PATH(ids as {model} {endpoint} {deployed} {job} {op}) FIELDS, the
# sorted dotted body field paths, for comparison with lepton's sequence.
# Prints ok/not ok lines; exits non-zero on any failure; skip without gcloud.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
out=${1:-}
if ! command -v gcloud >/dev/null 2>&1; then
	echo "skip - gcloud_xcheck: gcloud is not installed"
	exit 0
fi
if ! $PY -c 'import cryptography' 2>/dev/null; then
	echo "skip - gcloud_xcheck: python3-cryptography is missing"
	exit 0
fi
dir=$(mktemp -d /tmp/lep-gcloudx-XXXXXX)
pid=
failed=0
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ok() { echo "ok - $1"; }
notok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	[ -s "$dir/err" ] && sed 's/^/#   /' "$dir/err" | tail -5
}

# A key of our own; token_uri is filled in once the port is known.
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$dir/sa.pem" || exit 1
mksa() { # mksa OUT TOKEN_URI
	(umask 077 && $PY - "$dir/sa.pem" "$2" >"$1") <<'PY'
import json, sys
pem, uri = sys.argv[1:]
json.dump({"type": "service_account", "project_id": "proj-1",
           "private_key_id": "kid123", "private_key": open(pem).read(),
           "client_email": "lepton@proj-1.iam.gserviceaccount.com",
           "client_id": "1234567890",
           "auth_uri": "https://accounts.google.com/o/oauth2/auth",
           "token_uri": uri, "universe_domain": "googleapis.com"}, sys.stdout)
PY
}
mksa "$dir/sa0.json" http://127.0.0.1:1/token
$PY "$here/vertex_server.py" --port-file "$dir/port" --key "$dir/sa0.json" \
    --log "$dir/req.jsonl" 2>"$dir/server.err" &
pid=$!
i=0
while [ ! -s "$dir/port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
port=$(cat "$dir/port" 2>/dev/null)
[ -n "$port" ] || { echo "not ok - server did not start"; cat "$dir/server.err"; exit 1; }
base=http://127.0.0.1:$port
mksa "$dir/sa.json" "$base/token"

ctl() { # ctl PATH [JSON]: the server's test control
	$PY - "$base$1" "${2:-}" <<'PY'
import sys, urllib.request
url, body = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, data=body.encode() if body else None,
                             headers={"Content-Type": "application/json"})
sys.stdout.write(urllib.request.urlopen(req).read().decode())
PY
}

export CLOUDSDK_CONFIG="$dir/gcloud" CLOUDSDK_CORE_PROJECT=proj-1
export CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM="$base/"
export CLOUDSDK_CORE_DISABLE_PROMPTS=1 CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=1
export CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1
R=--region=us-central1

# g NAME EXPECT ARGS...: gcloud must exit 0 and print EXPECT (a grep -E).
g() {
	_n=$1 _e=$2
	shift 2
	if gcloud "$@" >"$dir/out" 2>"$dir/err" &&
	    grep -Eq -- "$_e" "$dir/out" "$dir/err"; then
		ok "$_n"
		return 0
	fi
	notok "$_n (gcloud $*)"
	sed 's/^/#   out: /' "$dir/out" | tail -3
	return 1
}
# last ID: the id the server handed out last, from its state
state() { ctl /_control/state; }
jq_py() { $PY -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

g "activate-service-account (JWT verified by the server)" \
    "Activated service account" auth activate-service-account \
    --key-file "$dir/sa.json"

run_flow() { # run_flow TAG
	_t=$1
	# gcloud prints only "Using endpoint" (and the wait when pending):
	# the model the server now holds is the proof.
	g "$_t models upload" "Using endpoint \[http://127.0.0.1:$port/\]" \
	    ai models upload $R --display-name=m1 --artifact-uri=gs://b/model \
	    --container-image-uri=us-docker.pkg.dev/p/r/img:1
	model=$(state | jq_py 'd["models"][-1]["name"].rsplit("/", 1)[1] if d["models"] and d["models"][-1]["displayName"] == "m1" and d["models"][-1]["artifactUri"] == "gs://b/model" else ""')
	[ -n "$model" ] || notok "$_t the server holds no uploaded model m1"
	g "$_t endpoints create" "Created Vertex AI endpoint: projects/proj-1/locations/us-central1/endpoints/[0-9]+" \
	    ai endpoints create $R --display-name=ep1
	ep=$(state | jq_py 'd["endpoints"][-1]["name"].rsplit("/", 1)[1]')
	g "$_t endpoints deploy-model" "Id of the deployed model: [0-9]+" \
	    ai endpoints deploy-model "$ep" $R --model="$model" \
	    --display-name=d1 --machine-type=n1-standard-4 --min-replica-count=1
	g "$_t endpoints predict" "5\.1" \
	    ai endpoints predict "$ep" $R --json-request="$dir/req.json"
	g "$_t custom-jobs create" "CustomJob \[projects/proj-1/locations/us-central1/customJobs/[0-9]+\] is submitted successfully" \
	    ai custom-jobs create $R --display-name=j1 \
	    --worker-pool-spec=machine-type=n1-standard-4,replica-count=1,container-image-uri=gcr.io/p/train:1
}
echo '{"instances": [[5.1, 3.5, 1.4, 0.2]]}' >"$dir/req.json"
run_flow "gcloud"
n1=$(ctl /_control/log | jq_py 'len(d)')
ctl /_control '{"pending": 1}' >/dev/null
run_flow "gcloud, operations pending once:"
ctl /_control/log | jq_py '"\n".join(r["path"] for r in d)' >"$dir/paths"
if grep -q '^/v1beta1/projects/proj-1/locations/us-central1/operations/' \
    "$dir/paths"; then
	ok "gcloud polled /v1beta1 operations"
else
	notok "gcloud did not poll /v1beta1 operations"
fi
ctl /_control '{"pending": 0}' >/dev/null

# gcloud's request sequence (first flow), ids as placeholders.
if [ -n "$out" ]; then
	ctl /_control/log | $PY -c '
import json, re, sys
n = int(sys.argv[1])
def fields(v, pre=""):
    if isinstance(v, dict):
        for k, x in v.items():
            p = pre + "." + k if pre else k
            yield p
            yield from fields(x, p)
    elif isinstance(v, list):
        for x in v:
            yield from fields(x, pre + "[]")
for r in json.load(sys.stdin)[:n]:
    if r["path"] == "/token":
        continue
    p = r["path"]
    for kind in ("models", "endpoints", "customJobs", "operations"):
        ph = {"models": "{model}", "endpoints": "{endpoint}",
              "customJobs": "{job}", "operations": "{op}"}[kind]
        p = re.sub(r"/%s/[0-9]+" % kind, "/%s/%s" % (kind, ph), p)
    fs = sorted(set(fields(r["body"]))) if isinstance(r["body"], dict) else []
    print(r["method"], p, ",".join(fs))
' "$n1" >"$out" && ok "request sequence written to $out ($(wc -l <"$out") lines)"
fi

# Negative checks: the server refuses what Google refuses.
tok=$(gcloud auth print-access-token 2>/dev/null)
http() { # http METHOD PATH BODY [TOKEN] -> prints "STATUS BODY"
	$PY - "$1" "$base$2" "$3" "${4:-}" <<'PY'
import sys, urllib.request, urllib.error
m, url, body, tok = sys.argv[1:]
h = {"Content-Type": "application/json"}
if tok:
    h["Authorization"] = "Bearer " + tok
req = urllib.request.Request(url, data=body.encode() if body else None,
                             method=m, headers=h)
try:
    r = urllib.request.urlopen(req)
    print(r.status, r.read().decode().replace("\n", " "))
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().replace("\n", " "))
PY
}
E=/v1/projects/proj-1/locations/us-central1/endpoints/$ep
res=$(http POST "$E:deployModel" "{\"deployedModel\": {\"model\": \"projects/proj-1/locations/us-central1/models/$model\", \"foo\": 1, \"dedicatedResources\": {\"machineSpec\": {\"machineType\": \"n1-standard-4\"}, \"minReplicaCount\": 1}}}" "$tok")
case $res in
400*'Unknown name \"foo\" at '"'"'deployed_model'"'"': Cannot find field.'*) ok "unknown body field refused 400" ;;
*) notok "unknown body field: $res" ;;
esac
res=$(http POST "$E:deployModel" "{\"deployedModel\": {\"model\": \"projects/proj-1/locations/us-central1/models/$model\", \"dedicatedResources\": {\"machineSpec\": {\"machineType\": \"n1-standard-4\", \"acceleratorType\": \"NVIDIA_TESLA_Q1\", \"acceleratorCount\": 1}, \"minReplicaCount\": 1}}}" "$tok")
case $res in 400*INVALID_ARGUMENT*) ok "unknown accelerator type refused 400" ;; *) notok "bad accelerator: $res" ;; esac
res=$(http POST "$E:predict" '{"instances": 5}' "$tok")
case $res in 400*INVALID_ARGUMENT*) ok "instances of the wrong JSON type refused 400" ;; *) notok "wrong type: $res" ;; esac
res=$(http POST "$E:predict" '{"parameters": {}}' "$tok")
case $res in 400*"Required field is not set"*) ok "missing required field refused 400" ;; *) notok "missing required: $res" ;; esac
res=$(http GET "$E" "")
case $res in 401*UNAUTHENTICATED*) ok "request without a token refused 401" ;; *) notok "no token: $res" ;; esac
res=$(http GET "$E" "" "ya29.made-up")
case $res in 401*UNAUTHENTICATED*) ok "request with a token it never issued refused 401" ;; *) notok "made-up token: $res" ;; esac
# A forged JWT: signed with another key; and an unsigned one (alg none).
openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$dir/other.pem"
b64() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
NOW=$(date +%s)
H=$(printf '{"alg":"RS256","typ":"JWT","kid":"kid123"}' | b64)
C=$(printf '{"iss":"lepton@proj-1.iam.gserviceaccount.com","scope":"https://www.googleapis.com/auth/cloud-platform","aud":"https://oauth2.googleapis.com/token","iat":%d,"exp":%d}' "$NOW" $((NOW + 3600)) | b64)
form() {
	$PY - "$base/token" "$1" <<'PY'
import sys, urllib.request, urllib.error, urllib.parse
url, jwt = sys.argv[1:]
body = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": jwt}).encode()
try:
    r = urllib.request.urlopen(urllib.request.Request(url, data=body))
    print(r.status, r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
PY
}
good="$H.$C.$(printf '%s.%s' "$H" "$C" | openssl dgst -sha256 -sign "$dir/sa.pem" | b64)"
forged="$H.$C.$(printf '%s.%s' "$H" "$C" | openssl dgst -sha256 -sign "$dir/other.pem" | b64)"
Hn=$(printf '{"alg":"none","typ":"JWT"}' | b64)
res=$(form "$good")
case $res in 200*access_token*) ok "a JWT signed with the key is accepted" ;; *) notok "good JWT: $res" ;; esac
res=$(form "$forged")
case $res in 400*invalid_grant*) ok "a JWT signed with another key is refused" ;; *) notok "forged JWT: $res" ;; esac
res=$(form "$Hn.$C.")
case $res in 400*invalid_grant*) ok "an unsigned JWT is refused" ;; *) notok "unsigned JWT: $res" ;; esac

if [ $failed -gt 0 ]; then
	echo "# $failed failed; server log: $dir/req.jsonl"
	exit 1
fi
exit 0
