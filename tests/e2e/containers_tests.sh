# containers_tests.sh: end-to-end tests of the containers provider on a
# real engine, run by tests/e2e/containers.sh once per engine (dockerd,
# then Podman) with DOCKER_HOST, LEP_ENGINE, LEP_PY_IMAGE and
# LEP_ENGINE_DIR set. What lepton did is checked through the engine's own
# API (curl on the socket), not through lepton.

ROWS='{"inputs": [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]]}'
SOCK=${DOCKER_HOST#unix://}

# api PATH: GET the engine's API.
api() {
	curl -s --unix-socket "$SOCK" "http://engine/v1.41$1"
}

# ours NAME: the engine's containers of lepton deployment or job NAME
# (label ai.lepton.name), one "ID STATE IMAGE" line each.
ours() {
	api "/containers/json?all=1&filters=$($PY -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.dumps({"label": ["ai.lepton.name=" + sys.argv[1]]})))' "$1")" |
	    $PY -c 'import json,sys; [print(c["Id"], c["State"], c["ImageID"]) for c in json.load(sys.stdin)]'
}

# The iris example in the sandbox, with its image's root file system.
iris_container() {
	d=$(iris_copy)
	[ -s "$LEP_ENGINE_DIR/rootfs.tar" ] ||
	    "$ROOT/tests/engines/containers" rootfs "$LEP_ENGINE_DIR/rootfs.tar" ||
	    fail "no rootfs"
	ln "$LEP_ENGINE_DIR/rootfs.tar" "$d/container/rootfs.tar" 2>/dev/null ||
	    cp "$LEP_ENGINE_DIR/rootfs.tar" "$d/container/rootfs.tar"
}

version_answering() {
	$LEPTON predict iris -d "$ROWS" | $PY -c 'import json,sys; print(json.load(sys.stdin)["model_version"])'
}

test_ctr_check_names_the_engine() {
	run $LEPTON check containers
	expect_rc 0
	expect_out "unix://$SOCK"
	expect_out "from DOCKER_HOST"
	case $LEP_ENGINE in
	docker) expect_out "Docker Engine" ;;
	podman) expect_out "Podman" ;;
	esac
	expect_out "API 1."
	DOCKER_HOST=unix://$T/nothing.sock run $LEPTON check containers
	expect_rc 7
	expect_err "no container engine answers on $T/nothing.sock: no such socket"
	# A user the socket does not let in: exit 4, said so.
	if command -v setpriv >/dev/null && [ "$(stat -c %a "$SOCK")" != 777 ]; then
		mkdir -p "$T/nobody" && chmod 777 "$T/nobody"
		run setpriv --reuid 65534 --regid 65534 --clear-groups env \
		    HOME="$T/nobody" LEPTON_HOME="$T/nobody/l" \
		    DOCKER_HOST="unix://$SOCK" $LEPTON check containers
		expect_rc 4
		expect_err "no permission to use the container engine on $SOCK"
	fi
	DOCKER_HOST=tcp://127.0.0.1:2375 run $LEPTON check containers
	expect_rc 9
	expect_err "unix socket only"
	# A docker context, as 'docker context create lab --docker
	# host=unix://...' writes it, and 'docker context use lab'.
	meta=$T/dcfg/contexts/meta/$(printf lab | sha256sum | cut -d' ' -f1)
	mkdir -p "$meta"
	printf '{"Name":"lab","Metadata":{},"Endpoints":{"docker":{"Host":"unix://%s","SkipTLSVerify":false}}}' \
	    "$SOCK" >"$meta/meta.json"
	printf '{"currentContext": "lab"}' >"$T/dcfg/config.json"
	DOCKER_HOST= DOCKER_CONFIG=$T/dcfg run $LEPTON check containers
	expect_rc 0
	expect_out "unix://$SOCK (from docker context lab, from $T/dcfg/config.json)"
	printf '{"currentContext": "gone"}' >"$T/dcfg/config.json"
	DOCKER_HOST= DOCKER_CONFIG=$T/dcfg DOCKER_CONTEXT=lab run $LEPTON check containers
	expect_rc 0
	expect_out "(from docker context lab, from DOCKER_CONTEXT)"
	DOCKER_HOST= DOCKER_CONFIG=$T/dcfg run $LEPTON check containers
	expect_rc 5
	expect_err "docker context 'gone' not found"
	# DOCKER_HOST wins over every context.
	DOCKER_HOST=unix://$T/nothing.sock DOCKER_CONFIG=$T/dcfg DOCKER_CONTEXT=lab run $LEPTON check containers
	expect_rc 7
}

