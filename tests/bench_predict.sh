#!/bin/sh
# bench_predict.sh: lepton predict's load mode next to wrk, hey and ab
# against one nginx on 127.0.0.1 answering a small JSON body to a POST:
# requests/s and client CPU microseconds per request at concurrency 1, 16
# and 64, same duration, in one run. Then batch mode over 10,000 JSONL
# lines against the iris server next to a shell loop of curl.
# Needs nginx, wrk, hey and ab (apt-get install nginx-light wrk hey
# apache2-utils); run by `make bench`.
set -eu
LEPTON=${1:-./lepton}
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${BENCH_SECONDS:-5}
for t in nginx wrk hey ab curl; do
	if ! command -v $t >/dev/null 2>&1 && [ ! -x /usr/sbin/$t ]; then
		echo "bench: $t is missing: apt-get install nginx-light wrk hey apache2-utils curl" >&2
		exit 1
	fi
done
tmp=$(mktemp -d /tmp/lepton-bench-predict-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$tmp/nginx.conf" <<NGINX
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $tmp/body;
	server {
		listen 127.0.0.1:$port;
		location / {
			default_type application/json;
			return 200 '{"ok": true, "classes": [0]}';
		}
	}
}
NGINX
/usr/sbin/nginx -c "$tmp/nginx.conf" -p "$tmp"
trap 'kill $(cat "$tmp/nginx.pid") 2>/dev/null; LEPTON_HOME=$tmp/home "$LEPTON" stop iris >/dev/null 2>&1; rm -rf "$tmp"' EXIT
url="http://127.0.0.1:$port/"
echo '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' >"$tmp/body.json"
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}'
wrk.headers["Content-Type"] = "application/json"
LUA
sleep 0.3
# Run a tool, print "requests cpu_us" from its output and its rusage.
python3 - "$LEPTON" "$url" "$tmp" "$secs" <<'PY'
import json, re, resource, subprocess, sys
lepton, url, tmp, secs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
body = open(tmp + "/body.json").read().strip()

def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu

def lepton_run(c):
    out, cpu = run([lepton, "--json", "predict", url, "-d", body, "-c", str(c),
                    "--duration", secs])
    r = json.loads(out)["result"]
    return r["ok"], r["seconds"], cpu

def wrk_run(c):
    out, cpu = run(["wrk", "-t", str(min(c, 2)), "-c", str(c), "-d", secs + "s",
                    "-s", tmp + "/post.lua", url])
    n = int(re.search(r"(\d+) requests in", out).group(1))
    t = re.search(r"requests in ([\d.]+)(m?s)", out)
    s = float(t.group(1)) / (1000 if t.group(2) == "ms" else 1)
    return n, s, cpu

def hey_run(c):
    out, cpu = run(["hey", "-z", secs + "s", "-c", str(c), "-m", "POST", "-d", body,
                    "-T", "application/json", url])
    n = int(re.search(r"\[200\]\s+(\d+) responses", out).group(1))
    s = float(re.search(r"Total:\s+([\d.]+) secs", out).group(1))
    return n, s, cpu

def ab_run(c):
    out, cpu = run(["ab", "-k", "-q", "-c", str(c), "-t", secs, "-n", "100000000",
                    "-p", tmp + "/body.json", "-T", "application/json", url])
    n = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    n -= int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    s = float(re.search(r"Time taken for tests:\s+([\d.]+)", out).group(1))
    return n, s, cpu

print("| concurrency | tool | requests/s | client CPU us/request |")
print("|---:|---|---:|---:|")
for c in (1, 16, 64):
    rows = {}
    for name, f in (("lepton", lepton_run), ("wrk", wrk_run), ("hey", hey_run),
                    ("ab", ab_run)):
        n, s, cpu = f(c)
        rows[name] = (n / s, cpu * 1e6 / max(n, 1))
        print("| %d | %s | %.0f | %.1f |" % (c, name, rows[name][0], rows[name][1]))
    print("| %d | lepton/wrk | %.0f%% | %.2fx |" % (c, 100 * rows["lepton"][0] / rows["wrk"][0],
          rows["lepton"][1] / rows["wrk"][1]))
PY
echo
echo "## batch: 10,000 JSONL lines against the iris server"
export LEPTON_HOME=$tmp/home
"$LEPTON" deploy -q "$root/examples/iris/service.yaml" >/dev/null
python3 -c '
import random
random.seed(1)
for i in range(10000):
    print("{\"inputs\": [[%.1f, %.1f, %.1f, %.1f]]}" % tuple(random.uniform(1, 7) for _ in range(4)))' >"$tmp/in.jsonl"
s=$(date +%s%N)
"$LEPTON" predict iris -f "$tmp/in.jsonl" -c 8 >"$tmp/out.jsonl"
e=$(date +%s%N)
echo "lepton predict -f (10,000 lines, -c 8): $(((e - s) / 1000000)) ms, $(wc -l <"$tmp/out.jsonl") lines out"
ep=$("$LEPTON" --json status iris | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["endpoint"])')
tok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$tmp/home/local/iris/secrets.json")
head -1000 "$tmp/in.jsonl" >"$tmp/in1k.jsonl"
s=$(date +%s%N)
while read -r line; do
	curl -s -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$line" "$ep/predict"
done <"$tmp/in1k.jsonl" >"$tmp/curl.out"
e=$(date +%s%N)
echo "shell loop of curl (first 1,000 lines): $(((e - s) / 1000000)) ms, so ~$(((e - s) / 100000)) ms for 10,000"
