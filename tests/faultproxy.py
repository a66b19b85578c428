#!/usr/bin/python3
"""faultproxy.py: an HTTP/1.1 reverse proxy on loopback that injects faults,
for testing every network path of lepton (slurmrestd now, each cloud API
as it lands). Python 3 standard library only.

    faultproxy.py serve --upstream http://127.0.0.1:PORT | unix:/PATH
                        [--listen 127.0.0.1:0 | unix:/PATH] [--plan FILE]
                        [--log FILE] [--port-file FILE] [--parent PID]
    faultproxy.py tally LOG          counts per action, per rule, per call
    faultproxy.py gaps LOG METHOD PATH_REGEX
                                     ms between consecutive matching requests

The plan (--plan FILE, re-read whenever the file changes, which resets the
counts; else the environment's FAULTPROXY_PLAN, JSON text) is a list of
rules, or {"rules": [...]}; the first rule whose method, path and nth match
a request decides what happens to it; no rule: it is passed on.

    {"method": "POST",          # optional; any method when absent
     "path": "/job/submit$",    # a regex searched in the request's path
     "nth": 1 | [1, 2],         # the rule's own count of requests whose
                                # method and path match, from 1; absent:
                                # every one
     "delay_ms": 300,           # before anything else (any action)
     "action": "pass"           # forward, answer as the upstream did
             | "delay"          # the same, after delay_ms (or "ms")
             | "reset"          # RST (SO_LINGER 0), no answer
             | "truncate"       # forward; headers and half the body
                                # ("keep": N bytes), then close ("rst": true
                                # for an RST instead of a FIN)
             | "status"         # answer "status": 429|500|503..., with
                                # "retry_after": 2 (seconds), "date+3" (an
                                # HTTP-date 3 s from now) or any text, and
                                # "body" (default: a line of plain text)
             | "garbage",       # "bytes": N (default 4096) of non-HTTP
                                # bytes then close; "http": true sends a
                                # valid 200 header, then N bytes of garbage
     "forward": false}          # reset/status/garbage: send the request
                                # upstream first (the server acted on it),
                                # then throw its answer away

Every request is logged as two JSON lines: on arrival {"event":
"request", seq, time (epoch seconds), method, path, rule (index or null),
nth, action}; once answered (or not) {"event": "done", seq, forwarded,
upstream_status, sent_status, retry_after...}. Count requests by the
first kind: a stalled one is there while it stalls.
"""
import argparse
import email.utils
import json
import os
import re
import socket
import socketserver
import struct
import sys
import threading
import time

LOCK = threading.Lock()


class Plan:
    """The rules, re-read when the file changes, and their counts."""

    def __init__(self, path):
        self.path = path
        self.stamp = None
        self.rules = []
        self.counts = []
        self.load(force=True)

    def load(self, force=False):
        if self.path is None:
            if force:
                self.set(json.loads(os.environ.get("FAULTPROXY_PLAN") or "[]"))
            return
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp == self.stamp and not force:
            return
        self.stamp = stamp
        if stamp is None:
            self.set([])
            return
        with open(self.path) as f:
            text = f.read()
        self.set(json.loads(text) if text.strip() else [])

    def set(self, doc):
        rules = doc.get("rules", []) if isinstance(doc, dict) else doc
        self.rules = []
        for r in rules:
            r = dict(r)
            r["_re"] = re.compile(r.get("path", ""))
            nth = r.get("nth")
            r["_nth"] = None if nth is None else set(
                nth if isinstance(nth, list) else [nth])
            self.rules.append(r)
        self.counts = [0] * len(self.rules)

    def pick(self, method, path):
        """(index, rule, nth) of the rule that decides, or (None, None, None)."""
        with LOCK:
            self.load()
            chosen = (None, None, None)
            for i, r in enumerate(self.rules):
                if r.get("method") not in (None, method):
                    continue
                if not r["_re"].search(path):
                    continue
                self.counts[i] += 1
                if chosen[0] is None and (r["_nth"] is None or
                                          self.counts[i] in r["_nth"]):
                    chosen = (i, r, self.counts[i])
            return chosen


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1) if path else None
        self.seq = 0

    def write(self, rec):
        """Log rec; a request's first line gets its seq, its second the same."""
        with LOCK:
            if "seq" not in rec:
                self.seq += 1
                rec["seq"] = self.seq
            if self.f:
                self.f.write(json.dumps(rec, sort_keys=True) + "\n")


