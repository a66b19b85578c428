# t_registry.sh: the state repository: model versions, history, rollback
# (by hand and automatic), crash safety and the lock.

ROW='{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'

version_answering() {
	$LEPTON predict iris -d "$ROW" | $PY -c 'import json,sys; print(json.load(sys.stdin)["model_version"])'
}

# Revision 1 of iris serving (answering as $v1), and $d/service.yaml
# ready with a v2 model, "rollout: $1" and, if given, $2 before its run.
v1_then_v2_spec() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	v1=$(version_answering)
	$PY "$d/train.py" --epochs 5 --out "$d/model" >/dev/null
	sed -i "s/^run: python3 serve.py/run: ${2:-}python3 serve.py/; s/^  replicas: 2/  replicas: 2\n  rollout: $1/" \
	    "$d/service.yaml"
}

test_versions_history_rollback_byte_identical() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	v1=$(version_answering)
	# v2: a different hyperparameter, so different bytes and metrics.
	$PY "$d/train.py" --epochs 5 --out "$d/model" >/dev/null
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	v2=$(version_answering)
	[ "$v1" != "$v2" ] || fail "v2 answers as v1"
	run $LEPTON --json models show iris
	expect_rc 0
	[ "$(jget "$out" 'len(d["result"]["versions"])')" = 2 ] || fail "versions"
	[ "$(jget "$out" 'd["result"]["versions"][0]["metrics"]["accuracy"] != d["result"]["versions"][1]["metrics"]["accuracy"]')" = True ] ||
	    fail "metrics do not differ"
	[ "$(jget "$out" 'd["result"]["versions"][0]["parent"]')" = v1 ] || fail "parent"
	# The same bytes again: no new version, no new revision.
	run $LEPTON --json deploy "$d/service.yaml"
	[ "$(jget "$out" 'd["result"]["changed"]')" = False ] || fail "changed"
	t0=$(date +%s%N)
	run $LEPTON rollback iris
	expect_rc 0
	expect_out "iris is back on revision 1"
	[ "$(version_answering)" = "$v1" ] || fail "rollback does not answer v1"
	echo "figure: rollback to v1 answering: $((($(date +%s%N) - t0) / 1000000)) ms"
	S=$LEPTON_HOME/state
	[ "$(git -C "$S" rev-parse HEAD:deployments/iris.json)" = \
	    "$(git -C "$S" rev-parse HEAD~2:deployments/iris.json)" ] ||
	    fail "the record is not byte-identical to revision 1's"
	run $LEPTON --json history iris
	expect_rc 0
	[ "$(jget "$out" '[r["revision"] for r in d["result"]["revisions"]]')" = "[3, 2, 1]" ] ||
	    fail "history: $(cat "$out")"
	[ "$(jget "$out" 'd["result"]["revisions"][0]["model"]')" = iris@v1 ] || fail "model"
	[ "$(git -C "$S" log -1 --format=%s)" = "rollback iris to revision 1 (v1) on local" ] ||
	    fail "subject: $(git -C "$S" log -1 --format=%s)"
	git -C "$S" log -1 --format=%B | grep -q '^Lepton-Command: rollback$' || fail "trailer"
	run $LEPTON rollback iris --to v2
	expect_rc 0
	[ "$(version_answering)" = "$v2" ] || fail "--to v2"
	run $LEPTON rollback iris --to 42
	expect_rc 5
	git -C "$S" fsck --no-dangling >/dev/null 2>&1 || fail "fsck"
}

test_broken_deploy_rolls_back_and_keeps_answering() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	(
		f=0 n=0
		while [ ! -e "$T/stop-load" ] && [ $n -lt 2000 ]; do
			$LEPTON predict iris -d "$ROW" >/dev/null 2>>"$T/load.err" ||
			    f=$((f + 1))
			n=$((n + 1))
		done
		echo "$n $f" >"$T/load.result"
	) &
	loader=$!
	sleep 0.3
	sed -i 's/^run: .*/run: python3 -c "import sys; sys.exit(3)"/' "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	touch "$T/stop-load"
	wait $loader
	expect_rc 1
	expect_err "rolled back to revision 1, which still serves"
	[ "$(cat "$LEPTON_HOME/local/iris/desired")" = 1 ] ||
	    fail "the failed revision is still the desired one"
	read n f <"$T/load.result"
	[ "$f" = 0 ] || fail "$f of $n requests failed: $(head -3 "$T/load.err")"
	run $LEPTON --json history iris
	[ "$(jget "$out" '[(r["command"], r["outcome"]) for r in d["result"]["revisions"]]')" = \
	    "[('rollback', 'ready'), ('deploy', 'failed'), ('deploy', 'ready')]" ] ||
	    fail "history: $(cat "$out")"
	[ "$(git -C "$LEPTON_HOME/state" rev-parse HEAD:deployments/iris.json)" = \
	    "$(git -C "$LEPTON_HOME/state" rev-parse HEAD~2:deployments/iris.json)" ] ||
	    fail "not restored"
}

