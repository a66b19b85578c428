#!/usr/bin/env python3
"""canary.py: the tools of the leak-canary run (tests/e2e/canary.sh).

  canary.py make DIR            three new canaries in DIR/{env,store,token}
  canary.py selftest DIR        plant DIR's canaries in every encoding and
                                check that the scan finds each
  canary.py sample DIR RUNS OUT STOP LEPTON
                                sample every process's argv (and each
                                replica's environment) until STOP exists
  canary.py scan DIR OUT PATH... search every file under each PATH, every
                                git object there and /dev/shm/lepton-*;
                                add OUT's process hits; print the figures

A canary is CNRY, a letter, 20 random hex digits (the core) and a tail of
characters that each encoding changes: quotes, a backslash, a dollar,
spaces, /+=&%, a non-ASCII letter, a newline in the store's. Each is
searched raw, base64 (standard and URL-safe, at the three alignments a
value can start at), URL-encoded (quote and quote_plus, upper and lower
case hex), JSON-escaped (ASCII-only or not, "/" escaped or not) and as hex;
and the core alone raw, for a value cut short or escaped otherwise.

Secrets lepton makes itself are searched too, found after the run: each
deployment's endpoint token (secrets.json, Slurm's services/NAME/token)
and each secret.key. Where each may be, and nowhere else:

  LEAK_CANARY_ENV, LEAK_CANARY_STORE  a deployment's 0600 secrets.json
      (HOME/local/NAME/, HOME/containers/NAME/): raw or JSON-escaped.
      The sealed HOME/secrets/NAME holds ciphertext: no form of the value.
  LEPTON_TOKEN (the caller's bearer token, for URLs)  nowhere: not even a
      secrets.json, nor a replica's environment.
  an endpoint token  its deployment's 0600 secrets.json or Slurm token
      file, and its replicas' environment.
  a secret key  its 0600 HOME/secret.key.
  a provider's credential (the Slurm suite's SLURM_JWT)  nowhere lepton
      writes: only the token file the Slurm suite itself writes.

Every hit is printed with the file (or process) and the encoding; the exit
status is 1 if there is any.
"""
import base64
import binascii
import collections
import glob
import gzip
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import time
import urllib.parse

KINDS = ("env", "store", "token")
TAILS = {
    # A spec's secret from the environment: no newline (a shell's
    # export would keep it, but an env file in a test could not).
    "env": ' "q\'s\\b$x /+=&%\u00e9',
    # The store takes any bytes: a PEM-like value with a newline inside.
    "store": ' "q\'s\\b$x /+=&%\u00e9\n-----END KEY-----',
    # A bearer token: RFC 6750's b64token characters only.
    "token": "-._~+/=",
}


def make(d):
    os.makedirs(d, mode=0o700, exist_ok=True)
    for k in KINDS:
        v = "CNRY" + k[0] + secrets.token_hex(10) + TAILS[k]
        fd = os.open(os.path.join(d, k), os.O_WRONLY | os.O_CREAT |
                     os.O_TRUNC, 0o600)
        os.write(fd, v.encode())
        os.close(fd)


def load(d):
    return {k: open(os.path.join(d, k), "rb").read() for k in KINDS}


def b64_forms(v):
    """The part of base64(x + v + y) that depends on v alone, for each
    alignment of v: encode with 0, 1 or 2 bytes before it, drop the
    characters those bytes (or what follows v) reach into."""
    out = []
    for k in range(3):
        e = base64.b64encode(b"\0" * k + v).rstrip(b"=")
        start = (8 * k + 5) // 6
        end = len(e) - (1 if (k + len(v)) % 3 else 0)
        s = e[start:end]
        if len(s) >= 8:
            out.append(("base64+%d" % k, s))
            u = s.replace(b"+", b"-").replace(b"/", b"_")
            if u != s:
                out.append(("base64url+%d" % k, u))
    return out


