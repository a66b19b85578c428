# t_predict.sh: predict's load mode against loopback servers.

# Sets $url and $server (not in a subshell: the server must outlive it).
start_stall_server() {
	port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$PY "$ROOT/tests/e2e/stall_server.py" "$port" "$@" >/dev/null 2>&1 &
	server=$!
	trap 'kill $server 2>/dev/null; cleanup_home' EXIT
	wait_for 10 port_open "$port" || fail "the server did not start"
	url="http://127.0.0.1:$port/"
}

test_open_loop_sees_the_stall_closed_loop_hides() {
	start_stall_server --stall-at 1.0 --stall 1.0
	run $LEPTON --json predict "$url" -d '{}' --rate 200 --duration 3
	expect_rc 0
	open_p99=$(jget "$out" 'd["result"]["latency_ms"]["p99"]')
	open_n=$(jget "$out" 'd["result"]["requests"]')
	[ "$(jget "$out" 'd["result"]["ok"]')" = "$open_n" ] || fail "errors: $(cat "$out")"
	kill $server
	start_stall_server --stall-at 1.0 --stall 1.0
	run $LEPTON --json predict "$url" -d '{}' -c 1 --duration 3
	expect_rc 0
	closed_p99=$(jget "$out" 'd["result"]["latency_ms"]["p99"]')
	closed_max=$(jget "$out" 'd["result"]["latency_ms"]["max"]')
	echo "figure: 1 s stall: open loop (200/s) p99 ${open_p99} ms over $open_n requests; closed loop (1 in flight) p99 ${closed_p99} ms, max ${closed_max} ms"
	$PY -c "import sys; sys.exit(not (float(sys.argv[1]) >= 800))" "$open_p99" ||
	    fail "open loop p99 $open_p99 ms does not show the 1 s stall"
	$PY -c "import sys; sys.exit(not (float(sys.argv[1]) < 200))" "$closed_p99" ||
	    fail "closed loop p99 $closed_p99 ms: the stall was not hidden?"
	$PY -c "import sys; sys.exit(not (float(sys.argv[1]) >= 800))" "$closed_max" ||
	    fail "closed loop max $closed_max ms lost the stalled request"
	[ "$open_n" -ge 550 ] && [ "$open_n" -le 650 ] ||
	    fail "open loop sent $open_n requests, not ~600"
}

test_ctrl_c_prints_the_partial_summary() {
	start_stall_server --stall-at 1000
	$LEPTON predict "$url" -d '{}' -c 2 --duration 60 >"$T/load.out" 2>"$T/load.err" &
	p=$!
	sleep 1.5
	kill -INT $p
	wait $p
	rc=$?
	[ $rc = 0 ] || fail "exit $rc: $(cat "$T/load.err")"
	grep -q "(interrupted)" "$T/load.out" || fail "no partial summary: $(cat "$T/load.out")"
	n=$(sed -n 's/^requests *\([0-9]*\) .*/\1/p' "$T/load.out")
	[ "${n:-0}" -gt 10 ] || fail "only ${n:-0} requests in the summary"
	grep -q "p99.9" "$T/load.out" || fail "no percentiles"
	grep -q "errors: connect 0, timeout 0, other 0" "$T/load.out" ||
	    fail "errors: $(cat "$T/load.out")"
}

test_curl_engine_sees_the_stall_too() {
	start_stall_server --stall-at 1.0 --stall 1.0
	run $LEPTON --json predict "$url" -d '{}' --rate 100 --duration 3 --engine curl
	expect_rc 0
	p99=$(jget "$out" 'd["result"]["latency_ms"]["p99"]')
	[ "$(jget "$out" 'd["result"]["ok"]')" = "$(jget "$out" 'd["result"]["requests"]')" ] ||
	    fail "errors: $(cat "$out")"
	$PY -c "import sys; sys.exit(not (float(sys.argv[1]) >= 800))" "$p99" ||
	    fail "curl engine p99 $p99 ms misses the stall"
	run $LEPTON predict "$url" -d '{}' --requests 5 --engine warp
	expect_rc 2
}

