#!/bin/sh
# manpage.sh EEPROF VERSION OUT - the man page eeprof(1), made by help2man from eeprof's own
# help texts: `eeprof --help` gives NAME and DESCRIPTION, and for every command it lists,
# `eeprof COMMAND --help` gives a SYNOPSIS line (its usage) and a subsection of COMMANDS. Nothing in the page is written by hand,
# so it cannot drift from the program. Writes OUT atomically.
set -eu
eeprof=$1 version=$2 out=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eeprof-man.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Roff-safe text: backslashes escaped, and lines that would read as requests made literal.
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\&\\1/"; }

commands=$("$eeprof" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }
	on && /^$/ { exit }')
[ -n "$commands" ] || { echo "manpage: no commands in '$eeprof --help'" >&2; exit 1; }
{
	echo "[SYNOPSIS]"
	for cmd in $commands; do
		"$eeprof" "$cmd" --help | sed -n 's/^usage: //p' | roff
		echo ".br"
	done
	echo "[COMMANDS]"
	printf '%s\n' "Each command's options, as \\fBeeprof\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR prints them."
	for cmd in $commands; do
		printf '.SS "eeprof %s"\n.nf\n' "$cmd"
		"$eeprof" "$cmd" --help | roff
		echo ".fi"
	done
} > "$tmp/commands.h2m"
help2man --no-info --section=1 --version-string="$version" \
	--name="audit early-exit CNNs: exact inference, executed MACs per exit and gate" \
	--include="$tmp/commands.h2m" --output="$tmp/eeprof.1" "$eeprof"
mv "$tmp/eeprof.1" "$out"
