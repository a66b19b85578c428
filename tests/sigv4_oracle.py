"""sigv4_oracle.py: lepton's SigV4 signer byte for byte against botocore's.

usage: python3 sigv4_oracle.py SIGV4_MAIN   (run by tests/sigv4_oracle.sh)

Makes SIGV4_ORACLE_N random requests (default 400) from SIGV4_ORACLE_SEED
(default fixed, so that make check is repeatable): methods, paths with
reserved, unicode and dot segments, repeated and unsorted query keys,
empty values, headers in every case, order, repetition and spacing, S3
with a payload hash, a precomputed one or UNSIGNED-PAYLOAD, session
tokens, ports, IPv6 hosts. Each is signed by botocore's SigV4Auth or
S3SigV4Auth with a frozen clock and by lepton (SIGV4_MAIN reads JSON
lines), and the canonical request, the string to sign, the Authorization
header and the headers added must be equal.

lepton gets the URL as it will be sent. botocore gets what its own
serializer starts from: the query as a list of decoded (name, value)
pairs, which it encodes itself; so lepton's decoding and encoding again
of whatever encoding a URL holds is checked too. Not compared, on
purpose: raw non-ASCII in an S3 path (botocore signs the raw bytes, which
no HTTP client sends; lepton signs them encoded once, as sent) and a '+'
in a query (a space to botocore's parse_qsl, a plus to lepton: lepton
sends %20 and %2B).
"""
import datetime
import hashlib
import json
import os
import random
import subprocess
import sys
from urllib.parse import quote

import botocore
import botocore.auth as ba
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Characters paths, keys, query names and values are made of.
UNRESERVED = "abcXYZ019-._~"
SUBDELIMS = "!$&'()*+,;=:@"
OTHER = " \"#%<>?[\\]^`{|}/"
UNICODE = ["é", "ሴ", "ü", "😀", "中文", "\u00a0"]
SERVICES = ["sagemaker", "sts", "logs", "service", "execute-api"]
REGIONS = ["us-east-1", "eu-west-2", "ap-southeast-1"]
HEADER_NAMES = ["Content-Type", "X-Amz-Target", "X-Amz-Meta-Foo",
                "My-Header1", "Content-MD5", "Range", "If-Match",
                "Accept", "X-Amz-Meta-Bar", "Content-Length"]
UNSIGNED_NAMES = ["User-Agent", "Expect", "X-Amzn-Trace-Id", "Connection",
                  "Keep-Alive", "TE", "Upgrade"]


class Capture:
    """Keeps what botocore signed; payload signing as the case says."""
    unsigned = False

    def canonical_request(self, request):
        self.cr = super().canonical_request(request)
        return self.cr

    def string_to_sign(self, request, canonical_request):
        self.sts = super().string_to_sign(request, canonical_request)
        return self.sts


class V4(Capture, ba.SigV4Auth):
    pass


class S3(Capture, ba.S3SigV4Auth):
    def _should_sha256_sign_payload(self, request):
        # lepton: unsigned only when asked, over http as over https.
        return not self.unsigned


def rand_text(r, pool_extra="", n=(0, 8)):
    out = []
    for _ in range(r.randint(*n)):
        k = r.random()
        if k < 0.55:
            out.append(r.choice(UNRESERVED))
        elif k < 0.75:
            out.append(r.choice(SUBDELIMS))
        elif k < 0.9:
            out.append(r.choice(OTHER + pool_extra))
        else:
            out.append(r.choice(UNICODE))
    return "".join(out)


def hexcase(r, s):
    """Percent escapes in lower case, sometimes: the same octets."""
    if r.random() < 0.3:
        out, i = [], 0
        while i < len(s):
            if s[i] == "%":
                out.append(s[i:i + 3].lower())
                i += 3
            else:
                out.append(s[i])
                i += 1
        return "".join(out)
    return s


def encode_path_segment(r, seg):
    # As clients send it: everything but unreserved encoded, or some
    # sub-delimiters left raw (legal in a path).
    safe = r.choice(["", "~", "!$'()*,;=:@", "=:@"])
    return hexcase(r, quote(seg, safe=safe))


def make_path(r, s3):
    segs = []
    for _ in range(r.randint(0, 5)):
        k = r.random()
        if k < 0.1:
            segs.append("")                     # a double slash
        elif k < 0.18:
            segs.append(".")
        elif k < 0.26:
            segs.append("..")
        else:
            segs.append(encode_path_segment(r, rand_text(r)))
    path = "/" + "/".join(segs)
    if r.random() < 0.2:
        path += "/"
    if not s3 and r.random() < 0.1:
        # Raw bytes in the path, as in the suite's get-utf8 and get-space:
        # other services encode what they are given.
        path += "/" + r.choice(UNICODE) + " x"
    return path


