#!/bin/sh
# tests/kube/check.sh: lepton's kubeconfig end to end against a loopback
# HTTPS API server of our own (tests/kube/apiserver.py, a throwaway CA made
# here with openssl), kept honest by kubectl itself: for every kubeconfig,
# `kubectl version -o json` must agree with `lepton check kubernetes` on
# the server's version, and succeed or fail where lepton does (one SKIP
# line for those checks without kubectl). Nothing leaves 127.0.0.1.
# LEPTON: the binary.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${LEPTON:?set LEPTON to the lepton binary}"
PY=/usr/bin/python3
VERSION=v1.31.7
dir=$(mktemp -d /tmp/lep-kube-XXXXXX)
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
# No user's cluster, no user's cache: only what each case sets.
unset KUBECONFIG LEPTON_HOME
KUBECTL=$(command -v kubectl)

# --- a CA, the server's certificate, clients' certificates ---
cd "$dir" || exit 1
ssl() { openssl "$@" 2>>"$dir/openssl.log" || { echo "openssl $1 failed"; cat "$dir/openssl.log"; exit 1; }; }
ca() {	# ca NAME: a self-signed CA
	ssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
	    -keyout "$1.key" -out "$1.pem"
}
signed() {	# signed NAME CA SUBJECT EXT: a key and a certificate
	ssl req -newkey rsa:2048 -nodes -subj "$3" -keyout "$1.key" \
	    -out "$1.csr"
	printf '%s\n' "$4" >"$1.ext"
	ssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem"
	chmod 600 "$1.key"
}
ca ca
ca rogue
signed srv ca /CN=127.0.0.1 "subjectAltName=IP:127.0.0.1,DNS:localhost"
signed alice ca "/CN=alice/O=dev" "extendedKeyUsage=clientAuth"
signed mallory rogue "/CN=mallory" "extendedKeyUsage=clientAuth"

