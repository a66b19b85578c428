# t_secret.sh: the sealed secret store (lepton secret): values in from a
# pipe or a terminal, never out; the key and store refused when others
# may use them.

# The key file as LEPTON_SECRET_KEY takes it (lepton-secret(1)'s recipe).
key_hex() {
	od -An -vtx1 "$LEPTON_HOME/secret.key" | tr -d ' \n'
}

# open_sealed FILE NAME KEYHEX: the value, opened by an implementation
# that is not lepton's, from the format lepton-secret(1) documents.
open_sealed() {
	$PY - "$@" <<'EOF'
import sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
path, name, key = sys.argv[1:4]
b = open(path, "rb").read()
assert b[:6] == b"LEPSEC" and b[6] == 1 and b[7] == 0, b[:8]
hdr, nonce, rest = b[:16], b[16:28], b[28:]
v = AESGCM(bytes.fromhex(key)).decrypt(nonce, rest, hdr + name.encode())
sys.stdout.buffer.write(v)
EOF
}

have_aesgcm() {
	$PY -c 'import cryptography.hazmat.primitives.ciphers.aead' \
	    2>/dev/null && return 0
	echo "figure: no python3 cryptography here: the format went unchecked"
	return 1
}

# The value appears in no output and no file under LEPTON_HOME.
expect_nowhere() {
	for f in "$out" "$err"; do
		grep -qF -- "$1" "$f" && fail "value in $(basename "$f")"
	done
	grep -rlF -- "$1" "$LEPTON_HOME" >"$T/hits" 2>/dev/null
	[ -s "$T/hits" ] && fail "value found in: $(cat "$T/hits")"
	true
}

mode_is() {
	m=$(stat -c %a "$1")
	[ "$m" = "$2" ] || fail "$1: mode $m, want $2"
}

test_secret_set_from_a_pipe_and_list() {
	v=pipe-s3cr3t-$$-value
	echo "$v" >"$T/in"
	run $LEPTON secret set API_TOKEN <"$T/in"
	expect_rc 0
	expect_out "stored secret 'API_TOKEN'"
	expect_err "made a new key '$LEPTON_HOME/secret.key'"
	expect_nowhere "$v"
	# printf %s: the same value; a second set makes no key.
	printf %s "$v" >"$T/in"
	run $LEPTON secret set OTHER_TOKEN <"$T/in"
	expect_rc 0
	[ -s "$err" ] && fail "stderr: $(cat "$err")"
	run $LEPTON secret list
	expect_rc 0
	expect_out "API_TOKEN"
	expect_out "OTHER_TOKEN"
	head -1 "$out" | grep -q '^NAME  *SET$' || fail "header: $(head -1 "$out")"
	grep -Eq '^API_TOKEN +20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$out" ||
	    fail "row: $(cat "$out")"
	expect_nowhere "$v"
	run $LEPTON --json secret list
	expect_rc 0
	[ "$(jget "$out" 'sorted(d["result"]["secrets"][0].keys())')" = \
	    "['name', 'set']" ] || fail "json: $(cat "$out")"
	[ "$(jget "$out" '[s["name"] for s in d["result"]["secrets"]]')" = \
	    "['API_TOKEN', 'OTHER_TOKEN']" ] || fail "json: $(cat "$out")"
	expect_nowhere "$v"
	mode_is "$LEPTON_HOME/secrets" 700
	mode_is "$LEPTON_HOME/secrets/API_TOKEN" 600
	mode_is "$LEPTON_HOME/secret.key" 600
	[ "$(stat -c %s "$LEPTON_HOME/secret.key")" = 32 ] || fail "key size"
	have_aesgcm || return 0
	# One trailing newline gone, nothing else: both hold the same bytes.
	for n in API_TOKEN OTHER_TOKEN; do
		got=$(open_sealed "$LEPTON_HOME/secrets/$n" $n "$(key_hex)") ||
		    fail "$n does not open"
		[ "$got" = "$v" ] || fail "$n holds '$got'"
	done
	printf '%s\n\n' "$v" | $LEPTON secret set NL_TOKEN >/dev/null 2>&1
	open_sealed "$LEPTON_HOME/secrets/NL_TOKEN" NL_TOKEN "$(key_hex)" \
	    >"$T/nl"
	$PY -c 'import sys; sys.exit(open(sys.argv[1], "rb").read() !=
	    sys.argv[2].encode() + b"\n")' "$T/nl" "$v" ||
	    fail "a second newline is not part of the value"
}