def read_headers(rfile):
    """The start line and the headers, as (line, [(name, value)]); None at EOF."""
    line = rfile.readline(65537)
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(65537)
    if not line:
        return None
    headers = []
    while True:
        h = rfile.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    return line.decode("latin-1").rstrip("\r\n"), headers


def header(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def read_body(rfile, headers, until_eof=False):
    if (header(headers, "Transfer-Encoding") or "").lower() == "chunked":
        out = b""
        while True:
            size = int(rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return out
            out += rfile.read(size)
            rfile.readline(1024)
    n = header(headers, "Content-Length")
    if n is not None:
        return rfile.read(int(n))
    return rfile.read() if until_eof else b""


HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
       "content-length", "te", "trailer", "upgrade"}


def forward(upstream, method, target, headers, body):
    """Send the request upstream; (status, reason, headers, body)."""
    if upstream.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(upstream[5:])
    else:
        hostport = upstream.split("://", 1)[-1].split("/", 1)[0]
        host, _, port = hostport.rpartition(":")
        s = socket.create_connection((host, int(port)))
    s.settimeout(300)
    try:
        req = ["%s %s HTTP/1.1" % (method, target)]
        req += ["%s: %s" % (k, v) for k, v in headers if k.lower() not in HOP]
        req += ["Content-Length: %d" % len(body), "Connection: close", "", ""]
        s.sendall("\r\n".join(req).encode("latin-1") + body)
        f = s.makefile("rb")
        got = read_headers(f)
        if got is None:
            raise ConnectionError("upstream closed without an answer")
        line, rh = got
        parts = line.split(" ", 2)
        rbody = b"" if method == "HEAD" else read_body(f, rh, until_eof=True)
        return int(parts[1]), parts[2] if len(parts) > 2 else "", rh, rbody
    finally:
        s.close()


def response(status, reason, headers, body, keep):
    out = ["HTTP/1.1 %d %s" % (status, reason)]
    out += ["%s: %s" % (k, v) for k, v in headers if k.lower() not in HOP]
    out += ["Content-Length: %d" % len(body),
            "Connection: %s" % ("keep-alive" if keep else "close"), "", ""]
    return "\r\n".join(out).encode("latin-1"), body


def retry_after_value(v):
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return str(int(v))
    if isinstance(v, str) and v.startswith("date+"):
        return email.utils.formatdate(time.time() + float(v[5:]),
                                      usegmt=True)
    return str(v)


def garbage(n):
    # Not HTTP: no status line, bytes a parser cannot take for one.
    pat = bytes((i * 131 + 7) % 256 for i in range(4096)).replace(b"H", b"\x00")
    return (pat * (n // len(pat) + 1))[:n]


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        srv = self.server
        while True:
            try:
                got = read_headers(self.rfile)
            except (OSError, ValueError):
                return
            if got is None:
                return
            line, headers = got
            try:
                method, target, version = line.split(" ", 2)
            except ValueError:
                return
            body = read_body(self.rfile, headers)
            keep = version == "HTTP/1.1" and (
                header(headers, "Connection") or "").lower() != "close"
            path = target.split("?", 1)[0]
            t = time.time()
            idx, rule, nth = srv.plan.pick(method, path)
            rule = rule or {}
            action = rule.get("action", "pass")
            first = {"event": "request", "time": t, "method": method,
                     "path": path, "rule": idx, "nth": nth, "action": action}
            srv.log.write(first)
            rec = {"event": "done", "seq": first["seq"], "forwarded": False,
                   "upstream_status": None, "sent_status": None,
                   "retry_after": None}
            delay = rule.get("delay_ms", rule.get("ms", 0)
                             if action == "delay" else 0)
            if delay:
                time.sleep(delay / 1000.0)
            up = None
            if action in ("pass", "delay", "truncate") or rule.get("forward"):
                try:
                    up = forward(srv.upstream, method, target, headers, body)
                    rec["forwarded"] = True
                    rec["upstream_status"] = up[0]
                except OSError as e:
                    rec["upstream_error"] = str(e)
                    up = (502, "Bad Gateway", [("Content-Type", "text/plain")],
                          ("faultproxy: upstream: %s\n" % e).encode())
            try:
                done = self.act(action, rule, up, keep, rec)
            except OSError:
                done = True
            srv.log.write(rec)
            if done or not keep:
                return

    def act(self, action, rule, up, keep, rec):
        """Answer the request; True when the connection is over."""
        w = self.connection
        if action == "reset":
            reset(w)
            return True
        if action == "garbage":
            n = int(rule.get("bytes", 4096))
            if rule.get("http"):
                rec["sent_status"] = 200
                w.sendall(("HTTP/1.1 200 OK\r\nContent-Type: application/json"
                           "\r\nContent-Length: %d\r\nConnection: close\r\n"
                           "\r\n" % n).encode())
            chunk = garbage(min(n, 1 << 20))
            left = n
            try:
                while left > 0:
                    w.sendall(chunk[:left])
                    left -= min(left, len(chunk))
            except OSError:
                rec["client_closed_after"] = n - left
            w.close()
            return True
        if action == "status":
            status = int(rule.get("status", 503))
            ra = retry_after_value(rule.get("retry_after"))
            hs = [("Content-Type", "text/plain")]
            if ra is not None:
                hs.append(("Retry-After", ra))
                rec["retry_after"] = ra
            text = rule.get("body", "faultproxy: injected %d\n" % status)
            head, body = response(status, {429: "Too Many Requests",
                                           500: "Internal Server Error",
                                           502: "Bad Gateway",
                                           503: "Service Unavailable",
                                           504: "Gateway Timeout"}.get(
                                               status, "Injected"),
                                  hs, text.encode(), keep)
            rec["sent_status"] = status
            w.sendall(head + body)
            return False
        head, body = response(up[0], up[1], up[2], up[3], keep)
        rec["sent_status"] = up[0]
        if action == "truncate":
            keepn = int(rule.get("keep", len(body) // 2))
            rec["sent_bytes"] = keepn
            rec["body_bytes"] = len(body)
            w.sendall(head + body[:keepn])
            if rule.get("rst"):
                reset(w)
            else:
                w.shutdown(socket.SHUT_WR)
                w.close()
            return True
        w.sendall(head + body)
        return False


class TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        time.sleep(0.5)


def serve(a):
    if a.listen.startswith("unix:"):
        path = a.listen[5:]
        if os.path.exists(path):
            os.unlink(path)
        srv = UnixServer(path, Handler)
        where = a.listen
    else:
        host, _, port = a.listen.rpartition(":")
        if host not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("faultproxy: listens on loopback only")
        srv = TCPServer((host, int(port)), Handler)
        where = "http://%s:%d" % srv.server_address[:2]
    srv.upstream = a.upstream
    srv.plan = Plan(a.plan)
    srv.log = Log(a.log)
    if a.parent:
        threading.Thread(target=watch_parent, args=(a.parent,),
                         daemon=True).start()
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(where + "\n")
        os.rename(tmp, a.port_file)
    srv.serve_forever()


def records(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def tally(a):
    recs = records(a.log)
    done = {r["seq"]: r for r in recs if r.get("event") == "done"}
    recs = [dict(r, forwarded=done.get(r["seq"], {}).get("forwarded", False))
            for r in recs if r.get("event") == "request"]
    by_action, by_call = {}, {}
    for r in recs:
        k = r["action"] + ("+forwarded" if r["forwarded"] and
                           r["action"] not in ("pass", "delay", "truncate")
                           else "")
        by_action[k] = by_action.get(k, 0) + 1
        c = "%s %s" % (r["method"], re.sub(r"/\d+", "/ID", r["path"]))
        by_call[c] = by_call.get(c, 0) + 1
    for k in sorted(by_action):
        print("action %s %d" % (k, by_action[k]))
    for k in sorted(by_call):
        print("call %s %d" % (k, by_call[k]))


def gaps(a):
    rx = re.compile(a.path)
    t = [r["time"] for r in records(a.log) if r.get("event") == "request"
         and r["method"] == a.method and rx.search(r["path"])]
    print(" ".join(str(int(round((y - x) * 1000))) for x, y in zip(t, t[1:])))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--upstream", required=True)
    s.add_argument("--listen", default="127.0.0.1:0")
    s.add_argument("--plan")
    s.add_argument("--log")
    s.add_argument("--port-file")
    s.add_argument("--parent", type=int)
    t = sub.add_parser("tally")
    t.add_argument("log")
    g = sub.add_parser("gaps")
    g.add_argument("log")
    g.add_argument("method")
    g.add_argument("path")
    a = ap.parse_args()
    {"serve": serve, "tally": tally, "gaps": gaps}[a.cmd](a)


if __name__ == "__main__":
    main()
