# t0090-install.sh - make install (staged by make into $EE_STAGE, PREFIX $EE_PREFIX): the files
# it installs, libee.so's soname and exports, eeprof.pc, the man page, bash completion, and
# README's "Using libee from C" program built with pkg-config against the staged library
# (shared, then static) and checked against eeprof eval and eeprof gates.
. tests/cli/lib.sh
if [ -z "${EE_STAGE:-}" ]; then
	ok "# skip: no staged install (make cli stages one, except with SANITIZE)"
	exit 0
fi
P=$EE_STAGE$EE_PREFIX
ckpt=checkpoints/samples/emgnet20-w8-fmnist.h5
data=fashion-mnist:test
images=300

for f in bin/eeprof lib/libee.a lib/libee.so lib/libee.so.0 include/eeprof/ee.h \
		lib/pkgconfig/eeprof.pc share/man/man1/eeprof.1 share/bash-completion/completions/eeprof; do
	check "installed $f" "[ -s '$P/$f' ]"
done
check "libee.so -> libee.so.0 -> the library" \
	"[ \"\$(readlink '$P/lib/libee.so')\" = libee.so.0 ] && [ -f \"$P/lib/\$(readlink '$P/lib/libee.so.0')\" ]"
check "soname libee.so.0" "readelf -d '$P/lib/libee.so' | grep -q 'SONAME.*\\[libee.so.0\\]'"
expect_ok "installed eeprof runs" "$P/bin/eeprof" --help
check "installed eeprof is the one built" "cmp -s '$P/bin/eeprof' '$EEPROF'"

# Exactly the functions ee.h declares are exported.
sed -n 's/^EE_API .*[ *]\(ee_[a-z0-9_]*\)(.*/\1/p' include/eeprof/ee.h | sort > "$T/api"
nm -D --defined-only "$P/lib/libee.so" | awk '{ print $3 }' | sort > "$T/exported"
check "ee.h declares the API" "[ \$(wc -l < '$T/api') -ge 15 ]"
check "libee.so exports ee.h's functions and nothing else" "cmp -s '$T/api' '$T/exported'" ||
	diff "$T/api" "$T/exported" | head -5

# pkg-config, with the staged tree as the sysroot.
export PKG_CONFIG_PATH="$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$EE_STAGE"
run pkg-config --cflags --libs eeprof
check "pkg-config --cflags --libs eeprof" "grep -q -- '-I$P/include' '$T/out' && grep -q -- '-L$P/lib' '$T/out' && grep -q -- '-lee' '$T/out'"
run pkg-config --modversion eeprof
check "pkg-config --modversion is the library's" "[ -f '$P/lib/libee.so.'\$(cat '$T/out') ]"

# The man page has a section for every command and every option each one's --help shows.
"$EEPROF" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }' \
	> "$T/commands"
