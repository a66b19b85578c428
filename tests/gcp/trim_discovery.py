#!/usr/bin/python3
"""trim_discovery.py SRC OUT: keep from the aiplatform v1 discovery document
only what tests/gcp/vertex_server.py validates with: the methods it serves
(httpMethod, flatPath, request/response types) and the schemas reachable
from their request and response types. Descriptions are dropped; a field
whose description starts with "Required." gets "required": true. The
header names the source's git blob SHA-1 and the document's revision, so a
regenerated copy can be checked against its source:
  tests/gcp/trim_discovery.py /work/shared/apis/gcp/aiplatform.v1.json \
      tests/data/gcp/aiplatform-v1-schemas.json
"""
import hashlib
import json
import sys

METHODS = [
    "projects.locations.models.upload", "projects.locations.models.get",
    "projects.locations.models.delete",
    "projects.locations.endpoints.create", "projects.locations.endpoints.get",
    "projects.locations.endpoints.delete",
    "projects.locations.endpoints.patch",
    "projects.locations.endpoints.deployModel",
    "projects.locations.endpoints.undeployModel",
    "projects.locations.endpoints.predict",
    "projects.locations.endpoints.rawPredict",
    "projects.locations.customJobs.create",
    "projects.locations.customJobs.get", "projects.locations.customJobs.list",
    "projects.locations.customJobs.cancel",
    "projects.locations.operations.get",
]
EXTRA = ["GoogleCloudAiplatformV1DeployModelResponse",
         "GoogleCloudAiplatformV1UploadModelResponse"]
KEEP = ("type", "format", "$ref", "items", "additionalProperties", "enum")


def slim(p):
    out = {k: p[k] for k in KEEP if k in p}
    if "items" in out:
        out["items"] = slim(out["items"])
    if isinstance(out.get("additionalProperties"), dict):
        out["additionalProperties"] = slim(out["additionalProperties"])
    d = p.get("description", "")
    if d.startswith("Required."):
        out["required"] = True
    if d.startswith("Output only."):
        out["outputOnly"] = True
    return out


def refs(p):
    if "$ref" in p:
        yield p["$ref"]
    for k in ("items", "additionalProperties"):
        if isinstance(p.get(k), dict):
            yield from refs(p[k])


def main():
    src, out = sys.argv[1], sys.argv[2]
    raw = open(src, "rb").read()
    doc = json.loads(raw)
    methods, todo = {}, list(EXTRA)
    for mid in METHODS:
        parts = mid.split(".")
        node = doc
        for r in parts[:-1]:
            node = node["resources"][r]
        m = node["methods"][parts[-1]]
        assert m["id"] == "aiplatform." + mid, m["id"]
        methods[mid] = {"httpMethod": m["httpMethod"],
                        "flatPath": m["flatPath"], "path": m["path"]}
        for k in ("request", "response"):
            if k in m:
                methods[mid][k] = m[k]["$ref"]
                todo.append(m[k]["$ref"])
    schemas = {}
    while todo:
        name = todo.pop()
        if name in schemas:
            continue
        s = doc["schemas"][name]
        props = {k: slim(v) for k, v in s.get("properties", {}).items()}
        schemas[name] = {"type": s.get("type", "object"), "properties": props}
        for v in s.get("properties", {}).values():
            todo.extend(refs(v))
    blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
    res = {"source": {"file": "aiplatform.v1.json", "id": doc["id"],
                      "revision": doc["revision"], "git_blob_sha1": blob,
                      "generator": "tests/gcp/trim_discovery.py"},
           "methods": methods, "schemas": dict(sorted(schemas.items()))}
    with open(out, "w") as f:
        json.dump(res, f, indent=0, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()