test_ctr_iris_build_deploy_update_canary_rollback_stop_train() {
	iris_container
	t0=$(date +%s%N)
	run $LEPTON -v deploy "$d/service-containers.yaml"
	expect_rc 0
	expect_out "iris revision 1 ready on containers"
	expect_err "built lepton/iris:"
	echo "figure: $LEP_ENGINE: build + deploy to ready (2 replicas): $((($(date +%s%N) - t0) / 1000000)) ms"
	run $LEPTON predict iris -d "$ROWS"
	expect_rc 0
	[ "$(jget "$out" 'd["classes"]')" = "[0, 1, 2]" ] || fail "classes: $(cat "$out")"
	[ "$(ours iris | grep -c ' running ')" = 2 ] || fail "not 2 running: $(ours iris)"
	# The same spec again, the image from the build cache: no change.
	t0=$(date +%s%N)
	run $LEPTON --json deploy "$d/service-containers.yaml"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["changed"]')" = False ] || fail "changed"
	echo "figure: $LEP_ENGINE: cached build, no change: $((($(date +%s%N) - t0) / 1000000)) ms"
	# An update under a predict load, one request at a time: none fails.
	load_begin iris 3000
	sleep 0.5
	sed -i 's/PYTHONUNBUFFERED: "1"/PYTHONUNBUFFERED: "1"\n  VARIANT: "b"/' \
	    "$d/service-containers.yaml"
	t0=$(date +%s%N)
	run $LEPTON deploy "$d/service-containers.yaml"
	expect_rc 0
	expect_out "iris revision 2 ready"
	echo "figure: $LEP_ENGINE: update to ready: $((($(date +%s%N) - t0) / 1000000)) ms"
	sleep 0.5
	load_end
	echo "figure: $LEP_ENGINE: update under load: $n requests, $bad failed"
	[ "$n" -ge 10 ] || fail "only $n requests during the update"
	[ "$bad" = 0 ] || fail "$bad of $n failed: $(head -5 "$T/load.err")"
	gone1() { [ "$(ours iris | wc -l)" = 2 ]; }
	wait_for 30 gone1 || fail "old replicas left: $(ours iris)"
	# A canary: revision 3 takes half the traffic, then is promoted.
	v2=$(version_answering)
	$PY "$d/train.py" --epochs 5 --out "$d/model" >/dev/null
	sed -i 's/^  replicas: 2/  replicas: 2\n  rollout: {strategy: canary, percent: 50, bake: 15s}/' \
	    "$d/service-containers.yaml"
	$LEPTON deploy "$d/service-containers.yaml" >"$T/deploy.out" 2>"$T/deploy.err" &
	dp=$!
	canary3() { [ "$($LEPTON --json status iris | $PY -c 'import json,sys; print(json.load(sys.stdin)["result"].get("canary", {}).get("revision", 0))')" = 3 ]; }
	wait_for 60 canary3 || fail "no canary: $(cat "$T/deploy.err")"
	# The engine's list may lag its own state under load: a few seconds.
	four() { [ "$(ours iris | grep -c ' running ')" = 4 ]; }
	wait_for 10 four || fail "not 4 running: $(ours iris)"
	run $LEPTON predict --revision 3 iris -d "$ROWS"
	expect_rc 0
	v3=$(jget "$out" 'd["model_version"]')
	[ "$v3" != "$v2" ] || fail "the canary answers as revision 2"
	wait $dp || fail "the canary deploy failed: $(cat "$T/deploy.err")"
	[ "$(version_answering)" = "$v3" ] || fail "not promoted"
	# Rollback: revision 2's spec and model again, in containers.
	run $LEPTON rollback iris
	expect_rc 0
	expect_out "iris is back on revision 2"
	[ "$(version_answering)" = "$v2" ] || fail "rollback answers not as v2"
	# stop: nothing of the deployment is left on the engine.
	run $LEPTON stop iris
	expect_rc 0
	expect_out "iris stopped"
	[ -z "$(ours iris)" ] || fail "containers left: $(ours iris)"
	# train in a container of the same image: a registered version.
	t0=$(date +%s%N)
	run $LEPTON train "$d/train-containers.yaml"
	expect_rc 0
	expect_out "registered iris@v"
	echo "figure: $LEP_ENGINE: train job to registered: $((($(date +%s%N) - t0) / 1000000)) ms"
	[ -s "$d/out/model/model.json" ] || fail "no model written"
	[ -z "$(ours iris-train)" ] || fail "job container left: $(ours iris-train)"
}