test_secret_from_a_terminal_is_not_echoed() {
	v=typed-s3cr3t-$$
	$PY - "$LEPTON" "$v" >"$T/tty" 2>&1 <<'EOF'
import os, pty, select, sys, time
lepton, value = sys.argv[1:3]
pid, fd = pty.fork()
if pid == 0:
    os.execv(lepton, [lepton, "secret", "set", "TTY_TOKEN"])
seen = b""
def read_until(marker, seconds):
    global seen
    end = time.time() + seconds
    while time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen += chunk
            if marker is not None and marker in seen:
                return
read_until(b"(not shown): ", 10)
os.write(fd, value.encode() + b"\n")
read_until(None, 5)
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
	rc=$?
	[ $rc = 0 ] || fail "exit $rc: $(cat "$T/tty")"
	grep -qF "value of TTY_TOKEN (not shown):" "$T/tty" ||
	    fail "no prompt: $(cat "$T/tty")"
	grep -qF "stored secret 'TTY_TOKEN'" "$T/tty" ||
	    fail "not stored: $(cat "$T/tty")"
	grep -qF -- "$v" "$T/tty" && fail "the terminal echoed the value"
	have_aesgcm || return 0
	got=$(open_sealed "$LEPTON_HOME/secrets/TTY_TOKEN" TTY_TOKEN \
	    "$(key_hex)") || fail "does not open"
	[ "$got" = "$v" ] || fail "stored '$got'"
}

test_secret_refuses_empty_oversize_and_bad_names() {
	run $LEPTON secret set EMPTY </dev/null
	expect_rc 2
	expect_err "the value of 'EMPTY' is empty"
	echo >"$T/nl"
	run $LEPTON secret set EMPTY <"$T/nl"
	expect_rc 2
	head -c 65537 /dev/zero | tr '\0' x >"$T/big"
	run $LEPTON secret set BIG <"$T/big"
	expect_rc 2
	expect_err "larger than 65536 bytes"
	head -c 65536 "$T/big" >"$T/max"
	run $LEPTON secret set BIG <"$T/max"
	expect_rc 0
	for n in 9LIVES LEPTON_TOKEN 'a-b' '../x'; do
		run $LEPTON secret set "$n" </dev/null
		expect_rc 2
		expect_err "is not a secret name"
	done
	run $LEPTON secret set </dev/null
	expect_rc 2
	run $LEPTON secret get BIG
	expect_rc 2
	expect_err "unknown subcommand 'get'"
}

test_secret_rm_and_unknown_names() {
	run $LEPTON secret rm NOPE
	expect_rc 5
	expect_err "no secret named 'NOPE'"
	run $LEPTON --json secret list
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["secrets"]')" = "[]" ] ||
	    fail "$(cat "$out")"
	echo one | $LEPTON secret set GONE >/dev/null 2>&1
	run $LEPTON secret rm -n GONE
	expect_rc 0
	expect_out "would remove secret 'GONE'"
	[ -e "$LEPTON_HOME/secrets/GONE" ] || fail "dry run removed it"
	run $LEPTON secret rm GONE
	expect_rc 0
	[ -e "$LEPTON_HOME/secrets/GONE" ] && fail "still there"
	run $LEPTON secret rm GONE
	expect_rc 5
	run $LEPTON --json secret rm GONE
	expect_rc 5
	[ "$(jget "$out" 'd["error"]["code"]')" = not_found ] ||
	    fail "$(cat "$out")"
}

