#!/usr/bin/env python3
"""sso-rec.py PORTFILE LOG: a loopback stand-in for the AWS SSO portal's
GetRoleCredentials (GET /federation/credentials), for tests/aws/creds.sh.
Listens on a free port of 127.0.0.1 (written to PORTFILE), appends one JSON
line per request (method, path, headers) to LOG, and answers keys only to
bearer token TOKEN123 asking for role MLRole in account 111122223333;
else 401 UnauthorizedException, as the portal does."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit


class H(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlsplit(self.path)
        q = parse_qs(u.query)
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"method": self.command, "path": u.path,
                                "query": u.query,
                                "headers": {k.lower(): v for k, v in self.headers.items()}}) + "\n")
        ok = (u.path == "/federation/credentials"
              and self.headers.get("x-amz-sso_bearer_token") == "TOKEN123"
              and q.get("role_name") == ["MLRole"]
              and q.get("account_id") == ["111122223333"])
        if ok:
            code, out = 200, {"roleCredentials": {
                "accessKeyId": "ASIASSOEXAMPLE", "secretAccessKey": "ssosecret",
                "sessionToken": "ssotoken", "expiration": int(time.time() + 3600) * 1000}}
        else:
            code, out = 401, {"message": "Session token not found or invalid"}
        body = json.dumps(out).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        if not ok:
            self.send_header("x-amzn-ErrorType", "UnauthorizedException")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = HTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
srv.serve_forever()
