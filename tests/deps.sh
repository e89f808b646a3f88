#!/bin/sh
# Installs dtierd's dependencies on Debian 12 or 13 (as root), by group:
#   tests/deps.sh runtime   what a host running a dtierd built elsewhere needs
#                           (the .deb depends on exactly these)
#   tests/deps.sh build     runtime + what building it from source needs:
#                           a production host (README, "Install on a real
#                           tiered machine") needs this and nothing more
#   tests/deps.sh deb       build + what dpkg-buildpackage and lintian need
#   tests/deps.sh [test]    everything tests/run and tests/demo use: build, deb,
#                           and the test tools (cmocka, qemu, busybox,
#                           debootstrap, groff, mandoc, bash-completion,
#                           prometheus for promtool, ...)
#   tests/deps.sh bench     what bench/hold needs on top (matplotlib)
# Several groups may be given. Only the missing packages are installed; as a
# non-root user it lists them and fails. The vm suite's Debian kernels are
# fetched at run time with apt into a cache (tests/vm/README.md).
set -eu
runtime="libsystemd0 libconfig9 libnuma1 libinih1"
# systemd.pc (unit and catalog directories) is in `systemd` on Debian 12 and
# in `systemd-dev` from Debian 13 on.
systemd_pc=systemd-dev
# shellcheck disable=SC1091
if [ -r /etc/os-release ] && [ "$(. /etc/os-release && echo "${VERSION_ID:-}")" = 12 ]; then
	systemd_pc=systemd
fi
build="meson ninja-build pkg-config gcc libc6-dev
libsystemd-dev libconfig-dev libnuma-dev libinih-dev $systemd_pc"
deb="dpkg-dev debhelper fakeroot lintian bash-completion"
# prometheus: for promtool (no package of its own in Debian 12); the package's
# server unit is enabled on install, which CI hosts do not mind.
test="libcmocka-dev
qemu-system-x86 busybox-static cpio gzip dpkg-dev debian-archive-keyring debootstrap
python3 groff-base mandoc bash-completion git
prometheus"
# bench/hold's plots
bench="python3 python3-matplotlib"

[ $# -gt 0 ] || set -- test
pkgs=""
for group in "$@"; do
	case $group in
	runtime) pkgs="$pkgs $runtime" ;;
	build) pkgs="$pkgs $runtime $build" ;;
	deb) pkgs="$pkgs $runtime $build $deb" ;;
	test) pkgs="$pkgs $runtime $build $deb $test" ;;
	bench) pkgs="$pkgs $bench" ;;
	*) echo "usage: tests/deps.sh [runtime|build|deb|test|bench]..." >&2; exit 2 ;;
	esac
done

missing=""
for p in $pkgs; do
	case " $missing " in *" $p "*) continue ;; esac
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
