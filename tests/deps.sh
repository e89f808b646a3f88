#!/bin/sh
# Installs what dtierd needs to build and to run all its test suites on
# Debian 12 (as root). The vm suite boots Debian kernels under qemu; they are
# fetched at run time with apt into a cache (tests/vm/README.md).
set -eu
pkgs="meson ninja-build pkg-config gcc libc6-dev
libsystemd-dev libconfig-dev libnuma-dev libcmocka-dev libinih-dev
qemu-system-x86 busybox-static cpio gzip dpkg-dev debian-archive-keyring debootstrap
python3"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "tests/deps.sh: missing packages:$missing; run as root to install them" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
