#!/bin/sh
# bench.sh: start-up time next to a C hello world (and kubectl, if here),
# the cost of one SigV4 signature, and deploy-to-ready time for iris.
# Needs hyperfine (apt-get install hyperfine). Run by `make bench`;
# numbers go to stdout.
set -eu
LEPTON=${1:-./lepton}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/lepton-bench-XXXXXX)
trap 'LEPTON_HOME=$tmp/home "$LEPTON" stop iris >/dev/null 2>&1; rm -rf "$tmp"' EXIT
if ! command -v hyperfine >/dev/null; then
	echo "bench: hyperfine is missing: apt-get install hyperfine" >&2
	exit 1
fi
printf '#include <stdio.h>\nint main(void){puts("hello");return 0;}\n' \
    >"$tmp/hello.c"
cc -O2 -o "$tmp/hello" "$tmp/hello.c"
export LEPTON_HOME="$tmp/home"
# One stopped deployment, so that status has a record to read.
"$LEPTON" deploy -q "$root/examples/iris/service.yaml" >/dev/null
"$LEPTON" stop iris >/dev/null
set -- "$tmp/hello" "$LEPTON --version" "$LEPTON help" \
    "$LEPTON validate $root/examples/iris/service.yaml" "$LEPTON status"
if command -v kubectl >/dev/null; then
	set -- "$@" "kubectl version --client"
fi
hyperfine -N --warmup 20 --runs 300 --export-json "$tmp/startup.json" \
    "$@" >/dev/null
echo "## start-up (hyperfine -N, 300 runs, one run)"
python3 - "$tmp/startup.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["median"]
print("| command | median ms | mean ms | x hello |")
print("|---|---:|---:|---:|")
for x in r:
    name = x["command"].replace(sys.argv[1].rsplit("/", 1)[0] + "/", "")
    print("| `%s` | %.2f | %.2f | %.2f |" % (name, x["median"] * 1e3,
          x["mean"] * 1e3, x["median"] / base))
PY
echo
echo "## cost: a GPU spec over every row of the shipped catalogs"
printf 'kind: job\nname: bench\nrun: x\nresources: {accelerators: "A100:8"}\njob: {nodes: 2, max_duration: 10h}\n' \
    >"$tmp/gpu.yaml"
hyperfine -N --warmup 5 --runs 100 --export-json "$tmp/cost.json" \
    "$LEPTON cost $tmp/gpu.yaml" >/dev/null 2>&1
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("lepton cost: median %.2f ms, mean %.2f ms (100 runs)" % (r["median"]*1e3, r["mean"]*1e3))' "$tmp/cost.json"
for i in 1 2 3 4 5 6 7 8 9; do
	"$LEPTON" -v cost "$tmp/gpu.yaml" 2>&1 >/dev/null | grep 'plan:'
done | sed 's/.*catalogs read in \([0-9]*\) ms, planned in \([0-9]*\) ms; peak memory \([0-9]*\) KiB/\1 \2 \3/' |
    sort -n -k2 | awk '{ r[NR] = $1; p[NR] = $2; m = $3 } END {
	printf "reading catalogs %d ms, planning alone %d ms (medians of 9), peak memory %d KiB\n", r[5], p[5], m }'
echo
echo "## the registry and history at 10,000 versions"
if [ -n "${GEN_VERSIONS:-}" ]; then
	s=$(date +%s%N)
	"$GEN_VERSIONS" "$tmp/big" 10000
	echo "generated 10,000 versions and revisions (no fsync) in $((($(date +%s%N) - s) / 1000000)) ms"
	hyperfine -N --warmup 1 --runs 10 --export-json "$tmp/reg.json" \
	    "$LEPTON --home $tmp/big models" \
	    "$LEPTON --home $tmp/big models show bench" \
	    "$LEPTON --home $tmp/big history bench" \
	    "$LEPTON --home $tmp/big history -m 20 bench" >/dev/null 2>&1
	python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%-40s median %8.1f ms" % (r["command"].split("big ")[1], r["median"]*1e3))' "$tmp/reg.json"
fi
echo
echo "## SigV4: the cost of one signature (lib/sigv4.c, in process)"
if [ -n "${SIGV4_MAIN:-}" ]; then
	"$SIGV4_MAIN" -b 20000
fi
echo
echo "## deploy to ready (iris, 2 replicas, 5 runs)"
for i in 1 2 3 4 5; do
	s=$(date +%s%N)
	"$LEPTON" deploy -q "$root/examples/iris/service.yaml" >/dev/null
	e=$(date +%s%N)
	"$LEPTON" stop iris >/dev/null
	echo $(((e - s) / 1000000))
done | sort -n | awk '{ v[NR] = $1 } END { printf "median %d ms (min %d, max %d)\n", v[3], v[1], v[5] }'
