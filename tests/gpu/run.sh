#!/bin/sh
# run.sh: the GPU check, on a machine with an NVIDIA GPU and a python3 that
# has torch. Run from the repository root with a bundle made by
# `make gpu-bundle` (the binary and the shared libraries it loads):
#
#   sh tests/gpu/run.sh build/gpu-bundle [OUTDIR]
#
# lepton must find the GPU with nvidia-smi, confine the job with
# CUDA_VISIBLE_DEVICES, train a small PyTorch model on it and register
# the version; a spec asking for more GPUs than there are must be refused
# (exit 10). Prints "N passed, N failed".
set -u
bundle=$(cd "${1:?usage: run.sh BUNDLE [OUTDIR]}" && pwd)
out=${2:-$(mktemp -d)}
mkdir -p "$out"
root=$(cd "$(dirname "$0")/../.." && pwd)
export LD_LIBRARY_PATH="$bundle/lib"
export LEPTON_HOME=$(mktemp -d)
L="$bundle/lepton"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "not ok - $*"; }

nvidia-smi --query-gpu=index,name,memory.total,driver_version \
    --format=csv,noheader | tee "$out/nvidia-smi.txt"
ngpu=$(wc -l <"$out/nvidia-smi.txt")
# The catalogs' spelling of the first GPU: "NVIDIA H200" is H200.
gpu=$(head -1 "$out/nvidia-smi.txt" | cut -d, -f2 | sed 's/^ *//; s/^NVIDIA //; s/^Tesla //' |
    awk '{ print $1 }' | cut -d- -f1)
echo "gpus: $ngpu, first: $gpu"
"$L" --version >"$out/version.txt" 2>&1 && ok "lepton runs here" ||
    bad "lepton does not run: $(cat "$out/version.txt")"

work=$(mktemp -d)
cp "$root/tests/gpu/mlp.py" "$work/"
cat >"$work/gpu.yaml" <<YAML
kind: job
name: gpu-mlp
model: {name: gpu-mlp}
resources: {accelerators: "$gpu:1"}
run: python3 mlp.py
job: {outputs: {model: ./out}, max_duration: 5m}
YAML
s=$(date +%s%N)
"$L" -v train "$work/gpu.yaml" >"$out/train.out" 2>"$out/train.err"
rc=$?
echo "train: exit $rc in $((($(date +%s%N) - s) / 1000000)) ms" | tee "$out/train.time"
[ $rc = 0 ] && ok "lepton train on $gpu:1" ||
    bad "lepton train: exit $rc: $(tail -5 "$out/train.err")"
grep -q "registered gpu-mlp@v1" "$out/train.out" && ok "registered gpu-mlp@v1" ||
    bad "no version registered: $(cat "$out/train.out")"
"$L" --json models show gpu-mlp@v1 >"$out/manifest.json" 2>&1
grep -q '"cuda_visible_devices": *"0"' "$out/manifest.json" &&
    ok "the job saw CUDA_VISIBLE_DEVICES=0" ||
    bad "CUDA_VISIBLE_DEVICES not in the metrics: $(cat "$out/manifest.json")"
grep -q '"device"' "$out/manifest.json" && ok "trained on the GPU" ||
    bad "no device in the metrics"
id=$(grep -o 'gpu-mlp-[0-9-]*[0-9a-f]*' "$out/train.out" | head -1)
"$L" logs "$id" >"$out/job.log" 2>&1
grep -q "device: " "$out/job.log" && ok "the job's log names the device" ||
    bad "job log: $(cat "$out/job.log")"

# More GPUs than the machine has: refused, nothing started.
want=$((ngpu + 1))
sed "s/\"$gpu:1\"/\"$gpu:$want\"/; s/name: gpu-mlp$/name: gpu-too-many/" \
    "$work/gpu.yaml" >"$work/too-many.yaml"
"$L" train "$work/too-many.yaml" >"$out/refused.out" 2>"$out/refused.err"
rc=$?
cat "$out/refused.err"
[ $rc = 10 ] && grep -q "has $ngpu GPU" "$out/refused.err" &&
    ok "$gpu:$want refused with exit 10" || bad "$gpu:$want: exit $rc"
"$L" status --jobs >"$out/jobs.txt" 2>&1
cat "$out/jobs.txt"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
