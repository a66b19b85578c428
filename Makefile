# lepton: plain GNU make. `make demo` and `make check` each work alone on a
# fresh Debian 12 machine (they run `make deps` first).

VERSION		= 0.1.0
PREFIX		?= /usr/local
DESTDIR		?=
BUILD		?= build
LEPTON		?= ./lepton
CC		?= cc

# Debian packages lepton builds and runs with (tools/deps installs them).
DEB_PACKAGES	= gcc make pkg-config libcurl4-openssl-dev libcjson-dev \
		  libyaml-dev libssl-dev libgit2-dev zlib1g-dev check python3 curl git \
		  procps
# A real Slurm for the Slurm suite (tests/engines/slurm), not needed to run.
SLURM_PACKAGES	= slurm-wlm slurmrestd munge openssl
# Real container engines for the containers suite (tests/engines/containers):
# dockerd and Podman (runc: crun cannot run on cgroup v1 hybrid hosts;
# catatonit: Podman's init for containers, as tini is dockerd's).
CONTAINER_PACKAGES = docker.io podman runc catatonit busybox-static
# clang for the fuzz harnesses (tests/fuzz): Debian 12's pulls
# libclang-common-14-dev, which holds libFuzzer and the sanitizers.
FUZZ_PACKAGES	= clang
PKGS		= libcurl libcjson yaml-0.1 libcrypto libgit2 check

# libyaml and cJSON are linked; libcurl, libcrypto and libgit2 are loaded
# on first use (lib/dl.c) so that commands which never touch them start
# as fast as a hello world. Their sonames are read from the -dev links.
# Every $(shell) runs once, here (:=), not at each use.
LIBDIR		:= $(shell pkg-config --variable=libdir libcurl 2>/dev/null)
soname		= $(shell objdump -p $(LIBDIR)/$(1) 2>/dev/null | \
		    awk '/SONAME/ { print $$2 }')
SONAME_CURL	:= $(or $(call soname,libcurl.so),libcurl.so.4)
SONAME_CRYPTO	:= $(or $(call soname,libcrypto.so),libcrypto.so.3)
SONAME_GIT2	:= $(or $(call soname,libgit2.so),libgit2.so.1.5)
PKG_CFLAGS	:= $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS	:= $(shell pkg-config --libs libcjson yaml-0.1 2>/dev/null)
PKG_LIBS_CHECK	:= $(shell pkg-config --libs check 2>/dev/null)

# CFLAGS, CPPFLAGS and LDFLAGS are the user's (dpkg-buildflags' hardening
# flags, say); ours come first on every line. WERROR=0 drops -Werror for
# packagers whose newer compilers warn where ours does not.
CFLAGS		?= -O2 -g
WERROR		?= 1
WARN		:= -std=c11 -Wall -Wextra $(if $(filter 0,$(WERROR)),,-Werror)
CPPFLAGS_ALL	:= -D_GNU_SOURCE -DLEPTON_VERSION='"$(VERSION)"' \
		  -DLEP_DATADIR='"$(PREFIX)/share/lepton"' \
		  -DLEP_SONAME_CURL='"$(SONAME_CURL)"' \
		  -DLEP_SONAME_CRYPTO='"$(SONAME_CRYPTO)"' \
		  -DLEP_SONAME_GIT2='"$(SONAME_GIT2)"' \
		  $(PKG_CFLAGS)
LDLIBS_BIN	:= $(PKG_LIBS) -ldl
LDLIBS_TEST	:= $(LDLIBS_BIN) $(PKG_LIBS_CHECK)
SAN		?=
ifeq ($(SAN),1)
SANFLAGS	= -fsanitize=address,undefined -fno-omit-frame-pointer \
		  -fno-sanitize-recover=undefined
endif

