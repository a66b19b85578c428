#!/bin/sh
# bench.sh: start-up time next to a C hello world (and kubectl, if here),
# and deploy-to-ready time for iris. Needs hyperfine (apt-get install
# hyperfine). Run by `make bench`; numbers go to stdout.
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
echo "## deploy to ready (iris, 2 replicas, 5 runs)"
for i in 1 2 3 4 5; do
	s=$(date +%s%N)
	"$LEPTON" deploy -q "$root/examples/iris/service.yaml" >/dev/null
	e=$(date +%s%N)
	"$LEPTON" stop iris >/dev/null
	echo $(((e - s) / 1000000))
done | sort -n | awk '{ v[NR] = $1 } END { printf "median %d ms (min %d, max %d)\n", v[3], v[1], v[5] }'