svc_yaml() {
	mkdir -p "$T/svc"
	cat >"$T/svc/service.yaml" <<YAML
kind: service
name: ${1:-box}
image: $LEP_PY_IMAGE
placement: {providers: [containers]}
secrets: [MY_SECRET]
run: |
  echo "secret length \${#MY_SECRET} token length \${#LEPTON_TOKEN}"
  exec python3 -m http.server "\$LEPTON_PORT" --bind "\$LEPTON_HOST"
service:
  readiness: {path: /, timeout: 30}
YAML
}

test_ctr_secrets_reach_the_server_not_the_engine() {
	svc_yaml
	MY_SECRET=s3cr3t-value-xyz run $LEPTON deploy "$T/svc/service.yaml"
	expect_rc 0
	# The box copies the container's output as it comes: a moment.
	said() { $LEPTON logs box 2>/dev/null | grep -q "secret length 16 token length 64"; }
	wait_for 10 said || fail "no line: $($LEPTON logs box 2>&1)"
	id=$(ours box | awk '{print $1}')
	[ -n "$id" ] || fail "no container"
	api "/containers/$id/json" >"$T/inspect.json"
	grep -q "LEPTON_PORT" "$T/inspect.json" || fail "inspect holds no env at all"
	token=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$LEPTON_HOME/containers/box/secrets.json")
	grep -q "s3cr3t-value-xyz" "$T/inspect.json" && fail "secret in docker inspect"
	grep -q "$token" "$T/inspect.json" && fail "token in docker inspect"
	grep -rl "s3cr3t-value-xyz" "$LEPTON_HOME" >"$T/hits" || true
	[ "$(cat "$T/hits")" = "$LEPTON_HOME/containers/box/secrets.json" ] ||
	    fail "secret found in: $(cat "$T/hits")"
	ps -eo args | grep -q "[s]3cr3t-value-xyz" && fail "secret in argv"
	# The file the container reads it from: 0600, in memory, gone at stop.
	f=$(ls /dev/shm/lepton-*-lepton-box-*/env 2>/dev/null | head -1)
	[ -n "$f" ] || fail "no secrets file on /dev/shm"
	[ "$(stat -c %a "$f")" = 600 ] || fail "mode $(stat -c %a "$f")"
	run $LEPTON stop box
	expect_rc 0
	[ -e "$f" ] && fail "secrets file left: $f"
	[ -z "$(ours box)" ] || fail "left: $(ours box)"
}