test_aliases_move_with_a_reflog_and_deploy_by_alias() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	$PY "$d/train.py" --epochs 5 --out "$d/model" >/dev/null
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	run $LEPTON models tag iris v1 prod
	expect_rc 0
	run $LEPTON models tag iris v2 prod
	expect_rc 0
	run $LEPTON models tag iris v9 prod
	expect_rc 5
	[ "$(git -C "$LEPTON_HOME/state" reflog show refs/lepton/aliases/iris/prod | wc -l)" = 2 ] ||
	    fail "reflog"
	run $LEPTON models tag iris v1 prod
	sed -i 's|  path: ./model .*|  alias: prod|' "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	run $LEPTON --json status iris
	run $LEPTON models lineage iris@v2
	expect_rc 0
	expect_out "iris@v2"
	expect_out "<- iris@v1"
	run $LEPTON --json history iris
	[ "$(jget "$out" 'd["result"]["revisions"][0]["model"]')" = iris@v1 ] ||
	    fail "deployed by alias: $(cat "$out")"
}

test_concurrent_deploys_one_wins_each_round() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	wins=0 locked=0
	for r in $(seq 1 20); do
		sed -i "s/^  ROUND: .*//; s/^env:/env:\n  ROUND: \"$r\"/" "$d/service.yaml"
		$LEPTON deploy --lock-timeout 0 "$d/service.yaml" >/dev/null 2>"$T/a.err" &
		a=$!
		$LEPTON deploy --lock-timeout 0 "$d/service.yaml" >/dev/null 2>"$T/b.err" &
		b=$!
		wait $a; ra=$?
		wait $b; rb=$?
		case "$ra$rb" in
		012|120) wins=$((wins + 1)); locked=$((locked + 1)) ;;
		00) wins=$((wins + 1)) ;;	# the second found it done
		*) fail "round $r: exits $ra and $rb: $(cat "$T/a.err" "$T/b.err")" ;;
		esac
	done
	commits=$(git -C "$LEPTON_HOME/state" rev-list --count HEAD)
	[ "$commits" = $((wins + 1)) ] || fail "$commits commits for $wins wins + 1"
	echo "figure: concurrency: 20 rounds, $wins mutated, $locked refused as locked"
	[ $locked -ge 10 ] || fail "only $locked rounds raced"
}

test_kill_9_during_deploy_leaves_old_or_new_state() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	S=$LEPTON_HOME/state
	ok=0
	for r in $(seq 1 20); do
		old=$(git -C "$S" rev-parse HEAD)
		sed -i "s/^  ROUND: .*//; s/^env:/env:\n  ROUND: \"$r\"/" "$d/service.yaml"
		$LEPTON deploy "$d/service.yaml" >/dev/null 2>&1 &
		p=$!
		sleep "0.$(awk -v r=$r 'BEGIN { srand(r); printf "%03d", rand() * 450 }')"
		kill -9 $p 2>/dev/null
		wait $p 2>/dev/null
		git -C "$S" fsck --no-dangling >/dev/null 2>&1 || fail "round $r: fsck"
		head=$(git -C "$S" rev-parse HEAD)
		[ "$head" = "$old" ] || [ "$(git -C "$S" rev-parse HEAD~1)" = "$old" ] ||
		    fail "round $r: HEAD is neither old nor new"
		run $LEPTON deploy "$d/service.yaml"
		[ "$rc" = 0 ] || fail "round $r: the next deploy: $(cat "$err")"
		ok=$((ok + 1))
	done
	echo "figure: crash test: $ok/20"
	run $LEPTON predict iris -d "$ROW"
	expect_rc 0
}

test_state_push_and_pull_through_a_file_remote() {
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	git init -q --bare "$T/remote.git"
	run $LEPTON state push "file://$T/remote.git"
	expect_rc 0
	[ "$(git -C "$T/remote.git" rev-parse main)" = \
	    "$(git -C "$LEPTON_HOME/state" rev-parse HEAD)" ] || fail "not pushed"
	git -C "$T/remote.git" rev-parse refs/tags/models/iris/v1 >/dev/null || fail "tag"
	LEPTON_HOME=$T/other run $LEPTON state pull "file://$T/remote.git"
	expect_rc 0
	LEPTON_HOME=$T/other run $LEPTON --json history iris
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["revisions"][0]["model"]')" = iris@v1 ] || fail "pulled"
	LEPTON_HOME=$T/other run $LEPTON models
	expect_out "iris"
}