test_secret_group_readable_key_or_store_is_refused() {
	echo one | $LEPTON secret set FIRST >/dev/null 2>&1 || fail "set"
	chmod 640 "$LEPTON_HOME/secret.key"
	echo two >"$T/in"
	run $LEPTON secret set SECOND <"$T/in"
	expect_rc 4
	expect_err "'$LEPTON_HOME/secret.key' holds secrets but others may read it (mode 640)"
	expect_err "chmod 600 '$LEPTON_HOME/secret.key'"
	[ -e "$LEPTON_HOME/secrets/SECOND" ] && fail "stored anyway"
	chmod 600 "$LEPTON_HOME/secret.key"
	chmod 750 "$LEPTON_HOME/secrets"
	run $LEPTON secret list
	expect_rc 4
	expect_err "chmod 700 '$LEPTON_HOME/secrets'"
	chmod 700 "$LEPTON_HOME/secrets"
	run $LEPTON secret list
	expect_rc 0
	expect_out FIRST
	# A key of another length is no key.
	head -c 16 /dev/urandom >"$LEPTON_HOME/secret.key"
	run $LEPTON secret set THIRD <"$T/in"
	expect_rc 4
	expect_err "is not a secret key: 16 bytes, want 32"
}

test_secret_umask_000_still_private() {
	(umask 000; echo v | $LEPTON secret set LOOSE >/dev/null 2>&1) ||
	    fail "set"
	mode_is "$LEPTON_HOME/secrets" 700
	mode_is "$LEPTON_HOME/secrets/LOOSE" 600
	mode_is "$LEPTON_HOME/secret.key" 600
}

test_secret_key_from_the_environment() {
	k=$($PY -c 'import secrets; print(secrets.token_hex(32))')
	echo env-keyed-value >"$T/in"
	LEPTON_SECRET_KEY=$k run $LEPTON secret set KEYED <"$T/in"
	expect_rc 0
	[ -s "$err" ] && fail "stderr: $(cat "$err")"
	[ -e "$LEPTON_HOME/secret.key" ] && fail "made a key file"
	LEPTON_SECRET_KEY=not-hex run $LEPTON secret set KEYED <"$T/in"
	expect_rc 4
	expect_err "LEPTON_SECRET_KEY is not a key"
	grep -qF not-hex "$err" && fail "the variable's value was printed"
	have_aesgcm || return 0
	[ "$(open_sealed "$LEPTON_HOME/secrets/KEYED" KEYED "$k")" = \
	    env-keyed-value ] || fail "does not open with the key"
}

# A service that logs the sha256 of MY_SECRET, never the value.
secret_service() {
	mkdir -p "$T/svc"
	cat >"$T/svc/service.yaml" <<'YAML'
kind: service
name: sealed
secrets: [MY_SECRET]
run: |
  echo "secret sha $(printf %s "$MY_SECRET" | sha256sum | cut -c1-64)"
  exec python3 -m http.server "$LEPTON_PORT" --bind 127.0.0.1
service:
  readiness: {path: /, timeout: 20}
YAML
	echo "$T/svc/service.yaml"
}

sha_of() {
	printf %s "$1" | sha256sum | cut -c1-64
}

# Every object of the state repository, uncompressed, lacks the value.
expect_not_in_state() {
	[ -d "$LEPTON_HOME/state" ] || fail "no state repository"
	git -C "$LEPTON_HOME/state" cat-file --batch-all-objects --batch \
	    >"$T/objects" || fail "cannot read the state repository"
	[ -s "$T/objects" ] || fail "no objects"
	grep -qF -- "$1" "$T/objects" && fail "value in the state repository"
	true
}

test_secret_reaches_the_replica_from_the_store() {
	unset MY_SECRET
	v=stored-s3cr3t-$$-xyz
	echo "$v" >"$T/in"
	run $LEPTON secret set MY_SECRET <"$T/in"
	expect_rc 0
	spec=$(secret_service)
	run $LEPTON --json deploy "$spec"
	expect_rc 0
	expect_nowhere_but_the_run_file "$v"
	run $LEPTON logs sealed
	expect_rc 0
	expect_out "secret sha $(sha_of "$v")"
	expect_nowhere_but_the_run_file "$v"
	run $LEPTON --json status sealed
	expect_nowhere_but_the_run_file "$v"
	expect_not_in_state "$v"
	mode_is "$LEPTON_HOME/local/sealed/secrets.json" 600
	# The pattern from a file: grep's own command line must not hold it.
	printf %s "$v" >"$T/pattern"
	ps -eo args | grep -qFf "$T/pattern" && fail "value in a command line"
	true
}