def needles(v, core=None):
    """(encoding, bytes) to search for value v, most specific first."""
    n = [("raw", v)]
    for q in (urllib.parse.quote(v, safe=""),
              urllib.parse.quote_plus(v, safe=""),
              urllib.parse.quote(v)):
        for f in (q, re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                            q)):
            n.append(("url-encoded", f.encode()))
    try:
        t = v.decode("utf-8")
    except UnicodeDecodeError:
        t = None        # a key's random bytes: no JSON string holds them
    for ea in ((True, False) if t is not None else ()):
        j = json.dumps(t, ensure_ascii=ea)[1:-1]
        n.append(("json-escaped", j.encode()))
        n.append(("json-escaped", j.replace("/", "\\/").encode()))
    n.append(("hex", binascii.hexlify(v)))
    n.append(("hex", binascii.hexlify(v).upper()))
    n += b64_forms(core or v)
    if core is not None and core != v:
        n.append(("raw, cut short", core))
    seen, out = set(), []
    for label, b in n:
        if b not in seen:
            seen.add(b)
            out.append((label, b))
    return out


def canary_needles(d):
    out = []
    for k, v in load(d).items():
        core = v[:25]
        out += [(k, label, b) for label, b in needles(v, core)]
    return out


# --- sampling /proc -------------------------------------------------------

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def is_replica(environ):
    return environ is not None and (environ.startswith(
        b"LEPTON_DEPLOYMENT=") or b"\0LEPTON_DEPLOYMENT=" in environ)


def live_tokens(runs):
    """The endpoint tokens made so far (a glob: cheap enough to repeat)."""
    out = set()
    for pat in ("*/*/*/local/*/secrets.json", "*/*/*/containers/*/"
                "secrets.json", "*/*/*/slurm/services/*/token"):
        for p in glob.glob(os.path.join(runs, pat)):
            out |= tokens_in(p)
    return out


def sample(d, runs, out, stop, lepton):
    """Every 0.1 s: each process's argv, for the canaries; a replica's (or
    a job's) environment once, for LEPTON_TOKEN's canary, which lepton
    strips; lepton's own and the replicas' argv, for the endpoint tokens
    found so far under the runs."""
    can = canary_needles(d)
    tok = [x for x in can if x[0] == "token"]
    lepton = os.path.realpath(lepton)
    found, seen_env, kinds = {}, set(), {}
    hits, samples, procs, last_find = [], 0, set(), 0
    tokens = []
    while not os.path.exists(stop):
        if time.time() - last_find > 2:
            tokens = [("endpoint token", label, b) for t in
                      sorted(live_tokens(runs)) for label, b in needles(t)]
            last_find = time.time()
        samples += 1
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            st = read("/proc/%s/stat" % p)
            if st is None:
                continue
            key = (p, st.split(b")")[-1].split()[19])
            cmd = read("/proc/%s/cmdline" % p)
            if cmd is None:
                continue
            if key not in kinds:
                env = read("/proc/%s/environ" % p)
                try:
                    exe = os.readlink("/proc/%s/exe" % p)
                except OSError:
                    exe = ""
                kinds[key] = ("lepton" if exe == lepton else "replica"
                              if is_replica(env) else "")
                if kinds[key] == "replica" and key not in seen_env:
                    seen_env.add(key)
                    for k, label, b in tok:
                        if b in env:
                            hits.append("process %s (%s): environment "
                                        "holds the %s canary (%s)" % (
                                            p, argv0(cmd), k, label))
            kind = kinds[key]
            procs.add(key)
            look = can + (tokens if kind else [])
            for k, label, b in look:
                if b in cmd:
                    h = "process %s (%s%s): argv holds the %s%s (%s)" % (
                        p, argv0(cmd), ", " + kind if kind else "", k,
                        "" if k == "endpoint token" else " canary", label)
                    if h not in found:
                        found[h] = 1
                        hits.append(h)
                    break
        time.sleep(0.1)
    n_lep = sum(1 for v in kinds.values() if v == "lepton")
    n_rep = sum(1 for v in kinds.values() if v == "replica")
    with open(out, "w") as f:
        json.dump({"samples": samples, "processes": len(procs),
                   "lepton": n_lep, "replicas": n_rep, "hits": hits}, f)


def argv0(cmd):
    return os.path.basename(cmd.split(b"\0")[0].decode(errors="replace"))


# --- the scan after the run -----------------------------------------------

