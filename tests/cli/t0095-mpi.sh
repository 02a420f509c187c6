# t0095-mpi.sh - eeprof as an MPI program (plugins/dist.h): profile, eval, run and report on
# 1, 2 and 3 ranks give the traces, numbers and report.json of a single process; commands
# that do not share their work out run on rank 0 alone and print once; a failure on any
# rank gives one message from rank 0, a non-zero status and no output.
. tests/cli/lib.sh

if ! command -v mpirun >/dev/null 2>&1; then
	echo "# skipped: no mpirun (make deps installs openmpi-bin)"; exit 0
fi
# As root Open MPI wants to be told; --oversubscribe: more ranks than this machine's cores.
MPIRUN="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
S=checkpoints/samples/emgnet20-w8-fmnist.h5

# mpi N CMD...: eeprof CMD on N ranks
mpi() {
	n=$1; shift
	run $MPIRUN -n "$n" "$EEPROF" "$@"
}

mpi 2 info "$S"
if grep -q "built without MPI" "$T/err"; then
	check "a build without MPI refuses to run as 2 processes" "[ $rc -ne 0 ]"
	echo "# skipped: $EEPROF is built without MPI (make MPI=1)"; exit 0
fi
check "info on 2 ranks: status 0" "[ $rc -eq 0 ]"
"$EEPROF" info "$S" >"$T/alone.txt" 2>&1
check "info on 2 ranks prints once, as alone" "cmp -s '$T/out' '$T/alone.txt'"

mpi 3 info "$T/missing.h5"
check "a failure on 3 ranks: status 3" "[ $rc -eq 3 ]"
check "a failure on 3 ranks: one error line" \
	"[ \$(grep -c '^eeprof: error: ' '$T/err') -eq 1 ] && grep -q \"missing.h5'\" '$T/err'"
mpi 2 --help
check "--help on 2 ranks prints once" "[ $rc -eq 0 ] && [ \$(grep -c '^usage: eeprof' '$T/out') -eq 1 ]"

# ------------------------------------------------------------ profile and eval on P ranks
# The EMGNet sample (3 exits, gated layers) on 40 Fashion-MNIST images in batches of 8:
# 5 batches, so 3 ranks take 2, 2 and 1 of them.
D="fashion-mnist:test --limit 40 --batch 8"
# ranks.py FILE P: /timing records P ranks and P wall times
cat >"$T/ranks.py" <<'PY'
import sys, h5py
t, p = h5py.File(sys.argv[1])["timing"].attrs, int(sys.argv[2])
assert t["ranks"] == p and len(t["rank_seconds"]) == p and (t["rank_seconds"] > 0).all(), dict(t)
PY
ranks_are="$PY $T/ranks.py"

# shellcheck disable=SC2086
expect_ok "profile alone" "$EEPROF" profile "$S" --data $D -o "$T/alone.h5"
check "profile alone records 1 rank" "$ranks_are '$T/alone.h5' 1"
for p in 1 2 3; do
	# shellcheck disable=SC2086
	mpi $p profile "$S" --data $D -o "$T/p$p.h5"
	check "profile on $p ranks: status 0" "[ $rc -eq 0 ]"
	check "profile on $p ranks: summary once" "[ \$(grep -c '^profiled    40 samples' '$T/out') -eq 1 ]"
	check "profile on $p ranks records $p ranks" "$ranks_are '$T/p$p.h5' $p"
done
check "traces on 1, 2, 3 ranks = alone (pred, confidences, MACs, gate bits)" \
	"$PY 'tests/cli/same_trace.py' '$T/alone.h5' '$T/p1.h5' '$T/p2.h5' '$T/p3.h5'"
check "the other ranks write nothing" "[ \$(ls '$T' | grep -c 'p[123].h5') -eq 3 ] && ! ls '$T'/*.tmp-* 2>/dev/null"

# One batch for two ranks: rank 1 has no sample. An offset: shards of the selection.
mpi 2 profile "$S" --data fashion-mnist:test --limit 40 --batch 64 -o "$T/one.h5"
"$EEPROF" profile "$S" --data fashion-mnist:test --limit 40 --batch 64 -o "$T/one-alone.h5" >/dev/null
check "profile on 2 ranks, one batch (an idle rank) = alone" \
	"[ $rc -eq 0 ] && $PY 'tests/cli/same_trace.py' '$T/one-alone.h5' '$T/one.h5' && $ranks_are '$T/one.h5' 2"
mpi 3 profile "$S" --data fashion-mnist:test --offset 13 --limit 30 --batch 8 -o "$T/off.h5"
"$EEPROF" profile "$S" --data fashion-mnist:test --offset 13 --limit 30 --batch 8 -o "$T/off-alone.h5" >/dev/null
check "profile --offset 13 --limit 30 on 3 ranks = alone" \
	"[ $rc -eq 0 ] && $PY 'tests/cli/same_trace.py' '$T/off-alone.h5' '$T/off.h5'"

