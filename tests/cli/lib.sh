# lib.sh - helpers for the CLI tests (sourced by tests/cli/t*.sh).
#
# Each check prints "ok <what>" or "not ok <what>" (with details); the runner
# counts them. $EEPROF is the binary under test, $T a fresh directory.
set -u
T=$(mktemp -d "${EE_TEST_TMP:-/tmp}/cli.XXXXXX")
PY=/usr/bin/python3

ok() { echo "ok $*"; }
not_ok() { echo "not ok $*"; }

# run CMD...: runs it, keeps status in $rc, stdout in $T/out, stderr in $T/err.
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
}

# expect_fail WHAT STATUS PATTERN CMD...: CMD must exit STATUS with exactly one stderr
# line "eeprof: error: ..." matching PATTERN (grep -E), and must not crash.
expect_fail() {
	what=$1 want=$2 pat=$3; shift 3
	run "$@"
	lines=$(wc -l <"$T/err")
	if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -q "^eeprof: error: " "$T/err" &&
		grep -Eq -- "$pat" "$T/err"; then
		ok "$what"
	else
		not_ok "$what: status $rc (want $want), stderr:"; sed 's/^/    /' "$T/err" | head -5
	fi
}

# expect_ok WHAT CMD...: CMD must exit 0.
expect_ok() {
	what=$1; shift
	run "$@"
	if [ "$rc" -eq 0 ]; then ok "$what"; else
		not_ok "$what: status $rc, stderr:"; sed 's/^/    /' "$T/err" | head -5; fi
}

# check WHAT COMMAND-STRING: a shell condition that must hold.
check() {
	if sh -c "$2"; then ok "$1"; else not_ok "$1: ($2) is false"; fi
}

# no_outputs WHAT DIR: DIR holds no leftover output or temporary files named like PREFIX.
no_file() {
	if [ -e "$2" ] || ls "$2".tmp-* >/dev/null 2>&1; then not_ok "$1: '$2' exists"; else ok "$1"; fi
}

# stamped WHAT FILE: FILE is a JSON object stamped as every eeprof JSON output is: schema_version
# 1 and generator "eeprof <the Makefile's VERSION>"; no object in it repeats a key.
EE_VERSION=$(sed -n 's/^VERSION := //p' Makefile)
stamped() {
	check "$1: schema_version and generator, no repeated key" "$PY -c \"
import json
def unique(pairs):
    keys = [k for k, _ in pairs]; assert len(keys) == len(set(keys)), keys; return dict(pairs)
d=json.load(open('$2'), object_pairs_hook=unique)
assert list(d)[:2]==['schema_version','generator'] and d['schema_version']==1, list(d)[:3]
assert d['generator']=='eeprof $EE_VERSION', d['generator']\""
}
