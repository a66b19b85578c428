# slurm_fault_tests.sh: lepton against a faulty network on its way to
# slurmrestd, run by tests/e2e/slurm.sh on the same cluster as
# slurm_tests.sh. tests/faultproxy.py stands between lepton and slurmrestd
# and resets, truncates, garbles, delays, or answers 429/500/503 (with and
# without Retry-After) at the submit, at status polling and at the cancel.
# After each fault the state must match what exists: every Slurm job of
# the test is one lepton knows of, in the state lepton says, none twice,
# and 'lepton stop' leaves none. Each case prints a "figure: fault ..."
# line: the faults injected, what lepton did, its exit status.

REAL_URL=$SLURMRESTD_URL
FP="$ROOT/tests/faultproxy.py"
# Names of this run's jobs and services: flt, a run tag, the case.
R=flt$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')

# fp_start: the proxy in front of slurmrestd, lepton pointed at it.
fp_start() {
	: >"$T/plan.json"
	: >"$T/proxy.log"
	$PY "$FP" serve --upstream "$REAL_URL" --plan "$T/plan.json" \
	    --log "$T/proxy.log" --port-file "$T/proxy.url" --parent $$ \
	    >"$T/proxy.out" 2>&1 &
	fp_pid=$!
	trap 'kill $fp_pid 2>/dev/null; SLURMRESTD_URL=$REAL_URL cleanup_home; fault_sweep' EXIT
	wait_for 10 test -s "$T/proxy.url" || fail "faultproxy did not start: $(cat "$T/proxy.out")"
	SLURMRESTD_URL=$(cat "$T/proxy.url")
	export SLURMRESTD_URL REAL_URL
}

# Whatever a failed test left in Slurm under its names.
fault_sweep() {
	squeue -h -o '%i %j' 2>/dev/null | awk '$2 ~ /^flt/ { print $1 }' |
	    xargs -r scancel 2>/dev/null
}

# fp_plan RULE...: the proxy's rules from now on (it re-reads the file).
fp_plan() {
	_r=$(printf '%s,' "$@")
	printf '[%s]\n' "${_r%,}" >"$T/plan.new"
	mv "$T/plan.new" "$T/plan.json"
	fp_from=$(($(wc -l <"$T/proxy.log") + 1))
}

# rule METHOD PATH KIND [NTH]: one rule, KIND as the figures name it.
rule() {
	case $3 in
	reset) a='"action": "reset"' ;;
	reset-fwd) a='"action": "reset", "forward": true' ;;
	truncate) a='"action": "truncate"' ;;
	garbage) a='"action": "garbage"' ;;
	garbage-fwd) a='"action": "garbage", "forward": true' ;;
	500) a='"action": "status", "status": 500' ;;
	500-fwd) a='"action": "status", "status": 500, "forward": true' ;;
	503) a='"action": "status", "status": 503' ;;
	503-ra1) a='"action": "status", "status": 503, "retry_after": 1' ;;
	429-date) a='"action": "status", "status": 429, "retry_after": "date+2"' ;;
	503-ra3600) a='"action": "status", "status": 503, "retry_after": 3600' ;;
	400) a='"action": "status", "status": 400' ;;
	delay) a='"action": "delay", "ms": 700' ;;
	stall) a='"action": "delay", "ms": 4000' ;;
	*) fail "no fault kind $3" ;;
	esac
	printf '{"method": "%s", "path": "%s", %s%s}' "$1" "$2" "$a" \
	    "${4:+, \"nth\": $4}"
}

# fp_count METHOD PATH_REGEX: requests since the last fp_plan; fp_gap: ms
# between the first two of them; fp_injected: faults since fp_plan.
fp_requests() {
	tail -n +"$fp_from" "$T/proxy.log" | grep '"event": "request"'
}

fp_count() {
	fp_requests | $PY -c 'import json, re, sys
print(sum(1 for r in map(json.loads, sys.stdin) if r["method"] == sys.argv[1] and re.search(sys.argv[2], r["path"])))' "$1" "$2"
}

