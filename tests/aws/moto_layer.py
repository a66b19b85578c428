#!/usr/bin/env python3
"""moto_layer.py: a thin HTTP layer in front of moto_server for the AWS suite.

moto stays the server of record: every request is forwarded to it byte for
byte (method, path, every header as received, Host included, and the body),
so moto's own SigV4 check (botocore's signer) verifies each one. The layer
adds only what moto 5.2 lacks:

  * validation: every SageMaker JSON body (X-Amz-Target: SageMaker.*) is
    checked against botocore's service model (botocore.validate's
    ParamValidator: types, required and unknown members, min lengths; no
    regex patterns, no enums) before it is forwarded; a bad one gets
    HTTP 400 ValidationException, as SageMaker answers, and is logged.
  * UpdateEndpoint: moto answers 500 (not implemented) once the signature
    passed. The layer then does what SageMaker would end with: the
    endpoint, deleted and made again in moto on the new config (moto's
    endpoints are InService at once), and answers {"EndpointArn": ...}.
    Both configs must exist, as SageMaker requires.
  * StopTrainingJob: forwarded (so its signature is checked); on moto's
    500 the layer records the job as stopped and answers {}; its later
    DescribeTrainingJob answers say Stopped.
  * Training output: moto reports ModelArtifacts.S3ModelArtifacts of a
    Completed job but writes no object there. On DescribeTrainingJob the
    layer puts a small model.tar.gz (model.json) there if none is.
  * Faults, set by the test through POST /layer/faults (JSON):
      {"op": "CreateEndpointConfig", "nth": 1, "status": 500,
       "code": "InternalFailure", "after": false}
    fails the nth call of op from now (after: forward it first, then
    answer the error: a reply lost after SageMaker acted);
      {"region": "us-east-1", "code": "ResourceLimitExceeded",
       "ops": ["CreateEndpoint", "CreateTrainingJob"]}
    refuses those ops signed for that region (capacity, for failover).
    A fault with "body" (text) answers that body with its status (200
    by default) and "ctype" (text/html): a proxy's page, a cut-off or
    wrongly shaped answer. A fault with "delay_s" forwards the call,
    logs "DELAYED op", then holds moto's answer that long (a client
    killed while SageMaker acts).
    GET /layer/calls: how many calls of each op came; POST /layer/reset.

usage: moto_layer.py UPSTREAM_URL PORTFILE LOGFILE
The layer's own calls to moto use AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
from its environment (the harness's keys).
"""
import http.client
import io
import json
import re
import sys
import tarfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator

UPSTREAM = sys.argv[1]
PORTFILE = sys.argv[2]
LOG = open(sys.argv[3], "a", buffering=1)
UP = urllib.parse.urlparse(UPSTREAM)
MODEL = botocore.session.get_session().get_service_model("sagemaker")
LOCK = threading.Lock()
CALLS = {}
FAULTS = []
STOPPED = set()


def log(msg):
    LOG.write(msg + "\n")


def client(service, region):
    return boto3.client(service, endpoint_url=UPSTREAM, region_name=region)


def region_of(headers):
    m = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", headers.get("Authorization", ""))
    return m.group(1) if m else "us-east-1"


def validate(op, body):
    try:
        shape = MODEL.operation_model(op).input_shape
    except Exception:
        return "unknown operation %s" % op
    try:
        params = json.loads(body or b"{}")
    except ValueError as e:
        return "body is not JSON: %s" % e
    if not isinstance(params, dict):
        return "body is not a JSON object"
    return ParamValidator().validate(params, shape).generate_report()


def take_fault(op, region):
    """The fault for this call of op, if one is set (and count the call)."""
    with LOCK:
        CALLS[op] = CALLS.get(op, 0) + 1
        for f in FAULTS:
            if "region" in f:
                if f["region"] == region and op in f.get("ops", []):
                    return f
            elif f.get("op") == op:
                f["seen"] = f.get("seen", 0) + 1
                if f["seen"] == f.get("nth", 1):
                    return f
    return None


def put_output(url, region):
    """What SageMaker writes at the end of a job and moto does not."""
    m = re.match(r"s3://([^/]+)/(.+)", url or "")
    if not m:
        return
    s3 = client("s3", region)
    try:
        s3.head_object(Bucket=m.group(1), Key=m.group(2))
        return
    except ClientError:
        pass
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as t:
        data = b'{"trained_by": "moto_layer", "accuracy": 0.97}\n'
        ti = tarfile.TarInfo("model.json")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    s3.put_object(Bucket=m.group(1), Key=m.group(2), Body=buf.getvalue())
    log("wrote training output %s" % url)


