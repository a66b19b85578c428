#!/bin/sh
# valgrind.sh: the CLI paths the tests take, under valgrind: no error and
# no definite or indirect leak on any of them. Run by `make valgrind`.
: "${LEPTON:?set LEPTON}"
root=$(cd "$(dirname "$0")/.." && pwd)
export LEPTON_HOME=$(mktemp -d /tmp/lepton-vg-XXXXXX)
# No test leaves loopback: gcp's credential chain would ask the metadata
# server at 169.254.169.254; nothing listens on the discard port.
unset GOOGLE_APPLICATION_CREDENTIALS CLOUDSDK_CONFIG
export GCE_METADATA_HOST=127.0.0.1:9
# Nor a user's cluster: kubectl's KUBECONFIG, one file that is not there.
export KUBECONFIG=/nonexistent/lepton-tests/kubeconfig
fails=0 n=0
vg() {
	want=$1; shift
	n=$((n + 1))
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    --error-exitcode=99 "$LEPTON" "$@" >"$LEPTON_HOME/out" \
	    2>"$LEPTON_HOME/err" <"${VG_IN:-/dev/null}"
	rc=$?
	if [ $rc != "$want" ]; then
		fails=$((fails + 1))
		echo "not ok - lepton $* (exit $rc, want $want)"
		sed 's/^/    /' "$LEPTON_HOME/err" | head -40
	else
		echo "ok - lepton $*"
	fi
}
spec=$root/examples/iris/service.yaml
vg 0 --version
vg 0 help deploy
vg 2 nosuchcommand
vg 0 --json validate "$spec"
for f in "$root"/tests/fixtures/spec/invalid/*.yaml; do
	vg 3 validate "$f"
done
vg 0 status
vg 0 cost "$root/tests/fixtures/plan/a100x8.yaml"
vg 0 --json cost "$root/tests/fixtures/plan/ordered-h100-a100.yaml"
vg 10 cost "$root/tests/fixtures/plan/t4-aws.yaml" --region mars-1
vg 0 catalog -p azure
echo '{"rates": {"local": {"hourly": "1.00"}}}' >"$LEPTON_HOME/config.json"
vg 0 deploy "$spec"
vg 0 deploy "$spec"
vg 0 --json status iris
vg 0 predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
tail -n +2 "$root/examples/iris/iris.csv" | head -20 | awk -F, \
    '{ printf "{\"inputs\": [[%s, %s, %s, %s]]}\n", $1, $2, $3, $4 }' \
    >"$LEPTON_HOME/in.jsonl"
echo 'not json' >>"$LEPTON_HOME/in.jsonl"
vg 1 predict iris -f "$LEPTON_HOME/in.jsonl" -c 4
vg 0 predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' --requests 50 -c 2
vg 0 --json predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' --rate 50 --duration 1
vg 0 predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' --requests 30 --engine curl
vg 2 predict iris -d '{}' --requests 3 --engine warp
vg 0 logs iris --tail 3
vg 0 --json logs iris
vg 0 predict iris --protocol kserve-v2 -d '{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}'
vg 0 predict iris -i inputs='[[5.1, 3.5, 1.4, 0.2]]'
vg 0 predict --revision 1 iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
vg 1 --json predict --revision 1 --shadow 1 -f "$LEPTON_HOME/in.jsonl" iris
vg 11 predict --revision 9 iris -d '{}'
vg 0 stop iris
cp -r "$root/examples/echo-llm" "$LEPTON_HOME/llm"
"$LEPTON" deploy -q "$LEPTON_HOME/llm/service.yaml" >/dev/null
vg 0 predict echo-llm -d '{"messages": [{"role": "user", "content": "a b c"}], "stream": true}'
vg 0 --json predict echo-llm -d '{"prompt": "a b", "stream": true}'
"$LEPTON" stop echo-llm >/dev/null
vg 0 cost report
vg 0 --json cost report --by day
vg 0 history iris
vg 0 --json models show iris
vg 0 models
vg 0 models tag iris v1 prod
vg 0 models lineage iris@v1
echo "vg-secret-value" >"$LEPTON_HOME/secret.in"
VG_IN=$LEPTON_HOME/secret.in vg 0 secret set VG_SECRET
VG_IN=$LEPTON_HOME/secret.in vg 0 --json secret set VG_SECRET
vg 2 secret set VG_EMPTY
vg 0 secret list
vg 0 --json secret list
vg 0 secret rm -n VG_SECRET
vg 0 secret rm VG_SECRET
vg 5 secret rm VG_SECRET
cp -r "$root/examples/iris" "$LEPTON_HOME/iris"
vg 0 train "$LEPTON_HOME/iris/train.yaml"
vg 0 status --jobs
vg 0 deploy "$spec"
python3 "$LEPTON_HOME/iris/train.py" --epochs 3 --out "$LEPTON_HOME/iris/model" >/dev/null
sed -i 's/^  replicas: 2/  replicas: 2\n  rollout: {strategy: canary, percent: 50, bake: 2s}/' \
    "$LEPTON_HOME/iris/service.yaml"
vg 0 deploy "$LEPTON_HOME/iris/service.yaml"
vg 0 rollback iris
vg 0 --json history iris
vg 0 stop iris
vg 11 predict iris -d '{}'
vg 7 predict http://127.0.0.1:9/ -d '{}'
"$LEPTON" stop iris >/dev/null 2>&1

# The Slurm provider's paths, on a real cluster when this machine has one.
if "$root/tests/engines/slurm" have >/dev/null; then
	cl=$(mktemp -d /tmp/lepton-vg-slurm-XXXXXX)
	chmod 755 "$cl"
	"$root/tests/engines/slurm" up "$cl" 2 >"$cl/up.out" 2>&1 ||
	    { cat "$cl/up.out"; fails=$((fails + 1)); }
	SLURMRESTD_URL=$(sed -n 's/^SLURMRESTD_URL=//p' "$cl/up.out")
	SLURM_JWT=$(cat "$cl/jwt")
	export SLURMRESTD_URL SLURM_JWT
	fx=$root/tests/fixtures/slurm
	home=$LEPTON_HOME
	LEPTON_HOME=$cl/home
	mkdir -p "$LEPTON_HOME"
	cp -r "$root/examples/iris" "$LEPTON_HOME/iris"
	vg 0 check
	vg 0 --json check slurm
	SLURM_JWT=garbage vg 4 check slurm
	SLURMRESTD_URL=http://127.0.0.1:9 vg 7 train "$fx/exit3.yaml"
	vg 0 train "$LEPTON_HOME/iris/train-slurm.yaml"
	vg 0 train "$fx/ranks.yaml"
	vg 14 train "$fx/exit3.yaml"
	vg 10 cost "$fx/ranks.yaml" --hours 1 -p slurm --region nowhere
	id=$("$LEPTON" train -d "$fx/sleep.yaml")
	vg 0 status --jobs
	vg 0 logs "$id"
	vg 0 stop "$id"
	vg 0 deploy "$LEPTON_HOME/iris/service-slurm.yaml"
	vg 0 --json status iris
	vg 0 predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
	sed -i 's/EPOCHS: "300"/EPOCHS: "5"/' "$LEPTON_HOME/iris/train-slurm.yaml"
	"$LEPTON" train -q "$LEPTON_HOME/iris/train-slurm.yaml" >/dev/null
	vg 0 deploy "$LEPTON_HOME/iris/service-slurm.yaml"
	vg 0 rollback iris
	vg 0 logs iris --tail 2
	vg 0 stop iris
	vg 11 predict iris -d '{}'
	unset SLURMRESTD_URL SLURM_JWT
	"$root/tests/engines/slurm" down "$cl" >/dev/null 2>&1
	rm -rf "$cl"
	LEPTON_HOME=$home
fi
rm -rf "$LEPTON_HOME"
echo "valgrind: $((n - fails)) passed, $fails failed"
[ $fails = 0 ]
