#!/bin/sh
# run.sh: run libFuzzer harnesses (make fuzz, make fuzz-smoke), one at a
# time, each for SECONDS from its committed corpus; what they find new goes
# to BUILD/corpus/NAME, never to tests/fuzz/corpus. Fails when any harness
# crashed, leaked, hung or tripped a sanitizer, and says where the input
# that did it is and how to run it again.
#
# usage: tests/fuzz/run.sh [-b BUILD] [-t SECONDS] NAME...
set -u

build=build-fuzz
secs=60
while getopts b:t: o; do
	case $o in
	b) build=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) echo "usage: tests/fuzz/run.sh [-b BUILD] [-t SECONDS] NAME..." >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "run.sh: no harness named" >&2; exit 2; }
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
supp=$(pwd)/tests/lsan.supp

# The largest input each harness is given: the biggest seed, with room.
max_len() {
	case $1 in
	slurm) echo 16384 ;;
	spec|catalog|json) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

names=$*
failed=""
for name in $names; do
	bin=$build/fuzz_$name
	seeds=tests/fuzz/corpus/$name
	work=$build/corpus/$name
	art=$build/artifacts/$name
	log=$build/logs/$name.log
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name: no harness $bin" >&2
		failed="$failed $name"
		continue
	fi
	mkdir -p "$work" "$art" "$build/logs" "$build/tmp/$name"
	set -- -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 \
	    -max_len="$(max_len "$name")" -print_final_stats=1 \
	    -artifact_prefix="$art/"
	if [ -f "tests/fuzz/$name.dict" ]; then
		set -- "$@" -dict="tests/fuzz/$name.dict"
	fi
	set -- "$@" "$work"
	if [ -d "$seeds" ]; then
		set -- "$@" "$seeds"
	fi
	start=$(date +%s)
	TMPDIR=$build/tmp/$name \
	    ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    LSAN_OPTIONS=suppressions=$supp:print_suppressions=0 \
	    "$bin" "$@" </dev/null >"$log" 2>&1
	rc=$?
	secs_run=$(($(date +%s) - start))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	# One line a run, kept across runs: harness, seconds, runs, status.
	printf '%s\t%s\t%s\t%s\n' "$name" "$secs_run" "${runs:-?}" "$rc" \
	    >>"$build/tally.tsv"
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $name: ok, ${runs:-?} runs in $secs_run s"
		continue
	fi
	failed="$failed $name"
	echo "fuzz: $name: FAILED (exit $rc); the end of $log:" >&2
	tail -n 40 "$log" >&2
	unit=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
	    tail -n 1)
	if [ -n "$unit" ]; then
		echo "fuzz: $name: reproducer: $unit" >&2
		echo "fuzz: $name: run it again: $bin $unit" >&2
	fi
done
if [ -n "$failed" ]; then
	echo "fuzz: failed:$failed" >&2
	exit 1
fi
