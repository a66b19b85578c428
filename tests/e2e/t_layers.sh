# t_layers.sh: tools/layers passes on this tree and fails on each kind of
# wrong-way reach planted in a copy of it (issue 10).

# The objects the binary under test was built from.
layers_build() {
	b=$(dirname "$LEPTON")
	[ -f "$b/lib/util.o" ] || b=$ROOT/build
	echo "$b"
}

# A copy of the sources and objects to plant a violation in.
layers_copy() {
	mkdir -p "$T/src" "$T/obj"
	cp -r "$ROOT/lib" "$ROOT/cmd" "$ROOT/providers" "$T/src/"
	b=$(layers_build)
	cp -r "$b/lib" "$b/cmd" "$b/providers" "$T/obj/"
}

test_layers_pass_on_this_tree() {
	run sh "$ROOT/tools/layers" -s "$ROOT" -b "$(layers_build)"
	expect_rc 0
	expect_out "layers: ok"
}

test_layers_fail_on_a_core_file_including_orchestration() {
	layers_copy
	sed -i 's|^#include "util.h"|#include "util.h"\n#include "service.h"|' \
	    "$T/src/lib/fs.c"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "lib/fs.c (layer 1) includes lib/service.h (layer 3)"
}

test_layers_fail_on_a_driver_including_a_command() {
	layers_copy
	echo '#include "../cmd/cmd.h"' >>"$T/src/providers/local.c"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "providers/local.c (layer 2) includes cmd/cmd.h (layer 4)"
}

test_layers_fail_on_a_core_call_upward() {
	layers_copy
	printf 'int lep_service_get(void *, void *, const char *);\n%s\n' \
	    'int f(void) { return lep_service_get(0, 0, 0); }' >"$T/up.c"
	cc -c -o "$T/obj/lib/money.o" "$T/up.c" || fail "cc"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "lib/money.c (layer 1) calls lep_service_get of lib/service"
}

test_layers_fail_on_a_cycle_between_core_modules() {
	layers_copy
	# money calls ledger, which (through its own object) calls money.
	printf 'int lep_ledger_record(void);\n%s\n' \
	    'int lep_money_x(void) { return lep_ledger_record(); }' >"$T/c.c"
	cc -c -o "$T/c.o" "$T/c.c" || fail "cc"
	ld -r -o "$T/obj/lib/money2.o" "$T/obj/lib/money.o" "$T/c.o" ||
	    fail "ld"
	mv "$T/obj/lib/money2.o" "$T/obj/lib/money.o"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "cycle"
	expect_err "lib/money"
}

test_layers_fail_on_a_provider_name_outside_the_table() {
	layers_copy
	echo 'static const char *d = "slurm";' >>"$T/src/cmd/train.c"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err 'provider name "slurm" outside the table: cmd/train.c'
}

test_layers_fail_on_a_third_party_header_outside_its_wrapper() {
	layers_copy
	echo '#include <curl/curl.h>' >>"$T/src/lib/plan.c"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "lib/plan.c includes <curl/curl.h>"
}

test_layers_fail_on_a_provider_name_inside_a_message() {
	layers_copy
	echo 'static const char *m = "try placement: {providers: [slurm]}";' \
	    >>"$T/src/lib/plan.c"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err 'provider name "slurm" outside the table: lib/plan.c'
}

test_layers_fail_on_a_driver_naming_another() {
	layers_copy
	echo 'static const char *m = "slurm";' >>"$T/src/providers/local.c"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err 'provider name "slurm" outside the table: providers/local.c'
	# A path is not a name; a driver may name itself.
	layers_copy
	echo 'static const char *m = "/usr/local/share";' >>"$T/src/lib/plan.c"
	echo 'static const char *m = "local";' >>"$T/src/providers/local-env.c"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 0
}

test_layers_fail_on_a_command_reading_the_table() {
	layers_copy
	printf 'extern const int lep_provider_table[];\n%s\n' \
	    'int f(void) { return lep_provider_table[0]; }' >"$T/t.c"
	cc -c -o "$T/t.o" "$T/t.c" || fail "cc"
	ld -r -o "$T/obj/cmd/train2.o" "$T/obj/cmd/train.o" "$T/t.o" ||
	    fail "ld"
	mv "$T/obj/cmd/train2.o" "$T/obj/cmd/train.o"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "cmd/train.c reads lep_provider_table"
}

test_layers_fail_on_a_missing_object() {
	layers_copy
	rm "$T/obj/lib/fs.o"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "objects missing"
}

# containers builds on local (BUILDS_ON in tools/layers): the other way
# round is still a driver calling another.
test_layers_fail_on_local_calling_the_driver_built_on_it() {
	layers_copy
	printf 'int ctr_sweep(const char *, const char *, const char *);\n%s\n' \
	    'int f(void) { return ctr_sweep(0, 0, 0); }' >"$T/back.c"
	cc -c -o "$T/back.o" "$T/back.c" || fail "cc"
	ld -r -o "$T/obj/providers/local2.o" "$T/obj/providers/local-env.o" \
	    "$T/back.o" || fail "ld"
	mv "$T/obj/providers/local2.o" "$T/obj/providers/local-env.o"
	run sh "$ROOT/tools/layers" -s "$T/src" -b "$T/obj"
	expect_rc 1
	expect_err "providers/local-env.c calls ctr_sweep of providers/containers: drivers are independent"
}