class Layer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, ctype="application/x-amz-json-1.1", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, msg):
        self.answer(status, {"__type": code, "message": msg},
                    headers=[("X-Amzn-Errortype", code)])

    def forward(self, body):
        conn = http.client.HTTPConnection(UP.hostname, UP.port, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True,
                        skip_accept_encoding=True)
        for k, v in self.headers.items():
            conn.putheader(k, v)
        conn.endheaders(body if body else None)
        r = conn.getresponse()
        data = r.read()
        hdrs = [(k, v) for k, v in r.getheaders()
                if k.lower() not in ("transfer-encoding", "content-length",
                                     "connection", "date", "server")]
        conn.close()
        return r.status, hdrs, data

    def relay(self, status, hdrs, data):
        self.send_response(status)
        for k, v in hdrs:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def control(self, body):
        if self.path == "/layer/faults" and self.command == "POST":
            with LOCK:
                FAULTS.append(json.loads(body))
            return self.answer(200, {"ok": True}, "application/json")
        if self.path == "/layer/calls":
            with LOCK:
                return self.answer(200, dict(CALLS), "application/json")
        if self.path == "/layer/reset" and self.command == "POST":
            with LOCK:
                FAULTS.clear()
                CALLS.clear()
            return self.answer(200, {"ok": True}, "application/json")
        return self.answer(404, {"error": "no such layer call"}, "application/json")

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path.startswith("/layer/"):
            return self.control(body)
        target = self.headers.get("X-Amz-Target", "")
        if not target.startswith("SageMaker."):
            return self.relay(*self.forward(body))
        op = target.split(".", 1)[1]
        region = region_of(self.headers)
        report = validate(op, body)
        if report:
            log("REFUSED %s: %s" % (op, report.replace("\n", "; ")))
            return self.error(400, "ValidationException", report)
        fault = take_fault(op, region)
        if fault and "body" in fault and not fault.get("after"):
            log("FAULT %s (%s) body" % (op, region))
            return self.answer(fault.get("status", 200),
                               fault["body"].encode(),
                               ctype=fault.get("ctype", "text/html"))
        if fault and "delay_s" in fault:
            status, hdrs, data = self.forward(body)
            log("DELAYED %s" % op)
            time.sleep(fault["delay_s"])
            return self.relay(status, hdrs, data)
        if fault and not fault.get("after"):
            log("FAULT %s (%s) before" % (op, region))
            return self.error(fault.get("status", 400 if "region" in fault else 500),
                              fault.get("code", "InternalFailure"),
                              "injected by moto_layer")
        status, hdrs, data = self.forward(body)
        if fault:
            log("FAULT %s after moto answered %d" % (op, status))
            return self.error(fault.get("status", 500),
                              fault.get("code", "InternalFailure"),
                              "injected by moto_layer after the call")
        if status == 500 and op in ("UpdateEndpoint", "StopTrainingJob"):
            return self.emulate(op, json.loads(body or b"{}"), region)
        if status == 200 and op == "DescribeTrainingJob":
            return self.describe_job(hdrs, data, region)
        return self.relay(status, hdrs, data)

    def emulate(self, op, p, region):
        sm = client("sagemaker", region)
        try:
            if op == "StopTrainingJob":
                sm.describe_training_job(TrainingJobName=p["TrainingJobName"])
                STOPPED.add(p["TrainingJobName"])
                log("emulated StopTrainingJob %s" % p["TrainingJobName"])
                return self.answer(200, {})
            sm.describe_endpoint_config(EndpointConfigName=p["EndpointConfigName"])
            old = sm.describe_endpoint(EndpointName=p["EndpointName"])
            sm.delete_endpoint(EndpointName=p["EndpointName"])
            sm.create_endpoint(EndpointName=p["EndpointName"],
                               EndpointConfigName=p["EndpointConfigName"])
            log("emulated UpdateEndpoint %s: %s -> %s" % (
                p["EndpointName"], old["EndpointConfigName"], p["EndpointConfigName"]))
            return self.answer(200, {"EndpointArn": old["EndpointArn"]})
        except ClientError as e:
            err = e.response["Error"]
            return self.error(400, err.get("Code", "ValidationException"),
                              err.get("Message", str(e)))

    def describe_job(self, hdrs, data, region):
        j = json.loads(data)
        if j.get("TrainingJobName") in STOPPED:
            j["TrainingJobStatus"] = "Stopped"
            j["SecondaryStatus"] = "Stopped"
            j.pop("ModelArtifacts", None)
            data = json.dumps(j).encode()
        elif j.get("TrainingJobStatus") == "Completed":
            put_output(j.get("ModelArtifacts", {}).get("S3ModelArtifacts"), region)
        return self.relay(200, hdrs, data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Layer)
    with open(PORTFILE + ".new", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    import os
    os.rename(PORTFILE + ".new", PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