check "eeprof --help lists commands" "[ \$(wc -l < '$T/commands') -ge 10 ]"
missing=""
for cmd in $(cat "$T/commands"); do
	grep -q "^\\.SS \"eeprof $cmd\"" "$P/share/man/man1/eeprof.1" || missing="$missing $cmd"
	for opt in $("$EEPROF" "$cmd" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -q -- "$opt" "$P/share/man/man1/eeprof.1" || missing="$missing $cmd:$opt"
	done
done
check "man page: every command and option (missing:$missing)" "[ -z '$missing' ]"
check "man page: NAME and SYNOPSIS" "grep -q '^\\.SH NAME' '$P/share/man/man1/eeprof.1' && grep -q '^\\.SH SYNOPSIS' '$P/share/man/man1/eeprof.1'"

# Bash completion: commands, then a command's options, from the program's --help.
comp() {
	PATH="$P/bin:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _eeprof
		echo "${COMPREPLY[*]}"' sh "$P/share/bash-completion/completions/eeprof" "$@"
}
got=$(comp eeprof cu)
check "completion: eeprof cu<TAB> -> curve (got '$got')" "[ '$got' = curve ]"
comp eeprof '' | tr ' ' '\n' > "$T/completed"
check "completion: eeprof <TAB> lists every command" "cmp -s '$T/completed' '$T/commands'"
got=$(comp eeprof eval --li)
check "completion: eeprof eval --li<TAB> -> --limit (got '$got')" "[ '$got' = --limit ]"

# README's program, extracted as it stands, built against the staged library.
awk '/^## Using libee from C/ { on = 1 } on && /^```c$/ { code = 1; next } code && /^```$/ { exit }
	code { print }' README.md > "$T/first.c"
check "README has the C program" "grep -q 'main(int argc' '$T/first.c'"
expect_ok "README program compiles with pkg-config" sh -c "cc -std=c11 -Wall -Wextra -Werror \
	'$T/first.c' \$(pkg-config --cflags --libs eeprof) -o '$T/first'"
check "it links the shared libee.so.0" "readelf -d '$T/first' | grep -q 'NEEDED.*\\[libee.so.0\\]'"
LD_LIBRARY_PATH="$P/lib" run "$T/first" "$ckpt" "$data" "$images"
check "README program runs" "[ $rc -eq 0 ] && [ ! -s '$T/err' ]" || sed 's/^/    /' "$T/err"
cp "$T/out" "$T/first.out"

# Its numbers are eeprof's: correct answers and mean MACs per exit (eval), open-gate ratio
# per layer (gates, on a profile of the same images).
"$EEPROF" eval "$ckpt" --data "$data" --limit "$images" --json > "$T/eval.json"
"$EEPROF" profile "$ckpt" --data "$data" --limit "$images" -o "$T/trace.h5" > /dev/null
"$EEPROF" gates "$T/trace.h5" --json > "$T/gates.json"
check "README program = eeprof eval and gates" "$PY - '$T/first.out' '$T/eval.json' '$T/gates.json' <<'PY'
import json, re, sys
out = open(sys.argv[1]).read()
ev, ga = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
exits = [(int(a), int(b), float(c)) for a, b, c in
         re.findall(r'^exit (\d+): (\d+) correct, ([0-9.]+) MACs per image', out, re.M)]
assert len(exits) == len(ev['exits']) == 3, exits
for (k, correct, macs), e in zip(exits, ev['exits']):
    assert k == e['exit'] and correct == e['correct'], (k, correct, e)
    assert abs(macs - e['macs_mean']) <= 0.06, (k, macs, e['macs_mean'])
gates = dict(re.findall(r'^gates (\S+): ([0-9.]+) open$', out, re.M))
assert len(gates) == len(ga['gates']) > 0, (len(gates), len(ga['gates']))
for g in ga['gates']:  # %.4f: half a unit of the 4th decimal, plus binary rounding (0.04125)
    assert abs(float(gates[g['layer']]) - g['open_ratio']) <= 5e-5 + 1e-12, g['layer']
PY"

# The same program linked statically (Libs.private carries libee's own dependencies).
libs=$(env -u PKG_CONFIG_SYSROOT_DIR pkg-config --define-variable=prefix="$P" --static --libs eeprof |
	sed 's/-lee /-Wl,-Bstatic -lee -Wl,-Bdynamic /')
expect_ok "README program links libee.a statically" sh -c "cc -std=c11 '$T/first.c' \
	-I'$P/include' $libs -o '$T/first-static'"
check "static: no libee.so needed" "[ -x '$T/first-static' ] && ! readelf -d '$T/first-static' | grep -q 'libee'"
run "$T/first-static" "$ckpt" "$data" "$images"
check "static: same output" "[ $rc -eq 0 ] && cmp -s '$T/out' '$T/first.out'"

# make uninstall removes what make install put there.
expect_ok "make uninstall" make --no-print-directory uninstall DESTDIR="$EE_STAGE" PREFIX="$EE_PREFIX"
check "nothing left but directories" "[ -z \"\$(find '$EE_STAGE' ! -type d)\" ]" ||
	find "$EE_STAGE" ! -type d | head -5
