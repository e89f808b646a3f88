#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Prometheus itself accepts the textfile dtierd writes: `promtool check
# metrics` (format and naming lint) on the sample status's dtierd.prom.
# Usage: test-promtool.sh TEST-PROM   Exit 77 (skip) without promtool
# (Debian package prometheus; tests/deps.sh installs it).
set -u
command -v promtool >/dev/null 2>&1 || { echo "promtool not installed (tests/deps.sh installs prometheus)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$1" --write "$tmp" || exit 1
# promtool accepts an empty file: make sure there is something to check.
grep -q '^dtierd_up 1$' "$tmp/dtierd.prom" || { echo "no dtierd_up in the file"; exit 1; }
out=$(promtool check metrics <"$tmp/dtierd.prom" 2>&1)
rc=$?
printf '%s\n' "$out"
# It exits 0 on lint findings too, printing them: none allowed.
[ $rc -eq 0 ] && [ -z "$out" ] || exit 1
echo "ok promtool check metrics"
