#!/bin/sh
# header-examples.sh CC CFLAGS... - compiles the usage examples of the headers that say so
# (make check-headers), so that an example can no longer drift from the API it shows.
#
# A header opts in with the words "compiled by make check-headers" in its first comment.
# Its example is then every run of code lines in that comment: lines indented by at least
# five spaces after " *", the first of them after an empty " *" line. The runs, in order,
# become the body of one function returning int (so an example may `return err.code;`);
# its #include lines go above the function, and a line "// given: DECLS" makes DECLS the
# function's parameters: what the example assumes (a model, a batch, an exit k, ...).
# Compiled with the build's flags and -Werror, except unused variables.
set -eu
[ $# -ge 1 ] || { echo "usage: tools/header-examples.sh CC [CFLAGS...]" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eeprof-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for h in $(grep -rl --include='*.h' "compiled by make check-headers" \
		core checkpoints plugins reports analyzer include | sort); do
	awk -v header="$h" '
	/^ \*\// { exit }
	/^ \*     / && (inblock || prev ~ /^ \*$/) {
		inblock = 1; line = substr($0, 3)
		if (line ~ /^ *#include/) inc = inc line "\n"
		else {
			if (line ~ /^ *\/\/ given: /) { params = line; sub(/^ *\/\/ given: /, "", params) }
			body = body line "\n"
		}
		prev = $0; next
	}
	{ inblock = 0; prev = $0 }
	END {
		if (body == "") { print "header-examples: " header ": no example found" > "/dev/stderr"; exit 1 }
		printf "#include \"%s\"\n#include <stdio.h>\n#include <stdlib.h>\n%s\n", header, inc
		printf "int ee_example(%s);\nint ee_example(%s)\n{\n%s\treturn 0;\n}\n",
		       params ? params : "void", params ? params : "void", body
	}' "$h" > "$tmp/example.c" || { fail=1; continue; }
	n=$((n + 1))
	if ! "$@" -Wno-unused-variable -Wno-unused-but-set-variable -Wno-unused-parameter \
			-fsyntax-only "$tmp/example.c" 2> "$tmp/err"; then
		echo "header-examples: the example in $h does not compile:" >&2
		sed 's/^/    /' "$tmp/example.c" >&2
		cat "$tmp/err" >&2
		fail=1
	fi
done
[ $n -gt 0 ] || { echo "header-examples: no header opts in" >&2; exit 1; }
exit $fail