fp_gap() {
	fp_requests | $PY -c 'import json, re, sys
t = [r["time"] for r in map(json.loads, sys.stdin) if r["method"] == sys.argv[1] and re.search(sys.argv[2], r["path"])]
print(int((t[1] - t[0]) * 1000) if len(t) > 1 else 0)' "$1" "$2"
}

fp_injected() {
	fp_requests | grep -c '"rule": [0-9]'
}

# fault_truth PREFIX: Slurm's jobs named PREFIX or PREFIX-* against what
# lepton says (status, asked without the proxy) and records. Prints the
# mismatches; fails when there is one.
fault_truth() {
	SLURMRESTD_URL=$REAL_URL $PY - "$1" <<'PYEOF'
import json, os, subprocess, sys
prefix, home, lepton = sys.argv[1], os.environ["LEPTON_HOME"], os.environ["LEPTON"]
LIVE = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED",
        "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT"}
q = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%j|%T|%k"],
                   capture_output=True, text=True).stdout
slurm, marks = {}, {}
for line in q.splitlines():
    i, name, st, mark = line.split("|", 3)
    if name == prefix or name.startswith(prefix + "-"):
        slurm[int(i)] = (name, st)
        marks[mark] = int(i)
bad = []
def lep(*args):
    p = subprocess.run([lepton, "--json"] + list(args), capture_output=True, text=True)
    return json.loads(p.stdout) if p.stdout.strip() else {}
known = set()
jobs = [j for j in lep("status", "--jobs").get("result", {}).get("jobs", [])
        if j["id"].startswith(prefix + "-")]
for j in jobs:
    rec = json.load(open("%s/slurm/jobs/%s/job.json" % (home, j["id"])))
    ids = rec["slurm_ids"]
    known.update(ids)
    mark = rec.get("submit_mark")
    if mark and mark in marks:
        bad.append("job %s: Slurm job %d has its mark, lepton does not know it" % (j["id"], marks[mark]))
    if mark and j["state"] == "running" and "not confirmed" not in (j.get("message") or ""):
        bad.append("job %s: unconfirmed, but status does not say so" % j["id"])
    if mark:
        continue
    if not ids:
        if j["state"] == "running":
            bad.append("job %s: running, but no Slurm job" % j["id"])
        continue
    if ids[-1] not in slurm:
        bad.append("job %s: its Slurm job %d does not exist" % (j["id"], ids[-1]))
        continue
    st = slurm[ids[-1]][1]
    ok = {"running": st in LIVE, "succeeded": st == "COMPLETED",
          "cancelled": st == "CANCELLED"}.get(j["state"], st not in LIVE)
    if not ok:
        bad.append("job %s: lepton says %s, Slurm %s" % (j["id"], j["state"], st))
for sid, (name, st) in sorted(slurm.items()):
    if name != prefix and sid not in known:
        bad.append("Slurm job %d (%s, %s) is not known to lepton" % (sid, name, st))
live = {sid for sid, (name, st) in slurm.items() if name == prefix and st in LIVE}
svc = "%s/slurm/services/%s/state.json" % (home, prefix)
expect = set()
if os.path.exists(svc):
    rec = json.load(open(svc))
    d = lep("status", prefix).get("result", {})
    if d.get("state") in ("running", "starting"):
        expect.add(rec.get("slurm_id"))
    left = ([rec["starting_id"]] if rec.get("starting_id") else []) + (rec.get("leftover_ids") or [])
    expect.update(left)
    if (left or rec.get("starting_mark")) and not d.get("message"):
        bad.append("service %s: status hides what a deploy left in Slurm" % prefix)
if live != expect:
    bad.append("service %s: Slurm runs %s, lepton knows %s" % (prefix, sorted(live), sorted(expect)))
for b in bad:
    print(b)
print("truth: %d Slurm jobs, %d lepton jobs, %d live service jobs: %s" % (
    len(slurm), len(jobs), len(live), "mismatch" if bad else "state matches"))
sys.exit(1 if bad else 0)
PYEOF
}

# truth_of PREFIX: the truth, given a few seconds to settle (a cancelled
# job is COMPLETING for a moment); the mismatches in $T/truth.
truth_of() {
	_tries=0
	until fault_truth "$1" >"$T/truth" 2>&1; do
		_tries=$((_tries + 1))
		[ $_tries -lt 20 ] || return 1
		sleep 0.5
	done
}

