#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bash completions offer what `dtierd --help` documents (and what
# dtierctl will take). Usage: test-completion.sh COMPLETIONDIR
# Exit 77 (skip) without bash-completion, whose helpers they use.
set -u
dir=$1
bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || { echo "bash-completion not installed (tests/deps.sh installs it)"; exit 77; }
# shellcheck disable=SC1090
. "$bc"
# shellcheck disable=SC1091
. "$dir/dtierd"
# shellcheck disable=SC1091
. "$dir/dtierctl"

status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/a.conf" "$tmp/b.txt"
mkdir "$tmp/sub"

# expect "WORDS" "EXPECTED"...: completes the last word of WORDS.
expect() {
	local line=$1 want=$2 got
	read -r -a COMP_WORDS <<<"$line"
	case $line in *' ') COMP_WORDS+=(""); esac
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	"_${COMP_WORDS[0]}" 2>/dev/null
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		echo "ok   '$line' -> $got"
	else
		echo "FAIL '$line' -> '$got', want '$want'"
		status=1
	fi
}

cd "$tmp" || exit 1
expect "dtierd --" "--cleanup --config --help --reload --root --show-topology --test-config --verbose --version"
expect "dtierd --te" "--test-config"
expect "dtierd --cleanup --" "--config --root"
expect "dtierd --reload --" "--config"
expect "dtierd --config " "a.conf sub"
expect "dtierd -c " "a.conf sub"
expect "dtierd --root " "sub"
expect "dtierd --version " ""
expect "dtierctl " "status"
expect "dtierctl --" "--config --help --version"
expect "dtierctl --config a.conf " "status"
expect "dtierctl status " "--config --json"
expect "dtierctl status --j" "--json"
exit $status
