#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages render without a single warning.
# Usage: test-man.sh groff|mandoc PAGE...   Exit 77 (skip) if the tool is absent.
set -u
tool=$1; shift
command -v "$tool" >/dev/null 2>&1 || { echo "$tool not installed (tests/deps.sh installs it)"; exit 77; }
status=0
for page in "$@"; do
	case $tool in
	# -ww: every warning; -z: no output, only the diagnostics.
	groff) out=$(groff -ww -man -z "$page" 2>&1) ;;
	# -W style: the strictest level, which lint would show anyway.
	mandoc) out=$(mandoc -T lint -W style "$page" 2>&1) ;;
	*) echo "unknown tool $tool"; exit 2 ;;
	esac
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
		status=1
	else
		echo "ok $tool $page"
	fi
done
exit $status
