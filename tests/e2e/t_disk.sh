# t_disk.sh: a full disk says so, and never leaves a stop unrecorded.
# Needs a small tmpfs (root); skipped with a figure line where it cannot.

disk_up() {
	mkdir -p "$T/disk"
	if ! mount -t tmpfs -o size=12m tmpfs "$T/disk" 2>/dev/null; then
		echo "figure: skipped: cannot mount a tmpfs here (not root?)"
		return 1
	fi
	export LEPTON_HOME="$T/disk/home"
	trap 'cleanup_home; umount -l "$T/disk"' EXIT
}

fill() { dd if=/dev/zero of="$T/disk/fill" bs=64k count=1000 2>/dev/null; }

test_full_disk_during_train_says_so() {
	disk_up || return 0
	mkdir -p "$T/job"
	cat >"$T/job/train.yaml" <<YAML
kind: job
name: filler
run: dd if=/dev/zero of="$T/disk/fill" bs=64k count=1000 2>/dev/null; echo filled; sleep 0.3; echo more
YAML
	run $LEPTON train "$T/job/train.yaml"
	# The job's own failure (14) or lepton's record of it (1): either
	# way the cause is named, never "the runner died" alone.
	[ $rc = 14 ] || [ $rc = 1 ] || fail "exit $rc: $(cat "$err")"
	expect_err "No space left on device"
	grep -q "runner died\$" "$err" && fail "no cause: $(cat "$err")"
	rm -f "$T/disk/fill"
	run $LEPTON --json status
	expect_rc 0
}

test_full_disk_refuses_stop_before_stopping() {
	disk_up || return 0
	mkdir -p "$T/svc"
	cat >"$T/svc/service.yaml" <<YAML
kind: service
name: tight
run: exec python3 -m http.server --bind 127.0.0.1 --directory "$T/svc" "\$LEPTON_PORT"
service:
  readiness: {path: /, timeout: 20}
YAML
	run $LEPTON deploy "$T/svc/service.yaml"
	expect_rc 0
	run $LEPTON --json status tight
	pid=$(jget "$out" 'd["result"]["replicas"][0]["pid"]')
	fill
	run $LEPTON stop tight
	expect_rc 1
	expect_err "nothing was stopped"
	expect_err "No space left on device"
	pid_alive "$pid" || fail "stopped what it could not record"
	rm -f "$T/disk/fill"
	run $LEPTON stop tight
	expect_rc 0
	run $LEPTON history tight
	expect_out "stopped"
}
