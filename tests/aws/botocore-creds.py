#!/usr/bin/env python3
"""botocore-creds.py [-w] [PROFILE]: what botocore's default credential
chain resolves, as JSON with the field names tests/aws/aws_creds_main.c
prints (method, AccessKeyId, SecretAccessKey, SessionToken, Expiration as
RFC 3339 UTC seconds, Region). -w adds STS GetCallerIdentity's Arn. With
PROFILE it acts as `aws --profile PROFILE`. Errors: exit 1,
{"error": CLASS, "message": botocore's text}."""
import json
import sys

import botocore.session

args = sys.argv[1:]
who = bool(args) and args[0] == "-w"
if who:
    args = args[1:]
try:
    s = botocore.session.Session(profile=args[0] if args else None)
    c = s.get_credentials()
    if c is None:
        raise RuntimeError("Unable to locate credentials")
    f = c.get_frozen_credentials()
    exp = getattr(c, "_expiry_time", None)
    out = {"method": c.method, "AccessKeyId": f.access_key,
           "SecretAccessKey": f.secret_key, "SessionToken": f.token,
           "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ") if exp else None,
           "Region": s.get_config_variable("region")}
    if who:
        out["Arn"] = s.create_client("sts").get_caller_identity()["Arn"]
    print(json.dumps(out, indent=1))
except Exception as e:  # botocore's own message is the expected text
    print(json.dumps({"error": type(e).__name__, "message": str(e)}, indent=1))
    sys.exit(1)
