#!/bin/sh
# tests/gcp/creds.sh: lepton's Google credentials end to end against a
# loopback token and metadata server that verifies every JWT as Google
# does (tests/gcp/token_server.py), kept honest by gcloud itself (one
# SKIP line without gcloud). LEPTON: the binary.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${LEPTON:?set LEPTON to the lepton binary}"
PY=/usr/bin/python3
dir=$(mktemp -d /tmp/lep-gcp-XXXXXX)
pids=
pass=0
failed=0
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
ok() { pass=$((pass + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }
now_ns() { date +%s%N; }
ms() { echo $((($2 - $1) / 1000000)); }

if ! $PY -c 'import cryptography' 2>/dev/null; then
	echo "SKIP gcp-creds: python3-cryptography is missing"
	exit 0
fi

# server NAME ARGS...: start token_server.py; sets $port.
server() {
	_n=$1
	shift
	$PY "$here/token_server.py" --port-file "$dir/$_n.port" \
	    --count "$dir/$_n.count" "$@" &
	pids="$pids $!"
	_i=0
	while [ ! -s "$dir/$_n.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	port=$(cat "$dir/$_n.port")
}
count() { cat "$dir/$1.count"; }

# key NAME EMAIL TOKEN_URI: a service account key file of our own, 0600.
key() {
	openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$dir/$1.pem" || exit 1
	(umask 077 && $PY - "$dir/$1.pem" "$2" "$3" >"$dir/$1.json") <<'PY'
import json, sys
pem, email, uri = sys.argv[1:]
json.dump({"type": "service_account", "project_id": "proj-1",
           "private_key_id": "kid-" + email.split("@")[0],
           "private_key": open(pem).read(), "client_email": email,
           "client_id": "1234567890",
           "auth_uri": "https://accounts.google.com/o/oauth2/auth",
           "token_uri": uri, "universe_domain": "googleapis.com"},
          sys.stdout, indent=1)
PY
	rm -f "$dir/$1.pem"
}

# fresh: a clean HOME and LEPTON_HOME, no Google variables.
fresh() {
	export HOME="$dir/home.$1" LEPTON_HOME="$dir/lh.$1"
	mkdir -p "$HOME"
	unset GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_CONFIG \
	    GOOGLE_CLOUD_PROJECT CLOUDSDK_CORE_PROJECT
	# Nothing listens on the discard port: no metadata server.
	export GCE_METADATA_HOST=127.0.0.1:9
}

run() {
	"$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	cat "$dir/out" "$dir/err" >>"$dir/all-output"
}

EMAIL=lepton@proj-1.iam.gserviceaccount.com
# The key file names a token_uri before the server is up: a placeholder.
key sa $EMAIL http://127.0.0.1:PORT/token
server tok --key "$dir/sa.json" --refresh "cid-1:csecret-1:rtoken-1" \
    --delay 0.3
tokport=$port
sed -i "s/:PORT\//:$tokport\//" "$dir/sa.json"

# --- a service account key in GOOGLE_APPLICATION_CREDENTIALS ---
fresh sa
export GOOGLE_APPLICATION_CREDENTIALS="$dir/sa.json"
s=$(now_ns)
run "$LEPTON" check gcp
e=$(now_ns)
if [ $rc -eq 0 ] && grep -q "GOOGLE_APPLICATION_CREDENTIALS service_account $dir/sa.json" "$dir/out" &&
    grep -q "principal  $EMAIL" "$dir/out" && grep -q "project    proj-1 (from key file)" "$dir/out" &&
    grep -q "token      from http://127.0.0.1:$tokport/token, accepted" "$dir/out" &&
    [ "$(count tok)" = 1 ]; then
	ok "check gcp: a service account key, its JWT verified by the server"
else
	fail "check gcp with a key (rc $rc, count $(count tok))"; cat "$dir/out" "$dir/err"
fi
echo "figure: lepton check gcp, token fetched (server adds 300 ms): $(ms $s $e) ms"
s=$(now_ns)
run "$LEPTON" check gcp
e=$(now_ns)
if [ $rc -eq 0 ] && grep -q "token      from cache, accepted" "$dir/out" && [ "$(count tok)" = 1 ]; then
	ok "check gcp: the second run takes the cached token"
else
	fail "cache hit (rc $rc, count $(count tok))"; cat "$dir/out" "$dir/err"
fi
echo "figure: lepton check gcp, cache hit: $(ms $s $e) ms"
f=$(ls "$LEPTON_HOME"/cache/gcp/*.json)
if [ "$(stat -c %a "$f")" = 600 ] && [ "$(stat -c %a "$LEPTON_HOME/cache/gcp")" = 700 ]; then
	ok "the token cache is 0600 in a 0700 directory"
else
	fail "cache modes: $(stat -c '%a %n' "$f" "$LEPTON_HOME/cache/gcp")"
fi
run "$LEPTON" --json check gcp
if [ $rc -eq 0 ] && $PY -c '
import json, sys
p = json.load(open(sys.argv[1]))["result"]["providers"][0]
d = p["details"]
assert p["status"] == "ok" and d["principal"] == sys.argv[2], p
assert "access_token" not in json.dumps(p), p
assert d["project"] == "proj-1" and d["token_accepted"] is True, d
' "$dir/out" "$EMAIL"; then
	ok "check gcp --json: principal, project, token accepted"
else
	fail "check gcp --json"; cat "$dir/out" "$dir/err"
fi
GOOGLE_CLOUD_PROJECT=other-proj run "$LEPTON" check gcp
if grep -q "project    other-proj (from GOOGLE_CLOUD_PROJECT)" "$dir/out"; then
	ok "GOOGLE_CLOUD_PROJECT beats the key's project"
else
	fail "GOOGLE_CLOUD_PROJECT"; cat "$dir/out"
fi
echo '{"gcp": {"project": "cfg-proj", "region": "europe-west4"}}' >"$LEPTON_HOME/config.json"
run "$LEPTON" check gcp
if grep -q "project    cfg-proj (from config)" "$dir/out" && grep -q "region     europe-west4" "$dir/out"; then
	ok "provider config gcp.project and region"
else
	fail "config project"; cat "$dir/out"
fi
rm -f "$LEPTON_HOME/config.json"

# --- eight processes at once: one token request ---
fresh eight
export GOOGLE_APPLICATION_CREDENTIALS="$dir/sa.json"
before=$(count tok)
i=0
p8=
while [ $i -lt 8 ]; do
	"$LEPTON" check gcp >"$dir/p8.$i" 2>&1 &
	p8="$p8 $!"
	i=$((i + 1))
done
bad=0
for p in $p8; do
	wait "$p" || bad=$((bad + 1))
done
after=$(count tok)
if [ $bad -eq 0 ] && [ $((after - before)) -eq 1 ]; then
	ok "eight concurrent lepton processes: exactly one token request"
else
	fail "eight processes: $bad failed, $((after - before)) token requests"
	cat "$dir"/p8.*
fi
cat "$dir"/p8.* >>"$dir/all-output"

# --- a token with less than 225 s left is fetched again ---
server short --key "$dir/sa.json" --expires-in 200
fresh short
sed "s|:$tokport/token|:$port/token|" "$dir/sa.json" >"$dir/sa-short.json"
chmod 600 "$dir/sa-short.json"
export GOOGLE_APPLICATION_CREDENTIALS="$dir/sa-short.json"
s=$(now_ns)
run "$LEPTON" check gcp
e=$(now_ns)
echo "figure: lepton check gcp, token fetched (no server delay): $(ms $s $e) ms"
run "$LEPTON" check gcp
if [ $rc -eq 0 ] && [ "$(count short)" = 2 ] && ! grep -q "from cache" "$dir/out"; then
	ok "a cached token with under 225 s left is refreshed"
else
	fail "refresh window (rc $rc, count $(count short))"; cat "$dir/out" "$dir/err"
fi

# --- an https token server of one's own: gcp.ca_file ---
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/tls.key" \
    -out "$dir/tls.crt" >/dev/null 2>&1 || fail "openssl req"
server tls --key "$dir/sa.json" --tls "$dir/tls.crt" "$dir/tls.key"
fresh tls
sed "s|http://127.0.0.1:$tokport/token|https://127.0.0.1:$port/token|" "$dir/sa.json" >"$dir/sa-tls.json"
chmod 600 "$dir/sa-tls.json"
export GOOGLE_APPLICATION_CREDENTIALS="$dir/sa-tls.json"
run "$LEPTON" check gcp
if [ $rc -eq 7 ] && [ "$(count tls)" = 0 ]; then
	ok "https token server: refused without its CA (TLS verified)"
else
	fail "https without ca_file (rc $rc)"; cat "$dir/out" "$dir/err"
fi
echo "{\"gcp\": {\"ca_file\": \"$dir/tls.crt\"}}" >"$LEPTON_HOME/config.json"
run "$LEPTON" check gcp
if [ $rc -eq 0 ] && [ "$(count tls)" = 1 ] && grep -q "from https://127.0.0.1:$port/token, accepted" "$dir/out"; then
	ok "https token server with gcp.ca_file"
else
	fail "https with ca_file (rc $rc)"; cat "$dir/out" "$dir/err"
fi

# --- what is refused ---
fresh refused
cp "$dir/sa.json" "$dir/sa-open.json"
chmod 644 "$dir/sa-open.json"
GOOGLE_APPLICATION_CREDENTIALS="$dir/sa-open.json" run "$LEPTON" check gcp
if [ $rc -eq 4 ] && grep -q "$dir/sa-open.json" "$dir/err" && grep -q "others may read" "$dir/err"; then
	ok "a key file others may read is refused (exit 4, named)"
else
	fail "key readable by others (rc $rc)"; cat "$dir/err"
fi
GOOGLE_APPLICATION_CREDENTIALS="$dir/missing.json" run "$LEPTON" check gcp
if [ $rc -eq 4 ] && grep -q "$dir/missing.json" "$dir/err"; then
	ok "a key file that cannot be read: exit 4, named"
else
	fail "missing key (rc $rc)"; cat "$dir/err"
fi
# The same principal, another key: the server must refuse the signature.
key forged $EMAIL "http://127.0.0.1:$tokport/token"
GOOGLE_APPLICATION_CREDENTIALS="$dir/forged.json" run "$LEPTON" check gcp
if [ $rc -eq 4 ] && grep -q "invalid_grant: Invalid JWT Signature" "$dir/err"; then
	ok "a JWT signed with another key is refused by the server (invalid_grant)"
else
	fail "forged key (rc $rc)"; cat "$dir/err"
fi
sed "s|http://127.0.0.1:$tokport/token|http://example.com/token|" "$dir/sa.json" >"$dir/sa-http.json"
chmod 600 "$dir/sa-http.json"
GOOGLE_APPLICATION_CREDENTIALS="$dir/sa-http.json" run "$LEPTON" check gcp
if [ $rc -eq 4 ] && grep -q "only https" "$dir/err"; then
	ok "a plain http token_uri off loopback is refused"
else
	fail "plain http token_uri (rc $rc)"; cat "$dir/err"
fi

# --- gcloud's application-default file (authorized user) ---
fresh adc
export CLOUDSDK_CONFIG="$dir/gcloud-adc"
mkdir -p "$CLOUDSDK_CONFIG"
(umask 077 && cat >"$CLOUDSDK_CONFIG/application_default_credentials.json" <<ADC
{"type": "authorized_user", "client_id": "cid-1", "client_secret": "csecret-1",
 "refresh_token": "rtoken-1", "quota_project_id": "adc-proj",
 "token_uri": "http://127.0.0.1:$tokport/token"}
ADC
)
run "$LEPTON" check gcp
if [ $rc -eq 0 ] && grep -q "creds      adc authorized_user $CLOUDSDK_CONFIG/application_default_credentials.json" "$dir/out" &&
    grep -q "project    adc-proj" "$dir/out" && grep -q "accepted" "$dir/out"; then
	ok "check gcp: gcloud's application-default file (refresh token)"
else
	fail "adc (rc $rc)"; cat "$dir/out" "$dir/err"
fi
sed -i 's/rtoken-1/rtoken-revoked/' "$CLOUDSDK_CONFIG/application_default_credentials.json"
rm -rf "$LEPTON_HOME/cache"
run "$LEPTON" check gcp
if [ $rc -eq 4 ] && grep -q "invalid_grant" "$dir/err" && grep -q "adc" "$dir/err"; then
	ok "a revoked refresh token: exit 4 naming the source"
else
	fail "revoked refresh token (rc $rc)"; cat "$dir/err"
fi

# --- the metadata server ---
server md --md-email vm@md-proj.iam.gserviceaccount.com --md-project md-proj
fresh md
export GCE_METADATA_HOST="127.0.0.1:$port"
run "$LEPTON" check gcp
if [ $rc -eq 0 ] && grep -q "creds      metadata 127.0.0.1:$port" "$dir/out" &&
    grep -q "principal  vm@md-proj.iam.gserviceaccount.com" "$dir/out" &&
    grep -q "project    md-proj (from metadata)" "$dir/out" && [ "$(count md)" = 1 ]; then
	ok "check gcp: the metadata server"
else
	fail "metadata (rc $rc)"; cat "$dir/out" "$dir/err"
fi

# --- nothing anywhere ---
fresh none
run "$LEPTON" check
if grep -q "^gcp: not configured" "$dir/out"; then
	ok "lepton check: gcp not configured when there are no credentials"
else
	fail "not configured"; cat "$dir/out" "$dir/err"
fi
run "$LEPTON" check gcp
if [ $rc -eq 4 ] && grep -q "no credentials" "$dir/err"; then
	ok "lepton check gcp without credentials: exit 4"
else
	fail "check gcp without credentials (rc $rc)"; cat "$dir/err"
fi

# --- a SageMaker spec placed on gcp is refused (service.path: /invocations)
# before anything is asked of Google ---
fresh deploy
export GOOGLE_APPLICATION_CREDENTIALS="$dir/sa.json"
mkdir -p "$dir/iris"
cp -r "$root/examples/iris/model" "$dir/iris/"
sed 's/providers: \[aws\]/providers: [gcp]/; s/^name: iris-sm/name: iris-gcp/' \
    "$root/examples/iris/service-aws.yaml" >"$dir/iris/service-gcp.yaml"
run "$LEPTON" deploy "$dir/iris/service-gcp.yaml"
sed 's/^/  deploy: /' "$dir/err"
if [ $rc -eq 9 ] && grep -q "provider 'gcp' cannot honour 'service.path: /invocations'" "$dir/err"; then
	ok "deploy of a SageMaker spec on gcp: exit 9 (unsupported), naming gcp and the key"
else
	fail "deploy on gcp (rc $rc)"; cat "$dir/out" "$dir/err"
fi

# --- gcloud against the same server with the same key ---
if ! command -v gcloud >/dev/null 2>&1; then
	echo "SKIP gcp-creds gcloud cross-check: gcloud is missing"
else
	fresh gcloud
	export CLOUDSDK_CONFIG="$dir/gcloud" CLOUDSDK_CORE_PROJECT=proj-1
	before=$(count tok)
	s=$(now_ns)
	gcloud auth activate-service-account --key-file "$dir/sa.json" \
	    >"$dir/gc.out" 2>&1
	gcrc=$?
	e=$(now_ns)
	echo "figure: gcloud auth activate-service-account (2 JWTs; server adds 300 ms each): $(ms $s $e) ms"
	if [ $gcrc -eq 0 ] && tok=$(gcloud auth print-access-token 2>>"$dir/gc.out") &&
	    case $tok in ya29.lepton-test-*) true ;; *) false ;; esac; then
		ok "gcloud obtains a token from the server with the same key ($(($(count tok) - before)) requests)"
	else
		fail "gcloud cross-check"; cat "$dir/gc.out"
	fi
	s=$(now_ns)
	gcloud auth print-access-token >/dev/null 2>&1
	e=$(now_ns)
	echo "figure: gcloud auth print-access-token (its own cache): $(ms $s $e) ms"
	unset CLOUDSDK_CONFIG CLOUDSDK_CORE_PROJECT
	export GOOGLE_APPLICATION_CREDENTIALS="$dir/sa.json"
	run "$LEPTON" check gcp
	s=$(now_ns)
	run "$LEPTON" check gcp
	e=$(now_ns)
	echo "figure: lepton check gcp (its cache) beside it: $(ms $s $e) ms"
fi

# --- no token or key material where it does not belong ---
keyline=$(sed -n 's/.*"private_key": "-----BEGIN PRIVATE KEY-----\\n\([A-Za-z0-9+\/]\{40\}\).*/\1/p' "$dir/sa.json")
[ -n "$keyline" ] || fail "could not read a line of the key"
leak=$(grep -l -e "ya29\." -e "$keyline" -e "PRIVATE KEY" -e "rtoken-" -e "csecret-" "$dir/all-output" 2>/dev/null)
leak="$leak$(grep -rl -e "ya29\." -e "$keyline" -e "PRIVATE KEY" -e "rtoken-" "$dir"/lh.* 2>/dev/null |
    grep -v '/cache/gcp/[0-9a-f]*\.json$')"
if [ -z "$leak" ]; then
	ok "no token or key in output, LEPTON_HOME (but the 0600 cache) or the state repository"
else
	fail "secrets found in: $leak"
fi

echo "gcp-creds: $pass passed, $failed failed"
[ $failed -eq 0 ]
