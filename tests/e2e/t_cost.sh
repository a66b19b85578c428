# t_cost.sh: catalogs, plans, budget guards and the spend ledger.

HEADER_AWS='InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone'
HEADER_GCP='InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice'
HEADER_AZ='InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,Generation'

# A small, valid upstream layout under $1: PROVIDER/vms.csv.
make_upstream() {
	mkdir -p "$1/aws" "$1/gcp" "$1/azure"
	printf '%s\n%s\n%s\n' "$HEADER_AWS" \
	    'p9.big,A100,1.0,12.0,85.0,,1.50,0.50,us-east-1,use1-az1' \
	    'm9.small,,,2.0,8.0,,0.05,,us-east-1,use1-az1' >"$1/aws/vms.csv"
	printf '%s\n%s\n%s\n' "$HEADER_GCP" \
	    'a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.9,0.3' \
	    ',,,A100,1,,us-central1,us-central1-a,2.0,0.7' >"$1/gcp/vms.csv"
	printf '%s\n%s\n' "$HEADER_AZ" \
	    'Standard_X,A100,1,12.0,85.0,A100,3.00,1.00,eastus,V2' \
	    >"$1/azure/vms.csv"
}

serve_dir() {
	port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$PY -m http.server "$port" --bind 127.0.0.1 --directory "$1" \
	    >"$T/http.log" 2>&1 &
	# Called as $(serve_dir ...): only a file reaches the caller.
	echo $! >"$T/http.pid"
	wait_for 10 port_open "$port" || fail "http server did not start"
	echo "http://127.0.0.1:$port"
}

test_catalog_update_good_truncated_and_malformed() {
	make_upstream "$T/good"
	url=$(serve_dir "$T")
	trap 'kill "$(cat "$T/http.pid")" 2>/dev/null; cleanup_home' EXIT
	run $LEPTON --json catalog update --from "$url/good"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["updated"][0]["rows"]')" = 2 ] || fail "rows"
	sums() { sha256sum "$LEPTON_HOME"/catalog/*.csv; }
	before=$(sums)
	run $LEPTON --json cost --provider aws "$ROOT/tests/fixtures/plan/t4-aws.yaml"
	expect_rc 10		# the new aws catalog has no T4
	run $LEPTON catalog
	expect_rc 0
	expect_out "A100"
	# Truncated mid-row: refused, nothing replaced.
	cp -r "$T/good" "$T/cut"
	head -c -20 "$T/good/gcp/vms.csv" >"$T/cut/gcp/vms.csv"
	run $LEPTON catalog update --from "$url/cut"
	expect_rc 1
	expect_err "malformed row"
	[ "$(sums)" = "$before" ] || fail "a truncated download changed files"
	# Malformed: a header without Price.
	cp -r "$T/good" "$T/bad"
	sed -i '1s/,Price,/,Cost,/' "$T/bad/azure/vms.csv"
	run $LEPTON catalog update --from "$url/bad"
	expect_rc 1
	expect_err "no 'Price' column"
	[ "$(sums)" = "$before" ] || fail "a malformed download changed files"
	# Missing on the server.
	run $LEPTON catalog update --from "$url/nothing-here"
	expect_rc 7
	expect_err "HTTP 404"
	[ "$(sums)" = "$before" ] || fail "a failed download changed files"
}

test_cost_table_json_and_infeasible() {
	run $LEPTON --json cost "$ROOT/tests/fixtures/plan/a100x8.yaml"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["chosen"]["instance"]')" = a2-highgpu-8g ] ||
	    fail "chosen"
	[ "$(jget "$out" 'd["result"]["currency"]')" = USD ] || fail "currency"
	run $LEPTON cost "$ROOT/tests/fixtures/plan/a100x8.yaml" --hours 2
	expect_rc 0
	grep -q '^\*  gcp' "$out" || fail "chosen not marked: $(head -3 "$out")"
	expect_out "38.8434"	# 19.4217 x 2 h
	mkdir -p "$T/s"
	printf 'kind: job\nname: t\nrun: x\nresources: {accelerators: A100:3}\nplacement: {providers: [aws, gcp]}\n' >"$T/s/a.yaml"
	run $LEPTON cost "$T/s/a.yaml"
	expect_rc 10
	expect_err "no offer in aws, gcp has A100:3: not in that count"
	expect_err "hint: nearest:"
}

test_budget_guard_refuses_before_anything_starts() {
	d=$(iris_copy)
	mkdir -p "$LEPTON_HOME"
	echo '{"rates": {"local": {"hourly": "1.00"}}}' >"$LEPTON_HOME/config.json"
	sed -i 's/^run:/placement: {max_hourly: 1.5}\nrun:/' "$d/service.yaml"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 13
	expect_err "2 x \$1.00/h on local this-machine is \$2.00/h, over placement.max_hourly \$1.50/h"
	[ -e "$LEPTON_HOME/deployments/iris.json" ] && fail "recorded"
	[ -z "$(procs_with "$T/iris")" ] || fail "something started"
	true
}

test_deploy_with_rate_shows_in_cost_report() {
	d=$(iris_copy)
	mkdir -p "$LEPTON_HOME"
	echo '{"rates": {"local": {"hourly": "36.00"}}}' >"$LEPTON_HOME/config.json"
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	sleep 2
	run $LEPTON stop iris
	expect_rc 0
	run $LEPTON --json cost report
	expect_rc 0
	[ "$(jget "$out" 'len(d["result"]["rows"])')" = 1 ] || fail "rows: $(cat "$out")"
	ms=$(jget "$out" 'd["result"]["rows"][0]["machine_ms"]')
	amount=$(jget "$out" 'd["result"]["rows"][0]["amount"]')
	[ "$(jget "$out" 'd["result"]["rows"][0]["machines"]')" = 2 ] || fail "machines"
	[ "$(jget "$out" 'd["result"]["rows"][0]["price"]')" = 36.00 ] || fail "price"
	# 2 replicas for 2-10 s each, at $36/h = 10 micro-dollars per ms.
	[ "$ms" -ge 4000 ] && [ "$ms" -le 20000 ] || fail "machine_ms $ms"
	want=$($PY -c "import sys; from decimal import Decimal; print(Decimal(int(sys.argv[1]) * 10) / 1000000)" "$ms")
	[ "$($PY -c "from decimal import Decimal; import sys; print(Decimal(sys.argv[1]) == Decimal(sys.argv[2]))" "$amount" "$want")" = True ] ||
	    fail "amount $amount, want $want for $ms machine-ms"
	run $LEPTON cost report --by deployment
	expect_rc 0
	expect_out "iris"
	expect_out "total: \$$amount USD"
	run $LEPTON cost report --by week
	expect_rc 2
}
