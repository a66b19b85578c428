#!/bin/sh
# bundle.sh BIN DIR: the binary and every shared library it links or
# loads (libcurl, libcrypto, libgit2 and theirs), less glibc's own, so
# that it runs on a machine without Debian's -dev packages
# (LD_LIBRARY_PATH=DIR/lib). Run by `make gpu-bundle`.
set -eu
bin=$1 dir=$2
rm -rf "$dir"
mkdir -p "$dir/lib"
cp "$bin" "$dir/lepton"
libdir=$(pkg-config --variable=libdir libcurl)
for f in "$bin" "$libdir/libcurl.so" "$libdir/libcrypto.so" "$libdir/libgit2.so"; do
	ldd "$f" | awk '/=>/ { print $3 }'
	case "$f" in *.so) readlink -f "$f" ;; esac
done | sort -u | grep -v -E '/(libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|libnss_[a-z]*|ld-linux[^/]*)\.so' |
while read -r lib; do
	[ -f "$lib" ] || continue
	cp -L "$lib" "$dir/lib/"
done
# dlopen wants the sonames.
for f in "$dir"/lib/*.so.*; do
	so=$(objdump -p "$f" | awk '/SONAME/ { print $2 }')
	[ -n "$so" ] && [ ! -e "$dir/lib/$so" ] && cp "$f" "$dir/lib/$so"
done
du -sh "$dir"
