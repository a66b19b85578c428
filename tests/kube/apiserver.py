#!/usr/bin/python3
"""apiserver.py: a loopback Kubernetes API server of lepton's tests, just
enough for `lepton check kubernetes` and `kubectl version`: HTTPS with a
throwaway CA, /version and legacy discovery (/api, /apis, /api/v1,
/apis/apps/v1, /apis/batch/v1). Every request must carry the bearer
token (--token, repeatable) or a client certificate signed by --client-ca;
others get 401 as a real server answers them. One JSON line per request in
--log (how it authenticated, never the token). Debian's python3 only.

  apiserver.py --port-file F --cert C --key K --client-ca CA \
      [--token T]... [--version v1.32.4] [--log L] [--plain]
"""
import argparse
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--client-ca")
ap.add_argument("--token", action="append", default=[])
ap.add_argument("--version", default="v1.32.4")
ap.add_argument("--log", default="/dev/null")
ap.add_argument("--plain", action="store_true", help="http, no TLS")
A = ap.parse_args()

VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def res(name, kind, namespaced=True):
    return {"name": name, "singularName": kind.lower(), "namespaced": namespaced,
            "kind": kind, "verbs": VERBS}


GROUPS = {"apps/v1": [res("deployments", "Deployment")],
          "batch/v1": [res("jobs", "Job")]}
DOCS = {
    "/version": {"major": "1", "minor": A.version.split(".")[1],
                 "gitVersion": A.version, "gitCommit": "0" * 40,
                 "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                 "goVersion": "go1.23", "compiler": "gc", "platform": "linux/amd64"},
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                             "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": gv.split("/")[0], "versions": [{"groupVersion": gv, "version": "v1"}],
         "preferredVersion": {"groupVersion": gv, "version": "v1"}} for gv in GROUPS]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
        res("namespaces", "Namespace", False), res("pods", "Pod"),
        res("services", "Service"), res("secrets", "Secret")]},
}
for gv, rs in GROUPS.items():
    DOCS["/apis/" + gv] = {"kind": "APIResourceList", "apiVersion": "v1",
                           "groupVersion": gv, "resources": rs}


def status(code, reason, msg):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                  "status": "Failure", "message": msg, "reason": reason, "code": code}


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def who(self):
        """How the client proved itself: token, cert:CN, bad-token or none."""
        h = self.headers.get("Authorization") or ""
        if h.startswith("Bearer "):
            return "token" if h[7:] in A.token else "bad-token"
        if h:
            return "bad-auth"
        cert = None if A.plain else self.connection.getpeercert()
        if cert:
            cn = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
            return "cert:" + (cn[0] if cn else "?")
        return "none"

    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        path = self.path.split("?")[0]
        who = self.who()
        with open(A.log, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "auth": who,
                                "ua": self.headers.get("User-Agent")}) + "\n")
        if who not in ("token",) and not who.startswith("cert:"):
            code, out = status(401, "Unauthorized", "Unauthorized")
        elif self.command == "GET" and path in DOCS:
            code, out = 200, DOCS[path]
        else:
            code, out = status(404, "NotFound", "the server could not find the requested resource")
        data = json.dumps(out).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, *a):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
if not A.plain:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(A.cert, A.key)
    # A certificate is optional (a token will do), but one that is sent
    # must chain to the client CA.
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.load_verify_locations(A.client_ca)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(A.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(A.port_file + ".tmp", A.port_file)
try:
    srv.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