def make_query(r):
    """(pairs botocore gets, the query string lepton sends)."""
    if r.random() < 0.25:
        return [], r.choice(["", "?"])
    names = [rand_text(r, n=(0, 6)) for _ in range(r.randint(1, 4))]
    names += ["a", "A", "b", "list-type", "prefix"]
    pairs, parts = [], []
    for _ in range(r.randint(1, 6)):
        name = r.choice(names).replace("+", "-")
        value = r.choice(["", "", "1", "2", rand_text(r)]).replace("+", "-")
        pairs.append((name, value))
        # Raw where a query may hold it; '&', '=', '+', '#', '%' never.
        safe = r.choice(["-_.~", "-_.~/:@!$'()*,;?", "-_.~/"])
        n = hexcase(r, quote(name, safe=safe))
        if value == "" and name != "" and r.random() < 0.4:
            parts.append(n)                     # "acl": no '='
        else:
            parts.append(n + "=" + hexcase(r, quote(value, safe=safe)))
    return pairs, "?" + "&".join(parts)


def header_value(r):
    k = r.random()
    if k < 0.3:
        v = "value%d" % r.randint(0, 9)
    elif k < 0.5:
        v = '"a   b \t c"'
    elif k < 0.7:
        v = "application/json; charset=utf-8"
    else:
        v = "".join(r.choice("abc XYZ,;=/\t\"'") for _ in
                    range(r.randint(1, 12)))
        if not v.strip():
            v = "x"
    return r.choice(["", " ", "  ", "\t"]) + v + r.choice(["", " ", "\t "])


def recase(r, name):
    k = r.random()
    if k < 0.2:
        return name.lower()
    if k < 0.3:
        return name.upper()
    if k < 0.4:
        return "".join(c.upper() if r.random() < 0.5 else c.lower()
                       for c in name)
    return name


def make_case(r):
    s3 = r.random() < 0.4
    service = "s3" if s3 else r.choice(SERVICES)
    scheme = r.choice(["http", "https"])
    host = r.choice(["example.amazonaws.com", "Models.S3.us-east-1."
                     "AmazonAWS.com", "127.0.0.1", "[::1]", "localhost"])
    port = r.choice(["", "", ":80", ":443", ":15000", ":8443", ":"])
    path = make_path(r, s3)
    pairs, query = make_query(r)
    date = datetime.datetime(2015 + r.randint(0, 12), r.randint(1, 12),
                             r.randint(1, 28), r.randint(0, 23),
                             r.randint(0, 59), r.randint(0, 59),
                             tzinfo=datetime.timezone.utc)
    amz_date = date.strftime("%Y%m%dT%H%M%SZ")
    akid = "AKIA" + "".join(r.choice(B64[:36]) for _ in range(16))
    secret = "".join(r.choice(B64) for _ in range(40))
    token = None
    if r.random() < 0.35:
        token = "".join(r.choice(B64 + "=") for _ in
                        range(r.randint(16, 300)))
    no_token = token is not None and r.random() < 0.2

    given = []                                   # (name, value) in order
    for _ in range(r.randint(0, 6)):
        if r.random() < 0.15:
            name = r.choice(UNSIGNED_NAMES)
        elif given and r.random() < 0.25:
            name = recase(r, r.choice(given)[0])  # a repeated header
        else:
            name = recase(r, r.choice(HEADER_NAMES))
        given.append((name, "" if r.random() < 0.05 else header_value(r)))
    if r.random() < 0.15:
        given.insert(r.randint(0, len(given)),
                     (recase(r, "Host"), "Example.amazonaws.com:1234"))
    if r.random() < 0.15:
        given.insert(r.randint(0, len(given)), ("X-Amz-Date", amz_date))

    body = b""
    k = r.random()
    if k < 0.4:
        body = json.dumps({"Name": rand_text(r, n=(0, 30)),
                           "n": r.randint(0, 99)}).encode()
    elif k < 0.6:
        body = rand_text(r, n=(1, 200)).encode()
    unsigned = r.random() < (0.3 if s3 else 0.05)
    payload_hash = None
    if s3 and not unsigned and r.random() < 0.4:
        payload_hash = hashlib.sha256(body).hexdigest()
    if not s3 and not unsigned and r.random() < 0.08:
        given.append(("x-amz-content-sha256", r.choice(
            ["UNSIGNED-PAYLOAD", hashlib.sha256(body).hexdigest()])))

    lines = []
    for name, value in given:
        if value == "":
            lines.append(name + ";")          # curl: an empty header
        else:
            lines.append(name + r.choice([":", ": "]) + value)
    lep = {
        "method": r.choice(["GET", "PUT", "POST", "DELETE", "HEAD",
                            "get"]),
        "url": scheme + "://" + host + port + path + query,
        "headers": lines, "payload": body.decode(),
        "region": r.choice(REGIONS), "service": service,
        "amz_date": amz_date, "access_key": akid, "secret_key": secret,
        "token": token, "s3": s3, "unsigned": unsigned,
        "no_token": no_token,
    }
    if payload_hash is not None:
        lep["payload_hash"] = payload_hash
    bot = {"date": date, "pairs": pairs, "given": given, "body": body,
           "url": scheme + "://" + host + port + path}
    return lep, bot


