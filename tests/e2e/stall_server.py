#!/usr/bin/env python3
"""A JSON endpoint that answers at once, except for one window: from
--stall-at seconds after start, for --stall seconds, every request waits
until the window ends (a GC pause, a lock). usage: stall_server.py PORT
[--stall-at S] [--stall S]. Loopback only."""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--stall-at", type=float, default=1.0)
ap.add_argument("--stall", type=float, default=1.0)
a = ap.parse_args()
t0 = time.monotonic()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        now = time.monotonic() - t0
        if a.stall_at <= now < a.stall_at + a.stall:
            time.sleep(a.stall_at + a.stall - now)
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
srv.daemon_threads = True
srv.request_queue_size = 512
srv.serve_forever()
