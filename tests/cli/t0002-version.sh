# t0002-version.sh - eeprof --version / eeprof version (text and JSON: eeprof's version from the
# Makefile, and HDF5, OpenBLAS and PAPI as pkg-config reports the ones built against), and
# `eeprof help CMD`, which prints exactly what `eeprof CMD --help` prints, for every command.
. tests/cli/lib.sh

expect_ok "--version" "$EEPROF" --version
cp "$T/out" "$T/version.txt"
check "--version: first line is eeprof and the Makefile's VERSION" "[ \"\$(head -1 '$T/version.txt')\" = 'eeprof $EE_VERSION' ]"
for lib in HDF5:hdf5 OpenBLAS:openblas PAPI:papi; do
	name=${lib%%:*} pc=${lib#*:}
	v=$(pkg-config --modversion "$pc")
	check "--version: $name $v (pkg-config)" "grep -Eq '^  $name +$v( |\$)' '$T/version.txt'"
done
expect_ok "version" "$EEPROF" version
check "version = --version" "cmp -s '$T/out' '$T/version.txt'"
expect_ok "version --json" "$EEPROF" version --json
stamped "version --json" "$T/out"
check "version --json: libraries built and running" "$PY -c \"
import json; d=json.load(open('$T/out'))
assert d['version']=='$EE_VERSION'
libs={l['name']: l for l in d['libraries']}
assert sorted(libs)==['HDF5','OpenBLAS','PAPI'], libs
assert libs['HDF5']['built']=='$(pkg-config --modversion hdf5)' and libs['PAPI']['built']=='$(pkg-config --modversion papi)'
assert all(l['running'] for l in d['libraries'])
\""
expect_fail "version takes no argument" 2 "unexpected argument 'x'" "$EEPROF" version x

# eeprof help CMD is eeprof CMD --help, for every command eeprof --help lists.
expect_ok "help" "$EEPROF" help
check "help = --help" "$EEPROF --help | cmp -s - '$T/out'"
cmds=$("$EEPROF" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
check "--help lists version" "echo '$cmds' | grep -qx version"
for c in $cmds; do
	run "$EEPROF" help "$c"
	cp "$T/out" "$T/help-$c"
	run "$EEPROF" "$c" --help
	check "help $c = $c --help" "[ $rc -eq 0 ] && [ -s '$T/out' ] && cmp -s '$T/out' '$T/help-$c'"
done
expect_fail "help of an unknown command" 2 "unknown command 'frobnicate'" "$EEPROF" help frobnicate