truth() {
	truth_of "$1" || fail "$(cat "$T/truth")"
}

# figure WHAT DETAIL PREFIX: the truth of PREFIX, then one tally line for
# the case just run: faults injected, what lepton did, its exit status.
figure() {
	if truth_of "$3"; then
		_m="state matches"
	else
		_m="STATE MISMATCH: $(grep -v '^truth:' "$T/truth" | tr '\n' ';')"
	fi
	echo "figure: fault $1: injected $(fp_injected), $2, exit $rc, $_m"
	[ "$_m" = "state matches" ] || fail "$(cat "$T/truth")"
}

sleep_spec() {
	mkdir -p "$T/spec"
	printf 'kind: job\nname: %s\nplacement: {providers: [slurm]}\nrun: echo started; sleep 300\n' \
	    "$1" >"$T/spec/$1.yaml"
	echo "$T/spec/$1.yaml"
}

quick_spec() {
	mkdir -p "$T/spec"
	printf 'kind: job\nname: %s\nplacement: {providers: [slurm]}\nrun: echo tick; sleep 1; echo done\n' \
	    "$1" >"$T/spec/$1.yaml"
	echo "$T/spec/$1.yaml"
}

service_spec() {
	mkdir -p "$T/spec"
	cat >"$T/spec/$1.yaml" <<YEOF
kind: service
name: $1
placement: {providers: [slurm]}
run: exec python3 -m http.server "\$LEPTON_PORT" --bind 127.0.0.1
service:
  readiness: {path: /, timeout: 30}
YEOF
	echo "$T/spec/$1.yaml"
}

SUBMIT='/job/submit$'
JOB='/job/[0-9]+$'

test_slurm_fault_train_submit() {
	fp_start
	# A lost answer may hide a job: lepton asks for its mark before it
	# submits again. Forwarded faults made the job; the others did not.
	for k in reset reset-fwd truncate garbage garbage-fwd 500 500-fwd \
	    503-ra1 429-date; do
		n=$R-ts-$(echo "$k" | tr -d '-')
		fp_plan "$(rule POST "$SUBMIT" "$k" 1)"
		run $LEPTON train -d "$(sleep_spec "$n")"
		expect_rc 0
		id=$(cat "$out")
		submits=$(fp_count POST "$SUBMIT")
		gap=$(fp_gap POST "$SUBMIT")
		case $k in
		*-fwd | truncate) [ "$submits" = 1 ] || fail "$k: $submits submits" ;;
		*) [ "$submits" = 2 ] || fail "$k: $submits submits" ;;
		esac
		case $k in
		503-ra1 | 429-date) [ "$gap" -ge 1000 ] || fail "$k: Retry-After not waited: ${gap} ms" ;;
		esac
		[ "$(squeue -h -t all -n "$id" -o %i | wc -l)" = 1 ] ||
		    fail "$k: $(squeue -h -t all -n "$id" -o '%i %T')"
		figure "train submit $k" "submits $submits, mark lookups $(fp_count GET '/jobs$'), gap ${gap} ms" "$n"
		fp_plan
		run $LEPTON stop "$id"
		expect_rc 0
		truth "$n"
	done
	# Refused for good, or always lost: no job, and no record of one.
	for k in 400 503; do
		n=$R-tsx-$k
		fp_plan "$(rule POST "$SUBMIT" "$k")"
		run $LEPTON train -d "$(sleep_spec "$n")"
		expect_rc 7
		submits=$(fp_count POST "$SUBMIT")
		case $k in
		400) [ "$submits" = 1 ] || fail "400 submitted $submits times" ;;
		503) [ "$submits" = 3 ] || fail "503 submitted $submits times"
		     expect_err "Slurm has no job with its mark: submitting again (3 of 3)" ;;
		esac
		[ -z "$(squeue -h -t all -o %j | grep "^$n")" ] || fail "$k: a job was made"
		figure "train submit $k every time" "submits $submits, mark lookups $(fp_count GET '/jobs$')" "$n"
	done
}

