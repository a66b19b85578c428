#!/bin/sh
# sigv4_oracle.sh: lepton's SigV4 signer byte for byte against botocore's
# on a few hundred random requests (tests/sigv4_oracle.py). botocore comes
# with boto3 from python3 on PATH (a pyenv shim here; Debian's python3 has
# none); without it, one SKIP line and success. Run by make sigv4-oracle.
# usage: sigv4_oracle.sh SIGV4_MAIN
set -eu
main=${1:?usage: sigv4_oracle.sh SIGV4_MAIN}
root=$(cd "$(dirname "$0")/.." && pwd)
py=
for p in python3 "${PYENV_ROOT:-$HOME/.pyenv}/shims/python3" \
    /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 &&
	    "$p" -c 'import botocore.auth' >/dev/null 2>&1; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "SKIP: no botocore"
	exit 0
fi
exec "$py" "$root/tests/sigv4_oracle.py" "$main"