LIB_SRCS	= $(wildcard lib/*.c) $(filter-out providers/table.c, \
		  $(wildcard providers/*.c)) providers/table.c
CMD_SRCS	= $(filter-out cmd/main.c, $(wildcard cmd/*.c))
TEST_SRCS	= $(wildcard tests/check_*.c)

LIB_OBJS	= $(LIB_SRCS:%.c=$(BUILD)/%.o)
CMD_OBJS	= $(CMD_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS	= $(TEST_SRCS:%.c=$(BUILD)/%.o)
DEPS		= $(LIB_OBJS:.o=.d) $(CMD_OBJS:.o=.d) $(TEST_OBJS:.o=.d) \
		  $(BUILD)/tests/bench/gen_versions.d \
		  $(BUILD)/tests/aws/aws_creds_main.d \
		  $(BUILD)/tests/sigv4_main.d $(BUILD)/cmd/main.d

ifeq ($(BUILD),build)
BIN		= lepton
else
BIN		= $(BUILD)/lepton
endif

.PHONY: all check layers unit sigv4-oracle e2e e2e-aws e2e-gcp e2e-kube e2e-slurm e2e-containers e2e-canary canary deps-containers deps-aws demo deps deps-slurm asan valgrind bench durability lint install \
	gpu-bundle fuzz fuzz-smoke fuzz-build deps-fuzz \
	clean

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS_ALL) $(CPPFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/liblepton.a: $(LIB_OBJS) $(CMD_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/cmd/main.o $(BUILD)/liblepton.a
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BIN)

# Test-only: the AWS credential chain's answer as JSON (tests/aws/creds.sh).
$(BUILD)/aws_creds: $(BUILD)/tests/aws/aws_creds_main.o $(BUILD)/liblepton.a
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BIN)

$(BUILD)/check_lepton: $(TEST_OBJS) $(BUILD)/liblepton.a
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_TEST)

-include $(DEPS)

deps:
	@sh tools/deps $(DEB_PACKAGES)

deps-slurm:
	@sh tools/deps $(SLURM_PACKAGES)

deps-containers:
	@DEPS_NO_RECOMMENDS=1 sh tools/deps $(CONTAINER_PACKAGES)

# moto, boto3 and the aws CLI for the AWS suites (tools/deps-aws).
deps-aws:
	@sh tools/deps-aws

deps-fuzz:
	@sh tools/deps $(DEB_PACKAGES) $(FUZZ_PACKAGES)

# The test suite: Check units, then end to end against the real binary.
check: deps
	@$(MAKE) --no-print-directory all $(BUILD)/check_lepton
	@$(MAKE) --no-print-directory layers unit sigv4-oracle e2e e2e-aws \
	    e2e-gcp e2e-kube e2e-slurm e2e-containers e2e-canary

# Arrows between cmd/, lib/ and providers/ point down only (tools/layers).
layers: all
	@sh tools/layers -b $(BUILD)

unit: $(BUILD)/check_lepton
	LEPTON=$(abspath $(BIN)) $(BUILD)/check_lepton

# The SigV4 signer byte for byte against botocore's on a few hundred
# random requests (tests/sigv4_oracle.py); one SKIP line without botocore.
# SIGV4_ORACLE_SEED and SIGV4_ORACLE_N pick other requests.
$(BUILD)/sigv4_main: $(BUILD)/tests/sigv4_main.o $(BUILD)/liblepton.a
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BIN)

sigv4-oracle: $(BUILD)/sigv4_main
	@sh tests/sigv4_oracle.sh $(abspath $(BUILD)/sigv4_main)

e2e: $(BIN)
	@LEPTON=$(abspath $(BIN)) sh tests/e2e/run.sh

# The leak-canary run (tests/e2e/canary.sh): unique canaries in the
# environment, the store and LEPTON_TOKEN, then every output, file, git
# object and argv searched for them; 0 hits. make check runs a sample of
# the suite (~90 s); make canary the whole of it, engines' suites too.
e2e-canary: $(BIN)
	@CANARY_QUICK=1 LEPTON=$(abspath $(BIN)) sh tests/e2e/canary.sh

canary: $(BIN)
	@LEPTON=$(abspath $(BIN)) sh tests/e2e/canary.sh

# The AWS credential chain next to botocore's, case by case, against
# moto (tests/engines/aws) and a loopback SSO recorder; then the provider
# on SageMaker against moto with SigV4 checking on, through a validating
# layer (tests/aws/moto_layer.py). One SKIP line each without moto.
# Google credentials against a loopback token and metadata server that
# verifies every JWT, and gcloud against the same server (one SKIP line
# without gcloud); then the provider on Vertex AI against a loopback
# Vertex, Cloud Storage and Logging server strict to the discovery
# document, cross-checked by gcloud (tests/e2e/gcp.sh).
e2e-gcp: $(BIN) $(BUILD)/check_lepton
	@LEPTON=$(abspath $(BIN)) sh tests/gcp/creds.sh
	@LEPTON=$(abspath $(BIN)) CHECK_LEPTON=$(abspath $(BUILD)/check_lepton) \
	    sh tests/e2e/gcp.sh

# The kubeconfig against a loopback HTTPS API server of ours (a throwaway
# CA; tokens, client certificates, exec plugins), kubectl against the same
# server for each case (SKIP lines without kubectl) (tests/kube/check.sh).
e2e-kube: $(BIN)
	@LEPTON=$(abspath $(BIN)) sh tests/kube/check.sh

e2e-aws: $(BUILD)/aws_creds $(BIN) $(BUILD)/check_lepton
	@AWS_CREDS=$(abspath $(BUILD)/aws_creds) sh tests/aws/creds.sh
	@LEPTON=$(abspath $(BIN)) CHECK_LEPTON=$(abspath $(BUILD)/check_lepton) \
	    sh tests/e2e/aws.sh

# A real two-node Slurm cluster on 127.0.0.1; one SKIP line without it.
e2e-slurm: $(BIN) $(BUILD)/check_lepton
	@LEPTON=$(abspath $(BIN)) CHECK_LEPTON=$(abspath $(BUILD)/check_lepton) \
	    sh tests/e2e/slurm.sh

# dockerd, then Podman, each on a private unix socket; a SKIP line each
# where this machine cannot run it.
e2e-containers: $(BIN) $(BUILD)/check_lepton
	@LEPTON=$(abspath $(BIN)) CHECK_LEPTON=$(abspath $(BUILD)/check_lepton) \
	    sh tests/e2e/containers.sh

asan:
	@LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp):print_suppressions=0 \
	    $(MAKE) --no-print-directory BUILD=build-asan SAN=1 \
	    CFLAGS='-O1 -g' check

valgrind: all $(BUILD)/check_lepton
	CK_FORK=no LEPTON=$(abspath $(BIN)) valgrind -q --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	    $(BUILD)/check_lepton
	@LEPTON=$(abspath $(BIN)) sh tests/valgrind.sh

# The main job: build, deploy the iris example locally, ask it, stop it.
demo: deps all
	@sh examples/iris/demo.sh $(abspath $(BIN))

$(BUILD)/gen_versions: $(BUILD)/tests/bench/gen_versions.o $(BUILD)/liblepton.a
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_BIN)

bench: all $(BUILD)/gen_versions $(BUILD)/sigv4_main
	@GEN_VERSIONS=$(abspath $(BUILD)/gen_versions) \
	    SIGV4_MAIN=$(abspath $(BUILD)/sigv4_main) sh tests/bench.sh \
	    $(abspath $(BIN))
	@echo; echo "## predict load mode next to wrk, hey and ab (nginx)"
	@sh tests/bench_predict.sh $(abspath $(BIN)) || \
	    echo "(skipped: needs nginx-light wrk hey apache2-utils)"

# 100 deploys under strace: every rename and link into LEPTON_HOME synced
# before, its directory after, each new directory's parent; ~3 minutes.
durability: all
	@LEPTON=$(abspath $(BIN)) sh tests/durability.sh

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c) under ASan and UBSan, built
# apart in build-fuzz/ with clang. `make fuzz` runs each for FUZZ_SECONDS
# from its committed corpus (tests/fuzz/corpus/NAME, never written: new
# inputs go to build-fuzz/corpus/NAME), one at a time; `make fuzz-smoke`
# is CI's short pass. FUZZ=NAME... picks harnesses. Both fail on a crash,
# leak, timeout or sanitizer report and say where its reproducer is.
FUZZ_BUILD	= build-fuzz
FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_SAN	= -fsanitize=address,undefined -fno-sanitize-recover=all \
		  -fno-omit-frame-pointer
FUZZ_CFLAGS	= -g -O1 $(FUZZ_SAN)
FUZZ_NAMES	= $(patsubst tests/fuzz/fuzz_%.c,%, \
		  $(wildcard tests/fuzz/fuzz_*.c))
FUZZ		?= $(FUZZ_NAMES)
FUZZ_LIB_OBJS	= $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_BINS	= $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -Wall -Wextra $(FUZZ_CFLAGS) \
	    -fsanitize=fuzzer-no-link $(CPPFLAGS_ALL) $(CPPFLAGS) -MMD -MP \
	    -c -o $@ $<

$(FUZZ_BUILD)/libfuzz.a: $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_BUILD)/libfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_BIN)

-include $(FUZZ_LIB_OBJS:.o=.d) \
	 $(FUZZ_NAMES:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.d)

fuzz-build: $(FUZZ_BINS)

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh -b $(FUZZ_BUILD) -t $(FUZZ_SECONDS) $(FUZZ)

fuzz-smoke: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@sh tests/fuzz/run.sh -b $(FUZZ_BUILD) -t $(FUZZ_SMOKE_SECONDS) $(FUZZ)

# The binary and its shared libraries, for the GPU check (tests/gpu/).
gpu-bundle: all
	@sh tests/gpu/bundle.sh $(BIN) $(BUILD)/gpu-bundle

lint:
	@! grep -nE '\<(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|system|popen)[[:space:]]*\(' \
	    lib/*.c cmd/*.c providers/*.c | grep -v '^\S*:[0-9]*:\s*\*' \
	    || (echo "lint: banned function above" >&2; false)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 \
	    $(DESTDIR)$(PREFIX)/share/lepton/examples/iris/model \
	    $(DESTDIR)$(PREFIX)/share/lepton/examples/echo-llm \
	    $(DESTDIR)$(PREFIX)/share/lepton/catalog
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/lepton
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 0644 catalog/*.csv catalog/README.md \
	    $(DESTDIR)$(PREFIX)/share/lepton/catalog/
	install -m 0644 examples/iris/*.py examples/iris/*.yaml \
	    examples/iris/iris.csv $(DESTDIR)$(PREFIX)/share/lepton/examples/iris/
	install -m 0755 examples/iris/demo.sh \
	    $(DESTDIR)$(PREFIX)/share/lepton/examples/iris/
	install -m 0644 examples/iris/model/*.json \
	    $(DESTDIR)$(PREFIX)/share/lepton/examples/iris/model/
	install -m 0644 examples/echo-llm/* \
	    $(DESTDIR)$(PREFIX)/share/lepton/examples/echo-llm/

clean:
	rm -rf build build-asan build-fuzz lepton
