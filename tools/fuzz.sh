#!/bin/sh
# fuzz.sh - runs the libFuzzer targets of tests/fuzz (built by make fuzz-build).
#   fuzz.sh run SECONDS BIN...   fuzz each target for SECONDS on a working copy of its seed
#                                corpus (build-fuzz/corpus/<t>, kept between runs); prints
#                                executions per target; crashes go to build-fuzz/artifacts/<t>/
#   fuzz.sh smoke RUNS BIN...    replay every seed and regression file of each target once,
#                                then fuzz it for RUNS executions from a fixed random seed (a
#                                smoke test for make test: the same code gives the same answer)
# Exits non-zero if a target crashed, leaked, hung (60 s of wall time per input: a loaded machine makes 10 s fire falsely) or used > 2 GB.
set -u
mode=$1 secs=$2; shift 2 # smoke: secs is a number of runs
top=$(cd "$(dirname "$0")/.." && pwd)
fail=0
for bin in "$@"; do
	t=$(basename "$bin" | sed 's/^fuzz_//')
	dir=$(dirname "$bin")
	seeds=$top/tests/fuzz/corpus/$t regress=$top/tests/fuzz/regress/$t
	work=$dir/corpus/$t arts=$dir/artifacts/$t
	mkdir -p "$work" "$arts"
	dict=; [ -f "$top/tests/fuzz/$t.dict" ] && dict=-dict=$top/tests/fuzz/$t.dict
	log=$dir/$t.log
	export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
	opts="-timeout=60 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix=$arts/ -print_final_stats=1"
	if [ "$mode" = smoke ]; then
		files=$(find "$seeds" "$regress" -type f 2>/dev/null)
		# shellcheck disable=SC2086
		if [ -n "$files" ] && ! "$bin" $opts $files >"$log" 2>&1; then
			echo "fuzz $t: replaying the corpus FAILED (log $log)"; tail -30 "$log"; fail=1; continue
		fi
		n=$(echo "$files" | grep -c .)
		tmp=$(mktemp -d); cp "$seeds"/* "$tmp"/ 2>/dev/null
		# shellcheck disable=SC2086
		"$bin" $opts $dict -seed=1 -runs="$secs" "$tmp" >"$log" 2>&1; rc=$?
		rm -rf "$tmp"
	else
		[ -n "$(ls -A "$work")" ] || cp "$seeds"/* "$work"/ 2>/dev/null
		# shellcheck disable=SC2086
		nice "$bin" $opts $dict -max_total_time="$secs" "$work" >"$log" 2>&1; rc=$?
		n=0
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -ne 0 ]; then
		echo "fuzz $t: FAILED after ${execs:-?} executions (log $log, inputs in $arts)"
		grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -5
		fail=1
	elif [ "$mode" = smoke ]; then
		echo "fuzz $t: $n corpus files replayed, ${execs:-?} executions (-seed=1), nothing found"
	else
		echo "fuzz $t: ${execs:-?} executions in ${secs} s, nothing found ($(ls "$work" | wc -l) inputs in $work)"
	fi
done
exit $fail