# server NAME ARGS...: start apiserver.py; sets $port.
server() {
	_n=$1
	shift
	$PY "$here/apiserver.py" --port-file "$dir/$_n.port" \
	    --log "$dir/$_n.log" --version $VERSION "$@" &
	pids="$pids $!"
	_i=0
	while [ ! -s "$dir/$_n.port" ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	port=$(cat "$dir/$_n.port")
}
server api --cert srv.pem --key srv.key --client-ca ca.pem \
    --token tok-123 --token tok-exec
P=$port
server plain --plain --token tok-123
PLAIN=$port

run() {
	"$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	cat "$dir/out" "$dir/err" >>"$dir/all-output"
}
n=0
# fresh: a new LEPTON_HOME and HOME for each case.
fresh() {
	n=$((n + 1))
	export HOME="$dir/home.$n" LEPTON_HOME="$dir/lh.$n"
	mkdir -p "$HOME"
}
# kc FILE: a kubeconfig from stdin, 0600 as kubectl writes them.
kc() { (umask 077 && cat >"$1"); }
# lepton_version: the server version lepton --json reports, or "".
lepton_version() {
	run "$LEPTON" --json check kubernetes
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))["result"]["providers"][0]["details"]
print(d.get("server_version", ""))' "$dir/out" 2>/dev/null
}
# kubectl_version: kubectl's view of the same server: kv, the version
# or ""; kcrc, its exit status.
kubectl_version() {
	KUBECACHEDIR="$dir/kcache.$n" "$KUBECTL" version -o json \
	    >"$dir/kout" 2>"$dir/kerr"
	kcrc=$?
	cat "$dir/kout" "$dir/kerr" >>"$dir/all-output"
	kv=$($PY -c '
import json, sys
print(json.load(open(sys.argv[1]))["serverVersion"]["gitVersion"])' \
	    "$dir/kout" 2>/dev/null)
}
# agree WHAT: kubectl and lepton (just run) agree on the version.
agree() {
	if [ -z "$KUBECTL" ]; then
		echo "SKIP kube $1: kubectl is missing"
		return
	fi
	lv=$(lepton_version)
	kubectl_version
	if [ $kcrc -eq 0 ] && [ "$kv" = $VERSION ] && [ "$lv" = "$kv" ]; then
		ok "$1: kubectl agrees ($kv)"
	else
		fail "$1: kubectl $kcrc '$kv', lepton '$lv'"; cat "$dir/kerr"
	fi
}
# both_refuse WHAT: kubectl fails too, where lepton did.
both_refuse() {
	if [ -z "$KUBECTL" ]; then
		echo "SKIP kube $1: kubectl is missing"
		return
	fi
	kubectl_version
	if [ $kcrc -ne 0 ] && [ -z "$kv" ]; then
		ok "$1: kubectl fails too"
	else
		fail "$1: kubectl succeeded ($kv)"
	fi
}
# lepton_auth: how the server saw lepton's last request.
lepton_auth() {
	grep '"ua": "lepton/' "$dir/api.log" | tail -1 |
	    sed 's/.*"auth": "\([^"]*\)".*/\1/'
}

# --- a token; the CA a path relative to the kubeconfig ---
fresh token
mkdir -p "$dir/tok/pki"
cp ca.pem "$dir/tok/pki/ca.pem"
kc "$dir/tok/config" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$P
    certificate-authority: pki/ca.pem
users:
- name: dev
  user:
    token: tok-123
contexts:
- name: lab
  context: {cluster: local, user: dev, namespace: ml}
current-context: lab
EOF
export KUBECONFIG="$dir/tok/config"
s=$(now_ns)
run "$LEPTON" check kubernetes
e=$(now_ns)
if [ $rc -eq 0 ] &&
    grep -q "context    lab (from current-context in $dir/tok/config)" "$dir/out" &&
    grep -q "url        https://127.0.0.1:$P (from cluster local in $dir/tok/config)" "$dir/out" &&
    grep -q "user       dev (from token in the kubeconfig)" "$dir/out" &&
    grep -q "namespace  ml (from context)" "$dir/out" &&
    grep -q "server     Kubernetes $VERSION" "$dir/out" &&
    [ "$(lepton_auth)" = token ]; then
	ok "check kubernetes: a token, the CA relative to the kubeconfig"
else
	fail "check kubernetes with a token (rc $rc)"; cat "$dir/out" "$dir/err"
fi
echo "figure: lepton check kubernetes (token): $(ms $s $e) ms"
agree "token"
# From another directory: the CA path still resolves against the file.
(cd / && "$LEPTON" check kubernetes >/dev/null 2>&1)
if [ $? -eq 0 ]; then
	ok "relative CA path resolved against the kubeconfig, not the cwd"
else
	fail "check from / with a relative CA"
fi

# --- ~/.kube/config a symlink (a dotfiles manager's): followed, as
# kubectl does; the target's owner and mode are what is checked ---
fresh symlink
kc "$dir/sym.config" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://127.0.0.1:$P", certificate-authority: $dir/tok/pki/ca.pem}
users:
- name: dev
  user: {token: tok-123}
contexts:
- name: lab
  context: {cluster: local, user: dev}
current-context: lab
EOF
mkdir -p "$HOME/.kube"
ln -s "$dir/sym.config" "$HOME/.kube/config"
saved_kc=$KUBECONFIG
unset KUBECONFIG
run "$LEPTON" check kubernetes
if [ $rc -eq 0 ] && grep -q "server     Kubernetes $VERSION" "$dir/out"; then
	ok "a symlinked ~/.kube/config is followed"
else
	fail "symlinked ~/.kube/config (rc $rc)"; cat "$dir/out" "$dir/err"
fi
agree "a symlinked ~/.kube/config"
chmod 644 "$dir/sym.config"
run "$LEPTON" check kubernetes
if [ $rc -eq 4 ]; then
	ok "a symlink to a file others may read: exit 4"
else
	fail "symlink to a readable file (rc $rc)"; cat "$dir/out" "$dir/err"
fi
export KUBECONFIG=$saved_kc

# --- config.json names another context and a namespace ---
kc "$dir/tok/config2" <<EOF
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", certificate-authority-data: $(base64 -w0 ca.pem)}}]
users: [{name: dev, user: {token: tok-123}}, {name: bad, user: {token: wrong}}]
contexts: [{name: lab, context: {cluster: local, user: bad}}, {name: other, context: {cluster: local, user: dev}}]
current-context: lab
EOF
export KUBECONFIG="$dir/tok/config2"
mkdir -p "$LEPTON_HOME"
echo '{"kubernetes": {"context": "other", "namespace": "team-a"}}' >"$LEPTON_HOME/config.json"
run "$LEPTON" check kubernetes
if [ $rc -eq 0 ] && grep -q "context    other (from config)" "$dir/out" &&
    grep -q "namespace  team-a (from config)" "$dir/out"; then
	ok "config.json kubernetes.context and namespace beat current-context; CA data"
else
	fail "config context (rc $rc)"; cat "$dir/out" "$dir/err"
fi
rm -f "$LEPTON_HOME/config.json"

# --- a token the server refuses ---
run "$LEPTON" check kubernetes
if [ $rc -eq 4 ] && grep -q "HTTP 401: Unauthorized (user 'bad', credentials sent)" "$dir/err" &&
    [ "$(lepton_auth)" = bad-token ]; then
	ok "a token the server refuses: exit 4, the server's message"
else
	fail "refused token (rc $rc)"; cat "$dir/out" "$dir/err"
fi
both_refuse "refused token"

# --- a client certificate and key, relative files ---
fresh cert
mkdir -p "$dir/cert"
cp alice.pem alice.key ca.pem "$dir/cert/"
kc "$dir/cert/config" <<EOF
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", certificate-authority: ca.pem}}]
users: [{name: alice, user: {client-certificate: alice.pem, client-key: alice.key}}]
contexts: [{name: lab, context: {cluster: local, user: alice}}]
current-context: lab
EOF
export KUBECONFIG="$dir/cert/config"
run "$LEPTON" check kubernetes
if [ $rc -eq 0 ] && grep -q "user       alice (from client certificate $dir/cert/alice.pem)" "$dir/out" &&
    grep -q "namespace  default (from default)" "$dir/out" &&
    [ "$(lepton_auth)" = cert:alice ]; then
	ok "check kubernetes: a client certificate the server verified (CN alice)"
else
	fail "client certificate (rc $rc, $(lepton_auth))"; cat "$dir/out" "$dir/err"
fi
agree "client certificate"
# The same as data in the kubeconfig.
kc "$dir/cert/config-data" <<EOF
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", certificate-authority-data: $(base64 -w0 ca.pem)}}]
users: [{name: alice, user: {client-certificate-data: $(base64 -w0 alice.pem), client-key-data: $(base64 -w0 alice.key)}}]
contexts: [{name: lab, context: {cluster: local, user: alice}}]
current-context: lab
EOF
export KUBECONFIG="$dir/cert/config-data"
run "$LEPTON" check kubernetes
if [ $rc -eq 0 ] && grep -q "user       alice (from client certificate data)" "$dir/out" &&
    [ "$(lepton_auth)" = cert:alice ]; then
	ok "check kubernetes: client certificate and key as data"
else
	fail "client certificate data (rc $rc)"; cat "$dir/out" "$dir/err"
fi
agree "client certificate data"
# A key others may read: refused before anything is sent.
chmod 644 "$dir/cert/alice.key"
export KUBECONFIG="$dir/cert/config"
before=$(wc -l <"$dir/api.log")
run "$LEPTON" check kubernetes
if [ $rc -eq 4 ] && grep -q "$dir/cert/alice.key" "$dir/err" &&
    [ "$(wc -l <"$dir/api.log")" = "$before" ]; then
	ok "a client key others may read: exit 4 naming it, nothing sent"
else
	fail "readable key (rc $rc)"; cat "$dir/err"
fi
chmod 600 "$dir/cert/alice.key"
# A certificate from another CA: the server refuses the handshake.
cp mallory.pem mallory.key "$dir/cert/"
sed 's/alice/mallory/g' "$dir/cert/config" | kc "$dir/cert/config-rogue"
export KUBECONFIG="$dir/cert/config-rogue"
run "$LEPTON" check kubernetes
if [ $rc -ne 0 ] && ! grep -q '"auth": "cert:mallory"' "$dir/api.log"; then
	ok "a client certificate from another CA: refused (exit $rc)"
else
	fail "rogue certificate (rc $rc)"; cat "$dir/out" "$dir/err"
fi
both_refuse "rogue client certificate"

# --- the server's certificate from a CA the kubeconfig does not name ---
fresh wrongca
kc "$dir/wrongca" <<EOF
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", certificate-authority-data: $(base64 -w0 rogue.pem)}}]
users: [{name: dev, user: {token: tok-123}}]
contexts: [{name: lab, context: {cluster: local, user: dev}}]
current-context: lab
EOF
export KUBECONFIG="$dir/wrongca"
run "$LEPTON" check kubernetes
if [ $rc -eq 7 ] && grep -qi "certificate" "$dir/err"; then
	ok "a server certificate the cluster's CA did not sign: exit 7"
else
	fail "wrong CA (rc $rc)"; cat "$dir/err"
fi
both_refuse "wrong CA"
# insecure-skip-tls-verify: true, and only then, skips the check.
kc "$dir/insecure" <<EOF
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", insecure-skip-tls-verify: true}}]
users: [{name: dev, user: {token: tok-123}}]
contexts: [{name: lab, context: {cluster: local, user: dev}}]
current-context: lab
EOF
export KUBECONFIG="$dir/insecure"
run "$LEPTON" check kubernetes
if [ $rc -eq 0 ]; then
	ok "insecure-skip-tls-verify: true is honoured"
else
	fail "insecure (rc $rc)"; cat "$dir/err"
fi
agree "insecure-skip-tls-verify"
sed 's/insecure-skip-tls-verify: true/insecure-skip-tls-verify: false/' "$dir/insecure" | kc "$dir/insecure-false"
export KUBECONFIG="$dir/insecure-false"
run "$LEPTON" check kubernetes
if [ $rc -eq 7 ]; then
	ok "insecure-skip-tls-verify: false verifies (against the system's CAs: exit 7)"
else
	fail "insecure false (rc $rc)"; cat "$dir/err"
fi
both_refuse "insecure-skip-tls-verify: false"

# --- an exec plugin: two lepton runs within its expiry, one plugin run ---
fresh exec
mkdir -p "$dir/exec/bin"
cat >"$dir/exec/bin/plugin" <<'EOF'
#!/bin/sh
# Counts its runs, keeps what it was given, answers a token for an hour.
d=$(dirname "$0")
echo run >>"$d/count"
printf '%s\n' "$KUBERNETES_EXEC_INFO" >"$d/info.$PPID.$$"
printf '%s\n' "$*" >>"$d/argv"
exp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$PLUGIN_TOKEN" "$exp"
EOF
chmod 755 "$dir/exec/bin/plugin"
kc "$dir/exec/config" <<EOF
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", certificate-authority: $dir/ca.pem}}]
users:
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: [get-token, --cluster, local]
      env: [{name: PLUGIN_TOKEN, value: tok-exec}]
      interactiveMode: Never
      provideClusterInfo: true
contexts: [{name: lab, context: {cluster: local, user: sso}}]
current-context: lab
EOF
export KUBECONFIG="$dir/exec/config"
s=$(now_ns)
run "$LEPTON" check kubernetes
e=$(now_ns)
first=$rc
cp "$dir/out" "$dir/out.first"
run "$LEPTON" check kubernetes
runs=$(wc -l <"$dir/exec/bin/count")
if [ $first -eq 0 ] && [ $rc -eq 0 ] && [ "$runs" = 1 ] &&
    grep -q "user       sso (from exec plugin $dir/exec/bin/plugin, valid until" "$dir/out.first" &&
    grep -q "user       sso (from exec plugin $dir/exec/bin/plugin, cached until" "$dir/out" &&
    [ "$(lepton_auth)" = token ]; then
	ok "exec plugin: two runs of lepton, one of the plugin, the token cached"
else
	fail "exec plugin (rc $first/$rc, $runs runs)"; cat "$dir/out.first" "$dir/out" "$dir/err"
fi
echo "figure: lepton check kubernetes (exec plugin run): $(ms $s $e) ms"
f=$(ls "$LEPTON_HOME"/cache/kube/*.json)
if [ "$(stat -c %a "$f")" = 600 ] && [ "$(stat -c %a "$LEPTON_HOME/cache/kube")" = 700 ]; then
	ok "the exec credential cache is 0600 in a 0700 directory"
else
	fail "cache modes: $(stat -c '%a %n' "$f" "$LEPTON_HOME/cache/kube")"
fi
if [ -n "$KUBECTL" ]; then
	mkdir -p "$dir/exec/lepton-info"
	mv "$dir/exec/bin"/info.* "$dir/exec/lepton-info/"
	agree "exec plugin"
	# What kubectl gives the plugin in KUBERNETES_EXEC_INFO, lepton
	# gives it too.
	if $PY -c '
import glob, json, sys
a = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/lepton-info/info.*")]
b = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/bin/info.*")]
assert len(a) == 1 and b, (len(a), len(b))
assert all(x == a[0] for x in b), (a[0], b)
assert a[0]["spec"]["cluster"]["server"].startswith("https://127.0.0.1:"), a
' "$dir/exec"; then
		ok "KUBERNETES_EXEC_INFO is the same JSON as kubectl's"
	else
		fail "KUBERNETES_EXEC_INFO differs from kubectl's"
	fi
else
	echo "SKIP kube exec plugin: kubectl is missing"
fi
# The plugin got its own args, and no secret in its argv.
if [ "$(sort -u "$dir/exec/bin/argv")" = "get-token --cluster local" ] &&
    ! grep -rq "tok-exec" "$dir/exec/bin/argv" "$dir/exec/bin"/info.* \
    "$dir/exec/lepton-info"; then
	ok "the plugin's argv is its args alone; no token in it or KUBERNETES_EXEC_INFO"
else
	fail "plugin argv: $(cat "$dir/exec/bin/argv")"
fi

# --- an exec plugin (v1beta1) that answers a client certificate ---
fresh execcert
mkdir -p "$dir/execcert"
cat >"$dir/execcert/plugin" <<EOF
#!/bin/sh
echo run >>"$dir/execcert/count"
exec $PY -c '
import datetime, json
exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=30)
print(json.dumps({"kind": "ExecCredential",
    "apiVersion": "client.authentication.k8s.io/v1beta1",
    "status": {"clientCertificateData": open("$dir/alice.pem").read(),
               "clientKeyData": open("$dir/alice.key").read(),
               "expirationTimestamp": exp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}))'
EOF
chmod 755 "$dir/execcert/plugin"
kc "$dir/execcert/config" <<EOF
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", certificate-authority: ../ca.pem}}]
users: [{name: certsso, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: $dir/execcert/plugin}}}]
contexts: [{name: lab, context: {cluster: local, user: certsso}}]
current-context: lab
EOF
export KUBECONFIG="$dir/execcert/config"
run "$LEPTON" check kubernetes
first=$rc
run "$LEPTON" check kubernetes
if [ $first -eq 0 ] && [ $rc -eq 0 ] && [ "$(lepton_auth)" = cert:alice ] &&
    [ "$(wc -l <"$dir/execcert/count")" = 1 ] &&
    grep -q "user       certsso (from exec plugin $dir/execcert/plugin, cached until" "$dir/out"; then
	ok "exec plugin v1beta1 with a client certificate, cached: the server saw CN alice"
else
	fail "exec plugin certificate (rc $first/$rc, $(lepton_auth))"; cat "$dir/out" "$dir/err"
fi
agree "exec plugin client certificate"

# --- KUBECONFIG of two files, merged ---
fresh merge
kc "$dir/m1" <<EOF
current-context: merged
users: [{name: dev, user: {token: tok-123}}]
contexts: [{name: merged, context: {cluster: local, user: dev, namespace: first}}]
EOF
kc "$dir/m2" <<EOF
current-context: elsewhere
clusters: [{name: local, cluster: {server: "https://127.0.0.1:$P", certificate-authority: ca.pem}}]
users: [{name: dev, user: {token: wrong}}]
contexts: [{name: merged, context: {cluster: nowhere, user: dev}}, {name: elsewhere, context: {cluster: nowhere}}]
EOF
export KUBECONFIG="$dir/m1:$dir/missing::$dir/m2"
run "$LEPTON" check kubernetes
if [ $rc -eq 0 ] && grep -q "context    merged (from current-context in $dir/m1)" "$dir/out" &&
    grep -q "url        https://127.0.0.1:$P (from cluster local in $dir/m2)" "$dir/out" &&
    grep -q "namespace  first (from context)" "$dir/out" && [ "$(lepton_auth)" = token ]; then
	ok "KUBECONFIG of two files: context and user from the first, cluster from the second"
else
	fail "merged KUBECONFIG (rc $rc)"; cat "$dir/out" "$dir/err"
fi
agree "merged KUBECONFIG"
# The other order: m2's current-context, whose cluster is nowhere.
export KUBECONFIG="$dir/m2:$dir/m1"
run "$LEPTON" check kubernetes
if [ $rc -eq 4 ] && grep -q "cluster 'nowhere' of context 'elsewhere' is not in" "$dir/err"; then
	ok "KUBECONFIG in the other order: the second file's context wins, and is broken"
else
	fail "merged other order (rc $rc)"; cat "$dir/out" "$dir/err"
fi
both_refuse "merged KUBECONFIG, other order"

# --- refusals ---
fresh refuse
cp "$dir/tok/config" "$dir/readable"
sed -i "s#pki/ca.pem#$dir/ca.pem#" "$dir/readable"
chmod 644 "$dir/readable"
export KUBECONFIG="$dir/readable"
run "$LEPTON" check kubernetes
if [ $rc -eq 4 ] && grep -q "$dir/readable" "$dir/err"; then
	ok "a kubeconfig others may read: exit 4 naming it"
else
	fail "readable kubeconfig (rc $rc)"; cat "$dir/err"
fi
kc "$dir/plain" <<EOF
clusters: [{name: local, cluster: {server: "http://127.0.0.1:$PLAIN"}}]
users: [{name: dev, user: {token: tok-123}}]
contexts: [{name: lab, context: {cluster: local, user: dev}}]
current-context: lab
EOF
export KUBECONFIG="$dir/plain"
run "$LEPTON" check kubernetes
if [ $rc -eq 4 ] && grep -q "plain http: lepton sends no credentials" "$dir/err" &&
    [ ! -s "$dir/plain.log" ]; then
	ok "plain http: exit 4, nothing sent"
else
	fail "plain http (rc $rc)"; cat "$dir/err"
fi
if [ -n "$KUBECTL" ]; then
	kubectl_version
	# kubectl asks without the token, and is refused.
	if [ $kcrc -ne 0 ] && grep -q '"auth": "none"' "$dir/plain.log" &&
	    ! grep -q '"auth": "token"' "$dir/plain.log"; then
		ok "plain http: kubectl withholds the token too"
	else
		fail "kubectl over plain http ($kcrc)"; cat "$dir/plain.log"
	fi
fi
export KUBECONFIG="$dir/none-here"
run "$LEPTON" check kubernetes
if [ $rc -eq 7 ] && grep -q "no kubeconfig" "$dir/err"; then
	ok "no kubeconfig: check kubernetes fails (exit 7)"
else
	fail "no kubeconfig named (rc $rc)"; cat "$dir/err"
fi
run "$LEPTON" check
if [ $rc -eq 0 ] && grep -q "^kubernetes: not configured" "$dir/out"; then
	ok "no kubeconfig: unnamed check says not configured"
else
	fail "unnamed check (rc $rc)"; cat "$dir/out" "$dir/err"
fi

# --- a spec placed on kubernetes is refused before anything starts ---
fresh spec
export KUBECONFIG="$dir/tok/config"
before=$(wc -l <"$dir/api.log")
printf 'kind: service\nname: web\nrun: python3 -m http.server $LEPTON_PORT\nplacement: {providers: [kubernetes]}\n' >"$dir/svc.yaml"
printf 'kind: job\nname: tr\nrun: echo hi\nplacement: {providers: [kubernetes]}\n' >"$dir/job.yaml"
run "$LEPTON" deploy "$dir/svc.yaml"
d=$rc
grep -q "provider 'kubernetes' cannot honour 'kind: service'" "$dir/err" || d=x
run "$LEPTON" train "$dir/job.yaml"
if [ "$d" = 9 ] && [ $rc -eq 9 ] &&
    grep -q "provider 'kubernetes' cannot honour 'kind: job'" "$dir/err" &&
    [ "$(wc -l <"$dir/api.log")" = "$before" ] &&
    [ ! -d "$LEPTON_HOME/state/deployments" ]; then
	ok "deploy and train on kubernetes: exit 9 naming the provider, nothing asked of the server"
else
	fail "spec on kubernetes (deploy $d, train $rc)"; cat "$dir/err"
fi

# --- nothing secret where it does not belong ---
keyline=$(sed -n 2p alice.key)
leak=$(grep -l -e "tok-123" -e "tok-exec" -e "$keyline" "$dir/all-output" 2>/dev/null)
leak="$leak$(grep -rl -e "tok-123" -e "tok-exec" -e "$keyline" "$dir"/lh.* 2>/dev/null |
    grep -v '/cache/kube/[0-9a-f]*\.json$')"
if [ -z "$leak" ]; then
	ok "no token or key in output or LEPTON_HOME (but the 0600 cache)"
else
	fail "secrets found in: $leak"
fi

echo "kube-check: $pass passed, $failed failed"
[ $failed -eq 0 ]
