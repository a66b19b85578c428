#!/usr/bin/python3
"""vertex_server.py: a loopback Google Cloud for tests/gcp: the OAuth token
endpoint (token_server.py's JWT checks, imported), Vertex AI v1 (models,
endpoints, deploy/undeploy/predict, custom jobs, operations), the GCS JSON
API (buckets, media and resumable uploads, get/list/delete) and Cloud
Logging entries:list, all in memory, on 127.0.0.1 only.

Request bodies are checked against tests/data/gcp/aiplatform-v1-schemas.json
(trimmed from the discovery document by trim_discovery.py): unknown fields,
wrong JSON types and missing "Required." fields are refused with 400
INVALID_ARGUMENT as Google words it.

Usage: vertex_server.py --port-file F --key SA.json [--key ...]
           [--log REQLOG.jsonl] [--tls CERT KEY]

Test control, no auth:
  POST /_control        merge settings: {"pending": N, "job_seconds": [p, r],
                        "job_fail": "msg"|null, "page_size": N|null,
                        "faults": [{"method", "path" (regex, searched in the
                        path), "status", "retry_after", "pending" (the
                        operation it starts stays pending that many GETs),
                        "op_error": {code,
                        message}, "count"}]}; answers the settings
  POST /_control/reset  forget all resources, the log and settings (issued
                        tokens stay valid: gcloud caches its token)
  GET  /_control/log    the request log [{method, path, query, body,
                        content_type}], Authorization never recorded
  GET  /_control/state  models, endpoints, jobs, bucket objects
  A fault with "status" answers that error (Google JSON, Retry-After when
  given) before auth, /token included; one with "op_error" lets the call
  succeed but its Operation ends with that error and changes nothing.
  "faults" replaces the list; each fault is spent after "count" (1) hits.
  "job_seconds" and "job_fail" are taken by each job when it is created.
Custom jobs advance when read (GET, list, entries:list, /_control/state):
PENDING, RUNNING after pending_s, SUCCEEDED (or FAILED, error code 3)
after running_s more; :cancel makes it CANCELLING, and the next GET (or
list) of it shows CANCELLED. Operations are done at once, or after
"pending" GETs.
Ids are decimal counters: models from 1001, endpoints 2001, deployed
models 3001, custom jobs 4001, operations 5001 (or endpointId / modelId /
deployedModel.id when the request names one).
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import random
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import token_server  # noqa: E402  (its JWT verification, not a copy)
from cryptography.hazmat.primitives import serialization  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "data", "gcp", "aiplatform-v1-schemas.json")
V1 = "type.googleapis.com/google.cloud.aiplatform.v1."
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED",
          403: "PERMISSION_DENIED", 404: "NOT_FOUND", 405: "NOT_FOUND",
          409: "ALREADY_EXISTS", 412: "FAILED_PRECONDITION",
          429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED",
          503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
REASON = {400: "invalid", 401: "required", 403: "forbidden", 404: "notFound",
          409: "conflict", 412: "conditionNotMet", 429: "rateLimitExceeded",
          503: "backendError"}


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(s):
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$",
                 s)
    if not m:
        raise ValueError(s)
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    d = datetime.datetime.fromisoformat(m.group(1) + tz)
    return d.timestamp() + float(m.group(2) or 0)


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


class ApiError(Exception):
    def __init__(self, code, message, status=None, headers=()):
        Exception.__init__(self, message)
        self.code, self.message = code, message
        self.status = status or STATUS.get(code, "UNKNOWN")
        self.headers = list(headers)


def bad(msg):
    return ApiError(400, msg, "INVALID_ARGUMENT")


def precondition(msg):
    return ApiError(400, msg, "FAILED_PRECONDITION")


def notfound(msg):
    return ApiError(404, msg, "NOT_FOUND")


# ---------------------------------------------------------------- schemas

class Validator:
    def __init__(self, path):
        with open(path) as f:
            doc = json.load(f)
        self.schemas = doc["schemas"]
        self.methods = doc["methods"]

    def request(self, method, body, check_required=True):
        name = self.methods["projects.locations." + method]["request"]
        if not isinstance(body, dict):
            raise bad("Invalid JSON payload received. Expected an object.")
        self.obj(body, name, "", check_required)

    def obj(self, value, name, where, req):
        props = self.schemas[name]["properties"]
        for k, v in value.items():
            if k not in props:
                at = " at '%s'" % where if where else ""
                raise bad('Invalid JSON payload received. Unknown name "%s"%s:'
                          ' Cannot find field.' % (k, at))
            sub = (where + "." if where else "") + snake(k)
            self.value(v, props[k], sub, req)
        if req:
            for k, p in props.items():
                if p.get("required") and not p.get("outputOnly") and \
                        value.get(k) in (None, "", [], {}):
                    sub = (where + "." if where else "") + snake(k)
                    raise bad("List of found errors:\t1.Field: %s; Message: "
                              "Required field is not set.\t" % sub)

    def value(self, v, p, where, req):
        def wrong(what):
            return bad("Invalid value at '%s' (%s), %s" % (
                where, what, json.dumps(v)))
        if v is None:
            return
        if "$ref" in p:
            if p["$ref"] == "GoogleProtobufValue":
                return
            if not isinstance(v, dict):
                raise bad("Invalid JSON payload received. Unknown name \"\" at"
                          " '%s': Proto field is not repeating, cannot start "
                          "list." % where if isinstance(v, list) else
                          "Invalid value at '%s' (type.googleapis.com/%s), %s"
                          % (where, p["$ref"], json.dumps(v)))
            return self.obj(v, p["$ref"], where, req)
        t, fmt = p.get("type"), p.get("format")
        if t == "any":
            return
        if t == "array":
            if not isinstance(v, list):
                raise bad("Invalid value at '%s' (type.googleapis.com/list), "
                          "%s" % (where, json.dumps(v)))
            for i, x in enumerate(v):
                self.value(x, p["items"], "%s[%d]" % (where, i), req)
            return
        if t == "object":
            if not isinstance(v, dict):
                raise wrong("map")
            ap = p.get("additionalProperties")
            if isinstance(ap, dict):
                for k, x in v.items():
                    self.value(x, ap, "%s[%s]" % (where, json.dumps(k)), req)
            return
        if t == "boolean":
            if not isinstance(v, bool):
                raise wrong("TYPE_BOOL")
            return
        if t == "integer" or (t == "string" and fmt in ("int64", "uint64")):
            ok = (isinstance(v, int) and not isinstance(v, bool)) or \
                (isinstance(v, float) and v.is_integer()) or \
                (isinstance(v, str) and re.fullmatch(r"-?\d+", v))
            if not ok:
                raise wrong("TYPE_INT64" if fmt == "int64" else "TYPE_INT32")
            return
        if t == "number":
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise wrong("TYPE_DOUBLE")
            return
        if t == "string":
            if not isinstance(v, str):
                raise wrong("TYPE_STRING")
            if "enum" in p and v not in p["enum"]:
                raise wrong("TYPE_ENUM")
            if fmt == "byte":
                try:
                    base64.b64decode(v.replace("-", "+").replace("_", "/") +
                                     "=" * (-len(v) % 4), validate=True)
                except ValueError:
                    raise wrong("TYPE_BYTES")
            return


# ---------------------------------------------------------------- state

DEFAULTS = {"pending": 0, "job_seconds": [1.0, 2.0], "job_fail": None,
            "page_size": None, "faults": []}


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.tokens = set()
        self.reset()

    def reset(self):
        with self.lock:
            self.settings = json.loads(json.dumps(DEFAULTS))
            self.models, self.endpoints, self.jobs = {}, {}, {}
            self.ops, self.buckets, self.uploads = {}, {}, {}
            self.entries, self.log = [], []
            self.counters = {"model": 1000, "endpoint": 2000,
                             "deployed": 3000, "job": 4000, "op": 5000}

    def next_id(self, kind):
        self.counters[kind] += 1
        return str(self.counters[kind])

    def fault(self, method, path):
        for f in self.settings["faults"]:
            if f.get("method") and f["method"].upper() != method:
                continue
            if f.get("path") and not re.search(f["path"], path):
                continue
            if f.get("count", 1) <= 0:
                continue
            f["count"] = f.get("count", 1) - 1
            return f
        return None

    def entry(self, project, rtype, labels, text, t=None, log="", sev="INFO"):
        t = time.time() if t is None else t
        self.entries.append({
            "logName": "projects/%s/logs/%s" % (
                project, urllib.parse.quote(log, safe="")),
            "resource": {"type": rtype, "labels": labels},
            "textPayload": text, "timestamp": rfc3339(t),
            "receiveTimestamp": rfc3339(t + 0.05), "severity": sev,
            "insertId": secrets.token_hex(8), "_t": t,
            "_project": project})


# ---------------------------------------------------------------- handler

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    @property
    def st(self):
        return self.server.state

    # -- plumbing
    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send(self, code, body=b"", ctype="application/json; charset=UTF-8",
             headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, indent=2).encode()
        self.send_response(code)
        if code not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_error_json(self, e, gcs=False):
        err = {"code": e.code, "message": e.message}
        if gcs:
            err["errors"] = [{"message": e.message, "domain": "global",
                              "reason": REASON.get(e.code, "invalid")}]
        else:
            err["status"] = e.status
        self.send(e.code, {"error": err}, headers=e.headers)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def handle_any(self, method):
        raw = self.read_body()
        u = urllib.parse.urlsplit(self.path)
        self.rawpath = u.path
        path = urllib.parse.unquote(u.path)
        self.query = {k: v[-1] for k, v in
                      urllib.parse.parse_qs(u.query, keep_blank_values=True)
                      .items()}
        ctype = self.headers.get("Content-Type")
        gcs = path.startswith(("/storage/", "/upload/storage/",
                               "/download/storage/"))
        if path.startswith("/_control"):
            try:
                return self.control(method, path, raw)
            except ApiError as e:
                return self.send_error_json(e)
        body = None
        if raw and (ctype or "").split(";")[0].strip() == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        rec = {"method": method, "path": u.path, "query": self.query,
               "body": body, "content_type": ctype}
        with self.st.lock:
            self.st.log.append(rec)
            if self.server.logfile:
                self.server.logfile.write(json.dumps(rec) + "\n")
                self.server.logfile.flush()
        try:
            with self.st.lock:
                f = self.st.fault(method, path)
            if f and f.get("status"):
                hs = [("Retry-After", str(f["retry_after"]))] \
                    if "retry_after" in f else []
                raise ApiError(int(f["status"]), f.get(
                    "message", "The service is currently unavailable."),
                    headers=hs)
            if path == "/token" and method == "POST":
                return self.token(raw)
            self.auth()
            self.op_error = f.get("op_error") if f else None
            self.op_pending = f.get("pending") if f else None
            if raw and body is None and not gcs and \
                    not path.endswith(":rawPredict"):
                raise bad("Invalid JSON payload received. Unexpected token.")
            if gcs:
                return self.gcs(method, path, raw)
            m = re.match(r"^/(v1|v1beta1)/projects/([^/]+)/locations/"
                         r"([^/]+)/(.*)$", path)
            if m:
                with self.st.lock:
                    return self.vertex(method, m.group(1), m.group(2),
                                       m.group(3), m.group(4), body, raw)
            if path == "/v2/entries:list" and method == "POST":
                with self.st.lock:
                    return self.entries_list(body)
            raise notfound("The requested URL %s was not found on this "
                           "server." % u.path)
        except ApiError as e:
            self.send_error_json(e, gcs)
        except Exception as e:  # a bug here, not a client's fault: say so
            import traceback
            traceback.print_exc()
            self.send_error_json(ApiError(500, "test server bug: %r" % e),
                                 gcs)

    def token(self, raw):
        if (self.headers.get("Content-Type") or "").split(";")[0] != \
                "application/x-www-form-urlencoded":
            return self.send(400, {"error": "invalid_request",
                                   "error_description": "Bad Request"})
        form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True)
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        if one.get("grant_type") != token_server.GRANT_JWT:
            return self.send(400, {
                "error": "unsupported_grant_type",
                "error_description": "Invalid grant_type: %s" %
                one.get("grant_type")})
        try:
            _, claims = token_server.verify(one.get("assertion", ""),
                                            self.server.keys)
        except token_server.Refused as e:
            return self.send(400, {"error": "invalid_grant",
                                   "error_description": str(e)})
        if "target_audience" in claims:
            b64e = token_server.b64e
            tok = (b64e(b'{"alg":"RS256","typ":"JWT"}') + "." + b64e(
                json.dumps({"iss": "https://accounts.google.com",
                            "aud": claims["target_audience"],
                            "email": claims["iss"], "sub": "1",
                            "iat": claims["iat"],
                            "exp": claims["exp"]}).encode()) + ".c2ln")
            return self.send(200, {"id_token": tok})
        tok = "ya29.lepton-vertex-" + secrets.token_hex(16)
        with self.st.lock:
            self.st.tokens.add(tok)
        self.send(200, {"access_token": tok, "expires_in": 3599,
                        "token_type": "Bearer"})

    def auth(self):
        h = self.headers.get("Authorization") or ""
        m = re.match(r"^Bearer (\S+)$", h)
        with self.st.lock:
            good = m and m.group(1) in self.st.tokens
        if not good:
            raise ApiError(
                401, "Request had invalid authentication credentials. "
                "Expected OAuth 2 access token, login cookie or other valid "
                "authentication credential. See https://developers.google.com"
                "/identity/sign-in/web/devconsole-project.",
                headers=[("WWW-Authenticate",
                          'Bearer realm="https://accounts.google.com/"')])

    # -- control
    def control(self, method, path, raw):
        st = self.st
        with st.lock:
            if path == "/_control" and method == "POST":
                try:
                    upd = json.loads(raw or b"{}")
                except ValueError:
                    raise bad("control: body is not JSON")
                if not isinstance(upd, dict) or \
                        set(upd) - set(DEFAULTS):
                    raise bad("control: unknown settings %s" % sorted(
                        set(upd) - set(DEFAULTS)))
                st.settings.update(upd)
                return self.send(200, st.settings)
            if path == "/_control" and method == "GET":
                return self.send(200, st.settings)
            if path == "/_control/reset" and method == "POST":
                st.reset()
                return self.send(200, {})
            if path == "/_control/log" and method == "GET":
                return self.send(200, st.log)
            if path == "/_control/state" and method == "GET":
                for j in st.jobs.values():
                    self.advance(j)
                return self.send(200, {
                    "models": list(st.models.values()),
                    "endpoints": list(st.endpoints.values()),
                    "jobs": [j["job"] for j in st.jobs.values()],
                    "buckets": {b: sorted(v["objects"])
                                for b, v in st.buckets.items()},
                    "settings": st.settings})
        raise notfound("no such control path")

    # -- vertex
    def operation(self, parent, rtype, response, metatype=None):
        st = self.st
        oid = st.next_id("op")
        now = rfc3339(time.time())
        op = {"name": "%s/operations/%s" % (parent, oid), "done": False,
              "metadata": {"@type": V1 + (metatype or
                                          "GenericOperationMetadata"),
                           "genericMetadata": {"createTime": now,
                                               "updateTime": now}}}
        if metatype is None:
            op["metadata"] = {"@type": V1 + "GenericOperationMetadata",
                              "createTime": now, "updateTime": now}
        result = {"response": dict({"@type": rtype}, **response)}
        if self.op_error:
            result = {"error": dict({"code": 13, "message": "Internal error"},
                                    **self.op_error)}
        left = self.op_pending if self.op_pending is not None \
            else st.settings.get("pending")
        st.ops[oid] = {"op": op, "result": result, "left": int(left or 0)}
        if not st.ops[oid]["left"]:
            op["done"] = True
            op.update(result)
        return op

    def get_op(self, oid):
        o = self.st.ops.get(oid)
        if o is None:
            raise notfound("Operation does not exist.")
        if not o["op"]["done"]:
            o["left"] -= 1
            if o["left"] <= 0:
                o["op"]["done"] = True
                o["op"].update(o["result"])
        return o["op"]

    def find_model(self, parent, ref):
        mid = ref.rsplit("/", 1)[-1]
        m = self.st.models.get(mid)
        if m is None or not (ref == mid or ref == m["name"]):
            raise notfound("Model %s not found." % ref if "/" in ref else
                           "Model %s/models/%s not found." % (parent, ref))
        return m

    def find_endpoint(self, parent, eid):
        e = self.st.endpoints.get(eid)
        if e is None or not e["name"].startswith(parent + "/"):
            raise notfound("Endpoint %s/endpoints/%s not found." % (
                parent, eid))
        return e

    def vertex(self, method, ver, project, loc, rest, body, raw):
        parent = "projects/%s/locations/%s" % (project, loc)
        V = self.server.validator
        m = re.match(r"^operations/([^/:]+)$", rest)
        if m and method == "GET":
            return self.send(200, self.get_op(m.group(1)))
        if ver != "v1":
            raise notfound("The requested URL /%s/%s/%s was not found on this"
                           " server." % (ver, parent, rest))
        body = body if body is not None else {}
        st = self.st
        now = time.time()
        if rest == "models:upload" and method == "POST":
            V.request("models.upload", body)
            mid = body.get("modelId") or st.next_id("model")
            if mid in st.models:
                raise ApiError(409, "Model %s/models/%s already exists." % (
                    parent, mid))
            model = dict(body["model"])
            model.update({"name": "%s/models/%s" % (parent, mid),
                          "versionId": "1", "versionAliases": ["default"],
                          "createTime": rfc3339(now),
                          "updateTime": rfc3339(now),
                          "versionCreateTime": rfc3339(now),
                          "versionUpdateTime": rfc3339(now),
                          "supportedDeploymentResourcesTypes":
                          ["DEDICATED_RESOURCES"],
                          "etag": secrets.token_hex(6)})
            op = self.operation(parent, V1 + "UploadModelResponse",
                                {"model": model["name"],
                                 "modelVersionId": "1"},
                                "UploadModelOperationMetadata")
            if not self.op_error:
                st.models[mid] = model
            return self.send(200, op)
        m = re.match(r"^models/([^/:]+)$", rest)
        if m:
            model = self.find_model(parent, m.group(1))
            if method == "GET":
                return self.send(200, model)
            if method == "DELETE":
                for e in st.endpoints.values():
                    for d in e["deployedModels"]:
                        if d["model"] == model["name"]:
                            raise precondition(
                                "Model %s is deployed or being deployed at "
                                "the following Endpoint(s): %s." % (
                                    model["name"], e["name"]))
                op = self.operation(parent, "type.googleapis.com/google."
                                    "protobuf.Empty", {},
                                    "DeleteOperationMetadata")
                if not self.op_error:
                    del st.models[m.group(1)]
                return self.send(200, op)
        if rest == "endpoints" and method == "POST":
            V.request("endpoints.create", body)
            eid = self.query.get("endpointId") or st.next_id("endpoint")
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", eid):
                raise bad("Endpoint ID %s is invalid." % eid)
            if eid in st.endpoints:
                raise ApiError(409, "Endpoint %s/endpoints/%s already exists."
                               % (parent, eid))
            e = dict(body)
            if e.get("deployedModels") or e.get("trafficSplit"):
                raise bad("deployedModels and trafficSplit cannot be set "
                          "when creating an Endpoint.")
            e.update({"name": "%s/endpoints/%s" % (parent, eid),
                      "deployedModels": [], "trafficSplit": {},
                      "createTime": rfc3339(now), "updateTime": rfc3339(now),
                      "etag": secrets.token_hex(6)})
            op = self.operation(parent, V1 + "Endpoint", e,
                                "CreateEndpointOperationMetadata")
            if not self.op_error:
                st.endpoints[eid] = e
            return self.send(200, op)
        if rest == "endpoints" and method == "GET":
            return self.send(200, {"endpoints": [
                e for e in st.endpoints.values()
                if e["name"].startswith(parent + "/")]})
        m = re.match(r"^endpoints/([^/:]+)(?::([A-Za-z]+))?$", rest)
        if m:
            e = self.find_endpoint(parent, m.group(1))
            verb = m.group(2)
            if verb is None and method == "GET":
                return self.send(200, e)
            if verb is None and method == "DELETE":
                if e["deployedModels"]:
                    raise precondition(
                        "Endpoint %s has deployed models: undeploy them "
                        "before deleting the Endpoint." % e["name"])
                op = self.operation(parent, "type.googleapis.com/google."
                                    "protobuf.Empty", {},
                                    "DeleteOperationMetadata")
                if not self.op_error:
                    del st.endpoints[m.group(1)]
                return self.send(200, op)
            if verb is None and method == "PATCH":
                return self.patch_endpoint(e, body)
            if method == "POST" and verb == "deployModel":
                return self.deploy(parent, e, body)
            if method == "POST" and verb == "undeployModel":
                return self.undeploy(parent, e, body)
            if method == "POST" and verb in ("predict", "rawPredict"):
                return self.predict(project, e, verb, body, raw)
        if rest == "customJobs" and method == "POST":
            return self.create_job(project, parent, body)
        if rest == "customJobs" and method == "GET":
            jobs = [j for j in st.jobs.values()
                    if j["job"]["name"].startswith(parent + "/")]
            for j in jobs:
                self.advance(j, True)
            return self.send(200, {"customJobs": [j["job"] for j in jobs]})
        m = re.match(r"^customJobs/([^/:]+)(:cancel)?$", rest)
        if m:
            j = st.jobs.get(m.group(1))
            if j is None or not j["job"]["name"].startswith(parent + "/"):
                raise notfound("CustomJob %s/customJobs/%s not found." % (
                    parent, m.group(1)))
            if method == "GET" and not m.group(2):
                self.advance(j, True)
                return self.send(200, j["job"])
            if method == "POST" and m.group(2):
                V.request("customJobs.cancel", body)
                self.advance(j)
                s = j["job"]["state"]
                if s not in ("JOB_STATE_PENDING", "JOB_STATE_QUEUED",
                             "JOB_STATE_RUNNING"):
                    raise precondition(
                        "Cannot cancel CustomJob %s: it is in state %s." %
                        (j["job"]["name"], s))
                j["job"]["state"] = "JOB_STATE_CANCELLING"
                j["job"]["updateTime"] = rfc3339(now)
                j["cancelled"] = True
                return self.send(200, {})
        raise notfound("The requested URL /v1/%s/%s was not found on this "
                       "server (%s)." % (parent, rest, method))

    def check_split(self, split, ids):
        for k, v in split.items():
            if k not in ids:
                raise bad("Deployed model %s in traffic split is not deployed"
                          " on the endpoint." % k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise bad("Traffic split percentage must be a non-negative "
                          "integer.")
        if split and sum(split.values()) != 100:
            raise bad("Sum of all traffic split percentages must be 100, "
                      "got %d." % sum(split.values()))

    def patch_endpoint(self, e, body):
        self.server.validator.request("endpoints.patch", body,
                                      check_required=False)
        mask = [x for x in self.query.get("updateMask", "").split(",") if x]
        if not mask:
            raise bad("update_mask is required.")
        for f in mask:
            if f not in ("trafficSplit", "traffic_split", "displayName",
                         "display_name", "description", "labels"):
                raise bad("Unsupported field in update_mask: %s" % f)
            camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f)
            if camel == "trafficSplit":
                split = {k: int(v) for k, v in
                         (body.get("trafficSplit") or {}).items()}
                self.check_split(split, {d["id"] for d in e["deployedModels"]})
                if e["deployedModels"] and not split:
                    raise bad("Sum of all traffic split percentages must be "
                              "100, got 0.")
                e["trafficSplit"] = split
            elif camel == "displayName" and not body.get("displayName"):
                raise bad("display_name must not be empty.")
            else:
                e[camel] = body.get(camel)
        e["updateTime"] = rfc3339(time.time())
        e["etag"] = secrets.token_hex(6)
        return self.send(200, e)

    def deploy(self, parent, e, body):
        st = self.st
        self.server.validator.request("endpoints.deployModel", body)
        d = json.loads(json.dumps(body["deployedModel"]))
        if not d.get("model"):
            raise bad("List of found errors:\t1.Field: deployed_model.model; "
                      "Message: Required field is not set.\t")
        model = self.find_model(parent, d["model"])
        dr = d.get("dedicatedResources")
        if not dr:
            raise bad("Model %s does not support automatic resources: "
                      "dedicated_resources is required." % model["name"])
        ms = dr.get("machineSpec") or {}
        if not ms.get("machineType"):
            raise bad("Machine type must be specified.")
        if int(dr.get("minReplicaCount") or 0) < 1:
            raise bad("Min replica count must be at least 1.")
        if dr.get("maxReplicaCount") and \
                int(dr["maxReplicaCount"]) < int(dr["minReplicaCount"]):
            raise bad("Max replica count must be greater than or equal to "
                      "min replica count.")
        acc, n = ms.get("acceleratorType"), int(ms.get("acceleratorCount") or 0)
        if acc == "ACCELERATOR_TYPE_UNSPECIFIED":
            raise bad("Accelerator type ACCELERATOR_TYPE_UNSPECIFIED is not "
                      "supported.")
        if n > 0 and not acc:
            raise bad("Accelerator count is set but accelerator type is not.")
        if acc and n <= 0:
            raise bad("Accelerator count must be greater than 0 when an "
                      "accelerator type is set.")
        ids = {x["id"] for x in e["deployedModels"]}
        did = d.get("id") or st.next_id("deployed")
        if did in ids:
            raise ApiError(409, "Deployed model %s already exists." % did)
        split = {(did if k == "0" else k): int(v) for k, v in
                 (body.get("trafficSplit") or {}).items()}
        if split:
            self.check_split(split, ids | {did})
        elif not ids:
            split = {did: 100}
        else:
            split = dict(e["trafficSplit"])
        d.update({"id": did, "model": model["name"],
                  "modelVersionId": "1", "createTime": rfc3339(time.time())})
        d.setdefault("displayName", model.get("displayName"))
        op = self.operation(parent, V1 + "DeployModelResponse",
                            {"deployedModel": d},
                            "DeployModelOperationMetadata")
        if not self.op_error:
            e["deployedModels"].append(d)
            e["trafficSplit"] = split
            e["updateTime"] = rfc3339(time.time())
            ports = (model.get("containerSpec") or {}).get("ports") or []
            port = ports[0].get("containerPort", 8080) if ports else 8080
            st.entry(parent.split("/")[1], "aiplatform.googleapis.com/"
                     "Endpoint", self.ep_labels(e, did),
                     "model %s serving on %s" % (model.get("displayName"),
                                                 port),
                     log="aiplatform.googleapis.com/prediction_container")
        return self.send(200, op)

    def ep_labels(self, e, did):
        p = e["name"].split("/")
        return {"resource_container": p[1], "location": p[3],
                "endpoint_id": p[5], "deployed_model_id": did}

    def undeploy(self, parent, e, body):
        self.server.validator.request("endpoints.undeployModel", body)
        did = str(body["deployedModelId"])
        ids = [x["id"] for x in e["deployedModels"]]
        if did not in ids:
            raise notfound("Deployed model %s not found on endpoint %s." % (
                did, e["name"]))
        split = {k: int(v) for k, v in
                 (body.get("trafficSplit") or {}).items()}
        if split:
            self.check_split(split, set(ids))
        else:
            split = dict(e["trafficSplit"])
        others = [i for i in ids if i != did]
        if others and split.get(did, 0) > 0:
            raise precondition(
                "Model %s on endpoint %s still receives %d%% of the traffic:"
                " the traffic split must route it elsewhere before it can be"
                " undeployed." % (did, e["name"], split[did]))
        split.pop(did, None)
        if not others:
            split = {}
        op = self.operation(parent, V1 + "UndeployModelResponse", {},
                            "UndeployModelOperationMetadata")
        if not self.op_error:
            e["deployedModels"] = [x for x in e["deployedModels"]
                                   if x["id"] != did]
            e["trafficSplit"] = split
            e["updateTime"] = rfc3339(time.time())
        return self.send(200, op)

    def predict(self, project, e, verb, body, raw):
        if verb == "predict":
            self.server.validator.request("endpoints.predict", body)
            instances = body["instances"]
        else:
            try:
                got = json.loads(raw or b"null")
            except ValueError:
                got = raw.decode("utf-8", "replace")
            instances = got["instances"] if isinstance(got, dict) and \
                isinstance(got.get("instances"), list) else [got]
        if not e["deployedModels"]:
            raise precondition("Endpoint %s does not have any deployed models."
                               % e["name"])
        split = e["trafficSplit"]
        live = [(k, v) for k, v in sorted(split.items()) if v > 0]
        if not live:
            raise precondition("Endpoint %s has no traffic split to a "
                               "deployed model." % e["name"])
        full = [k for k, v in live if v == 100]
        if full:
            did = full[0]
        else:
            did = random.choices([k for k, _ in live],
                                 [v for _, v in live])[0]
        d = [x for x in e["deployedModels"] if x["id"] == did][0]
        mname = (self.st.models.get(d["model"].rsplit("/", 1)[-1]) or
                 {}).get("displayName", d.get("displayName"))
        self.st.entry(project, "aiplatform.googleapis.com/Endpoint",
                      self.ep_labels(e, did),
                      "predict %d instance(s)" % len(instances),
                      log="aiplatform.googleapis.com/prediction_container")
        return self.send(200, {
            "predictions": [{"deployedModelId": did,
                             "modelDisplayName": mname, "instance": i}
                            for i in instances],
            "deployedModelId": did, "model": d["model"],
            "modelDisplayName": mname, "modelVersionId": "1"})

    # -- custom jobs
    def create_job(self, project, parent, body):
        st = self.st
        self.server.validator.request("customJobs.create", body)
        pools = body["jobSpec"]["workerPoolSpecs"]
        for i, p in enumerate(pools):
            if p and not (p.get("machineSpec") or {}).get("machineType"):
                raise bad("job_spec.worker_pool_specs[%d].machine_spec."
                          "machine_type must be set." % i)
            if p and not (p.get("containerSpec") or p.get("pythonPackageSpec")):
                raise bad("job_spec.worker_pool_specs[%d]: one of "
                          "container_spec or python_package_spec must be set."
                          % i)
        jid = st.next_id("job")
        now = time.time()
        job = json.loads(json.dumps(body))
        job.update({"name": "%s/customJobs/%s" % (parent, jid),
                    "state": "JOB_STATE_PENDING", "createTime": rfc3339(now),
                    "updateTime": rfc3339(now)})
        ps, rs = st.settings["job_seconds"]
        st.jobs[jid] = {"job": job, "t0": now, "pending_s": float(ps),
                        "running_s": float(rs), "project": project,
                        "fail": st.settings.get("job_fail"), "id": jid}
        return self.send(200, job)

    def advance(self, j, read=False):
        """Move j on by the clock; read: a client's GET of it, which also
        turns CANCELLING into CANCELLED."""
        st, job = self.st, j["job"]
        now = time.time()
        t_run = j["t0"] + j["pending_s"]
        t_end = t_run + j["running_s"]
        labels = {"job_id": j["id"], "project_id": j["project"],
                  "task_name": "service"}
        log = "ml.googleapis.com/" + j["id"]
        if job["state"] == "JOB_STATE_CANCELLING":
            if read:
                job["state"] = "JOB_STATE_CANCELLED"
                job["endTime"] = job["updateTime"] = rfc3339(now)
                job["error"] = {"code": 1, "message": "CANCELED"}
                st.entry(j["project"], "ml_job", labels, "job cancelled",
                         now, log)
            return
        if job["state"] == "JOB_STATE_PENDING" and now >= t_run:
            job["state"] = "JOB_STATE_RUNNING"
            job["startTime"] = job["updateTime"] = rfc3339(t_run)
            spec = job["jobSpec"]["workerPoolSpecs"][0].get(
                "containerSpec") or {}
            st.entry(j["project"], "ml_job", labels, "job started", t_run, log)
            st.entry(j["project"], "ml_job", labels,
                     "args: %s" % json.dumps(spec.get("args") or []),
                     t_run + 0.001, log)
        if job["state"] == "JOB_STATE_RUNNING" and now >= t_end:
            job["endTime"] = job["updateTime"] = rfc3339(t_end)
            if j["fail"]:
                job["state"] = "JOB_STATE_FAILED"
                job["error"] = {"code": 3, "message": j["fail"]}
                st.entry(j["project"], "ml_job", labels,
                         "job failed: %s" % j["fail"], t_end, log, "ERROR")
                return
            job["state"] = "JOB_STATE_SUCCEEDED"
            out = ((job["jobSpec"].get("baseOutputDirectory") or {})
                   .get("outputUriPrefix") or "")
            m = re.match(r"^gs://([^/]+)/?(.*)$", out)
            if m:
                prefix = m.group(2)
                if prefix and not prefix.endswith("/"):
                    prefix += "/"
                spec = job["jobSpec"]["workerPoolSpecs"][0].get(
                    "containerSpec") or {}
                data = json.dumps({
                    "trained_by": job["name"], "args": spec.get("args") or [],
                    "env": [x.get("name") for x in spec.get("env") or []]},
                    indent=1).encode()
                b = st.buckets.setdefault(m.group(1), self.new_bucket(
                    m.group(1), j["project"], "US"))
                self.put_object(b, prefix + "model/model.json", data,
                                "application/json")
            st.entry(j["project"], "ml_job", labels, "job succeeded", t_end,
                     log)

    # -- logging
    def entries_list(self, body):
        if not isinstance(body, dict):
            raise bad("Invalid JSON payload received.")
        allowed = {"resourceNames", "projectIds", "filter", "orderBy",
                   "pageSize", "pageToken"}
        for k in body:
            if k not in allowed:
                raise bad('Invalid JSON payload received. Unknown name "%s":'
                          ' Cannot find field.' % k)
        names = body.get("resourceNames") or [
            "projects/" + p for p in body.get("projectIds") or []]
        if not names:
            raise bad("resource_names is required.")
        projects = set()
        for n in names:
            m = re.fullmatch(r"projects/([^/]+)", n)
            if not m:
                raise bad("Unsupported resource name: %s" % n)
            projects.add(m.group(1))
        for j in self.st.jobs.values():
            self.advance(j)
        tests = []
        filt = (body.get("filter") or "").strip()
        for term in [t.strip() for t in re.split(r"\s+AND\s+", filt)
                     if t.strip()] if filt else []:
            m = re.fullmatch(r'(resource\.type|resource\.labels\.[A-Za-z_]+)'
                             r'\s*=\s*"([^"\\]*)"', term)
            if m:
                key, want = m.group(1), m.group(2)
                if key == "resource.type":
                    tests.append(lambda e, w=want: e["resource"]["type"] == w)
                else:
                    lab = key.split(".", 2)[2]
                    tests.append(lambda e, lab=lab, w=want:
                                 e["resource"]["labels"].get(lab) == w)
                continue
            m = re.fullmatch(r'timestamp\s*(>=|>)\s*"([^"]*)"', term)
            if m:
                try:
                    t = parse_rfc3339(m.group(2))
                except ValueError:
                    raise bad("Invalid timestamp in filter: %s" % m.group(2))
                if m.group(1) == ">":
                    tests.append(lambda e, t=t: e["_t"] > t)
                else:
                    tests.append(lambda e, t=t: e["_t"] >= t)
                continue
            raise bad("Unsupported filter expression (this test server knows"
                      " resource.type=, resource.labels.K=, timestamp>/>= "
                      "joined by AND): %s" % term)
        order = (body.get("orderBy") or "timestamp asc").strip()
        if order not in ("timestamp asc", "timestamp desc", "timestamp"):
            raise bad("Invalid order_by: %s" % order)
        got = [e for e in self.st.entries if e["_project"] in projects and
               all(t(e) for t in tests)]
        got.sort(key=lambda e: e["_t"], reverse=order == "timestamp desc")
        size = int(body.get("pageSize") or self.st.settings.get("page_size")
                   or 1000)
        start = 0
        if body.get("pageToken"):
            try:
                start = int(base64.urlsafe_b64decode(body["pageToken"]))
            except ValueError:
                raise bad("Invalid page token.")
        page = got[start:start + size]
        res = {"entries": [{k: v for k, v in e.items()
                            if not k.startswith("_")} for e in page]}
        if start + size < len(got):
            res["nextPageToken"] = base64.urlsafe_b64encode(
                str(start + size).encode()).decode()
        return self.send(200, res)

    # -- GCS
    def new_bucket(self, name, project, location):
        now = rfc3339(time.time())
        return {"meta": {"kind": "storage#bucket", "id": name, "name": name,
                         "selfLink": "%s/storage/v1/b/%s" % (self.base(),
                                                             name),
                         "projectNumber": "123456789012",
                         "location": (location or "US").upper(),
                         "storageClass": "STANDARD", "locationType": "region",
                         "timeCreated": now, "updated": now,
                         "metageneration": "1", "etag": "CAE="},
                "objects": {}, "project": project}

    def base(self):
        return "%s://%s" % ("https" if self.server.tls else "http",
                            self.headers.get("Host") or "127.0.0.1:%d" %
                            self.server.server_address[1])

    def put_object(self, b, name, data, ctype):
        gen = str(int(time.time() * 1e6))
        now = rfc3339(time.time())
        bn = b["meta"]["name"]
        q = urllib.parse.quote(name, safe="")
        meta = {"kind": "storage#object", "id": "%s/%s/%s" % (bn, name, gen),
                "selfLink": "%s/storage/v1/b/%s/o/%s" % (self.base(), bn, q),
                "mediaLink": "%s/download/storage/v1/b/%s/o/%s?generation=%s&"
                "alt=media" % (self.base(), bn, q, gen),
                "name": name, "bucket": bn, "generation": gen,
                "metageneration": "1",
                "contentType": ctype or "application/octet-stream",
                "storageClass": "STANDARD", "size": str(len(data)),
                "md5Hash": base64.b64encode(hashlib.md5(data).digest())
                .decode(),
                "crc32c": base64.b64encode(crc32c(data).to_bytes(4, "big"))
                .decode(),
                "etag": base64.b64encode(gen.encode()).decode(),
                "timeCreated": now, "updated": now,
                "timeStorageClassUpdated": now}
        b["objects"][name] = (data, meta)
        return meta

    def bucket(self, name):
        b = self.st.buckets.get(name)
        if b is None:
            raise notfound("The specified bucket does not exist.")
        return b

    def gcs(self, method, path, raw):
        st, q = self.st, self.query
        with st.lock:
            if path == "/storage/v1/b":
                if not q.get("project") and method in ("GET", "POST"):
                    raise bad("Required parameter: project")
                if method == "GET":
                    return self.send(200, {"kind": "storage#buckets",
                                           "items": [
                        b["meta"] for b in st.buckets.values()
                        if b["project"] == q["project"]]})
                if method == "POST":
                    try:
                        body = json.loads(raw or b"{}")
                    except ValueError:
                        raise bad("Parse Error")
                    name = body.get("name") if isinstance(body, dict) else None
                    if not name:
                        raise bad("Required")
                    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]",
                                        name):
                        raise bad("Invalid bucket name: '%s'" % name)
                    if name in st.buckets:
                        raise ApiError(409, "Your previous request to create "
                                       "the named bucket succeeded and you "
                                       "already own it.")
                    st.buckets[name] = self.new_bucket(
                        name, q["project"], body.get("location"))
                    return self.send(200, st.buckets[name]["meta"])
            # bucket and object paths: split the raw path so %2F in names stays
            rp = self.rawpath
            m = re.fullmatch(r"/storage/v1/b/([^/]+)", rp)
            if m and method == "GET":
                return self.send(200, self.bucket(
                    urllib.parse.unquote(m.group(1)))["meta"])
            m = re.fullmatch(r"/upload/storage/v1/b/([^/]+)/o", rp)
            if m:
                return self.upload(method, self.bucket(
                    urllib.parse.unquote(m.group(1))), raw)
            m = re.fullmatch(r"/storage/v1/b/([^/]+)/o", rp)
            if m and method == "GET":
                return self.list_objects(self.bucket(
                    urllib.parse.unquote(m.group(1))))
            m = re.fullmatch(r"/(storage|download/storage)/v1/b/([^/]+)/o/(.+)",
                             rp)
            if m:
                b = self.bucket(urllib.parse.unquote(m.group(2)))
                name = urllib.parse.unquote(m.group(3))
                obj = b["objects"].get(name)
                if obj is None:
                    raise notfound("No such object: %s/%s" % (
                        b["meta"]["name"], name))
                if method == "GET":
                    if q.get("alt") == "media" or m.group(1) != "storage":
                        return self.send(200, obj[0], obj[1]["contentType"], [
                            ("X-Goog-Generation", obj[1]["generation"]),
                            ("X-Goog-Hash", "crc32c=%s,md5=%s" % (
                                obj[1]["crc32c"], obj[1]["md5Hash"]))])
                    return self.send(200, obj[1])
                if method == "DELETE" and m.group(1) == "storage":
                    del b["objects"][name]
                    return self.send(204)
        raise notfound("Not Found")

    def upload(self, method, b, raw):
        st, q = self.st, self.query
        kind = q.get("uploadType")
        if method == "POST" and kind == "media":
            if not q.get("name"):
                raise bad("Required: name")
            meta = self.put_object(b, q["name"], raw,
                                   self.headers.get("Content-Type"))
            return self.send(200, meta)
        if method == "POST" and kind == "resumable":
            body = {}
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise bad("Parse Error")
            name = q.get("name") or body.get("name")
            if not name:
                raise bad("Required: name")
            uid = secrets.token_urlsafe(24)
            st.uploads[uid] = {"bucket": b, "name": name, "data": b"",
                               "ctype": body.get("contentType") or
                               self.headers.get("X-Upload-Content-Type")}
            loc = "%s/upload/storage/v1/b/%s/o?uploadType=resumable&" \
                "name=%s&upload_id=%s" % (self.base(), b["meta"]["name"],
                                          urllib.parse.quote(name, safe=""),
                                          uid)
            return self.send(200, b"", "text/plain",
                             [("Location", loc), ("X-GUploader-UploadID",
                                                  uid)])
        if method == "PUT" and kind == "resumable":
            u = st.uploads.get(q.get("upload_id", ""))
            if u is None:
                raise notfound("No such upload session.")
            if u.get("done"):
                return self.send(200, u["done"])
            cr = self.headers.get("Content-Range")
            have = len(u["data"])
            if cr is None:
                total = have + len(raw)
                first = have
            else:
                m = re.fullmatch(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)",
                                 cr.strip())
                if not m:
                    raise bad("Failed to parse Content-Range header.")
                total = None if m.group(4) == "*" else int(m.group(4))
                if m.group(1) == "*":
                    if raw:
                        raise bad("Content-Range */N carries no bytes.")
                    first = have
                else:
                    first, last = int(m.group(2)), int(m.group(3))
                    if last - first + 1 != len(raw):
                        raise bad("Content-Range %s does not match the %d "
                                  "bytes sent." % (cr, len(raw)))
                    if first != have:
                        raise precondition(
                            "Invalid request. The Content-Range starts at %d"
                            " but %d bytes were received." % (first, have))
            u["data"] += raw
            n = len(u["data"])
            if total is not None and n > total:
                raise bad("More bytes than the declared total.")
            if total is not None and n == total:
                meta = self.put_object(u["bucket"], u["name"], u["data"],
                                       u["ctype"] or "application/"
                                       "octet-stream")
                u["done"] = meta
                return self.send(200, meta)
            hs = [("Range", "bytes=0-%d" % (n - 1))] if n else []
            return self.send(308, b"", "text/plain", hs)
        raise bad("Unsupported uploadType: %s" % kind)

    def list_objects(self, b):
        q = self.query
        prefix, delim = q.get("prefix", ""), q.get("delimiter")
        names = sorted(n for n in b["objects"] if n.startswith(prefix))
        items, prefixes = [], []
        for n in names:
            if delim and delim in n[len(prefix):]:
                p = n[:len(prefix) + n[len(prefix):].index(delim) + 1]
                if p not in prefixes:
                    prefixes.append(p)
                continue
            items.append(n)
        size = int(q.get("maxResults") or self.st.settings.get("page_size")
                   or 1000)
        size = min(size, int(self.st.settings.get("page_size") or size))
        start = 0
        if q.get("pageToken"):
            try:
                start = int(base64.urlsafe_b64decode(q["pageToken"]))
            except ValueError:
                raise bad("Invalid page token.")
        page = items[start:start + size]
        res = {"kind": "storage#objects",
               "items": [b["objects"][n][1] for n in page]}
        if not page:
            del res["items"]
        if prefixes and start == 0:
            res["prefixes"] = prefixes
        if start + size < len(items):
            res["nextPageToken"] = base64.urlsafe_b64encode(
                str(start + size).encode()).decode()
        return self.send(200, res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", action="append", default=[], required=True)
    ap.add_argument("--log")
    ap.add_argument("--schemas", default=SCHEMAS)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    opts = ap.parse_args()
    keys = {}
    for path in opts.key:
        with open(path) as f:
            k = json.load(f)
        priv = serialization.load_pem_private_key(
            k["private_key"].encode(), password=None)
        keys[k["client_email"]] = priv.public_key()   # only the public half
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.keys, srv.state = keys, State()
    srv.validator = Validator(opts.schemas)
    srv.logfile = open(opts.log, "a") if opts.log else None
    srv.tls = bool(opts.tls)
    if opts.tls:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*opts.tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(opts.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(opts.port_file + ".tmp", opts.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
