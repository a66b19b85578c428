# canary_hook.sh: sourced by run.sh (E2E_HOOK) in each test's subshell,
# just before the test, under the leak-canary run (tests/e2e/canary.sh,
# which exports LEAK_CANARY_ENV and CANARY_DIR for every test).

# The caller's bearer token for plain URLs, which run.sh unset: a test
# that sets its own still wins.
LEPTON_TOKEN=$(cat "$CANARY_DIR/token")
export LEPTON_TOKEN

# A provider's credential as it arrives (the Slurm suite's JWT, which no
# canary can stand for: slurmctld checks it), searched for as well.
if [ -n "${SLURM_JWT:-}" ] && [ ! -e "$CANARY_DIR/cred.slurm_jwt" ]; then
	(umask 077; printf %s "$SLURM_JWT" >"$CANARY_DIR/cred.slurm_jwt")
fi

# The store's canary, sealed in this test's home, unless the test looks
# at the store itself or wants no home at all (CANARY_NO_STORE).
for _c in $CANARY_NO_STORE; do
	case "$t" in $_c) _c=skip; break ;; esac
done
if [ "$_c" != skip ]; then
	$LEPTON secret set LEAK_CANARY_STORE <"$CANARY_DIR/store" \
	    >/dev/null 2>"$T/canary-seed.err" ||
	    fail "canary: cannot seed the store: $(cat "$T/canary-seed.err")"
fi
unset _c

# Every output the test's run() captures, kept, not only the last.
run() {
	out=$T/out.$$ err=$T/err.$$
	"$@" >"$out" 2>"$err"
	rc=$?
	cat "$out" >>"$T/canary.out"
	cat "$err" >>"$T/canary.err"
	return 0
}
