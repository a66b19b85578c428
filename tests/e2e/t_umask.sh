# t_umask.sh: what lepton keeps is its user's alone, whatever the umask
# (issue: world-writable state under a permissive umask); what it runs
# for the user keeps the user's umask; a home others may write to is
# refused.

ROW='{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'

# Nothing under $LEPTON_HOME that others may read, write or enter:
# directories 0700, files 0600, or 0400 where lepton keeps them read-only
# (model files, git objects); libgit2's sample hook keeps its x bit.
only_ours() {
	find "$LEPTON_HOME" ! -type l -perm /077 -printf '%M %p\n' >"$T/loose"
	find "$LEPTON_HOME" -type d ! -perm 700 -printf '%M %p\n' >>"$T/loose"
	find "$LEPTON_HOME" ! -type d ! -type l ! -perm 600 ! -perm 400 \
	    ! -path "$LEPTON_HOME/state/hooks/*" -printf '%M %p\n' >>"$T/loose"
	[ ! -s "$T/loose" ] || fail "$1: $(sort -u "$T/loose" | head -20)"
}

test_umask_000_state_is_the_users_alone() {
	umask 000
	d=$(iris_copy)
	sed -i 's/^run: python3 serve.py/run: umask >umask.out; exec python3 serve.py/' \
	    "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	run $LEPTON train "$d/train.yaml"
	expect_rc 0
	expect_out "registered iris@v2"
	run $LEPTON models tag iris v2 prod
	expect_rc 0
	mkdir -p "$T/up/aws"
	printf '%s\n%s\n' 'InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone' \
	    'm9.small,,,2.0,8.0,,0.05,,us-east-1,use1-az1' >"$T/up/aws/vms.csv"
	run $LEPTON catalog update -p aws --from "$T/up"
	expect_rc 0
	run $LEPTON predict iris -d "$ROW"
	expect_rc 0
	[ -d "$LEPTON_HOME/models/iris/v1" ] || fail "no model directory"
	[ -s "$LEPTON_HOME/catalog/aws.csv" ] || fail "no catalog"
	only_ours "serving"
	run $LEPTON stop iris
	expect_rc 0
	only_ours "stopped"
	# The user's processes, a replica and the job, had the user's umask.
	[ "$(cat "$d/umask.out")" = 0000 ] ||
	    fail "the replica ran with umask $(cat "$d/umask.out")"
	[ "$(stat -c %a "$d/out/model")" = 777 ] ||
	    fail "the job made its output $(stat -c %a "$d/out/model")"
}

test_home_others_may_write_is_refused() {
	mkdir -p "$LEPTON_HOME"
	chmod 777 "$LEPTON_HOME"
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 4
	expect_err "lepton: deploy: '$LEPTON_HOME' holds lepton's state but others may write to it (mode 777)"
	expect_err "hint: chmod -R go-w '$LEPTON_HOME'"
	[ -z "$(ls -A "$LEPTON_HOME")" ] || fail "made: $(ls -A "$LEPTON_HOME")"
	run $LEPTON --json status
	expect_rc 4
	[ "$(jget "$out" 'd["error"]["code"]')" = auth ] || fail "$(cat "$out")"
	# Commands that never read the home still run.
	run $LEPTON version
	expect_rc 0
	run $LEPTON help
	expect_rc 0
	run $LEPTON validate "$d/service.yaml"
	expect_rc 0
	chmod 755 "$LEPTON_HOME"	# others may read: that is the user's call
	run $LEPTON status
	expect_rc 0
	# The state repository is checked too.
	mkdir -m 700 "$LEPTON_HOME/state"
	chmod g+w "$LEPTON_HOME/state"
	run $LEPTON models
	expect_rc 4
	expect_err "'$LEPTON_HOME/state' holds lepton's state but others may write to it (mode 720)"
	chmod g-w "$LEPTON_HOME/state"
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$LEPTON_HOME/state"
		run $LEPTON models
		expect_rc 4
		expect_err "'$LEPTON_HOME/state' holds lepton's state but belongs to another user"
	fi
}
