# t_install.sh: `make install` gives a binary that finds its catalogs and
# example under its own PREFIX, whatever PREFIX it was built with.

# The build directory of $LEPTON in this checkout (build, build-asan), so
# that `make install` copies that binary instead of building another.
lepton_build() {
	_bin=$(cd "$(dirname "$LEPTON")" && pwd)/$(basename "$LEPTON")
	case $_bin in
	"$ROOT"/lepton) echo build ;;
	"$ROOT"/*/lepton) _b=${_bin#"$ROOT"/}; echo "${_b%/lepton}" ;;
	*) return 1 ;;
	esac
}

# submake ARGS...: make in the checkout, free of a calling make's flags.
submake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make --no-print-directory -C "$ROOT" DESTDIR= "$@"
}

# installed_works PREFIX: its lepton, run from elsewhere, reads its catalogs.
installed_works() {
	run "$1/bin/lepton" catalog
	expect_rc 0
	expect_out "InstallProbe"
	expect_out "A100"
	run "$1/bin/lepton" --json cost -a \
	    "$1/share/lepton/examples/iris/service.yaml"
	expect_rc 0
	n=$(jget "$out" 'sum(o["provider"] == "aws" for o in d["result"]["offers"])')
	[ "$n" -gt 0 ] ||
	    fail "no aws offer for the installed example: $(head -c 300 "$out")"
	run "$1/bin/lepton" --json cost "$T/probe.yaml"
	expect_rc 0
	[ "$(jget "$out" 'd["result"]["chosen"]["instance"]')" = ml.p5.probe ] ||
	    fail "chosen: $(head -c 300 "$out")"
}

test_install_runs_from_its_prefix() {
	build=$(lepton_build) || fail "LEPTON=$LEPTON is not built in $ROOT"
	submake -q BUILD="$build" all ||
	    fail "$LEPTON is older than its sources: run make first"
	submake BUILD="$build" PREFIX="$T/p" install >"$T/make.log" 2>&1 ||
	    fail "make install: $(tail -5 "$T/make.log")"
	cmp -s "$LEPTON" "$T/p/bin/lepton" || fail "make install rebuilt lepton"
	ex=$T/p/share/lepton/examples/iris
	for f in serve.py train.py service.yaml iris.csv model/model.json; do
		[ -f "$ex/$f" ] || fail "examples/iris/$f not installed"
	done
	# A row that only the installed catalog has shows which one is read
	# (of a family SageMaker runs: aws plans only those, as ml.TYPE).
	echo 'p5.probe,InstallProbe,1.0,4.0,16.0,,1.25,,us-east-1,use1-az1' \
	    >>"$T/p/share/lepton/catalog/aws.csv"
	cat >"$T/probe.yaml" <<-EOF
	kind: job
	name: probe
	run: x
	resources: {accelerators: InstallProbe:1}
	placement: {providers: [aws]}
	EOF
	cd "$T" || fail "cd"
	installed_works "$T/p"
	# Moved after install too: nothing depends on the path it went to.
	mv "$T/p" "$T/q"
	installed_works "$T/q"
}