test_slurm_fault_train_submit_stalls() {
	# lepton gives up waiting (slurm.timeout 2 s) before the submit even
	# reaches slurmrestd (4 s): it records the job by its mark, and finds
	# it once it shows.
	mkdir -p "$LEPTON_HOME"
	echo '{"slurm": {"timeout": 2}}' >"$LEPTON_HOME/config.json"
	fp_start
	fp_plan "$(rule POST "$SUBMIT" stall 1)"
	run $LEPTON train -d "$(sleep_spec $R-stall)"
	expect_rc 0
	expect_err "Operation timed out"
	expect_err "looks for a Slurm job marked"
	id=$(cat "$out")
	wait_for 10 sh -c "[ -n \"\$(squeue -h -n $id -o %i)\" ]" ||
	    fail "the late submit never made a job"
	figure "train submit stall 4 s (timeout 2 s)" "submits $(fp_count POST "$SUBMIT"), mark lookups $(fp_count GET '/jobs$'), found by a later status" "$R-stall"
	fp_plan
	run $LEPTON --json status "$id"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["jobs"][0]["state"]')" = running ] || fail "$(cat "$out")"
	truth $R-stall
	run $LEPTON stop "$id"
	expect_rc 0
	truth $R-stall
	# The submit's answer lost and Slurm not answering the lookup: the
	# job is recorded by its mark, found once Slurm answers.
	fp_plan "$(rule POST "$SUBMIT" reset-fwd 1)" "$(rule GET '/jobs$' 503)"
	run $LEPTON train -d "$(sleep_spec $R-stall2)"
	expect_rc 0
	expect_err "looks for a Slurm job marked"
	id=$(cat "$out")
	figure "train submit reset-fwd, lookups 503" "submits $(fp_count POST "$SUBMIT"), mark lookups $(fp_count GET '/jobs$')" "$R-stall2"
	fp_plan
	run $LEPTON --json status "$id"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["jobs"][0]["state"]')" = running ] || fail "$(cat "$out")"
	truth $R-stall2
	run $LEPTON stop "$id"
	expect_rc 0
	truth $R-stall2
	# The same, but the submit never reached Slurm: stopped, it is
	# recorded cancelled, and nothing is left.
	fp_plan "$(rule POST "$SUBMIT" reset 1)" "$(rule GET '/jobs$' 503)"
	run $LEPTON train -d "$(sleep_spec $R-stall3)"
	expect_rc 0
	id=$(cat "$out")
	figure "train submit reset, lookups 503" "submits $(fp_count POST "$SUBMIT"), mark lookups $(fp_count GET '/jobs$')" "$R-stall3"
	fp_plan
	run $LEPTON status "$id"
	expect_rc 0
	expect_out "running"
	run $LEPTON stop "$id"
	expect_rc 0
	expect_out "cancelled"
	[ -z "$(squeue -h -t all -o %j | grep "^$R-stall3")" ] || fail "a job was made"
	truth $R-stall3
}

test_slurm_fault_train_status() {
	fp_start
	for k in reset truncate garbage 500 503-ra1 429-date delay; do
		n=$R-tp-$(echo "$k" | tr -d '-')
		fp_plan "$(rule GET "$JOB" "$k" '[1, 3]')"
		run $LEPTON train "$(quick_spec "$n")"
		expect_rc 0
		expect_out "succeeded"
		polls=$(fp_count GET "$JOB")
		figure "train poll $k" "polls $polls" "$n"
	done
	# Every poll lost: lepton gives up after 3 tries, says the job goes
	# on, and it does.
	n=$R-tpx
	fp_plan "$(rule GET "$JOB" 503)"
	t0=$(date +%s)
	run $LEPTON train "$(sleep_spec $n)"
	expect_rc 7
	expect_err "(3 attempts)"
	expect_err "goes on; lepton only stopped following it"
	[ $(($(date +%s) - t0)) -lt 20 ] || fail "took $(($(date +%s) - t0)) s"
	figure "train poll 503 every time" "polls $(fp_count GET "$JOB")" "$n"
	fp_plan
	truth $n
	id=$($LEPTON --json status --jobs | $PY -c 'import json,sys; print([j["id"] for j in json.load(sys.stdin)["result"]["jobs"] if j["id"].startswith(sys.argv[1])][0])' "$n-")
	run $LEPTON stop "$id"
	expect_rc 0
	truth $n
}