ALLOWED_VALUES = re.compile(r"/(local|containers)/[^/]+/secrets\.json$")
ALLOWED_TOKEN = re.compile(r"(/(local|containers)/[^/]+/secrets\.json|"
                           r"/slurm/services/[^/]+/token)$")
ALLOWED_KEY = re.compile(r"/secret\.key$")
# The token file slurm_tests.sh writes for slurm.token_file, as a user
# would (and then opens to others, to see it refused): the test's own.
ALLOWED_CRED = re.compile(r"/test_slurm_[a-z0-9_]+/jwt$")


def tokens_in(p):
    b = read(p)
    if b is None:
        return set()
    if p.endswith(".json"):
        try:
            t = json.loads(b).get("token")
        except (ValueError, AttributeError):
            return set()
        return {t.encode()} if isinstance(t, str) and len(t) >= 16 else set()
    return {b.strip()} if len(b.strip()) >= 16 else set()


def find_tokens(top):
    """Each endpoint token lepton made, from the files that hold them."""
    out = set()
    for root, dirs, files in os.walk(top):
        for f in files:
            p = os.path.join(root, f)
            if ALLOWED_TOKEN.search(p):
                out |= tokens_in(p)
    return out


def creds_of(d):
    """The providers' credentials the suites used (canary_hook.sh keeps
    SLURM_JWT as DIR/cred.slurm_jwt)."""
    return [read(p) for p in sorted(glob.glob(os.path.join(d, "cred.*")))
            if read(p)]


def find_keys(top):
    out = set()
    for root, dirs, files in os.walk(top):
        if "secret.key" in files:
            b = read(os.path.join(root, "secret.key"))
            if b and len(b) == 32:
                out.add(b)
    return out


def allowed(kind, label, path):
    """Is this a file kind may be in, in this form? (It must be 0600 as
    well, but for a provider credential's: see ALLOWED_CRED.)"""
    if kind == "provider credential":
        return ALLOWED_CRED.search(path) is not None and label == "raw"
    if kind in ("env", "store"):
        return (ALLOWED_VALUES.search(path) is not None and
                label in ("raw", "json-escaped", "raw, cut short"))
    if kind == "endpoint token":
        return ALLOWED_TOKEN.search(path) is not None and label == "raw"
    if kind == "secret key":
        return ALLOWED_KEY.search(path) is not None and label == "raw"
    return False


ALLOWED_SEEN = collections.Counter()


def check(look, where, b, path=None):
    """The hits in b (from path, whose allowances apply; those it holds
    as allowed are counted in ALLOWED_SEEN)."""
    hits, done = [], set()
    for kind, label, n in look:
        if kind in done or n not in b:
            continue
        done.add(kind)
        if path is not None and allowed(kind, label, path):
            mode = os.stat(path).st_mode & 0o777
            if mode == 0o600 or kind == "provider credential":
                ALLOWED_SEEN[kind] += 1
                continue
            label += ", in an allowed file of mode %o" % mode
        line = b.count(b"\n", 0, b.find(n)) + 1
        hits.append("%s:%d: the %s%s (%s)" % (
            where, line, kind, " canary" if kind in KINDS else "", label))
    return hits


def fragments(n):
    """What grep -F can take of needle n: its lines, the long ones."""
    parts = [x for x in n.split(b"\n") if x]
    long = [x for x in parts if len(x) >= 6]
    return long or [max(parts, key=len)]


OBJ = re.compile(rb"([0-9a-f]{40}) (blob|tree|commit|tag) (\d+)\n")


def objects_of(dump):
    """(oid, bytes) of each object in git cat-file --batch output."""
    i = 0
    while True:
        m = OBJ.match(dump, i)
        if not m:
            return
        start = m.end()
        end = start + int(m.group(3))
        yield m.group(1).decode(), dump[start:end]
        i = end + 1