test_train_deploy_train_again_rollback() {
	d=$(iris_copy)
	run $LEPTON train "$d/train.yaml"
	expect_rc 0
	expect_out "registered iris@v1"
	run $LEPTON deploy "$d/service-trained.yaml"
	expect_rc 0
	v1=$(version_answering)
	sed 's/EPOCHS: "300"/EPOCHS: "5"/' "$d/train.yaml" >"$d/train-short.yaml"
	run $LEPTON --json train "$d/train-short.yaml"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["model"]')" = iris@v2 ] || fail "v2: $(cat "$out")"
	job=$(jget "$out" 'd["result"]["id"]')
	run $LEPTON --json models show iris@v2
	[ "$(jget "$out" 'd["result"]["source"]["job"]')" = "$job" ] || fail "lineage"
	[ "$(jget "$out" 'd["result"]["parent"]')" = v1 ] || fail "parent"
	run $LEPTON --json models show iris
	[ "$(jget "$out" 'd["result"]["versions"][0]["metrics"]["accuracy"] != d["result"]["versions"][1]["metrics"]["accuracy"]')" = True ] ||
	    fail "the metrics do not differ"
	run $LEPTON deploy "$d/service-trained.yaml"
	expect_rc 0
	v2=$(version_answering)
	[ "$v1" != "$v2" ] || fail "still v1"
	run $LEPTON rollback iris
	expect_rc 0
	[ "$(version_answering)" = "$v1" ] || fail "rollback"
	[ "$(git -C "$LEPTON_HOME/state" rev-parse HEAD:deployments/iris.json)" = \
	    "$(git -C "$LEPTON_HOME/state" rev-parse HEAD~2:deployments/iris.json)" ] ||
	    fail "not byte-identical"
	run $LEPTON status --jobs
	expect_out "$job"
	run $LEPTON logs "$job"
	expect_out '"accuracy"'
}

test_failed_and_stopped_jobs_register_nothing() {
	mkdir -p "$T/j"
	printf 'kind: job\nname: bad\nmodel: {name: bad}\nrun: echo failing; exit 3\njob: {outputs: {model: ./out}}\n' >"$T/j/bad.yaml"
	run $LEPTON train "$T/j/bad.yaml"
	expect_rc 14
	expect_err "failed (exit status 3)"
	run $LEPTON models
	grep -q '^bad ' "$out" && fail "registered a failed job"
	printf 'kind: job\nname: slow\nrun: echo started; exec sleep 60\njob: {max_duration: 1m}\n' >"$T/j/slow.yaml"
	run $LEPTON train --detach "$T/j/slow.yaml"
	expect_rc 0
	id=$(cat "$out")
	wait_for 10 sh -c "$LEPTON logs $id | grep -q started" || fail "no log"
	run $LEPTON stop "$id"
	expect_rc 0
	expect_out "cancelled"
	gone() { [ -z "$(pgrep -f -x 'sleep 60')" ]; }
	wait_for 15 gone || fail "the job's process survived its stop"
	run $LEPTON --json status "$id"
	[ "$(jget "$out" 'd["result"]["jobs"][0]["state"]')" = cancelled ] || fail "state"
	printf 'kind: job\nname: late\nrun: sleep 30\njob: {max_duration: 1}\n' >"$T/j/late.yaml"
	run $LEPTON train "$T/j/late.yaml"
	expect_rc 14
	expect_err "ran past job.max_duration"
	git -C "$LEPTON_HOME/state" log --format=%s | grep -q "train late: job .* failed" ||
	    fail "not recorded"
}

test_crash_during_bake_rolls_back() {
	# Ready at once, dead 4 s later (time to become ready on a loaded
	# machine): only rollout.bake can catch it.
	v1_then_v2_spec '{bake: 10s}' 'timeout 4 '
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 1
	expect_err "crashed during rollout.bake"
	expect_err "rolled back to revision 1, which serves again"
	[ "$(version_answering)" = "$v1" ] || fail "not back on v1"
	run $LEPTON --json history iris
	[ "$(jget "$out" '[(r["command"], r["outcome"]) for r in d["result"]["revisions"]]')" = \
	    "[('rollback', 'ready'), ('deploy', 'failed'), ('deploy', 'ready')]" ] ||
	    fail "history: $(cat "$out")"
	sleep 2
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["state"]')" = running ] || fail "not running"
}

# How many answers in $seen came from version $1.
count_of() {
	echo "$seen" | tr ' ' '\n' | grep -c -x -F -- "$1"
}

