#!/usr/bin/env python3
"""Serve the iris model over HTTP with the standard library.

usage: serve.py [--port N] [--model DIR]   (defaults: $LEPTON_PORT,
                                             $LEPTON_MODEL_DIR)

  GET  /healthz                      readiness: {"status": "ok", ...}
  POST /predict                      {"inputs": [[5.1, 3.5, 1.4, 0.2], ...]}
                                     -> classes, labels, probabilities
  GET  /v2/health/ready              KServe v2 / Open Inference Protocol
  POST /v2/models/iris/infer         {"inputs": [{"name": ..., "shape":
                                     [N, 4], "datatype": "FP32", "data":
                                     [...]}]}

When $LEPTON_TOKEN is set (lepton sets it), prediction requests must carry
"Authorization: Bearer $LEPTON_TOKEN" or get 401. Every answer names the
model version it was computed with.
"""
import argparse
import hashlib
import hmac
import json
import math
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024


def load_model(d):
    path = os.path.join(d, "model.json")
    with open(path, "rb") as f:
        raw = f.read()
    model = json.loads(raw)
    version = os.environ.get("LEPTON_MODEL_VERSION") or \
        "sha256:" + hashlib.sha256(raw).hexdigest()[:12]
    return model, version


def predict_one(model, xi):
    if not isinstance(xi, list) or len(xi) != len(model["mean"]):
        raise ValueError("each input needs %d numbers" % len(model["mean"]))
    xs = []
    for v, m, s in zip(xi, model["mean"], model["std"]):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError("inputs must be numbers")
        xs.append((v - m) / s)
    z = [b + sum(w * v for w, v in zip(ws, xs))
         for ws, b in zip(model["weights"], model["bias"])]
    mx = max(z)
    e = [math.exp(v - mx) for v in z]
    t = sum(e)
    return [v / t for v in e]


class Handler(BaseHTTPRequestHandler):
    server_version = "lepton-iris/1"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle and
    # delayed ACKs add 40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(),
                                      fmt % args))

    def reply(self, code, obj):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorised(self):
        token = os.environ.get("LEPTON_TOKEN")
        if not token:
            return True
        got = self.headers.get("Authorization", "")
        want = "Bearer " + token
        if hmac.compare_digest(got.encode(), want.encode()):
            return True
        self.reply(401, {"error": "missing or wrong bearer token"})
        return False

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("body too large")
        return json.loads(self.rfile.read(n) or b"null")

    def do_GET(self):
        srv = self.server
        if self.path in ("/healthz", "/v2/health/ready", "/v2/health/live"):
            self.reply(200, {"status": "ok", "model_version": srv.version,
                             "replica": os.environ.get("LEPTON_REPLICA")})
        elif self.path == "/v2/models/iris":
            self.reply(200, {"name": "iris", "versions": [srv.version],
                             "platform": "lepton-python",
                             "inputs": [{"name": "input", "datatype":
                                         "FP32", "shape": [-1, 4]}],
                             "outputs": [{"name": "probabilities",
                                          "datatype": "FP32",
                                          "shape": [-1, 3]}]})
        else:
            self.reply(404, {"error": "no such path"})

    def do_POST(self):
        srv = self.server
        if self.path not in ("/predict", "/v2/models/iris/infer"):
            self.reply(404, {"error": "no such path"})
            return
        try:
            # Read the body first, so a refused request leaves the
            # connection clean for the next one.
            req = self.body()
        except (ValueError, TypeError) as e:
            self.reply(400, {"error": str(e)})
            return
        if not self.authorised():
            return
        try:
            if self.path == "/predict":
                rows = req.get("inputs") if isinstance(req, dict) else None
                if not isinstance(rows, list) or not rows:
                    raise ValueError('want {"inputs": [[4 numbers], ...]}')
            else:
                t = req["inputs"][0]
                flat, shape = t["data"], t["shape"]
                if len(shape) != 2 or shape[1] != 4 or \
                        len(flat) != shape[0] * 4:
                    raise ValueError("want shape [N, 4]")
                rows = [flat[i:i + 4] for i in range(0, len(flat), 4)]
            probs = [predict_one(srv.model, r) for r in rows]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            self.reply(400, {"error": str(e)})
            return
        classes = [p.index(max(p)) for p in probs]
        if self.path == "/predict":
            self.reply(200, {
                "classes": classes,
                "labels": [srv.model["classes"][c] for c in classes],
                "probabilities": [[round(v, 6) for v in p] for p in probs],
                "model_version": srv.version})
        else:
            self.reply(200, {
                "model_name": "iris", "model_version": srv.version,
                "outputs": [{"name": "probabilities", "datatype": "FP32",
                             "shape": [len(probs), len(probs[0])],
                             "data": [round(v, 6) for p in probs
                                      for v in p]},
                            {"name": "classes", "datatype": "INT64",
                             "shape": [len(classes)], "data": classes}]})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int,
                    default=int(os.environ.get("LEPTON_PORT", "8080")))
    # lepton says where to bind: 127.0.0.1 for a process, 0.0.0.0 in a
    # container whose port is published on the host's 127.0.0.1.
    ap.add_argument("--host", default=os.environ.get("LEPTON_HOST",
                                                     "127.0.0.1"))
    ap.add_argument("--model", default=os.environ.get(
        "LEPTON_MODEL_DIR", os.path.join(os.path.dirname(
            os.path.abspath(__file__)), "model")))
    a = ap.parse_args()
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    srv.daemon_threads = True
    srv.model, srv.version = load_model(a.model)
    signal.signal(signal.SIGTERM,
                  lambda *_: threading.Thread(target=srv.shutdown).start())
    sys.stderr.write("serving iris %s on %s:%d\n" %
                     (srv.version, a.host, a.port))
    sys.stderr.flush()
    srv.serve_forever()
    srv.server_close()


if __name__ == "__main__":
    main()