test_ctr_killed_lepton_leaves_nothing_behind() {
	svc_yaml orphan
	MY_SECRET=x run $LEPTON deploy "$T/svc/service.yaml"
	expect_rc 0
	[ "$(ours orphan | grep -c ' running ')" = 1 ] || fail "not running"
	# kill -9 the supervisor and every box of it: the container stays.
	run $LEPTON --json status orphan
	sup=$(jget "$out" 'd["result"]["supervisor_pid"]')
	boxes=$(jget "$out" '" ".join(str(r["pid"]) for r in d["result"]["replicas"])')
	kill -9 $sup $boxes
	[ "$(ours orphan | grep -c ' running ')" = 1 ] || fail "the engine lost it"
	ls /dev/shm/lepton-*-lepton-orphan-* >/dev/null 2>&1 ||
	    fail "no secrets file while the box was alive"
	# The next command finds it by its labels and removes it, and the
	# dead box's secrets file with it.
	run $LEPTON status orphan
	expect_err "removed 1 container(s) of 'orphan' left behind"
	[ -z "$(ours orphan)" ] || fail "orphan left: $(ours orphan)"
	ls /dev/shm/lepton-*-lepton-orphan-* >/dev/null 2>&1 &&
	    fail "secrets left on /dev/shm: $(ls -d /dev/shm/lepton-*-lepton-orphan-*)"
	MY_SECRET=x run $LEPTON deploy "$T/svc/service.yaml"
	expect_rc 0
	run $LEPTON stop orphan
	expect_rc 0
	[ -z "$(ours orphan)" ] || fail "left after stop: $(ours orphan)"
}

test_ctr_crashed_container_is_restarted() {
	svc_yaml crashy
	MY_SECRET=x run $LEPTON deploy "$T/svc/service.yaml"
	expect_rc 0
	# Its box killed: the supervisor restarts the replica in a new
	# container and removes the one the dead box held.
	run $LEPTON --json status crashy
	box=$(jget "$out" 'd["result"]["replicas"][0]["pid"]')
	id=$(ours crashy | awk '{print $1}')
	kill -9 "$box"
	swapped() { [ "$(ours crashy | wc -l)" = 1 ] &&
	    [ "$(ours crashy | awk '{print $1}')" != "$id" ] &&
	    $LEPTON --json status crashy | grep -q '"state": "running"'; }
	wait_for 30 swapped || fail "not replaced: $(ours crashy)"
	# The container itself killed: its box ends, and it is restarted.
	id=$(ours crashy | awk '{print $1}')
	curl -s -X POST --unix-socket "$SOCK" "http://engine/v1.41/containers/$id/kill?signal=KILL" >/dev/null
	back() { [ "$(ours crashy | grep -c ' running ')" = 1 ] &&
	    [ "$(ours crashy | awk '{print $1}')" != "$id" ] &&
	    $LEPTON --json status crashy | grep -q '"state": "running"'; }
	wait_for 30 back || fail "not restarted: $(ours crashy)"
	run $LEPTON predict crashy -d '{}'
	[ "$rc" != 11 ] || fail "not serving after the restart"
	run $LEPTON stop crashy
	[ -z "$(ours crashy)" ] || fail "left: $(ours crashy)"
}

