#!/bin/sh
# run-tests.sh - runs one group of tests and prints a one-line summary.
#   run-tests.sh unit BIN...      Check suites (CK_RUN_SUITE=name picks one suite)
#   run-tests.sh cli EEPROF       tests/cli/t*.sh, each a list of checks (tests/cli/lib.sh)
#   run-tests.sh parity EEPROF    the PyTorch side's self-tests (tests/parity/test_models.py),
#                                 then the parity cases (tests/parity/run.py) and the image
#                                 datasets against Pillow and torchvision (images.py)
# Exits non-zero if any test failed. Temporary files go under $EE_TEST_TMP.
set -u
group=$1; shift
top=$(cd "$(dirname "$0")/.." && pwd)
EE_TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/eeprof-tests.XXXXXX")
export EE_TEST_TMP
trap 'rm -rf "$EE_TEST_TMP"' EXIT
fail=0

case $group in
unit)
	total=0
	for bin in "$@"; do
		out=$("$bin" 2>&1); rc=$?
		echo "$out" | grep -E "^[0-9]+%: Checks" | sed "s|^|  $(basename "$bin"): |"
		n=$(echo "$out" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p' | head -1)
		total=$((total + ${n:-0}))
		if [ $rc -ne 0 ]; then
			echo "$out" | grep -v "^[0-9]*%: Checks" | head -40
			fail=1
		fi
	done
	echo "unit: $total checks in $# suites, $([ $fail = 0 ] && echo passed || echo FAILED)"
	;;
cli)
	EEPROF=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
	export EEPROF
	pass=0; failed=0
	for t in "$top"/tests/cli/t*.sh; do
		out=$(cd "$top" && sh "$t" 2>&1); rc=$?
		p=$(echo "$out" | grep -c "^ok ")
		f=$(echo "$out" | grep -c "^not ok ")
		# a test that skips checks says why ("# skipped: ..."); show it
		echo "$out" | grep "^# skipped" | sed "s|^# |  $(basename "$t"): |"
		pass=$((pass + p)); failed=$((failed + f))
		if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
			echo "$(basename "$t"):"; echo "$out" | grep -v "^ok " | head -40
			fail=1
		fi
	done
	echo "cli: $pass checks passed, $failed failed"
	;;
parity)
	cd "$top" || exit 1
	# The PyTorch side's own tests first (failures in full, else the summary line).
	out=$(/usr/bin/python3 tests/parity/test_models.py 2>&1) || { echo "$out" | grep -v "^ok "; fail=1; }
	[ $fail = 0 ] && echo "$out" | tail -1
	/usr/bin/python3 tests/parity/run.py --eeprof "$1" --workdir "$EE_TEST_TMP" || fail=1
	/usr/bin/python3 tests/parity/images.py --eeprof "$1" --workdir "$EE_TEST_TMP/images" || fail=1
	;;
*)
	echo "run-tests.sh: unknown group '$group'" >&2; exit 2
	;;
esac
exit $fail
