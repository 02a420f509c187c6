# t0020-profile.sh - eeprof profile and merge: a whole trace, shards merged back into it,
# determinism, --softmax, and refusals (other checkpoint, overlap, bad trace files).
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx
D=h5:$F/data.h5

expect_ok "profile --help" "$EEPROF" profile --help
check "profile --help shows usage" "grep -q '^usage: eeprof profile' '$T/out' && grep -q -- '--softmax' '$T/out'"
expect_ok "merge --help" "$EEPROF" merge --help
check "merge --help says how shards are made" "grep -q -- '--offset' '$T/out' && grep -q -- '--limit' '$T/out'"

# Batches of 5 so that the shards run exactly the batches of the whole pass.
expect_ok "profile" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/full.h5" --batch 5
check "profile summary" "grep -q '20 samples' '$T/out' && grep -q '^ensemble' '$T/out' && grep -q '$T/full.h5' '$T/out'"
check "profile leaves no temporary file" "! ls '$T'/full.h5.tmp-* 2>/dev/null"
expect_ok "profile again" "$EEPROF" profile "$F/good.h5" --data "$D" --output "$T/again.h5" --batch 5
expect_ok "profile shard 1" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/a.h5" --batch 5 --offset 0 --limit 10
check "shard summary" "grep -q '10 samples' '$T/out'"
expect_ok "profile shard 2" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/b.h5" --batch 5 --offset 10
expect_ok "merge shards" "$EEPROF" merge -o "$T/merged.h5" "$T/b.h5" "$T/a.h5"
check "merge summary" "grep -q '20 of the 20 samples' '$T/out'"

cat >"$T/same.py" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and not n.startswith("timing") else None)
assert "index" in names and "label" in names, names
for n in names:
    x, y = a[n][...], b[n][...]
    assert x.dtype == y.dtype and x.shape == y.shape and (x == y).all(), n
for k in a.attrs:
    if k != "checkpoint":
        assert a.attrs[k] == b.attrs[k], k
assert sorted(names) == sorted(m for m in b if isinstance(b[m], h5py.Dataset)), "extra datasets"
PY
check "merged trace equals the whole one" "$PY '$T/same.py' '$T/full.h5' '$T/merged.h5'"
check "the same profile twice gives the same trace" "$PY '$T/same.py' '$T/full.h5' '$T/again.h5'"

expect_ok "eval for reference" "$EEPROF" eval "$F/good.h5" --data "$D" --json
cp "$T/out" "$T/eval.json"
check "trace agrees with data and eval" "$PY -c \"
import h5py, json, numpy as np
t = h5py.File('$T/full.h5'); d = h5py.File('$F/data.h5'); e = json.load(open('$T/eval.json'))
assert t.attrs['format'] == b'eeprof-trace' and t.attrs['trace_version'] == 1
assert t.attrs['dataset_size'] == 20 and t.attrs['exits'] == 1 and t.attrs['num_classes'] == 10
assert (t['index'][...] == np.arange(20)).all() and (t['label'][...] == d['labels'][...]).all()
acc = (t['pred'][:, 0] == t['label'][...]).mean()
assert abs(acc - e['exits'][0]['accuracy']) < 1e-9, (acc, e)
assert abs((t['ens_pred'][...] == t['label'][...]).mean() - e['ensemble']['accuracy']) < 1e-9
assert abs(t['macs'][...].mean() - e['exits'][0]['macs_mean']) < 1e-3
assert (t['exit_macs'][...] == e['exits'][0]['macs_mean']).all()
lm = t['timing/layer_macs'][...]; assert abs(lm.sum() - e['exits'][0]['macs_mean']) < 1e-3
assert len(t['timing/layer_name']) == len(lm) and (t['timing/layer_seconds'][...] >= 0).all()
assert t['timing'].attrs['seconds'] > 0 and t['timing'].attrs['batch'] == 5
\""

# Layer counters: the fake source adds 500 ns of CPU time and 10 (i + 1) events i per node call.
expect_ok "profile --counters fake" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/counted.h5" \
	--batch 5 --counters fake:PAPI_TOT_INS,PAPI_TOT_CYC,BAD_X
check "profile --counters: one warning per event" "[ \"\$(cat '$T/err')\" = 'eeprof: warning: BAD_X not counted: Event exists but cannot be counted here (fake source)' ]"
check "counted trace: per-layer CPU time, events and warnings" "$PY -c \"
import h5py
t = h5py.File('$T/counted.h5')['timing']; L = len(t['layer_name'])
assert [n.decode() for n in t['counter_names'][...]] == ['PAPI_TOT_INS', 'PAPI_TOT_CYC']
assert [w.decode() for w in t['counter_warnings'][...]] == ['BAD_X not counted: Event exists but cannot be counted here (fake source)']
c, cpu = t['layer_counters'][...], t['layer_cpu_seconds'][...]
assert c.shape == (L, 2) and cpu.shape == (L,) and (c[:, 0] >= 40).all(), c
assert (c[:, 1] == 2 * c[:, 0]).all() and (abs(cpu - c[:, 0] / 10 * 500e-9) < 1e-15).all(), (c, cpu)
\""
check "the default (none): CPU time, no events" "$PY -c \"
import h5py
t = h5py.File('$T/full.h5')['timing']; L = len(t['layer_name'])
assert t['counter_names'].shape == (0,) and t['counter_warnings'].shape == (0,)
assert t['layer_counters'].shape == (L, 0) and (t['layer_cpu_seconds'][...] >= 0).all()
\""
expect_ok "profile --counters none" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/none.h5" --counters none --limit 4
check "--counters none warns of nothing" "[ ! -s '$T/err' ] && $PY -c \"
import h5py; t = h5py.File('$T/none.h5')['timing']; assert t['layer_counters'].shape[1] == 0\""
expect_ok "profile --counters off" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/off.h5" \
	--batch 5 --offset 10 --counters off