canary_is() {
	[ "$($LEPTON --json status iris | $PY -c 'import json,sys; print(json.load(sys.stdin)["result"].get("canary", {}).get("revision", 0))')" = "$1" ]
}

test_canary_takes_its_share_then_promotes() {
	v1_then_v2_spec '{strategy: canary, percent: 50, bake: 60s}'
	$LEPTON deploy "$d/service.yaml" >"$T/deploy.out" 2>"$T/deploy.err" &
	dp=$!
	wait_for 30 canary_is 2 || fail "no canary: $(cat "$T/deploy.err")"
	run $LEPTON status iris
	expect_out "canary:      revision 2, 50% of connections"
	run $LEPTON predict --revision 2 iris -d "$ROW"
	expect_rc 0
	v2=$(jget "$out" 'd["model_version"]')
	[ "$v1" != "$v2" ] || fail "the canary answers as v1"
	seen=""
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 \
	    21 22 23 24; do
		seen="$seen $(version_answering)"
	done
	n1=$(count_of "$v1") n2=$(count_of "$v2")
	echo "figure: canary at 50%: $n2 of $((n1 + n2)) answers from it"
	[ "$((n1 + n2))" = 24 ] || fail "answers: $seen"
	[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || fail "no split: v1 $n1, v2 $n2"
	# Shadow: every line to the canary too; all differ in model_version.
	for i in 1 2 3; do echo "$ROW"; done >"$T/rows.jsonl"
	run $LEPTON --json predict --revision 1 --shadow 2 -f "$T/rows.jsonl" iris
	expect_rc 0
	expect_err "3 of 3 lines answered differently by revision 2"
	[ "$(jget "$out" 'd["result"]["shadow"]["differ"]')" = 3 ] || fail "shadow"
	[ "$(jget "$out" 'set(r["model_version"] for r in d["result"]["responses"])')" = "{'$v1'}" ] ||
	    fail "--revision 1 answered from elsewhere: $(cat "$out")"
	run $LEPTON predict --shadow 2 iris -d "$ROW"
	expect_rc 2
	run $LEPTON predict --revision 2 http://127.0.0.1:1/ -d "$ROW"
	expect_rc 2
	run $LEPTON predict --revision 3 iris -d "$ROW"
	expect_rc 11
	expect_err "revision 3 of 'iris' is not serving"
	wait $dp || fail "the canary deploy failed: $(cat "$T/deploy.err")"
	canary_is 0 || fail "still a canary after promotion"
	for i in 1 2 3 4 5 6; do
		[ "$(version_answering)" = "$v2" ] || fail "v1 answers after promotion"
	done
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["revision"]')" = 2 ] || fail "revision"
	[ "$(jget "$out" 'len(d["result"]["replicas"])')" = 2 ] || fail "replicas"
}

test_canary_crash_during_bake_aborts() {
	v1_then_v2_spec '{strategy: canary, percent: 50, bake: 10s}' 'timeout 4 '
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 1
	expect_err "crashed during rollout.bake"
	canary_is 0 || fail "the canary outlived its abort"
	[ "$(cat "$LEPTON_HOME/local/iris/desired")" = 1 ] ||
	    fail "revision 2 is still the desired one"
	for i in 1 2 3 4 5 6; do
		[ "$(version_answering)" = "$v1" ] || fail "not all on v1"
	done
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["revision"]')" = 1 ] || fail "revision"
	cat "$err"
	run $LEPTON --json history iris
	[ "$(jget "$out" '[(r["command"], r["outcome"]) for r in d["result"]["revisions"]]')" = \
	    "[('rollback', 'ready'), ('deploy', 'failed'), ('deploy', 'ready')]" ] ||
	    fail "history: $(cat "$out")"
}

test_canary_of_a_killed_deploy_goes_at_the_next() {
	v1_then_v2_spec '{strategy: canary, percent: 50, bake: 5m}'
	$LEPTON deploy "$d/service.yaml" >/dev/null 2>&1 &
	dp=$!
	wait_for 30 canary_is 2 || fail "no canary"
	kill -9 $dp
	wait $dp 2>/dev/null
	canary_is 2 || fail "the canary went with its deploy"
	sed -i '/strategy: canary/d' "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	expect_err "revision 2 was left as a canary by an interrupted deploy"
	canary_is 0 || fail "the canary stayed"
	run $LEPTON --json status iris
	[ "$(jget "$out" 'd["result"]["revision"]')" = 3 ] || fail "revision"
	v3=$(version_answering)
	[ "$v3" != "$v1" ] || fail "v1 answers after the deploy"
}
