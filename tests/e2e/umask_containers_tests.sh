# umask_containers_tests.sh: run by tests/e2e/containers.sh beside
# containers_tests.sh, on each engine. lepton keeps a model 0700 and
# 0400; an image that runs as a user of its own still reads it.

test_ctr_image_user_reads_its_model() {
	chmod 755 "$(dirname "$T")" "$T"
	mkdir -p "$T/u/ctx" "$T/u/model"
	echo '{"weights": [1, 2]}' >"$T/u/model/model.json"
	printf 'FROM %s\nUSER 1000:1000\n' "$LEP_PY_IMAGE" >"$T/u/ctx/Dockerfile"
	cat >"$T/u/service.yaml" <<'YAML'
kind: service
name: userly
image: {build: ./ctx}
placement: {providers: [containers]}
model: {name: m, path: ./model}
run: |
  echo "uid $(id -u) model $(cat "$LEPTON_MODEL_DIR/model.json")"
  exec python3 -m http.server "$LEPTON_PORT" --bind "$LEPTON_HOST"
service:
  readiness: {path: /, timeout: 30}
YAML
	chmod -R a+rX "$T/u"
	run $LEPTON deploy "$T/u/service.yaml"
	expect_rc 0
	run $LEPTON logs userly
	expect_out 'uid 1000 model {"weights": [1, 2]}'
	# Opened to read only where the container mounts it.
	for p in "$LEPTON_HOME" "$LEPTON_HOME/models" "$LEPTON_HOME/models/m" \
	    "$LEPTON_HOME/objects"; do
		[ "$(stat -c %a "$p")" = 700 ] || fail "$p: $(stat -c %a "$p")"
	done
	run $LEPTON stop userly
	expect_rc 0
}
