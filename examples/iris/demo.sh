#!/bin/sh
# demo.sh: the main job, end to end on this machine: train the iris model
# if it is missing, deploy it on the local provider, send predictions,
# show status and logs, and stop it. Run by `make demo`.
set -eu
LEPTON=${1:-./lepton}
here=$(cd "$(dirname "$0")" && pwd)
: "${LEPTON_HOME:=$(mktemp -d /tmp/lepton-demo-XXXXXX)}"
export LEPTON_HOME
if [ -t 1 ]; then bold='\033[1m' off='\033[0m'; else bold='' off=''; fi
step() { printf "\n${bold}\$ %s${off}\n" "$*"; }

trap '"$LEPTON" stop iris >/dev/null 2>&1 || true' EXIT INT TERM
if [ ! -f "$here/model/model.json" ]; then
	step python3 examples/iris/train.py
	python3 "$here/train.py"
fi
step lepton deploy examples/iris/service.yaml
"$LEPTON" deploy "$here/service.yaml"
step lepton predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
"$LEPTON" predict iris -d '{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}'
tail -n +2 "$here/iris.csv" | awk -F, \
    '{ printf "{\"inputs\": [[%s, %s, %s, %s]]}\n", $1, $2, $3, $4 }' \
    >"$LEPTON_HOME/iris.jsonl"
step "lepton predict iris -f iris.jsonl -c 8 | head -3   # 150 rows, in order"
"$LEPTON" predict iris -f "$LEPTON_HOME/iris.jsonl" -c 8 >"$LEPTON_HOME/out.jsonl"
head -3 "$LEPTON_HOME/out.jsonl"
echo "... $(wc -l <"$LEPTON_HOME/out.jsonl") lines"
step lepton status
"$LEPTON" status
step lepton status iris
"$LEPTON" status iris
step lepton logs iris --tail 2
"$LEPTON" logs iris --tail 2
step lepton stop iris
"$LEPTON" stop iris
trap - EXIT INT TERM
echo
echo "state was kept in $LEPTON_HOME"