# shellcheck disable=SC2086
"$EEPROF" eval "$S" --data $D --json >"$T/e0.json"
for p in 1 2 3; do
	# shellcheck disable=SC2086
	mpi $p eval "$S" --data $D --json
	cp "$T/out" "$T/e$p.json"
done
check "eval --json on 1, 2, 3 ranks = alone (timing aside), ranks and rank_seconds" "$PY -c \"
import json
docs = [json.load(open('$T/e%d.json' % p)) for p in range(4)]
for p, d in enumerate(docs):
    t = d.pop('timing')
    assert t['ranks'] == max(p, 1) and len(t['rank_seconds']) == t['ranks'], t
assert docs[0] == docs[1] == docs[2] == docs[3]
\""

# ------------------------------------------------------------ run on P ranks
# Real early exit shared out: rank 0 gathers the rows and counts and decides over the whole
# selection, so everything but the times is a single process's.
X="$S --data fashion-mnist:test --limit 40 --batch 8 --threshold 0.9 --repeat 1"
# same_run.py ALONE DOC...: accuracy, exits, MACs, speedup predicted, simulation and its
# agreement equal; ranks and rank_seconds [ranks] recorded
cat >"$T/same_run.py" <<'PY'
import json, sys
keys = ("samples", "batch", "thresholds", "accuracy", "macs_mean", "macs_all_exits",
        "speedup_predicted", "simulated", "fallback")
def load(path):
    d = json.load(open(path))
    assert d["ranks"] >= 1 and len(d["rank_seconds"]) == d["ranks"] and min(d["rank_seconds"]) > 0, d
    return d
a = load(sys.argv[1])
assert a["ranks"] == 1 and a["simulated"]["agree"] == a["samples"], a
for path in sys.argv[2:]:
    b = load(path)
    for k in keys:
        assert a[k] == b[k], (path, k, a[k], b[k])
    assert [(x["count"], x["entered"]) for x in a["exits"]] == \
           [(x["count"], x["entered"]) for x in b["exits"]], (path, "exits")
    assert [l["samples"] for l in a["layers"]] == [l["samples"] for l in b["layers"]], path
PY
# shellcheck disable=SC2086
"$EEPROF" run $X --json >"$T/x0.json"
runs=""
for p in 1 2 3; do
	# shellcheck disable=SC2086
	mpi $p run $X --json
	cp "$T/out" "$T/x$p.json"
	check "run on $p ranks: status 0, ranks $p" "[ $rc -eq 0 ] && grep -q '\"ranks\": $p,' '$T/x$p.json'"
	runs="$runs $T/x$p.json"
done
check "run --json on 1, 2, 3 ranks = alone: accuracy, exits, MACs, predicted speedup, simulation, agree" \
	"$PY '$T/same_run.py' '$T/x0.json' $runs"
# An idle rank (one batch), the ensemble fallback (the softmax travels), an offset.
for a in "--limit 40 --batch 64 --threshold 0.8 --fallback ensemble" \
	 "--offset 13 --limit 30 --batch 8 --threshold 0.8,0.9,0.5 --policy entropy --fallback best"; do
	# shellcheck disable=SC2086
	"$EEPROF" run "$S" --data fashion-mnist:test $a --repeat 1 --json >"$T/y0.json"
	# shellcheck disable=SC2086
	mpi 3 run "$S" --data fashion-mnist:test $a --repeat 1 --json
	check "run $a on 3 ranks = alone" "[ $rc -eq 0 ] && $PY '$T/same_run.py' '$T/y0.json' '$T/out'"
done
# shellcheck disable=SC2086
mpi 2 run $X
check "run on 2 ranks prints its summary once, with the ranks" \
	"[ $rc -eq 0 ] && [ \$(grep -c '^accuracy    0' '$T/out') -eq 1 ] && grep -q '^ranks       2, wall s:' '$T/out'"

# ------------------------------------------------------------ report
# Two models, test and validation passes (budgets) shared out; report.json byte-identical.
R="$S checkpoints/samples/resnet20-fmnist.h5 --data fashion-mnist:test --val fashion-mnist:val"
# shellcheck disable=SC2086
expect_ok "report alone" "$EEPROF" report $R --limit 40 --batch 8 --no-plots -o "$T/r0"
for p in 1 2 3; do
	# shellcheck disable=SC2086
	mpi $p report $R --limit 40 --batch 8 --no-plots -o "$T/r$p" --trace-dir "$T/tr$p"
	check "report on $p ranks: status 0, summary once" \
		"[ $rc -eq 0 ] && [ \$(grep -c '^report      ' '$T/out') -eq 1 ]"
	check "report.json on $p ranks = alone, byte for byte" "cmp -s '$T/r0/report.json' '$T/r$p/report.json'"
	check "timing.json on $p ranks: ranks $p, rank_seconds [$p]" "$PY -c \"