test_slurm_fault_train_cancel() {
	fp_start
	for k in reset reset-fwd truncate garbage 500 503-ra1 429-date; do
		n=$R-tc-$(echo "$k" | tr -d '-')
		fp_plan
		run $LEPTON train -d "$(sleep_spec "$n")"
		expect_rc 0
		id=$(cat "$out")
		fp_plan "$(rule DELETE "$JOB" "$k" 1)"
		run $LEPTON stop "$id"
		expect_rc 0
		expect_out "cancelled"
		cancels=$(fp_count DELETE "$JOB")
		[ "$cancels" = 2 ] || fail "$k: $cancels cancels"
		figure "train cancel $k" "cancels $cancels, gap $(fp_gap DELETE "$JOB") ms" "$n"
	done
	# Asked to come back in an hour: not waited for, said; then every
	# cancel lost. Nothing changes, and lepton says the job runs on.
	n=$R-tcx
	fp_plan
	run $LEPTON train -d "$(sleep_spec $n)"
	id=$(cat "$out")
	for k in 503-ra3600 reset; do
		fp_plan "$(rule DELETE "$JOB" "$k")"
		run $LEPTON stop "$id"
		expect_rc 7
		cancels=$(fp_count DELETE "$JOB")
		case $k in
		503-ra3600) [ "$cancels" = 1 ] || fail "$cancels cancels"
		    expect_err "it asks to be tried again in 3600s" ;;
		reset) [ "$cancels" = 3 ] || fail "$cancels cancels"
		    expect_err "(3 attempts)" ;;
		esac
		figure "train cancel $k every time" "cancels $cancels" "$n"
	done
	fp_plan
	run $LEPTON stop "$id"
	expect_rc 0
	truth $n
}

test_slurm_fault_deploy_submit() {
	fp_start
	for k in reset-fwd truncate garbage 500-fwd 503-ra1; do
		n=$R-ds-$(echo "$k" | tr -d '-')
		fp_plan "$(rule POST "$SUBMIT" "$k" 1)"
		run $LEPTON deploy "$(service_spec "$n")"
		expect_rc 0
		expect_out "ready on slurm"
		submits=$(fp_count POST "$SUBMIT")
		[ "$(squeue -h -n "$n" -o %i | wc -l)" = 1 ] || fail "$k: $(squeue -h -n "$n")"
		figure "deploy submit $k" "submits $submits, mark lookups $(fp_count GET '/jobs$')" "$n"
		fp_plan
		run $LEPTON stop "$n"
		expect_rc 0
		truth "$n"
	done
	# The submit reaches slurmrestd only after lepton stopped waiting:
	# the deploy finds it by its mark while readiness may take.
	mkdir -p "$LEPTON_HOME"
	echo '{"slurm": {"timeout": 2}}' >"$LEPTON_HOME/config.json"
	n=$R-dsstall
	fp_plan "$(rule POST "$SUBMIT" stall 1)"
	run $LEPTON deploy "$(service_spec $n)"
	expect_rc 0
	expect_err "looking for a Slurm job marked"
	figure "deploy submit stall 4 s (timeout 2 s)" "submits $(fp_count POST "$SUBMIT"), mark lookups $(fp_count GET '/jobs$')" "$n"
	fp_plan
	run $LEPTON stop $n
	expect_rc 0
	truth $n
}

test_slurm_fault_deploy_status_and_cancel() {
	fp_start
	for k in reset truncate garbage 503-ra1 429-date; do
		n=$R-dp-$(echo "$k" | tr -d '-')
		fp_plan "$(rule GET "$JOB" "$k" '[1, 2]')"
		run $LEPTON deploy "$(service_spec "$n")"
		expect_rc 0
		figure "deploy poll $k" "polls $(fp_count GET "$JOB")" "$n"
		fp_plan "$(rule DELETE "$JOB" "$k" 1)"
		run $LEPTON stop "$n"
		expect_rc 0
		figure "deploy cancel $k" "cancels $(fp_count DELETE "$JOB")" "$n"
	done
}