test_ctr_refusals_and_engine_errors() {
	mkdir -p "$T/r"
	printf 'kind: job\nname: noimg\nplacement: {providers: [containers]}\nrun: "true"\n' >"$T/r/a.yaml"
	run $LEPTON train "$T/r/a.yaml"
	expect_rc 9
	expect_err "names none"
	printf 'kind: job\nname: su\nimage: %s\nplacement: {providers: [containers]}\nsetup: "true"\nrun: "true"\n' "$LEP_PY_IMAGE" >"$T/r/b.yaml"
	run $LEPTON train "$T/r/b.yaml"
	expect_rc 9
	expect_err "cannot run 'setup'"
	printf 'kind: job\nname: loc\nimage: %s\nplacement: {providers: [local]}\nrun: "true"\n' "$LEP_PY_IMAGE" >"$T/r/c.yaml"
	run $LEPTON train "$T/r/c.yaml"
	expect_rc 9
	expect_err "image: $LEP_PY_IMAGE"
	printf 'kind: job\nname: miss\nimage: localhost/nosuch:1\nplacement: {providers: [containers]}\nrun: "true"\n' >"$T/r/d.yaml"
	run $LEPTON train "$T/r/d.yaml"
	expect_rc 5
	expect_err "d.yaml:3:8: image 'localhost/nosuch:1' is not on the engine"
	mkdir -p "$T/r/ctx"
	printf 'FROM %s\nRUN echo building-it && false\n' "$LEP_PY_IMAGE" >"$T/r/ctx/Dockerfile"
	printf 'kind: job\nname: bad\nimage: {build: ./ctx}\nplacement: {providers: [containers]}\nrun: "true"\n' >"$T/r/e.yaml"
	run $LEPTON train "$T/r/e.yaml"
	expect_rc 1
	expect_err "e.yaml:3:8: the image did not build"
	expect_err "building-it"
	[ -z "$(ours bad)$(ours miss)" ] || fail "containers made"
	# Accelerators this host does not have: infeasible, exit 10.
	printf 'kind: job\nname: gpu\nimage: %s\nplacement: {providers: [containers]}\nresources: {accelerators: "H100:8"}\nrun: "true"\n' "$LEP_PY_IMAGE" >"$T/r/g.yaml"
	run $LEPTON train "$T/r/g.yaml"
	expect_rc 10
	# No engine on the socket: exit 7, before anything is recorded.
	printf 'kind: service\nname: down\nimage: %s\nplacement: {providers: [containers]}\nrun: "true"\n' "$LEP_PY_IMAGE" >"$T/r/s.yaml"
	DOCKER_HOST=unix://$T/none.sock run $LEPTON deploy "$T/r/s.yaml"
	expect_rc 7
	expect_err "no container engine answers on $T/none.sock"
	run $LEPTON history down
	expect_rc 5
	# An engine that answers garbage: a clear error, exit 7.
	$PY - "$T/junk.sock" <<'PYEOF' &
import socket, sys, os
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept()
    c.recv(65536)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n<garbage>")
    c.close()
PYEOF
	junk=$!
	wait_for 10 test -S "$T/junk.sock" || fail "no junk server"
	DOCKER_HOST=unix://$T/junk.sock run $LEPTON deploy "$T/r/s.yaml"
	kill $junk
	expect_rc 7
	expect_err "the engine answered 200"
}

test_ctr_job_exit_code_and_cancel() {
	mkdir -p "$T/j"
	printf 'kind: job\nname: seven\nimage: %s\nplacement: {providers: [containers]}\nrun: echo to-stdout; echo to-stderr >&2; exit 7\n' "$LEP_PY_IMAGE" >"$T/j/a.yaml"
	run $LEPTON train "$T/j/a.yaml"
	expect_rc 14
	run $LEPTON --json status --jobs
	job=$($PY -c 'import json,sys; print([j["id"] for j in json.load(open(sys.argv[1]))["result"]["jobs"] if j["name"] == "seven"][0])' "$out")
	run $LEPTON logs "$job"
	expect_out "to-stdout"
	expect_out "to-stderr"
	[ -z "$(ours seven)" ] || fail "left: $(ours seven)"
	# lepton stop on a running job: cancelled, its container gone.
	printf 'kind: job\nname: long\nimage: %s\nplacement: {providers: [containers]}\nrun: echo started; exec sleep 300\n' "$LEP_PY_IMAGE" >"$T/j/b.yaml"
	$LEPTON train -d "$T/j/b.yaml" >"$T/long.out" 2>&1 || fail "train -d: $(cat "$T/long.out")"
	running() { [ "$(ours long | grep -c ' running ')" = 1 ]; }
	wait_for 30 running || fail "never ran: $(ours long)"
	run $LEPTON --json status --jobs
	job=$($PY -c 'import json,sys; print([j["id"] for j in json.load(open(sys.argv[1]))["result"]["jobs"] if j["name"] == "long"][0])' "$out")
	run $LEPTON stop "$job"
	expect_rc 0
	run $LEPTON --json status --jobs
	[ "$($PY -c 'import json,sys; print([j["state"] for j in json.load(open(sys.argv[1]))["result"]["jobs"] if j["name"] == "long"][0])' "$out")" = cancelled ] ||
	    fail "not cancelled: $(cat "$out")"
	[ -z "$(ours long)" ] || fail "left: $(ours long)"
}