import json; d = json.load(open('$T/r$p/timing.json'))
assert d['ranks'] == $p and len(d['rank_seconds']) == $p and min(d['rank_seconds']) > 0, d
\""
done
check "report --trace-dir on 3 ranks: the traces of a single process" \
	"$PY 'tests/cli/same_trace.py' '$T/alone.h5' '$T/tr3/emgnet20-w8-fmnist.h5' && [ -f '$T/tr3/emgnet20-w8-fmnist.val.h5' ]"
# --traces: nothing to share out; rank 0 reads and writes.
mpi 2 report --traces "$T/tr3/emgnet20-w8-fmnist.h5" "$T/tr3/resnet20-fmnist.h5" \
	--val-traces "$T/tr3/emgnet20-w8-fmnist.val.h5,$T/tr3/resnet20-fmnist.val.h5" --no-plots -o "$T/rt"
check "report --traces on 2 ranks = alone" "[ $rc -eq 0 ] && cmp -s '$T/r0/report.json' '$T/rt/report.json'"

# ------------------------------------------------------------ failures
# A failure on rank 1 only (mpirun's MPMD form gives it another checkpoint): rank 0 says
# so, every rank exits 3, nothing is written.
# shellcheck disable=SC2086
run $MPIRUN -n 1 "$EEPROF" profile "$S" --data $D -o "$T/f.h5" : \
	-n 1 "$EEPROF" profile "$T/missing.h5" --data $D -o "$T/f.h5"
check "a bad checkpoint on rank 1: status 3, one message naming rank 1" \
	"[ $rc -eq 3 ] && [ \$(grep -c '^eeprof: error: ' '$T/err') -eq 1 ] && grep -q '^eeprof: error: rank 1: .*missing.h5' '$T/err'"
no_file "a bad checkpoint on rank 1: no trace" "$T/f.h5"
# shellcheck disable=SC2086
run $MPIRUN -n 1 "$EEPROF" run $X --plot "$T/f.svg" : -n 2 "$EEPROF" run "$T/missing.h5" \
	--data fashion-mnist:test --limit 40 --batch 8 --threshold 0.9 --repeat 1 --plot "$T/f.svg"
check "run with a bad checkpoint on ranks 1 and 2: status 3, one message naming rank 1, no output" \
	"[ $rc -eq 3 ] && [ \$(grep -c '^eeprof: error: ' '$T/err') -eq 1 ] && grep -q '^eeprof: error: rank 1: .*missing.h5' '$T/err' && [ ! -s '$T/out' ]"
no_file "run with a bad checkpoint on rank 1: no plot" "$T/f.svg"
# shellcheck disable=SC2086
mpi 2 profile "$S" --data $D -o "$T/nodir/f.h5"
check "an unwritable output on 2 ranks: status 3, one message" \
	"[ $rc -eq 3 ] && [ \$(grep -c '^eeprof: error: ' '$T/err') -eq 1 ] && grep -q 'nodir' '$T/err'"
echo "not a directory" > "$T/plainfile"
# shellcheck disable=SC2086
mpi 3 report $R --limit 40 --batch 8 --no-plots -o "$T/plainfile/r"
check "report to an unwritable directory on 3 ranks: status 3, one message" \
	"[ $rc -eq 3 ] && [ \$(grep -c '^eeprof: error: ' '$T/err') -eq 1 ] && grep -q 'plainfile' '$T/err'"
# shellcheck disable=SC2086
mpi 3 report $R --limit 40 --batch 8 --no-plots -o "$T/newparent/r"
check "report on 3 ranks makes the missing parents of its directory (mkdir -p)" \
	"[ $rc -eq 0 ] && [ -f '$T/newparent/r/report.json' ]"
# shellcheck disable=SC2086
run $MPIRUN -n 2 "$EEPROF" report $R --limit 40 --batch 8 --no-plots -o "$T/rf" : \
	-n 1 "$EEPROF" report "$S" --data fashion-mnist:test --val "h5:$T/missing.h5" --limit 40 \
	--batch 8 --no-plots -o "$T/rf"
check "report with a bad --val on rank 2: status 3, one message naming rank 2" \
	"[ $rc -eq 3 ] && [ \$(grep -c '^eeprof: error: ' '$T/err') -eq 1 ] && grep -q 'rank 2: .*missing.h5' '$T/err'"
no_file "report with a bad --val on rank 2: no directory" "$T/rf"
# A rank that dies of a signal: mpirun ends the job, non-zero, and no trace is left.
# shellcheck disable=SC2086
run $MPIRUN -n 2 "$EEPROF" profile "$S" --data $D -o "$T/c.h5" : -n 1 sh -c 'kill -SEGV $$'
check "a crashed rank: non-zero status" "[ $rc -ne 0 ]"
no_file "a crashed rank: no trace" "$T/c.h5"
