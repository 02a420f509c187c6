# t0012-fuzz-regress.sh - files that crashed, hung or stalled eeprof (fuzzing, issue 13) are
# each answered with exit 3 and one "eeprof: error:" line, within 2 s of CPU time (ulimit -t;
# a wall-clock limit would fail on a loaded machine) and 60 s of wall time.
# tests/fuzz/regress/<target>/ holds the committed corpus (tests/fuzz/mkregress.py, and
# what the fuzz targets found); the campaign's original 213 KB reproducers are replayed too
# when ../shared/fuzz-repro (or $EE_FUZZ_REPRO) exists.
. tests/cli/lib.sh

replay() { # what file command...
	what=$1 file=$2; shift 2
	( ulimit -t 2; exec timeout 60 "$EEPROF" "$@" "$file" ) >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "^eeprof: error: " "$T/err"; then
		ok "$what $(basename "$file")"
	else
		not_ok "$what $(basename "$file"): status $rc (want 3), stderr:"
		sed 's/^/    /' "$T/err" | head -3
	fi
}

repro=${EE_FUZZ_REPRO:-}
for d in ../shared/fuzz-repro ../../shared/fuzz-repro; do
	[ -z "$repro" ] && [ -d "$d" ] && repro=$d
done
for f in tests/fuzz/regress/ckpt/* ${repro:+$repro/ckpt-*}; do
	[ -f "$f" ] || continue
	replay "info" "$f" info
	( ulimit -t 2; exec timeout 60 "$EEPROF" eval checkpoints/samples/resnet20-fmnist.h5 \
		--data "h5:$f" ) >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 3 ] && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok "eval --data h5:$(basename "$f")"
	else not_ok "eval --data h5:$(basename "$f"): status $rc"; sed 's/^/    /' "$T/err" | head -3; fi
done
for f in tests/fuzz/regress/trace/* ${repro:+$repro/trace-*}; do
	[ -f "$f" ] || continue
	replay curve "$f" curve
	replay gates "$f" gates
	replay budget "$f" budget "$f" --budget 50% --val
	replay merge "$f" merge -o "$T/merged.h5"
	replay "report --traces" "$f" report --no-plots -o "$T/rep" --traces
	no_file "merge $(basename "$f"): no output" "$T/merged.h5"
	no_file "report $(basename "$f"): no output" "$T/rep"
done
