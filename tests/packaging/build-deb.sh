#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the Debian package from a copy of the checkout, so that the checkout
# stays clean (dpkg-buildpackage writes ../*.deb and debian/ scratch files),
# then checks it with lintian: errors and warnings fail, each info tag left is
# explained in debian/README.source.
# Usage: build-deb.sh SRCDIR OUTDIR
#   OUTDIR gets dtierd_<version>_<arch>.deb (and the -dbgsym .deb, .changes,
#   .buildinfo, build.log, lintian.log); tests/run uses build/deb.
# Exit 77 (skip) without dpkg-buildpackage; tests/deps.sh deb installs it all.
set -eu
src=$(cd "$1" && pwd)
out=$2
command -v dpkg-buildpackage >/dev/null 2>&1 || {
	echo "dpkg-buildpackage not installed (tests/deps.sh deb installs it)"
	exit 77
}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dtierd-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The files git tracks plus the new ones it does not ignore, as they are in the
# working tree: what is being tested, without build directories.
mkdir "$work/dtierd"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$work/dtierd"
else
	(cd "$src" && tar --exclude='./build*' --exclude='./obj-*' -cf - .) | tar -xf - -C "$work/dtierd"
fi

rm -f "$out"/dtierd*.deb "$out"/dtierd*.changes "$out"/dtierd*.buildinfo
echo "building the package in $work/dtierd (log: $out/build.log)"
# nocheck: the package's own build runs no tests (debian/rules), say so to
# every helper too.
if ! (cd "$work/dtierd" && DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log"
	echo "FAIL: dpkg-buildpackage (full log: $out/build.log)"
	exit 1
fi
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
changes=$(ls "$out"/dtierd_*.changes)
for deb in "$out"/dtierd_*.deb; do
	echo "built $deb"
	dpkg-deb -c "$deb"
done

if ! command -v lintian >/dev/null 2>&1; then
	echo "lintian not installed: package built, not checked"
	exit 0
fi
# Lintian warns that it runs as root (tests/run does); the tags are the same.
if lintian --display-info --display-experimental --pedantic --show-overrides \
	--fail-on error,warning "$changes" >"$out/lintian.log" 2>&1; then
	cat "$out/lintian.log"
	echo "ok: lintian reports no error or warning"
else
	cat "$out/lintian.log"
	echo "FAIL: lintian (error or warning tags above)"
	exit 1
fi
