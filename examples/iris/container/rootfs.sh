#!/bin/sh
# rootfs.sh: write rootfs.tar next to this script, the root file system the
# Dockerfile ADDs: static busybox + Debian's python3.11, its standard library
# and shared libraries, copied from this host (busybox-static, python3.11).
#
# The logic lives in tests/engines/containers (its "rootfs" subcommand makes
# the same tar for the test suite's LEP_PY_IMAGE): one copy of it, and the
# tar is reproducible, so this image's layer is byte for byte the tests'.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../../../tests/engines/containers" rootfs "$here/rootfs.tar"