# An image that runs as a user of its own with an ENTRYPOINT of its own:
# run replaces the entrypoint on both engines, and the secrets file is
# that user's to read.
test_ctr_image_user_and_entrypoint() {
	chmod 755 "$(dirname "$T")" "$T"
	mkdir -p "$T/u/ctx"
	printf 'FROM %s\nUSER 1000:1000\nENTRYPOINT ["python3", "-c", "import sys; sys.exit(3)"]\n' \
	    "$LEP_PY_IMAGE" >"$T/u/ctx/Dockerfile"
	cat >"$T/u/service.yaml" <<'YAML'
kind: service
name: userly
image: {build: ./ctx}
placement: {providers: [containers]}
secrets: [MY_SECRET]
run: |
  echo "uid $(id -u) secret length ${#MY_SECRET}"
  exec python3 -m http.server "$LEPTON_PORT" --bind "$LEPTON_HOST"
service:
  readiness: {path: /, timeout: 30}
YAML
	chmod -R a+rX "$T/u"
	MY_SECRET=abc run $LEPTON deploy "$T/u/service.yaml"
	expect_rc 0
	# The box copies the container's output as it comes: a moment.
	said() { $LEPTON logs userly 2>/dev/null | grep -q "uid 1000 secret length 3"; }
	wait_for 10 said || fail "no line: $($LEPTON logs userly 2>&1)"
	run $LEPTON stop userly
	expect_rc 0
	[ -z "$(ours userly)" ] || fail "left: $(ours userly)"
}

# A build directory that changed is a new revision, though the spec's
# text is the same; a rollback runs the image its revision ran, not a
# build of the directory as it is now.
test_ctr_changed_build_is_a_revision_and_rollback_runs_its_image() {
	mkdir -p "$T/b/ctx"
	printf 'FROM %s\nCOPY marker /marker\n' "$LEP_PY_IMAGE" >"$T/b/ctx/Dockerfile"
	echo one >"$T/b/ctx/marker"
	cat >"$T/b/service.yaml" <<'YAML'
kind: service
name: pinned
image: {build: ./ctx}
placement: {providers: [containers]}
run: |
  echo "marker $(cat /marker)"
  exec python3 -m http.server "$LEPTON_PORT" --bind "$LEPTON_HOST"
service:
  readiness: {path: /, timeout: 30}
YAML
	run $LEPTON deploy "$T/b/service.yaml"
	expect_rc 0
	img1=$(ours pinned | awk '{print $3}')
	# The revision a deploy replaced drains after the deploy returns:
	# wait until only one container is left, then name its image.
	one_image() { [ "$(ours pinned | wc -l)" = 1 ] && [ "$(ours pinned | awk '{print $3}')" = "$1" ]; }
	run $LEPTON --json deploy "$T/b/service.yaml"
	[ "$(jget "$out" 'd["result"]["changed"]')" = False ] || fail "changed"
	echo two >"$T/b/ctx/marker"
	run $LEPTON deploy "$T/b/service.yaml"
	expect_rc 0
	expect_out "pinned revision 2 ready"
	one() { [ "$(ours pinned | wc -l)" = 1 ]; }
	wait_for 30 one || fail "old revision left: $(ours pinned)"
	img2=$(ours pinned | awk '{print $3}')
	[ -n "$img2" ] && [ "$img1" != "$img2" ] || fail "same image: $img1 $img2"
	run $LEPTON logs pinned
	expect_out "marker two"
	run $LEPTON rollback pinned
	expect_rc 0
	expect_out "pinned is back on revision 1"
	wait_for 30 one_image "$img1" ||
	    fail "rollback runs $(ours pinned | awk '{print $3}' | tr '\n' ' '), not $img1"
	git -C "$LEPTON_HOME/state" show HEAD:deployments/pinned.json | grep -q '"pin"' ||
	    fail "no pin in the record"
	run $LEPTON stop pinned
	expect_rc 0
	# The image revision 1 ran, gone from the engine: a rollback to it
	# says so (exit 5) and starts nothing.
	curl -s -X DELETE --unix-socket "$SOCK" "http://engine/v1.41/images/$img1?force=1" >/dev/null
	run $LEPTON rollback pinned --to 1
	expect_rc 5
	expect_err "is no longer on the engine"
	[ -z "$(ours pinned)" ] || fail "started: $(ours pinned)"
}