test_slurm_fault_deploy_leaves_nothing_unknown() {
	fp_start
	# Polls and cancels all lost: the new revision cannot be cancelled.
	# It is kept on record, status says so, and stop ends it.
	n=$R-dl
	fp_plan "$(rule GET "$JOB" reset)" "$(rule DELETE "$JOB" reset)"
	run $LEPTON deploy "$(service_spec $n)"
	expect_rc 7
	figure "deploy with polls and cancels lost" "polls $(fp_count GET "$JOB"), cancels $(fp_count DELETE "$JOB")" "$n"
	fp_plan
	run $LEPTON status $n
	expect_out "left by a deploy"
	truth $n
	run $LEPTON stop $n
	expect_rc 0
	truth $n
	# Revision 2 serves, revision 1's cancel is lost: kept, said, and
	# the stop ends both.
	run $LEPTON deploy "$T/spec/$n.yaml"
	expect_rc 0
	sed -i 's/--bind/--directory . --bind/' "$T/spec/$n.yaml"
	fp_plan "$(rule DELETE "$JOB" reset)"
	run $LEPTON deploy "$T/spec/$n.yaml"
	expect_rc 0
	expect_err "could not be cancelled"
	figure "redeploy, old revision's cancel lost" "cancels $(fp_count DELETE "$JOB")" "$n"
	fp_plan
	[ "$(squeue -h -n $n -t RUNNING -o %i | wc -l)" = 2 ] || fail "$(squeue -n $n)"
	truth $n
	run $LEPTON status $n
	expect_out "left by a deploy"
	run $LEPTON stop $n
	expect_rc 0
	truth $n
	[ -z "$(squeue -h -n $n -t PENDING,RUNNING -o %i)" ] || fail "$(squeue -n $n)"
}

test_slurm_fault_stall_and_huge_answers() {
	mkdir -p "$LEPTON_HOME"
	echo '{"slurm": {"timeout": 1}}' >"$LEPTON_HOME/config.json"
	fp_start
	run $LEPTON train -d "$(sleep_spec $R-sh)"
	expect_rc 0
	id=$(cat "$out")
	# A stalled server: each try ends at the timeout, 3 tries.
	fp_plan '{"method": "GET", "path": "'"$JOB"'", "action": "delay", "ms": 30000}'
	t0=$(date +%s%3N)
	run $LEPTON status "$id"
	ms=$(($(date +%s%3N) - t0))
	expect_rc 8
	expect_err "(3 attempts)"
	[ $ms -lt 8000 ] || fail "a stalled server held lepton ${ms} ms"
	figure "status stall 30 s (timeout 1 s)" "polls $(fp_count GET "$JOB"), gave up after ${ms} ms" "$R-sh"
	# An endless answer: read up to the cap, not tried again.
	fp_plan '{"method": "GET", "path": "'"$JOB"'", "action": "garbage", "http": true, "bytes": 67108864}'
	rss=$($PY -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)' $LEPTON status "$id")
	run $LEPTON status "$id"
	expect_rc 7
	expect_err "larger than 16777216 bytes"
	[ "$rss" -lt 60 ] || fail "lepton grew to $rss MiB on a 64 MiB answer"
	figure "status 64 MiB body, twice" "polls $(fp_count GET "$JOB"), max RSS ${rss} MiB" "$R-sh"
	# Garbage instead of HTTP, every time; then a 400: never repeated.
	fp_plan "$(rule GET "$JOB" garbage)"
	run $LEPTON status "$id"
	expect_rc 7
	[ "$(fp_count GET "$JOB")" = 3 ] || fail "garbage: $(fp_count GET "$JOB") polls"
	figure "status garbage every time" "polls $(fp_count GET "$JOB")" "$R-sh"
	fp_plan "$(rule GET "$JOB" 400)"
	run $LEPTON status "$id"
	expect_rc 7
	[ "$(fp_count GET "$JOB")" = 1 ] || fail "400: $(fp_count GET "$JOB") polls"
	figure "status 400" "polls $(fp_count GET "$JOB")" "$R-sh"
	fp_plan
	truth $R-sh
	run $LEPTON stop "$id"
	expect_rc 0
	truth $R-sh
}