def botocore_sign(lep, bot):
    ba.get_current_datetime = lambda *a, **kw: bot["date"]
    token = None if lep["no_token"] else lep["token"]
    cls = S3 if lep["s3"] else V4
    auth = cls(Credentials(lep["access_key"], lep["secret_key"], token),
               lep["service"], lep["region"])
    auth.unsigned = lep["unsigned"]
    req = AWSRequest(method=lep["method"], url=bot["url"], data=bot["body"])
    for name, value in bot["given"]:
        req.headers[name] = value
    if bot["pairs"]:
        req.params = bot["pairs"]
    if lep["unsigned"] and not lep["s3"]:
        req.context["payload_signing_enabled"] = False
    before = {n.lower() for n, _ in bot["given"]}
    auth.add_auth(req)
    added = {}
    for name, value in req.headers.items():
        if name.lower() not in before and name.lower() != "authorization":
            added[name.lower()] = value
    return {"canonical": auth.cr, "to_sign": auth.sts, "added": added,
            "authorization": req.headers["Authorization"]}


def lepton_view(ans):
    added, authz = {}, None
    for line in ans["headers"]:
        name, _, value = line.partition(": ")
        if name == "Authorization":
            authz = value
        else:
            added[name.lower()] = value
    return {"canonical": ans["canonical"], "to_sign": ans["to_sign"],
            "added": added, "authorization": authz}


def main():
    seed = int(os.environ.get("SIGV4_ORACLE_SEED", "20261206"))
    n = int(os.environ.get("SIGV4_ORACLE_N", "400"))
    r = random.Random(seed)
    cases = [make_case(r) for _ in range(n)]
    text = "".join(json.dumps(lep) + "\n" for lep, _ in cases)
    res = subprocess.run([sys.argv[1]], input=text.encode(),
                         stdout=subprocess.PIPE, check=True)
    answers = res.stdout.decode().splitlines()
    if len(answers) != n:
        print("sigv4-oracle: %d answers to %d requests" % (len(answers), n))
        return 1
    failed = 0
    stats = {"s3": 0, "token": 0, "unsigned": 0, "query": 0, "dup": 0}
    for i, ((lep, bot), line) in enumerate(zip(cases, answers)):
        want = botocore_sign(lep, bot)
        ans = json.loads(line)
        got = lepton_view(ans) if "error" not in ans else ans
        stats["s3"] += lep["s3"]
        stats["token"] += lep["token"] is not None
        stats["unsigned"] += lep["unsigned"]
        stats["query"] += len(bot["pairs"]) > 0
        names = [nm.lower() for nm, _ in bot["given"]]
        stats["dup"] += len(names) != len(set(names))
        if got != want:
            failed += 1
            if failed <= 3:
                print("sigv4-oracle: case %d (seed %d) differs\n"
                      "request: %s\nbotocore: %s\nlepton:   %s" %
                      (i, seed, json.dumps(lep), json.dumps(want),
                       json.dumps(got)))
    if failed:
        print("sigv4-oracle: %d of %d requests differ from botocore %s "
              "(seed %d)" % (failed, n, botocore.__version__, seed))
        return 1
    print("sigv4-oracle: %d requests byte-equal to botocore %s (seed %d; "
          "%d S3, %d with a token, %d unsigned, %d with a query, %d with "
          "a repeated header)" % (n, botocore.__version__, seed,
                                  stats["s3"], stats["token"],
                                  stats["unsigned"], stats["query"],
                                  stats["dup"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
