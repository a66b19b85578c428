#!/usr/bin/env python3
"""creds.py: lib/aws's credential chain (AWS_CREDS, tests/aws/aws_creds_main.c)
next to botocore's (botocore-creds.py), case by case, with the same throwaway
HOME and an otherwise empty environment; STS is moto with signature checking
(tests/engines/aws, its export lines in the environment), SSO a loopback
recorder (sso-rec.py). Prints one line per case, never a secret; exit 1 if
any case fails. Cases: /work/shared/engines/aws-credentials.md."""
import json
import os
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
C = os.environ["AWS_CREDS"]
TMP = os.environ["AWS_TEST_DIR"]
H = os.path.join(TMP, "home")
EP = os.environ["AWS_ENDPOINT_URL"]
ROLE = os.environ["MOTO_ROLE_ARN"]
REC_LOG = os.path.join(TMP, "sso-rec.log")
SECRET_FIELDS = ("SecretAccessKey", "SessionToken")
passed = failed = 0


def write(path, text, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def base_env(extra):
    e = {"PATH": os.environ["PATH"], "HOME": H,
         "AWS_EC2_METADATA_DISABLED": "true",
         "LEPTON_HOME": os.path.join(TMP, "lepton")}
    for k in ("PYENV_ROOT", "PYENV_VERSION"):
        if k in os.environ:
            e[k] = os.environ[k]
    e.update(extra)
    return e


def run(cmd, env):
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    dt = time.monotonic() - t
    try:
        out = json.loads(p.stdout)
    except ValueError:
        out = {"error": "bad-output", "message": (p.stdout + p.stderr)[:300]}
    return p.returncode, out, dt, p.stderr


# AWS_CREDS_WRAP: a command to run the program under (valgrind ...); what
# it reports on stderr fails the case.
WRAP = os.environ.get("AWS_CREDS_WRAP", "").split()


def ours(env, profile=None, who=False):
    return run(WRAP + [C] + (["-w"] if who else []) + ([profile] if profile else []),
               base_env(env))


def boto(env, profile=None, who=False):
    return run([sys.executable, os.path.join(HERE, "botocore-creds.py")] +
               (["-w"] if who else []) + ([profile] if profile else []),
               base_env(env))


def report(name, problems):
    global passed, failed
    if problems:
        failed += 1
        print("FAIL %s: %s" % (name, "; ".join(problems)))
    else:
        passed += 1
        print("ok   %s" % name)


def show(field, v):
    if field in SECRET_FIELDS and v is not None:
        return "<%d chars>" % len(v)
    return repr(v)


def case(name, env=None, profile=None, fields=("method", "AccessKeyId",
         "SecretAccessKey", "SessionToken", "Expiration", "Region"),
         needle=None, who=False, expect=None, check=None):
    """Both resolve the same (fields equal), or both fail and each message
    holds needle (case-insensitive). expect: values ours must have where
    botocore differs on purpose (documented deviations)."""
    env = env or {}
    rc_c, c, _, err_c = ours(env, profile, who)
    rc_b, b, _, _ = boto(env, profile, who)
    problems = []
    if err_c.strip():
        problems.append("aws_creds wrote to stderr")
    if needle is not None:
        for who_, rc, out in (("lepton", rc_c, c), ("botocore", rc_b, b)):
            if rc == 0 or needle.lower() not in out.get("message", "").lower():
                problems.append("%s: want an error with %r, got %s" % (
                    who_, needle, out.get("message") if rc else "success"))
        return report(name, problems)
    if rc_c != 0 or rc_b != 0:
        problems.append("lepton: %s; botocore: %s" % (
            c.get("message", "ok"), b.get("message", "ok")))
        return report(name, problems)
    for f in fields:
        want = (expect or {}).get(f, b.get(f))
        if c.get(f) != want:
            problems.append("%s: lepton %s, botocore %s" % (
                f, show(f, c.get(f)), show(f, b.get(f))))
    if check is not None:
        problems += check(c, b)
    report(name, problems)
    return c, b


def main():
    os.makedirs(os.path.join(H, ".aws", "sso", "cache"), exist_ok=True)
    write(os.path.join(H, ".aws", "credentials"), open(
        os.path.join(HERE, "..", "data", "aws", "credentials")).read().replace(
        "@BASE_KEY@", os.environ["AWS_ACCESS_KEY_ID"]).replace(
        "@BASE_SECRET@", os.environ["AWS_SECRET_ACCESS_KEY"]))
    write(os.path.join(H, ".aws", "config"), open(
        os.path.join(HERE, "..", "data", "aws", "config")).read().replace(
        "@ROLE@", ROLE).replace("@H@", H))
    write(os.path.join(H, "proc.sh"), "#!/bin/sh\n"
          'echo "called with: $*" >&2\n'
          'echo \'{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": '
          '"procsecret", "SessionToken": "proctoken", "Expiration": '
          '"2099-01-01T00:00:00Z"}\'\n', 0o700)
    write(os.path.join(H, "proc v2.sh"), "#!/bin/sh\n"
          'echo \'{"Version": 2, "AccessKeyId": "AKIAPROC", '
          '"SecretAccessKey": "procsecret"}\'\n', 0o700)
    write(os.path.join(H, "procfail.sh"), "#!/bin/sh\n"
          'echo "called with: $*" >&2\nexit 3\n', 0o700)
    # Arguments as the process saw them, in the key: the line's splitting.
    write(os.path.join(H, "procargs.sh"), "#!/bin/sh\n"
          'b=$(printf %s "$2" | tr \'"\\\\\' QB)\n'
          'printf \'{"Version": 1, "AccessKeyId": "AKIA%s|%s|%s|%s", '
          '"SecretAccessKey": "s"}\' "$#" "$1" "$b" "$3"\n', 0o700)
    write(os.path.join(H, "tok"), "web-identity-token\n", 0o644)

    envk = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "envsecret"}
    case("env keys, token and region", dict(envk, AWS_SESSION_TOKEN="envtok",
         AWS_DEFAULT_REGION="eu-west-1"))
    case("env keys with an expiry", dict(envk, AWS_CREDENTIAL_EXPIRATION=
         "2099-01-01T00:00:00Z"))
    case("partial env keys", {"AWS_ACCESS_KEY_ID": "AKIAENV"},
         needle="Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY")
    case("default profile, credentials file")
    case("--profile dev: credentials file beats config keys", profile="dev")
    case("--profile cfgonly: config keys, [default] region not inherited",
         profile="cfgonly")
    case("AWS_PROFILE=dev: env keys win, the profile's region",
         dict(envk, AWS_PROFILE="dev"))
    case("--profile dev drops env keys", envk, profile="dev")
    case("AWS_PROFILE=nosuch is an error even with env keys",
         dict(envk, AWS_PROFILE="nosuch"),
         needle="The config profile (nosuch) could not be found")
    case("--profile nosuch", profile="nosuch",
         needle="The config profile (nosuch) could not be found")
    case("AWS_DEFAULT_REGION beats the profile's",
         {"AWS_DEFAULT_REGION": "ap-south-1"}, profile="dev")
    case("AWS_REGION beats AWS_DEFAULT_REGION (deviation: botocore 1.43 "
         "ignores AWS_REGION)", {"AWS_REGION": "ap-south-2",
         "AWS_DEFAULT_REGION": "ap-south-1"}, profile="dev",
         expect={"Region": "ap-south-2"})
    case("no credentials anywhere", {"HOME": os.path.join(TMP, "nohome")},
         needle="Unable to locate credentials")
    case("config: comments, 'key: value', nested sub-sections", profile="ini")
    write(os.path.join(H, "alt-config"), "[profile alt]\nregion = sa-east-1\n")
    write(os.path.join(H, "alt-creds"), "[alt]\naws_access_key_id = AKIAALT\n"
          "aws_secret_access_key = altsecret\n")
    case("AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE",
         {"AWS_CONFIG_FILE": os.path.join(H, "alt-config"),
          "AWS_SHARED_CREDENTIALS_FILE": os.path.join(H, "alt-creds")},
         profile="alt")

    # assume-role against moto: both get keys that STS accepts, same ARN.
    sts = {"AWS_ENDPOINT_URL": EP}
    arn = lambda c, b: [] if c.get("Arn") == b.get("Arn") and c.get("Arn", "").endswith(
        "assumed-role/MLRole/lepton-test") else ["Arn: lepton %r botocore %r" % (
            c.get("Arn"), b.get("Arn"))]
    case("assume-role (source_profile, moto with SigV4 checking)", sts,
         profile="ml", who=True, fields=("method", "Region", "Arn"), check=arn)
    cache = os.path.join(TMP, "lepton", "cache", "aws")
    files = os.listdir(cache) if os.path.isdir(cache) else []
    modes = [stat.S_IMODE(os.stat(os.path.join(cache, f)).st_mode) for f in files]
    report("assume-role cache: one file, 0600, in a 0700 directory",
           [] if len(files) == 1 and modes == [0o600] and stat.S_IMODE(
               os.stat(cache).st_mode) == 0o700 else ["%s %s" % (files, modes)])
    rc1, c1, _, _ = ours(sts, "ml")
    rc2, c2, _, _ = ours(sts, "ml")
    report("assume-role cache: the second run reuses the keys",
           [] if rc1 == rc2 == 0 and c1["AccessKeyId"] == c2["AccessKeyId"]
           else ["keys differ"])
    case("assume-role, default session name botocore-session-<unix>", sts,
         profile="ml3", who=True, fields=("method", "Region"),
         check=lambda c, b: [] if
         "assumed-role/MLRole/botocore-session-" in c.get("Arn", "") and
         "assumed-role/MLRole/botocore-session-" in b.get("Arn", "") else
         ["Arn: lepton %r botocore %r" % (c.get("Arn"), b.get("Arn"))])
    # MLRole trusts the user only: the second hop is refused to both, which
    # shows that each signed it with the first hop's keys.
    case("assume-role chain: source_profile that assumes a role", sts,
         profile="ml2", needle="assumed-role/MLRole/src is not authorized")
    case("assume-role with a wrong source secret", sts, profile="mlbad",
         needle="SignatureDoesNotMatch")

    # credential_process
    case("credential_process", profile="proc")
    case("credential_process: quotes, no shell", profile="procargs")
    case("credential_process Version 2", profile="procv2",
         needle="Unsupported version '2' for credential process provider, "
         "supported versions: 1")
    case("credential_process failing: its stderr", profile="procfail",
         needle="called with: arg1")

    # SSO against the recorder
    import hashlib
    ssoenv = {"AWS_ENDPOINT_URL_SSO": "http://127.0.0.1:" + open(
        os.path.join(TMP, "sso-rec.port")).read()}
    tokdir = os.path.join(H, ".aws", "sso", "cache")
    def token(key, url, exp):
        write(os.path.join(tokdir, hashlib.sha1(key.encode()).hexdigest() + ".json"),
              json.dumps({"startUrl": url, "region": "us-east-1",
                          "accessToken": "TOKEN123", "expiresAt": exp}))
    near = lambda c, b: [] if abs(int(time.mktime(time.strptime(c["Expiration"],
        "%Y-%m-%dT%H:%M:%SZ"))) - int(time.mktime(time.strptime(b["Expiration"],
        "%Y-%m-%dT%H:%M:%SZ")))) <= 5 else ["Expiration differs"]
    case("sso (sso-session), token missing", ssoenv, profile="sso",
         needle="Token for corp does not exist")
    token("corp", "https://corp.awsapps.com/start", "2099-01-01T00:00:00Z")
    open(REC_LOG, "w").close()
    case("sso (sso-session)", ssoenv, profile="sso", fields=("method",
         "AccessKeyId", "SecretAccessKey", "SessionToken", "Region"),
         check=near)
    # Ours, then botocore's: the same request, the header and the query.
    with open(REC_LOG) as f:
        reqs = [json.loads(l) for l in f.read().splitlines()]
    report("sso: GET /federation/credentials, bearer header, query, unsigned "
           "(lepton and botocore)",
           [] if len(reqs) == 2 and all(r["method"] == "GET" and r["path"] ==
           "/federation/credentials" and r["headers"].get(
               "x-amz-sso_bearer_token") == "TOKEN123" and
           sorted(r["query"].split("&")) == ["account_id=111122223333",
                                              "role_name=MLRole"] and
           "authorization" not in r["headers"] for r in reqs) else [json.dumps(
               [{k: v for k, v in r.items() if k != "headers"} for r in reqs])])
    token("https://legacy.awsapps.com/start", "https://legacy.awsapps.com/start",
          "2099-01-01T00:00:00Z")
    case("sso (legacy sso_start_url)", ssoenv, profile="ssolegacy",
         fields=("method", "AccessKeyId", "SecretAccessKey", "SessionToken",
                 "Region"), check=near)
    token("corp", "https://corp.awsapps.com/start", "2020-01-01T00:00:00Z")
    case("sso: expired token", ssoenv, profile="sso", needle="expired")

    # web identity against moto: moto 5.2.1 fails unsigned STS calls while
    # it checks signatures (KeyError 'HTTP_AUTHORIZATION'), so checking is
    # off for the call, then back on to prove the keys with both signers.
    auth = lambda v: subprocess.run(["curl", "-fsS", "-o", "/dev/null", "-X",
        "POST", "-H", "Content-Type: text/plain", "--data-binary", v,
        EP + "/moto-api/reset-auth"], check=True)
    wi = {"AWS_ENDPOINT_URL": EP, "AWS_WEB_IDENTITY_TOKEN_FILE":
          os.path.join(H, "tok"), "AWS_ROLE_ARN": ROLE,
          "AWS_ROLE_SESSION_NAME": "wi"}
    auth("inf")
    try:
        rc_c, c, _, _ = ours(wi)
        rc_b, b, _, _ = boto(wi)
    finally:
        auth("0")
    probs = []
    if rc_c or rc_b:
        probs.append("lepton: %s; botocore: %s" % (c.get("message", "ok"),
                                                   b.get("message", "ok")))
    else:
        arns = []
        for out, fn in ((c, ours), (b, boto)):
            keys = {"AWS_ENDPOINT_URL": EP, "AWS_ACCESS_KEY_ID": out["AccessKeyId"],
                    "AWS_SECRET_ACCESS_KEY": out["SecretAccessKey"],
                    "AWS_SESSION_TOKEN": out["SessionToken"]}
            rc, w, _, _ = fn(keys, None, True)
            arns.append(w.get("Arn") if rc == 0 else w.get("message"))
        if c["method"] != b["method"]:
            probs.append("method: %s vs %s" % (c["method"], b["method"]))
        if arns[0] != arns[1] or not arns[0].endswith("assumed-role/MLRole/wi"):
            probs.append("Arn: %r vs %r" % tuple(arns))
    report("web identity (env), keys proven with checking on", probs)

    # A credentials file others may read is refused, naming the file.
    cf = os.path.join(H, ".aws", "credentials")
    os.chmod(cf, 0o644)
    rc, out, _, err = ours({})
    os.chmod(cf, 0o600)
    report("a world-readable credentials file is refused, naming it",
           [] if rc == 1 and out.get("error") == "auth" and cf in
           out.get("message", "") and "defaultcredsecret" not in json.dumps(out) and
           not err else [out.get("message", "no error")])

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


sys.exit(main())