# Only the 0600 file the supervisor reads holds the value in the clear.
expect_nowhere_but_the_run_file() {
	for f in "$out" "$err"; do
		grep -qF -- "$1" "$f" && fail "value in $(basename "$f")"
	done
	grep -rlF -- "$1" "$LEPTON_HOME" >"$T/hits" 2>/dev/null
	[ "$(cat "$T/hits")" = "$LEPTON_HOME/local/sealed/secrets.json" ] ||
	    fail "value found in: $(cat "$T/hits")"
}

test_secret_environment_overrides_the_store() {
	echo from-the-store >"$T/in"
	run $LEPTON secret set MY_SECRET <"$T/in"
	expect_rc 0
	spec=$(secret_service)
	MY_SECRET=from-the-environment run $LEPTON deploy "$spec"
	expect_rc 0
	run $LEPTON logs sealed
	expect_out "secret sha $(sha_of from-the-environment)"
	grep -qF "$(sha_of from-the-store)" "$out" && fail "the store won"
	true
}

test_secret_rm_then_deploy_fails_with_the_hint() {
	unset MY_SECRET
	echo soon-gone >"$T/in"
	run $LEPTON secret set MY_SECRET <"$T/in"
	run $LEPTON secret rm MY_SECRET
	expect_rc 0
	spec=$(secret_service)
	run $LEPTON deploy "$spec"
	expect_rc 4
	expect_err "secret 'MY_SECRET' is not set in the environment nor in the secret store"
	expect_err "hint: store it with 'lepton secret set MY_SECRET', or export MY_SECRET before 'lepton deploy'"
	[ -z "$(procs_with "$T/svc")" ] || fail "a process started"
	run $LEPTON --json deploy "$spec"
	expect_rc 4
	[ "$(jget "$out" 'd["error"]["code"]')" = auth ] || fail "$(cat "$out")"
}

test_secret_renamed_file_stops_the_deploy() {
	unset MY_SECRET
	echo elsewhere >"$T/in"
	run $LEPTON secret set OTHER_SECRET <"$T/in"
	mv "$LEPTON_HOME/secrets/OTHER_SECRET" "$LEPTON_HOME/secrets/MY_SECRET"
	spec=$(secret_service)
	run $LEPTON deploy "$spec"
	expect_rc 4
	expect_err "secret 'MY_SECRET' does not open"
	# Stored with the key file, read with another key: refused too, and
	# the hint names the variable to fix.
	echo right-name >"$T/in"
	run $LEPTON secret set MY_SECRET <"$T/in"
	expect_rc 0
	LEPTON_SECRET_KEY=$($PY -c 'print("ab" * 32)') run $LEPTON deploy \
	    "$spec"
	expect_rc 4
	expect_err "secret 'MY_SECRET' does not open"
	expect_err "LEPTON_SECRET_KEY"
	[ -z "$(procs_with "$T/svc")" ] || fail "a process started"
}

test_secret_reaches_a_job_from_the_store() {
	unset MY_SECRET
	v=job-s3cr3t-$$
	echo "$v" >"$T/in"
	run $LEPTON secret set MY_SECRET <"$T/in"
	mkdir -p "$T/job"
	cat >"$T/job/train.yaml" <<'YAML'
kind: job
name: sealedjob
secrets: [MY_SECRET]
run: printf %s "$MY_SECRET" | sha256sum | cut -c1-64 >sha.txt
YAML
	run $LEPTON train "$T/job/train.yaml"
	expect_rc 0
	[ "$(cat "$T/job/sha.txt")" = "$(sha_of "$v")" ] ||
	    fail "the job saw another value"
	expect_nowhere "$v"
	expect_not_in_state "$v"
}
