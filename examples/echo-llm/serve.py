#!/usr/bin/env python3
"""An OpenAI-compatible server for streaming tests, standard library only:
it "generates" by echoing the last user message back, word by word.

  GET  /healthz
  POST /v1/chat/completions   {"messages": [...], "stream": bool}
  POST /v1/completions        {"prompt": "...", "stream": bool}

With "stream": true the answer is server-sent events, one token a
--delay apart (default 5 ms), then "data: [DONE]". $LEPTON_TOKEN, when
set, is required as the bearer token.
"""
import argparse
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int,
                default=int(os.environ.get("LEPTON_PORT", "8000")))
ap.add_argument("--delay", type=float, default=0.005)
a = ap.parse_args()


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))

    def reply(self, code, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/healthz":
            self.reply(200, {"status": "ok"})
        else:
            self.reply(404, {"error": "no such path"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            self.reply(400, {"error": "not JSON"})
            return
        token = os.environ.get("LEPTON_TOKEN")
        if token and not hmac.compare_digest(
                self.headers.get("Authorization", "").encode(),
                ("Bearer " + token).encode()):
            self.reply(401, {"error": "missing or wrong bearer token"})
            return
        chat = self.path == "/v1/chat/completions"
        if chat:
            msgs = req.get("messages") or [{"content": ""}]
            text = str(msgs[-1].get("content", ""))
        elif self.path == "/v1/completions":
            text = str(req.get("prompt", ""))
        else:
            self.reply(404, {"error": "no such path"})
            return
        words = text.split() or ["(nothing)"]
        tokens = [w if i == 0 else " " + w for i, w in enumerate(words)]
        if not req.get("stream"):
            out = "".join(tokens)
            choice = {"index": 0, "finish_reason": "stop"}
            if chat:
                choice["message"] = {"role": "assistant", "content": out}
            else:
                choice["text"] = out
            self.reply(200, {"object": "chat.completion" if chat else
                             "text_completion", "choices": [choice]})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(data):
            chunk = ("data: %s\n\n" % data).encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()

        for t in tokens:
            time.sleep(a.delay)
            choice = {"index": 0, "delta": {"content": t}} if chat else \
                {"index": 0, "text": t}
            send(json.dumps({"choices": [choice]}))
        send("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
srv.daemon_threads = True
srv.serve_forever()
