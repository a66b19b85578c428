#!/usr/bin/env python3
"""A JSON endpoint that answers out of order and fails on request: each
POST {"id": N, "fail": bool} waits a random 0-20 ms, then answers
{"id": N} or, when asked, HTTP 500. usage: shuffle_server.py PORT"""
import json
import random
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(random.random() * 0.02)
        code = 500 if req.get("fail") else 200
        body = json.dumps({"id": req["id"]} if code == 200 else
                          {"error": "asked to fail"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
srv.daemon_threads = True
srv.serve_forever()