def scan(d, paths, scratch):
    """grep -F picks the files (and git objects, uncompressed; gzip'd
    files, unzipped) that hold any fragment of any needle; each of those
    is then searched exactly, its allowances applied."""
    look = canary_needles(d)
    tokens, keys = set(), set()
    for top in paths:
        tokens |= find_tokens(top)
        keys |= find_keys(top)
    for t in sorted(tokens):
        look += [("endpoint token", label, b) for label, b in needles(t)]
    for k in sorted(keys):
        look += [("secret key", label, b) for label, b in needles(k)]
    creds = creds_of(d)
    for c in creds:
        look += [("provider credential", label, b) for label, b in
                 needles(c)]
    tops = list(paths)
    if os.path.isdir("/dev/shm"):
        tops += [os.path.join("/dev/shm", e) for e in os.listdir("/dev/shm")
                 if e.startswith("lepton-")]
    files = nbytes = repos = objects = 0
    origin = {}
    os.makedirs(scratch, exist_ok=True)
    for top in tops:
        for root, dirs, names in os.walk(top):
            if "HEAD" in names and "objects" in dirs and "refs" in dirs:
                r = subprocess.run(["git", "--git-dir", root, "cat-file",
                                    "--batch-all-objects", "--batch"],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
                if r.returncode != 0:
                    return None, "%s: git cat-file failed" % root
                repos += 1
                objects += sum(1 for _ in objects_of(r.stdout))
                dump = os.path.join(scratch, "objects.%d" % repos)
                with open(dump, "wb") as f:
                    f.write(r.stdout)
                origin[dump] = ("objects", root)
            for n in names:
                p = os.path.join(root, n)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                files += 1
                nbytes += st.st_size
                origin[p] = ("file", p)
                with open(p, "rb") as f:
                    gz = f.read(2) == b"\x1f\x8b"
                if gz:
                    try:
                        b = gzip.decompress(read(p))
                    except (OSError, EOFError):
                        continue
                    z = os.path.join(scratch, "gunzipped.%d" % len(origin))
                    with open(z, "wb") as f:
                        f.write(b)
                    origin[z] = ("gunzipped", p)
    pats = os.path.join(scratch, "patterns")
    with open(pats, "wb") as f:
        for frag in sorted({x for _, _, n in look for x in fragments(n)}):
            f.write(frag + b"\n")
    # Bytes, not characters: grep -F in a UTF-8 locale takes minutes.
    r = subprocess.run(["grep", "-rlaFZ", "-f", pats, "--"] + tops +
                       [scratch], stdout=subprocess.PIPE,
                       env=dict(os.environ, LC_ALL="C"))
    if r.returncode > 1:
        return None, "grep failed (exit %d)" % r.returncode
    cands = [x.decode(errors="surrogateescape")
             for x in r.stdout.split(b"\0") if x]
    hits = []
    for c in sorted(set(cands)):
        if c == pats or c not in origin:
            continue
        how, what = origin[c]
        b = read(c)
        if b is None:
            continue
        if how == "file":
            hits += check(look, what, b, what)
        elif how == "gunzipped":
            hits += check(look, what + " (gunzipped)", b)
        else:
            for oid, o in objects_of(b):
                hits += check(look, "%s object %s" % (what, oid), o)
    figures = {"files": files, "bytes": nbytes, "repos": repos,
               "objects": objects, "tokens": len(tokens),
               "keys": len(keys), "creds": len(creds), "needles": len(look)}
    return hits, figures


def selftest(d):
    """Plant each canary in each encoding, at each alignment, in files,
    a gzip'd file and a git object, and an allowed file of a wrong mode:
    the scan must find every one, and nothing in an allowed file."""
    import tempfile
    top = tempfile.mkdtemp(dir=d)
    vals = load(d)
    want = set()
    i = 0
    for k, v in vals.items():
        for label, n in needles(v, v[:25]):
            for pre in (b"", b"x", b"xy"):
                i += 1
                p = os.path.join(top, "f%d" % i)
                if label.startswith("base64"):
                    e = base64.b64encode(pre + v)
                    if "url" in label:
                        e = e.replace(b"+", b"-").replace(b"/", b"_")
                    body = b"token: " + e + b"\n"
                elif label == "raw, cut short":
                    body = pre + n + b"\n"
                else:
                    body = pre + n + b"\n"
                with open(p, "wb") as f:
                    f.write(body)
                want.add(p)
    gz = os.path.join(top, "log.gz")
    with open(gz, "wb") as f:
        f.write(gzip.compress(b"x" + vals["store"] + b"y"))
    want.add(gz + " (gunzipped)")
    repo = os.path.join(top, "repo")
    subprocess.run(["git", "init", "-q", "--bare", repo], check=True)
    r = subprocess.run(["git", "--git-dir", repo, "hash-object", "-w",
                        "--stdin"], input=b"env=" + vals["env"],
                       stdout=subprocess.PIPE, check=True)
    want.add("%s object %s" % (repo, r.stdout.decode().strip()))
    ok = os.path.join(top, "home", "local", "x")
    os.makedirs(ok)
    for mode, name in ((0o600, "secrets.json"),):
        p = os.path.join(ok, name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, mode)
        os.write(fd, json.dumps({"env": {"A": vals["env"].decode(),
                                         "B": vals["store"].decode()}})
                 .encode())
        os.close(fd)
    bad = os.path.join(top, "home", "containers", "y")
    os.makedirs(bad)
    p = os.path.join(bad, "secrets.json")
    with open(p, "wb") as f:
        f.write(vals["env"])
    os.chmod(p, 0o644)
    want.add(p)
    hits, fig = scan(d, [top], os.path.join(d, "scratch.self"))
    got = {h.rsplit(":", 2)[0] for h in hits}
    # The sampler: a process with the env canary in its argv, and a
    # "replica" with LEPTON_TOKEN's canary in its environment.
    stop, out = os.path.join(top, "stop"), os.path.join(top, "procs.json")
    smp = subprocess.Popen([sys.executable, __file__, "sample", d, top, out,
                            stop, "/nonexistent"])
    env = dict(os.environ, LEPTON_DEPLOYMENT="selftest",
               LEPTON_TOKEN=vals["token"].decode())
    p = subprocess.Popen(["sh", "-c", "sleep 1", vals["env"]], env=env)
    want |= {"argv", "environment"}
    p.wait()
    open(stop, "w").close()
    smp.wait()
    for h in json.load(open(out))["hits"]:
        m = re.match(r"process \d+ .*: (argv|environment) holds", h)
        got.add(m.group(1) if m else h)
    missed = sorted(want - got)
    extra = sorted(got - want)
    for m in missed:
        print("canary: self-test: missed %s" % m)
    for x in extra:
        print("canary: self-test: false hit %s" % x)
    print("canary: self-test: %d planted, %d found%s" % (
        len(want), len(want & got), "" if not (missed or extra) else
        ": the search is broken"))
    return 1 if missed or extra else 0


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "make" and len(sys.argv) == 3:
        make(sys.argv[2])
        return 0
    if cmd == "selftest" and len(sys.argv) == 3:
        return selftest(sys.argv[2])
    if cmd == "sample" and len(sys.argv) == 7:
        sample(*sys.argv[2:7])
        return 0
    if cmd == "scan" and len(sys.argv) >= 5:
        d, samples = sys.argv[2], sys.argv[3]
        hits, fig = scan(d, sys.argv[4:], os.path.join(d, "scratch"))
        if hits is None:
            print("canary: %s" % fig)
            return 1
        proc = {"samples": 0, "processes": 0, "lepton": 0, "replicas": 0,
                "hits": ["no /proc samples: the sampler did not finish"]}
        if os.path.exists(samples):
            proc = json.load(open(samples))
        hits += proc["hits"]
        for h in hits:
            print("canary: HIT %s" % h)
        print("canary: in allowed files only: %s" % (", ".join(
            "the %s%s in %d" % (k, " canary" if k in KINDS else "", n)
            for k, n in sorted(ALLOWED_SEEN.items())) or "none"))
        print("canary: searched %d files (%.1f MB), %d git objects in %d "
              "repositories, and the argv of %d processes (%d lepton's, "
              "%d replicas or jobs) in %d samples, for 3 canaries, %d "
              "endpoint tokens, %d secret keys and %d provider "
              "credentials (%d forms): %d hits" % (
                  fig["files"], fig["bytes"] / 1e6, fig["objects"],
                  fig["repos"], proc["processes"], proc["lepton"],
                  proc["replicas"], proc["samples"], fig["tokens"],
                  fig["keys"], fig["creds"], fig["needles"], len(hits)))
        return 1 if hits else 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
