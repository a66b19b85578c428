#!/usr/bin/python3
"""seq_compare.py GCLOUD.seq LEPTON.log: does lepton ask Vertex AI what
gcloud asks for the same work?

GCLOUD.seq is tests/gcp/gcloud_xcheck.sh's record of gcloud's requests
(METHOD PATH FIELDS a line, ids as {model} {endpoint} {job} {op});
LEPTON.log is vertex_server.py's request log (GET /_control/log) while
lepton deployed, predicted and trained. For every request gcloud sent that
does work (a POST), lepton must have sent one with the same method and
path, and its body must carry every field the discovery document marks
required that gcloud's carried. Fields gcloud sends that are optional are
listed, not failed (gcloud fills in defaults: spot, logging flags).
Prints one line per request compared; exits 1 on any difference.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "data", "gcp", "aiplatform-v1-schemas.json")
KINDS = {"models": "{model}", "endpoints": "{endpoint}",
         "customJobs": "{job}", "operations": "{op}"}


def template(path):
    for kind, ph in KINDS.items():
        path = re.sub(r"/%s/[^/:]+" % kind, "/%s/%s" % (kind, ph), path)
    return path


def fields(v, pre=""):
    if isinstance(v, dict):
        for k, x in v.items():
            p = pre + "." + k if pre else k
            yield p
            yield from fields(x, p)
    elif isinstance(v, list):
        for x in v:
            yield from fields(x, pre + "[]")


def required(schemas, name, pre="", seen=()):
    """Dotted paths the schema marks required, through nested objects."""
    if name in seen:
        return set()
    out = set()
    for k, p in schemas.get(name, {}).get("properties", {}).items():
        path = pre + "." + k if pre else k
        if p.get("required") and not p.get("outputOnly"):
            out.add(path)
        ref = p.get("$ref") or p.get("items", {}).get("$ref")
        if ref:
            sub = path + ("[]" if "items" in p else "")
            out |= required(schemas, ref, sub, seen + (name,))
    return out


def method_of(doc, method, path):
    """The discovery method whose flatPath matches path."""
    for m in doc["methods"].values():
        if m["httpMethod"] != method:
            continue
        pat = re.sub(r"\{[^}]+\}", "[^/:]+", m["flatPath"])
        if re.fullmatch("/" + pat, path):
            return m
    return None


def main():
    doc = json.load(open(SCHEMAS))
    schemas = doc["schemas"]
    gcloud = []
    for line in open(sys.argv[1]):
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) < 2:
            continue
        fs = set(parts[2].split(",")) if len(parts) > 2 and parts[2] else set()
        gcloud.append((parts[0], parts[1], fs))
    lepton = {}
    for r in json.load(open(sys.argv[2])):
        if not r["path"].startswith("/v1"):
            continue
        key = (r["method"], template(r["path"]))
        fs = set(fields(r["body"])) if isinstance(r["body"], dict) else set()
        lepton.setdefault(key, []).append((r["path"], fs))
    bad = 0
    compared = 0
    for method, path, gfs in gcloud:
        if method != "POST":
            continue
        compared += 1
        got = lepton.get((method, path))
        if not got:
            print("not ok - lepton never sent %s %s" % (method, path))
            bad += 1
            continue
        m = method_of(doc, method, got[0][0])
        req = required(schemas, m["request"]) if m and m.get("request") \
            else set()
        want = (gfs & req) | {f for f in req if "." not in f and "[]" not in f}
        # A request lepton sent many times: the best of them.
        lfs = max((fs for _, fs in got), key=lambda fs: len(want & fs))
        missing = sorted(want - lfs)
        if missing:
            print("not ok - %s %s lacks required %s" % (method, path,
                                                      ", ".join(missing)))
            bad += 1
            continue
        extra = sorted(gfs - lfs)
        print("ok - %s %s: required fields as gcloud's%s" % (
            method, path, "; gcloud also sends " + ", ".join(extra)
            if extra else ""))
    if compared == 0:
        print("not ok - gcloud's sequence holds no POST to compare")
        bad += 1
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
