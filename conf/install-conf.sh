#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# meson install script: install-conf.sh SRC DEST
# Copies SRC to $DESTDIR/DEST (mode 0644) only if DEST does not exist there:
# an operator's edited /etc/dtierd.conf survives every later install.
# meson exports DESTDIR (absolute) when installing with --destdir or DESTDIR=.
set -eu
src=$1
dest=${DESTDIR:-}$2
if [ -e "$dest" ] || [ -L "$dest" ]; then
	[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Keeping existing $dest"
	exit 0
fi
[ -n "${MESON_INSTALL_QUIET:-}" ] || echo "Installing $src to $dest"
mkdir -p "$(dirname "$dest")"
# Through a temporary name, so that an interrupted copy leaves no half file
# that the next install would then keep.
tmp="$dest.meson-new.$$"
trap 'rm -f "$tmp"' EXIT
cp "$src" "$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$dest"
trap - EXIT
