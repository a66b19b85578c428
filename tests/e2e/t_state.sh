# t_state.sh: a damaged state repository is reported, never hung on,
# never papered over with a new history; fsck says what and repairs it.

state_spec() {
	mkdir -p "$T/svc"
	cat >"$T/svc/service.yaml" <<YAML
kind: service
name: ledger
run: exec python3 -m http.server --bind 127.0.0.1 --directory "$T/svc" "\$LEPTON_PORT"
env: {ROUND: "$1"}
service:
  readiness: {path: /, timeout: 20}
YAML
	echo "$T/svc/service.yaml"
}

G() { git -C "$LEPTON_HOME/state" "$@"; }

test_corrupt_object_fails_fast_and_fsck_repairs_it() {
	run $LEPTON deploy "$(state_spec 1)"
	expect_rc 0
	run $LEPTON stop ledger
	expect_rc 0
	c=$(G rev-parse refs/heads/main)
	o="$LEPTON_HOME/state/objects/$(echo "$c" | cut -c1-2)/$(echo "$c" | cut -c3-)"
	chmod u+w "$o"
	truncate -s 10 "$o"
	# libgit2 1.5 spins forever on this object; lepton must not.
	for cmd in "history ledger" "deploy $(state_spec 2)" "rollback ledger"; do
		run timeout 60 $LEPTON $cmd
		[ $rc = 15 ] || fail "$cmd: exit $rc, want 15: $(cat "$err")"
		expect_err "corrupt"
		expect_err "lepton state fsck"
	done
	run $LEPTON state fsck
	expect_rc 15
	expect_out "corrupt     $c: truncated"
	expect_out "1 newer commit(s) lost"
	run $LEPTON --json state fsck --repair
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["repaired"]')" = True ] || fail "$(cat "$out")"
	[ -e "$LEPTON_HOME/state/corrupt/$c" ] || fail "not set aside"
	run $LEPTON state fsck
	expect_rc 0
	expect_out "ok"
	run $LEPTON history ledger
	expect_rc 0
	expect_out "deploy"
	# The same spec as the surviving record: the commit still shows.
	run $LEPTON deploy "$(state_spec 1)"
	expect_rc 0
	# deploy 1, then the stop (2) whose commit was lost, recorded as
	# such, then this deploy (3): the numbers status gave, all there.
	run $LEPTON --json history ledger
	[ "$(jget "$out" '[r["revision"] for r in d["result"]["revisions"]]')" = "[3, 2, 1]" ] ||
	    fail "$(cat "$out")"
	run $LEPTON stop ledger
	expect_rc 0
}

test_missing_main_is_an_error_not_a_new_history() {
	run $LEPTON deploy "$(state_spec 1)"
	expect_rc 0
	run $LEPTON stop ledger
	expect_rc 0
	n=$(G rev-list --all --reflog | wc -l)
	G update-ref -d refs/heads/main
	run $LEPTON history ledger
	expect_rc 15
	expect_err "refs/heads/main is missing"
	run $LEPTON deploy "$(state_spec 2)"
	expect_rc 15
	[ "$(G rev-list --all --reflog | wc -l)" = "$n" ] || fail "a commit was made"
	[ -z "$(procs_with "$T/svc")" ] || fail "it started something"
	run $LEPTON state fsck --repair
	expect_rc 0
	run $LEPTON --json history ledger
	expect_rc 0
	[ "$(jget "$out" 'len(d["result"]["revisions"])')" = 2 ] || fail "$(cat "$out")"
	# HEAD pointed elsewhere is refused the same way.
	G symbolic-ref HEAD refs/heads/other
	run $LEPTON deploy "$(state_spec 3)"
	expect_rc 15
	expect_err "HEAD points at 'refs/heads/other'"
}

test_garbage_head_refuses_stop_before_stopping() {
	run $LEPTON deploy "$(state_spec 1)"
	expect_rc 0
	run $LEPTON --json status ledger
	pid=$(jget "$out" 'd["result"]["replicas"][0]["pid"]')
	echo garbage >"$LEPTON_HOME/state/HEAD"
	run $LEPTON stop ledger
	expect_rc 15
	pid_alive "$pid" || fail "stop stopped what it could not record"
	run $LEPTON state fsck --repair
	expect_rc 0
	run $LEPTON stop ledger
	expect_rc 0
	run $LEPTON history ledger
	expect_out "stopped"
}
