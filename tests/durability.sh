#!/bin/sh
# durability.sh: the order of syncs behind every state commit. Runs N
# deploys (100; DURABILITY_DEPLOYS) of a small local service, two specs
# in turn so that each is a real change and a commit, under strace -f,
# and checks, per process, in the order the calls returned:
#  - every file renamed or linked into place under LEPTON_HOME (loose
#    objects, the ref's .lock, lepton's own temp files) was fsync'd
#    before the rename or link;
#  - the directory it landed in was fsync'd after it (for an object or a
#    ref: before the commit's ref moved, else before the process ended);
#  - a directory made by mkdir was made durable too: its parent fsync'd
#    after the mkdir (before the ref moved, for the objects' fan-out);
#  - each commit (refs/heads/main.lock renamed onto refs/heads/main)
#    came after every object written since the previous one was synced,
#    and each commit in the repository was one such rename.
# Prints the figures and each violation; exits 1 on any. `make durability`.
: "${LEPTON:?set LEPTON to the binary under test}"
PY=${PYTHON:-python3}
N=${DURABILITY_DEPLOYS:-100}
command -v strace >/dev/null ||
    { echo "durability: strace is missing (apt-get install strace)" >&2; exit 1; }
W=$(mktemp -d /tmp/lepton-durability-XXXXXX)
export LEPTON_HOME="$W/home"
unset LEPTON_TOKEN
stop() {
	"$LEPTON" stop --grace 2 dur >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap stop EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/svc/model"
echo '{"weights": [1, 2, 3]}' >"$W/svc/model/model.json"
for v in a b; do
	cat >"$W/svc/$v.yaml" <<YAML
kind: service
name: dur
model: {name: dur, path: ./model}
run: exec python3 -m http.server --bind 127.0.0.1 --directory "$W/svc" "\$LEPTON_PORT"
env: {ROUND: "$v"}
service:
  readiness: {path: /, timeout: 20}
YAML
done
# The deploys, and the stop that ends the supervisor (strace -f follows
# it and its replicas, and returns when the last one exits).
cat >"$W/deploys.sh" <<'EOF'
i=0 bad=0
while [ $i -lt "$N" ]; do
	[ $((i % 2)) = 0 ] && s=a || s=b
	"$LEPTON" deploy -q "$W/svc/$s.yaml" >>"$W/deploy.out" 2>&1 ||
	    bad=$((bad + 1))
	i=$((i + 1))
done
"$LEPTON" stop --grace 2 dur >>"$W/deploy.out" 2>&1
echo "$i $bad" >"$W/deploys.result"
EOF
t0=$(date +%s)
N=$N W=$W strace -f -qq -y --seccomp-bpf -o "$W/trace" \
    -e trace=openat,fsync,fdatasync,rename,renameat,renameat2,link,linkat,mkdir,mkdirat \
    sh "$W/deploys.sh"
read ran bad <"$W/deploys.result"
echo "durability: $ran deploys ($bad failed) under strace in $(($(date +%s) - t0))s"
if [ "$bad" != 0 ]; then
	tail -20 "$W/deploy.out"
	exit 1
fi
commits=$(git -C "$LEPTON_HOME/state" rev-list --count refs/heads/main)
$PY - "$W/trace" "$LEPTON_HOME" "$commits" <<'EOF'
import collections, re, sys

trace, home, commits_in_repo = sys.argv[1], sys.argv[2], int(sys.argv[3])
state = home + "/state"

# strace -f splits a call that another process interrupts into
# "<unfinished ...>" and "<... NAME resumed>": join them per PID; the
# call took effect when it returned, the order kept here.
LINE = re.compile(r"^(\d+)\s+(.*)$")
pending, calls = {}, []
for raw in open(trace, errors="replace"):
    m = LINE.match(raw.rstrip("\n"))
    if not m:
        continue
    pid, rest = int(m.group(1)), m.group(2)
    if rest.endswith("<unfinished ...>"):
        pending[pid] = rest[: -len("<unfinished ...>")]
        continue
    r = re.match(r"<\.\.\. \w+ resumed>(.*)$", rest)
    if r:
        rest = pending.pop(pid, "") + r.group(1)
    if rest.startswith("+++ exited") or rest.startswith("+++ killed"):
        calls.append((pid, "exit", [], 0))
        continue
    c = re.match(r"(\w+)\((.*)\)\s+=\s+(-?\d+)", rest)
    if c:
        calls.append((pid, c.group(1), c.group(2), int(c.group(3))))

STR = re.compile(r'"((?:[^"\\]|\\.)*)"')
FD = re.compile(r"^(-?\d+|AT_FDCWD)<([^>]*)>")

def unq(s):
    return s.encode().decode("unicode_escape")

def paths(args):
    """The call's path arguments, made absolute with their dirfd or cwd."""
    out, base = [], None
    for a in split_args(args):
        f = FD.match(a)
        if f:
            base = f.group(2)
            continue
        s = STR.match(a)
        if s:
            p = unq(s.group(1))
            if not p.startswith("/") and base is not None:
                p = base + "/" + p
            out.append(p)
            base = None
    return out

def split_args(args):
    parts, depth, cur, q, esc = [], 0, "", False, False
    for ch in args:
        if q:
            cur += ch
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                q = False
            continue
        if ch == '"':
            q = True
        elif ch in "<[{(":
            depth += 1
        elif ch in ">]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts

def fd_path(args):
    f = FD.match(args.strip())
    return f.group(2) if f else None

def parent(p):
    return p.rsplit("/", 1)[0]

def inside(p, d):
    return p == d or p.startswith(d + "/")

# Every event in the order the calls returned; each process's, in order.
evs, per = [], collections.defaultdict(list)
def add(pid, **e):
    e["pid"] = pid
    evs.append(e)
    per[pid].append(e)
for pid, name, args, ret in calls:
    if name == "exit":
        add(pid, k="exit")
    elif ret < 0:
        continue
    elif name in ("fsync", "fdatasync"):
        add(pid, k="fsync", p=fd_path(args))
    elif name == "openat":
        if "O_CREAT" in args:
            add(pid, k="create", p=paths(args)[0])
    elif name in ("rename", "renameat", "renameat2", "link", "linkat"):
        src, dst = paths(args)[:2]
        add(pid, k="move", op=name, src=src, dst=dst)
    elif name in ("mkdir", "mkdirat"):
        add(pid, k="mkdir", p=paths(args)[0])

# Was a file's data (a directory's entries) synced since it last changed?
# Across processes: an object linked now may have been written by
# another deploy. What the trace never saw made is taken as durable.
synced = {}
for e in evs:
    if e["k"] == "create":
        synced[e["p"]] = False
        synced[parent(e["p"])] = False
    elif e["k"] == "mkdir":
        synced[e["p"]] = True
        synced[parent(e["p"])] = False
    elif e["k"] == "fsync":
        synced[e["p"]] = True
    elif e["k"] == "move":
        e["src_synced"] = synced.get(e["src"], True)
        synced[e["dst"]] = e["src_synced"]
        synced[parent(e["dst"])] = False
        if e["op"].startswith("rename"):
            synced.pop(e["src"], None)

def kind(dst):
    if inside(dst, state + "/objects"):
        return "object"
    if inside(dst, state + "/refs") or dst == state + "/HEAD":
        return "ref"
    if inside(dst, state):
        return "git, other"
    return "lepton"

REF = state + "/refs/heads/main"
checked = collections.Counter()
viol = []
commits = mkdirs = late = 0

def v(pid, what):
    viol.append("pid %d: %s" % (pid, what))

def synced_in(es, path, a, b):
    return any(x["k"] == "fsync" and x["p"] == path for x in es[a:b])

for pid, es in per.items():
    # The index of this process's next commit (or its end) after i: what
    # an object's directory (or the objects' fan-out) must be synced by.
    ends = [i for i, e in enumerate(es)
            if e["k"] == "exit" or (e["k"] == "move" and e["dst"] == REF)]
    end_of = lambda i: next((j for j in ends if j > i), len(es))
    exit_at = next((i for i, e in enumerate(es) if e["k"] == "exit"),
                   len(es))
    first_commit = next((i for i, e in enumerate(es)
                         if e["k"] == "move" and e["dst"] == REF), None)
    renamed_away = {e["src"] for e in es
                    if e["k"] == "move" and e["op"].startswith("rename")}
    for i, e in enumerate(es):
        if (e["k"] == "mkdir" and inside(e["p"], home) and
                e["p"] not in renamed_away):
            mkdirs += 1
            stop_at = end_of(i) if inside(e["p"], state) else exit_at
            if not synced_in(es, parent(e["p"]), i + 1, stop_at):
                v(pid, "mkdir %s: its parent not fsync'd after it%s" %
                  (e["p"], " before the commit"
                   if inside(e["p"], state) else ""))
        if e["k"] != "move" or not inside(e["dst"], home):
            continue
        k = kind(e["dst"])
        checked[k] += 1
        if e["dst"] == REF:
            commits += 1
        if not e["src_synced"]:
            # libgit2 writes a new repository's config and HEAD without
            # fsync: lepton syncs the whole repository before the first
            # commit. Counted apart, and only when so.
            if (inside(e["dst"], state) and k != "object" and
                    first_commit is not None and i < first_commit and
                    synced_in(es, e["dst"], i + 1, first_commit) and
                    synced_in(es, parent(e["dst"]), i + 1, first_commit)):
                late += 1
            else:
                v(pid, "%s %s -> %s: source not fsync'd before it" %
                  (e["op"], e["src"], e["dst"]))
        stop_at = end_of(i) if k == "object" else exit_at
        if not synced_in(es, parent(e["dst"]), i + 1, stop_at):
            v(pid, "%s -> %s: directory not fsync'd after it%s" %
              (e["op"], e["dst"], " before the commit"
               if k == "object" else ""))

print("durability: %d commits seen (%d in the repository); %d renames "
      "and links checked (%s); %d new directories; %d files of a new "
      "repository synced after their rename, before its first commit; "
      "%d violations" %
      (commits, commits_in_repo, sum(checked.values()),
       ", ".join("%s %d" % kv for kv in sorted(checked.items())),
       mkdirs, late, len(viol)))
by = collections.Counter(re.sub(r"pid \d+: \w+ ", "", re.sub(
    r"(?<=objects/)[0-9a-f]{2}\b|[0-9a-f]{38}|tmp_object_git2_\w+|"
    r"\.tmp\.\d+|rev-\d+", "*", x)) for x in viol)
for what, n in by.most_common():
    print("  %5d x %s" % (n, what))
if commits != commits_in_repo:
    print("durability: %d ref renames for %d commits" %
          (commits, commits_in_repo))
    sys.exit(1)
sys.exit(1 if viol else 0)
EOF