test_load_counts_errors_by_class() {
	for engine in lean curl; do
		run $LEPTON --json predict http://127.0.0.1:9/ -d '{}' --requests 20 -c 4 --timeout 2 --engine $engine
		expect_rc 1
		expect_err "none of the 20 requests succeeded"
		[ "$(jget "$out" 'd["result"]["errors"]["connect"]')" = 20 ] ||
		    fail "$engine: connect: $(cat "$out")"
	done
	run $LEPTON predict http://127.0.0.1:9/ -d '{}' --rate 10
	expect_rc 2
	expect_err "a load run needs --duration or --requests"
}

test_batch_in_order_under_concurrency_with_failures() {
	port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$PY "$ROOT/tests/e2e/shuffle_server.py" "$port" >/dev/null 2>&1 &
	server=$!
	trap 'kill $server 2>/dev/null; cleanup_home' EXIT
	wait_for 10 port_open "$port" || fail "server"
	# 300 lines; every 17th asks to fail.
	$PY -c '
for i in range(1, 301):
    print("{\"id\": %d, \"fail\": %s}" % (i, "true" if i % 17 == 0 else "false"))' >"$T/in.jsonl"
	run $LEPTON predict "http://127.0.0.1:$port/" -f "$T/in.jsonl" -c 16
	expect_rc 1
	expect_err "17 of 300 lines failed"
	expect_err "line 17: "
	$PY - "$out" <<'PY' || fail "order or completeness: $(head -3 "$out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 300, len(lines)
for i, d in enumerate(lines, 1):
    if i % 17 == 0:
        assert d["line"] == i and d["error"]["status"] == 500, (i, d)
    else:
        assert d == {"id": i}, (i, d)
PY
	run $LEPTON predict "http://127.0.0.1:$port/" -f "$T/in.jsonl" -c 4 --fail-fast
	expect_rc 1
	expect_err "stopped at line 17 (--fail-fast)"
	n=$(wc -l <"$out")
	[ "$n" -ge 16 ] && [ "$n" -lt 300 ] || fail "fail-fast printed $n lines"
	[ "$(sed -n 17p "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin)["line"])')" = 17 ] ||
	    fail "line 17 is not its error"
}

test_openai_stream_and_kserve_protocols() {
	mkdir -p "$T/llm"
	cp -r "$ROOT/examples/echo-llm/." "$T/llm/"
	run $LEPTON deploy "$T/llm/service.yaml"
	expect_rc 0
	run $LEPTON predict echo-llm -d '{"messages": [{"role": "user", "content": "the quick brown fox jumps"}], "stream": true}'
	expect_rc 0
	[ "$(cat "$out")" = "the quick brown fox jumps" ] || fail "text: $(cat "$out")"
	expect_err "5 tokens, time to first"
	run $LEPTON --json predict echo-llm -d '{"prompt": "one two three", "stream": true}'
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["text"]')" = "one two three" ] || fail "completions"
	[ "$(jget "$out" 'd["result"]["tokens"]')" = 3 ] || fail "tokens"
	[ "$(jget "$out" 'd["result"]["done"]')" = True ] || fail "no [DONE]"
	# The server pauses 5 ms between tokens: streamed, a gap shows; a
	# buffered answer would bring every token at once. (Not p50: on a
	# loaded machine the first token can come late and the next close
	# behind it.)
	jget "$out" 'd["result"]["ttft_ms"] > 0 and d["result"]["inter_token_ms"]["max"] >= 4' | grep -q True ||
	    fail "timing: $(cat "$out")"
	run $LEPTON --json predict echo-llm -d '{"messages": [{"role": "user", "content": "not streamed"}]}'
	[ "$(jget "$out" 'd["result"]["response"]["choices"][0]["message"]["content"]')" = "not streamed" ] ||
	    fail "non-stream: $(cat "$out")"
	d=$(iris_copy)
	run $LEPTON deploy "$d/service.yaml"
	expect_rc 0
	run $LEPTON --json predict iris --protocol kserve-v2 -d '{"inputs": [{"name": "input", "shape": [2, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]}]}'
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["response"]["outputs"][1]["data"]')" = "[0, 2]" ] ||
	    fail "kserve: $(cat "$out")"
	run $LEPTON predict iris --protocol grpc -d '{}'
	expect_rc 2
}
