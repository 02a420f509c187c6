#!/bin/sh
# check-layers.sh [ROOT] | --self-test - the folders of the C code depend one way (README "Architecture
# of the code"): every `#include "..."` of a file may name only its own folder or one
# below it.
#
#   analyzer/        -> anything below
#   plugins/         -> checkpoints/, reports/, core/, include/
#   checkpoints/     -> core/, include/
#   reports/         -> core/, include/
#   core/            -> include/
#   include/eeprof/  -> nothing (the bottom layer: libee's public header)
#
# And README.md's section "Architecture of the code" (if ROOT has a README.md) names every
# .c and .h file of these folders, and no such file that is not there.
#
# An include is resolved as a path from ROOT when it names a file there, else from the
# including file's folder ("arena.h", "../kernels.h"). Prints each include that breaks
# the order as FILE:LINE and exits 1; exits 0 and prints one summary line otherwise.
# --self-test: on a small tree of its own, a good include passes and bad ones (both
# spellings) are each reported.
set -eu

if [ "${1:-}" = --self-test ]; then
	t=$(mktemp -d)
	trap 'rm -rf "$t"' EXIT
	mkdir -p "$t/analyzer" "$t/plugins" "$t/checkpoints" "$t/reports" "$t/core/layers" \
		"$t/include/eeprof"
	echo '#include "include/eeprof/ee.h"' > "$t/core/status.h"
	: > "$t/include/eeprof/ee.h"
	printf '#include "status.h"\n#include "../status.h"\n' > "$t/core/layers/a.c"
	printf '#include "core/status.h"\n#include "reports/r.h"\n' > "$t/plugins/p.h"
	: > "$t/reports/r.h"
	sh "$0" "$t" > "$t/out" || { echo "check-layers: self-test: a good tree fails"; exit 1; }
	echo '#include "plugins/p.h"' >> "$t/reports/r.h"
	printf '#include <stdio.h>\n#include "../../reports/r.h"\n' >> "$t/core/layers/a.c"
	if sh "$0" "$t" > "$t/out"; then
		echo "check-layers: self-test: a bad tree passes"; exit 1
	fi
	grep -q '^reports/r.h:1: reports/ may not include plugins/p.h' "$t/out" &&
		grep -q '^core/layers/a.c:4: core/ may not include reports/r.h' "$t/out" &&
		[ "$(wc -l < "$t/out")" = 2 ] || { echo "check-layers: self-test:"; cat "$t/out"; exit 1; }
	echo "check-layers: self-test passed"
	exit 0
fi

root=${1:-.}
cd "$root"

# The folders a file of folder $1 may include from (its own always).
allowed() {
	case $1 in
	analyzer) echo "analyzer plugins checkpoints reports core include" ;;
	plugins) echo "plugins checkpoints reports core include" ;;
	checkpoints) echo "checkpoints core include" ;;
	reports) echo "reports core include" ;;
	core) echo "core include" ;;
	include) echo "include" ;;
	esac
}

# Normalises a/b/../c to a/c.
norm() {
	echo "$1" | awk -F/ '{ n = 0; for (i = 1; i <= NF; i++) { if ($i == "..") n--; \
		else if ($i != "." && $i != "") p[++n] = $i } \
		s = p[1]; for (i = 2; i <= n; i++) s = s "/" p[i]; print s }'
}

list=$(mktemp)
bad=0 files=0 includes=0
for f in $(find analyzer plugins checkpoints reports core include -name '*.[ch]' | sort); do
	files=$((files + 1))
	from=${f%%/*}
	ok=$(allowed "$from")
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | \
		sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' > "$list" || true
	while read -r line inc; do
		includes=$((includes + 1))
		if [ -f "$inc" ]; then
			target=$(norm "$inc")
		else
			target=$(norm "$(dirname "$f")/$inc")
		fi
		to=${target%%/*}
		case " $ok " in
		*" $to "*) ;;
		*)
			echo "$f:$line: $from/ may not include $target (allowed: $ok)"
			bad=1 ;;
		esac
	done < "$list"
done
rm -f "$list"
if [ $bad = 0 ]; then
	echo "check-layers: $includes includes in $files files point one way"
fi

if [ -f README.md ]; then
	section=$(mktemp)
	sed -n '/^## Architecture of the code/,/^## /p' README.md > "$section"
	for f in $(find analyzer plugins checkpoints reports core include -name '*.[ch]' | sort); do
		grep -q "\`$(basename "$f")\`" "$section" ||
			{ echo "README.md: the architecture table does not name $f"; bad=1; }
	done
	for name in $(grep -o '`[A-Za-z0-9_.-]*\.[ch]`' "$section" | tr -d '`' | sort -u); do
		[ -n "$(find analyzer plugins checkpoints reports core include -name "$name")" ] ||
			{ echo "README.md: the architecture table names $name, which is not in the tree"; bad=1; }
	done
	rm -f "$section"
	[ $bad = 0 ] && echo "check-layers: README's architecture table names all $files files"
fi
exit $bad