# The binary replaced under a running deployment (an upgrade): its
# supervisor still starts boxes, from the binary it runs.
test_ctr_upgrade_under_a_running_supervisor() {
	mkdir -p "$T/bin"
	cp "$LEPTON" "$T/bin/lepton"
	svc_yaml upgraded
	MY_SECRET=x run "$T/bin/lepton" deploy "$T/svc/service.yaml"
	expect_rc 0
	cp "$LEPTON" "$T/bin/lepton.new" && mv "$T/bin/lepton.new" "$T/bin/lepton"
	run $LEPTON --json status upgraded
	box=$(jget "$out" 'd["result"]["replicas"][0]["pid"]')
	id=$(ours upgraded | awk '{print $1}')
	kill -9 "$box"
	back() { [ "$(ours upgraded | grep -c ' running ')" = 1 ] &&
	    [ "$(ours upgraded | awk '{print $1}')" != "$id" ]; }
	wait_for 30 back || fail "no new box: $(ours upgraded); $(tail -3 "$LEPTON_HOME/containers/upgraded/logs/r1-0.log")"
	run $LEPTON stop upgraded
	expect_rc 0
}

# Both secret sources through a container (see canary_values in lib.sh;
# tests/e2e/canary.sh searches everything after, the engine's record of
# the container among it).
test_ctr_leak_canary_service() {
	canary_values
	mkdir -p "$T/leak"
	cat >"$T/leak/service.yaml" <<YAML
kind: service
name: leakybox
image: $LEP_PY_IMAGE
placement: {providers: [containers]}
secrets: [LEAK_CANARY_ENV, LEAK_CANARY_STORE]
run: |
  python3 -c 'import hashlib, os; [print(k, "sha", hashlib.sha256(os.environb[n]).hexdigest()) for k, n in (("env", b"LEAK_CANARY_ENV"), ("store", b"LEAK_CANARY_STORE"))]'
  exec python3 -m http.server "\$LEPTON_PORT" --bind "\$LEPTON_HOST"
service:
  readiness: {path: /, timeout: 30}
YAML
	run $LEPTON -v deploy "$T/leak/service.yaml"
	expect_rc 0
	run $LEPTON logs leakybox
	expect_shas
	id=$(ours leakybox | awk '{print $1}')
	[ -n "$id" ] || fail "no container"
	api "/containers/$id/json" >"$T/inspect.json"
	grep -q LEPTON_PORT "$T/inspect.json" || fail "inspect holds no env at all"
	for a in "--json status leakybox" "history leakybox" "-v stop leakybox"; do
		run $LEPTON $a
		expect_rc 0
	done
	canary_nowhere_else "$T/inspect.json"
}
