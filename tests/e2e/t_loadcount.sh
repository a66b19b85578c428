# t_loadcount.sh: how a load run counts answers, right and broken, on
# both engines, against tests/e2e/malformed_server.py.

# Sets $base (http://127.0.0.1:PORT) and $server.
start_malformed_server() {
	port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$PY "$ROOT/tests/e2e/malformed_server.py" "$port" >/dev/null 2>&1 &
	server=$!
	trap 'kill $server 2>/dev/null; cleanup_home' EXIT
	wait_for 10 port_open "$port" || fail "the server did not start"
	base="http://127.0.0.1:$port"
}

# counts ENGINE PATH ARGS...: a --json load run of $base/PATH; sets $rc,
# $out, $err and $counts, the summary's counts in one line, with the sum
# of its classes when that is not the requests sent.
counts() {
	_engine=$1 _path=$2
	shift 2
	run $LEPTON --json predict "$base$_path" -d '{}' --engine "$_engine" "$@"
	counts=$($PY - "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d.get("result")
if r is None:
    print("no result: " + json.dumps(d))
    sys.exit()
e = r["errors"]
keys = ["connect", "timeout", "other", "protocol", "http_3xx", "http_4xx",
        "http_5xx"]
parts = ["requests %d" % r["requests"], "ok %d" % r["ok"]]
parts += ["%s %s" % (k, e.get(k, "-")) for k in keys]
parts.append("abandoned %s" % r.get("abandoned", "-"))
total = r["ok"] + sum(e.get(k, 0) for k in keys) + r.get("abandoned", 0)
if total != r["requests"]:
    parts.append("(sum %d)" % total)
print(", ".join(parts))
PY
)
}

# expect_counts WANT: $counts is WANT.
expect_counts() {
	[ "$counts" = "$1" ] ||
	    fail "$_engine $_path: counts: $counts; want: $1"
}

test_loadcount_status_999_is_a_protocol_error() {
	start_malformed_server
	for engine in lean curl; do
		for path in /status-999 /status-abc /garbage; do
			counts $engine $path -n 10 -c 2 --timeout 5
			expect_counts "requests 10, ok 0, connect 0, timeout 0, other 0, protocol 10, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 0"
		done
	done
	run $LEPTON predict "$base/status-999" -d '{}' -n 4 -c 1
	expect_out "protocol 4"
}

test_loadcount_bodies_over_64k_are_ok() {
	start_malformed_server
	for path in /big-cl /big-chunked; do
		counts lean $path -n 10 -c 2 --timeout 5
		expect_counts "requests 10, ok 10, connect 0, timeout 0, other 0, protocol 0, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 0"
	done
}

test_loadcount_bad_chunk_size_is_an_error() {
	start_malformed_server
	counts lean /bad-chunk -n 10 -c 2 --timeout 5
	expect_counts "requests 10, ok 0, connect 0, timeout 0, other 0, protocol 10, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 0"
}

test_loadcount_interim_1xx_skipped() {
	start_malformed_server
	for path in /continue /info; do
		counts lean $path -n 10 -c 2 --timeout 5
		expect_counts "requests 10, ok 10, connect 0, timeout 0, other 0, protocol 0, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 0"
	done
}

test_loadcount_no_success_exits_1() {
	start_malformed_server
	for engine in lean curl; do
		counts $engine /status-999 -n 6 -c 2 --timeout 5
		expect_rc 1
		expect_err "none of the 6 requests succeeded"
		[ "$(jget "$out" 'd["ok"], d["error"]["code"], d["error"]["exit"]')" = "False failed 1" ] ||
		    fail "$engine: $(cat "$out")"
		expect_counts "requests 6, ok 0, connect 0, timeout 0, other 0, protocol 6, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 0"
		counts $engine /ok -n 6 -c 2 --timeout 5
		expect_rc 0
		[ ! -s "$err" ] || fail "$engine: stderr: $(cat "$err")"
	done
	# Text: the summary on stdout, then the failure on stderr.
	run $LEPTON predict "$base/reset" -d '{}' -n 4 -c 1
	expect_rc 1
	expect_out "ok 0; errors: connect 0, timeout 0, other 4"
	expect_err "lepton: predict: $base/reset: none of the 4 requests succeeded"
}

# Defect 6: --duration 2 against a server that never answers ran for the
# whole --timeout (30 s), each request in flight waiting it out.
test_loadcount_duration_cuts_stalled_requests() {
	start_malformed_server
	for engine in lean curl; do
		t0=$(date +%s%N)
		counts $engine /stall --duration 2 -c 3
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "figure: $engine: --duration 2 against a stalled server took $ms ms"
		[ $ms -lt 6000 ] || fail "$engine: the run took $ms ms"
		expect_rc 1
		expect_err "none of the 3 requests succeeded (3 still in flight at the end, abandoned)"
		expect_counts "requests 3, ok 0, connect 0, timeout 0, other 0, protocol 0, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 3"
		[ "$(jget "$out" '2 <= d["result"]["seconds"] < 2.5')" = True ] ||
		    fail "$engine: seconds: $(cat "$out")"
		# Open loop: as many abandoned as were started.
		counts $engine /stall --duration 1 --rate 50 -c 5
		expect_rc 1
		expect_counts "requests 5, ok 0, connect 0, timeout 0, other 0, protocol 0, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 5"
	done
	# A run of N requests still waits for each, up to its timeout.
	counts lean /stall -n 2 -c 2 --timeout 1
	expect_counts "requests 2, ok 0, connect 0, timeout 2, other 0, protocol 0, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 0"
}

# Every kind of answer, right and broken, through both engines: the same
# counts, each in its class.
test_loadcount_engines_agree_on_malformed_answers() {
	start_malformed_server
	while read -r path class; do
		[ -n "$path" ] || continue
		case $path in
		/stall) args="--duration 1 -c 2" n=2 ;;
		*) args="-n 8 -c 2 --timeout 5" n=8 ;;
		esac
		want="requests $n, ok 0, connect 0, timeout 0, other 0, protocol 0, http_3xx 0, http_4xx 0, http_5xx 0, abandoned 0"
		want=$(echo "$want" | sed "s/ $class 0/ $class $n/")
		lean=
		for engine in lean curl; do
			counts $engine $path $args
			expect_counts "$want"
			case $class in
			ok) expect_rc 0 ;;
			*) expect_rc 1 ;;
			esac
			[ -z "$lean" ] || [ "$counts" = "$lean" ] ||
			    fail "$path: lean: $lean; curl: $counts"
			lean=$counts
		done
	done <<'MATRIX'
/ok ok
/big-cl ok
/big-chunked ok
/eof ok
/continue ok
/info ok
/bad-chunk protocol
/status-999 protocol
/status-abc protocol
/garbage protocol
/truncated other
/reset other
/redirect http_3xx
/nope http_4xx
/unavailable http_5xx
/stall abandoned
MATRIX
}