check "--counters off: no counter datasets" "$PY -c \"
import h5py; t = h5py.File('$T/off.h5')['timing']
assert 'layer_seconds' in t and not {'counter_names', 'counter_warnings', 'layer_cpu_seconds', 'layer_counters'} & set(t)\""
expect_ok "profile --counters fake, shard 2" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/counted2.h5" \
	--batch 5 --offset 10 --counters fake:PAPI_TOT_INS,PAPI_TOT_CYC
expect_ok "merge counted shards" "$EEPROF" merge -o "$T/counted-m.h5" "$T/a.h5" "$T/b.h5"
check "merge sums layer counters" "$PY -c \"
import h5py
a, b, m = (h5py.File('$T/' + n)['timing'] for n in ('a.h5', 'b.h5', 'counted-m.h5'))
for k in ('layer_cpu_seconds', 'layer_counters', 'layer_seconds'):
    assert (abs(m[k][...] - a[k][...] - b[k][...]) < 1e-12).all(), k
\""
expect_fail "merge: counted and not counted" 3 "differ in layer counters \('counted' vs 'not counted'\)" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/a.h5" "$T/off.h5"
expect_fail "merge: other events" 3 "differ in counted events \('0' vs '2'\)" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/a.h5" "$T/counted2.h5"
expect_fail "profile: unknown counter source" 2 "unknown counter source 'pmu'" \
	"$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/bad.h5" --counters pmu:cycles

expect_ok "profile --softmax" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/soft.h5" --softmax --limit 7
check "softmax rows" "$PY -c \"
import h5py, numpy as np
t = h5py.File('$T/soft.h5'); p = t['softmax'][...]
assert p.shape == (7, 1, 10) and np.allclose(p.sum(-1), 1, atol=1e-5)
assert (p.argmax(-1) == t['pred'][...]).all() and np.allclose(p.max(-1), t['maxprob'][...])
h = -(p * np.log(np.where(p > 0, p, 1))).sum(-1); assert np.allclose(h, t['entropy'][...], atol=1e-5)
\""

# A second checkpoint: the same weights with another provenance, so another SHA-256.
$PY -c "
import shutil, h5py; shutil.copy('$F/good.h5', '$T/other.h5')
h5py.File('$T/other.h5', 'r+').attrs['source'] = 'another run'"
expect_ok "profile another checkpoint" "$EEPROF" profile "$T/other.h5" --data "$D" -o "$T/c.h5" --batch 5 --offset 10
expect_fail "merge: different checkpoints" 3 "'.*a.h5' and '.*c.h5' differ in checkpoint_sha256" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/a.h5" "$T/c.h5"
expect_fail "merge: overlapping shards" 3 "sample 0 of the dataset is in both '.*a.h5' and '.*full.h5'" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/a.h5" "$T/full.h5"
expect_fail "merge: softmax in one only" 3 "differ in softmax" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/soft.h5" "$T/b.h5"
expect_fail "merge: missing trace" 3 "trace '.*nosuch.h5': cannot open" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/a.h5" "$T/nosuch.h5"
expect_fail "merge: garbage trace" 3 "trace '.*text.h5': not an HDF5 file" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/a.h5" "$F/text.h5"
expect_fail "merge: a checkpoint is not a trace" 3 "trace '.*good.h5': not an eeprof trace" \
	"$EEPROF" merge -o "$T/bad.h5" "$F/good.h5"
head -c 3000 "$T/full.h5" >"$T/cut.h5"
expect_fail "merge: truncated trace" 3 "trace '.*cut.h5': .*truncated" \
	"$EEPROF" merge -o "$T/bad.h5" "$T/cut.h5" "$T/b.h5"
expect_fail "merge: no output" 2 "--output is required" "$EEPROF" merge "$T/a.h5"
no_file "merge: no output after refusals" "$T/bad.h5"

expect_fail "profile: bad checkpoint" 3 "nan.h5.*NaN" "$EEPROF" profile "$F/nan.h5" --data "$D" -o "$T/bad.h5"
expect_fail "profile: missing dataset" 3 "nosuch.h5" "$EEPROF" profile "$F/good.h5" --data "h5:$F/nosuch.h5" -o "$T/bad.h5"
expect_fail "profile: offset past the end" 2 "--offset 20 selects no samples" \
	"$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/bad.h5" --offset 20
expect_fail "profile: no output" 2 "--data and --output are required" "$EEPROF" profile "$F/good.h5" --data "$D"
expect_fail "profile: unwritable output" 3 "cannot create '$T/nodir/t.h5'" \
	"$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/nodir/t.h5"
no_file "profile: no output after failures" "$T/bad.h5"

# Interrupted half way through the Fashion-MNIST test set: no trace, no temporary file.
if [ -d /usr/share/datasets/fashion-mnist ]; then
	"$EEPROF" profile "$F/good.h5" --data fashion-mnist:test -o "$T/killed.h5" >/dev/null 2>&1 &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	st=$?
	check "profile: killed by SIGTERM" "[ $st -eq 143 ]"
	no_file "profile: no output after SIGTERM" "$T/killed.h5"
fi
rm -rf "$T"
