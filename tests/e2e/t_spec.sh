# t_spec.sh: validate and deploy against the spec fixtures, through the CLI.

test_validate_rejects_every_invalid_fixture() {
	n=0
	for f in "$ROOT"/tests/fixtures/spec/invalid/*.yaml; do
		exp=$(sed -n '1s/^# expect: //p' "$f")
		loc=${exp%% *}
		run $LEPTON validate "$f"
		expect_rc 3
		grep -qF "$f:$loc: ${exp#* }" "$err" ||
		    fail "$f: want '$loc: ${exp#* }', got $(cat "$err")"
		[ -s "$out" ] && fail "$f: stdout not empty"
		n=$((n + 1))
	done
	[ $n -ge 30 ] || fail "only $n invalid fixtures"
}

test_validate_json_round_trips_valid_fixtures() {
	n=0
	for f in "$ROOT"/tests/fixtures/spec/valid/*.yaml; do
		run $LEPTON --json validate "$f"
		expect_rc 0
		jget "$out" 'json.dumps(d["result"]["spec"])' >"$T/norm.json"
		cp "$out" "$T/first.json"
		run $LEPTON validate --json "$T/norm.json"
		expect_rc 0
		[ "$(jget "$T/first.json" 'd["result"]["spec"]')" = \
		    "$(jget "$out" 'd["result"]["spec"]')" ] ||
		    fail "$f: normalised form changes on a second pass"
		n=$((n + 1))
	done
	[ $n -ge 10 ] || fail "only $n valid fixtures"
}

test_deploy_invalid_spec_changes_nothing() {
	run $LEPTON deploy "$ROOT/tests/fixtures/spec/invalid/tab-indent.yaml"
	expect_rc 3
	expect_err "tab-indent.yaml:6:1:"
	[ -e "$LEPTON_HOME" ] && fail "LEPTON_HOME was created"
	run $LEPTON --json deploy "$ROOT/tests/fixtures/spec/invalid/unknown-service-key.yaml"
	expect_rc 3
	[ "$(jget "$out" 'd["error"]["code"]')" = spec ] || fail "code"
	[ -e "$LEPTON_HOME" ] && fail "LEPTON_HOME was created"
	true
}

test_deploy_refuses_more_gpus_than_the_machine_has() {
	mkdir -p "$T/bin"
	printf '#!/bin/sh\necho "0, NVIDIA L4, 23034 MiB"\n' >"$T/bin/nvidia-smi"
	chmod +x "$T/bin/nvidia-smi"
	d=$(iris_copy)
	sed -i 's/^run:/resources: {accelerators: "L4:2"}\nrun:/' "$d/service.yaml"
	PATH="$T/bin:$PATH" run $LEPTON deploy "$d/service.yaml"
	expect_rc 10
	expect_err "service.yaml:7:"
	expect_err "has 1 GPU(s): NVIDIA L4"
	[ -e "$LEPTON_HOME/deployments/iris.json" ] && fail "recorded anyway"
	true
}

test_dry_run_changes_nothing() {
	d=$(iris_copy)
	run $LEPTON deploy --dry-run "$d/service.yaml"
	expect_rc 0
	expect_out "would deploy 'iris' on local"
	[ -e "$LEPTON_HOME/deployments" ] && fail "dry run recorded a deployment"
	true
}
