#!/usr/bin/python3
"""token_server.py: a loopback Google OAuth token endpoint and metadata
server for tests/gcp/creds.sh, strict as Google's.

POST /token
  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT:
  the JWT's RS256 signature is verified with the public half of a key file
  given with --key (matched by iss = client_email), and its claims as
  Google checks them: aud https://oauth2.googleapis.com/token (what
  google-auth sends, whatever token_uri says), iss, iat/exp with
  exp - iat <= 3600, not expired, iat not ahead by more than 5 minutes,
  scope (or target_audience: an ID token, as gcloud asks for one on
  activate). grant_type=refresh_token: client_id, client_secret and
  refresh_token must match --refresh CID:SECRET:TOKEN. Refusals are
  Google's: 400 {"error": "invalid_grant", "error_description": ...}.
GET /computeMetadata/v1/instance/service-accounts/default/{token,email},
  /computeMetadata/v1/project/project-id: only with Metadata-Flavor:
  Google, answered with it.

Every token handed out (or refused) is counted in --count FILE. Debian's
python3 with python3-cryptography only. Usage:
  token_server.py --port-file F --count F [--key SA.json]... [--refresh ..]
      [--expires-in S] [--delay S] [--tls CERT KEY]
"""
import argparse
import base64
import json
import os
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

AUD = "https://oauth2.googleapis.com/token"
GRANT_JWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MD = "/computeMetadata/v1/"

lock = threading.Lock()
count = 0


def b64d(s):
    if "=" in s or "+" in s or "/" in s:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


class Refused(Exception):
    pass


def verify(jwt, keys):
    try:
        h64, c64, s64 = jwt.split(".")
        header = json.loads(b64d(h64))
        claims = json.loads(b64d(c64))
        sig = b64d(s64)
    except ValueError as e:
        raise Refused("Invalid JWT: %s" % e)
    if header.get("alg") != "RS256":
        raise Refused("Invalid JWT: alg must be RS256")
    pub = keys.get(claims.get("iss"))
    if pub is None:
        raise Refused("Invalid JWT: unknown iss %r" % claims.get("iss"))
    try:
        pub.verify(sig, (h64 + "." + c64).encode(), padding.PKCS1v15(),
                   hashes.SHA256())
    except InvalidSignature:
        raise Refused("Invalid JWT Signature.")
    if claims.get("aud") != AUD:
        raise Refused("Invalid JWT: Failed audience check.")
    now = time.time()
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise Refused("Invalid JWT: iat and exp must be integers")
    if exp - iat > 3600 or exp <= iat:
        raise Refused("Invalid JWT: Token must be a short-lived token "
                      "(60 minutes) and in a reasonable timeframe.")
    if exp <= now or iat > now + 300:
        raise Refused("Invalid JWT: Token must be a short-lived token "
                      "(60 minutes) and in a reasonable timeframe. Check "
                      "your iat and exp values in the JWT claim.")
    if not claims.get("scope") and not claims.get("target_audience"):
        raise Refused("Invalid OAuth scope or ID token audience "
                      "provided.")
    return header, claims


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, obj, ctype="application/json", extra=()):
        body = (json.dumps(obj) if ctype == "application/json"
                else obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def counted(self):
        global count
        with lock:
            count += 1
            tmp = self.server.opts.count + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % count)
            os.replace(tmp, self.server.opts.count)
        if self.server.opts.delay:
            time.sleep(self.server.opts.delay)

    def token(self):
        return {"access_token": "ya29.lepton-test-" + secrets.token_hex(16),
                "expires_in": self.server.opts.expires_in,
                "token_type": "Bearer"}

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode()
        if urllib.parse.urlparse(self.path).path != "/token":
            return self.answer(404, {"error": "not_found"})
        self.counted()
        if self.headers.get("Content-Type", "").split(";")[0] != \
                "application/x-www-form-urlencoded":
            return self.answer(400, {"error": "invalid_request",
                                     "error_description": "Bad Request"})
        form = urllib.parse.parse_qs(raw, keep_blank_values=True)
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        grant = one.get("grant_type")
        try:
            if grant == GRANT_JWT:
                _, claims = verify(one.get("assertion", ""),
                                   self.server.keys)
                if "target_audience" in claims:
                    tok = (b64e(b'{"alg":"RS256","typ":"JWT"}') + "." +
                           b64e(json.dumps({
                               "iss": "https://accounts.google.com",
                               "aud": claims["target_audience"],
                               "email": claims["iss"], "sub": "1",
                               "iat": claims["iat"],
                               "exp": claims["exp"]}).encode()) + ".c2ln")
                    return self.answer(200, {"id_token": tok})
            elif grant == "refresh_token":
                want = self.server.refresh
                got = (one.get("client_id"), one.get("client_secret"),
                       one.get("refresh_token"))
                if want is None or got != want:
                    raise Refused("Bad Request")
            else:
                return self.answer(400, {
                    "error": "unsupported_grant_type",
                    "error_description": "Invalid grant_type: %s" % grant})
        except Refused as e:
            return self.answer(400, {"error": "invalid_grant",
                                     "error_description": str(e)})
        self.answer(200, self.token())

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        flavor = [("Metadata-Flavor", "Google")]
        if not path.startswith(MD) or self.server.opts.no_metadata:
            return self.answer(404, {"error": "not_found"})
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.answer(403, "Missing Metadata-Flavor:Google "
                               "header.\n", "text/html", flavor)
        rest = path[len(MD):]
        sa = "instance/service-accounts/default/"
        if rest == sa + "token":
            self.counted()
            return self.answer(200, self.token(), extra=flavor)
        if rest == sa + "email":
            return self.answer(200, self.server.opts.md_email,
                               "application/text", flavor)
        if rest == "project/project-id":
            return self.answer(200, self.server.opts.md_project,
                               "application/text", flavor)
        self.answer(404, "Not Found\n", "text/html", flavor)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--count", required=True)
    ap.add_argument("--key", action="append", default=[])
    ap.add_argument("--refresh")
    ap.add_argument("--expires-in", type=int, default=3599)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--md-email", default="vm-sa@md-project.iam."
                    "gserviceaccount.com")
    ap.add_argument("--md-project", default="md-project")
    ap.add_argument("--no-metadata", action="store_true")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                    help="serve https with this certificate")
    opts = ap.parse_args()
    keys = {}
    for path in opts.key:
        with open(path) as f:
            k = json.load(f)
        priv = serialization.load_pem_private_key(
            k["private_key"].encode(), password=None)
        keys[k["client_email"]] = priv.public_key()   # only the public half
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.opts, srv.keys = opts, keys
    if opts.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*opts.tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.refresh = tuple(opts.refresh.split(":", 2)) if opts.refresh else None
    with open(opts.count, "w") as f:
        f.write("0\n")
    with open(opts.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(opts.port_file + ".tmp", opts.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
