# t0030-curve.sh - eeprof curve, budget and gates: on a real trace of the fixture model,
# and on hand-made traces (the ones of tests/unit/check_analysis.c, written with h5py)
# whose numbers are worked out there by hand; usage errors and refused inputs.
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx
D=h5:$F/data.h5

# ---------------------------------------------------------------- hand-made traces
cat >"$T/traces.py" <<'PY'
import sys, h5py, numpy as np

def write(path, rows, e, k, gates=(), sha="a" * 64, ckpt="/models/t6.h5", arch="emgnet"):
    n = len(rows)
    col = lambda i: np.array([r[i] for r in rows])
    with h5py.File(path, "w") as f:
        for key, v in dict(format="eeprof-trace", trace_version=1, eeprof_version="test",
                           checkpoint=ckpt, checkpoint_sha256=sha, arch=arch, data="hand",
                           dataset_size=n, num_classes=k, exits=e).items():
            f.attrs[key] = v
        f["index"] = np.arange(n, dtype=np.int32)
        f["label"], f["ens_pred"] = col(0).astype(np.int32), col(1).astype(np.int32)
        f["ens_maxprob"] = np.full(n, 0.5, np.float32)
        f["pred"] = col(2).astype(np.int32)
        for i, name in ((3, "maxprob"), (4, "entropy"), (5, "margin")):
            f[name] = col(i).astype(np.float32)
        f["macs"], f["macs_cascade"] = col(6).astype(float), col(7).astype(float)
        f["exit_macs"] = np.ones((4, e))
        t = f.create_group("timing")
        t.attrs["seconds"], t.attrs["threads"], t.attrs["batch"] = 0.0, 1, 1
        if gates:
            g = f.create_group("gates")
            g["layer_name"] = np.array([x[0] for x in gates], dtype="S")
            g["layer_exit"] = np.array([x[1] for x in gates], np.int32)
            g["layer_ring_macs"] = np.array([x[2] for x in gates], float)
            g["layer_channels"] = np.array([len(x[3][0]) for x in gates], np.int32)
            bits = [np.array([[c == "1" for c in s] for s in x[3]], np.uint8) for x in gates]
            g["open"] = np.stack([b.sum(1) for b in bits], 1).astype(np.int32)
            for x, b in zip(gates, bits):
                g["bits/" + x[0]] = b

# label ens pred maxprob entropy margin macs cascade (see check_analysis.c)
T6 = [
    (0, 0, [0, 0, 0], [.9375, .96875, .984375], [.25, .125, .0625], [.875, .9375, .96875], [10, 22, 40], [10, 25, 45]),
    (1, 1, [2, 1, 1], [.75, .875, .9375], [.75, .5, .25], [.5, .75, .875], [10, 22, 40], [10, 25, 45]),
    (2, 2, [3, 2, 2], [.5, .6875, .625], [1, .625, .75], [.25, .375, .25], [10, 22, 40], [10, 25, 45]),
    (3, 3, [1, 3, 0], [.375, .5, .5], [1.25, 1, .875], [.125, .25, .0625], [10, 22, 40], [10, 25, 45]),
    (0, 0, [0, 1, 1], [.625, .5625, .875], [.875, .9375, .5], [.375, .1875, .75], [12, 26, 46], [12, 29, 51]),
    (1, 0, [1, 0, 2], [.25] * 3, [1.375] * 3, [.0625] * 3, [10, 22, 40], [10, 25, 45]),
]
GATES = [("layer0", 1, 64.0, ["1100", "1110", "1000", "1110", "1100", "1010"]),
         ("layer1", 2, 144.0, ["11111", "00000", "11110", "00100", "10100", "00110"])]
V4 = [
    (0, 0, [0, 0], [.9375, .95], [.25, .2], [0, 0], [10, 28], [10, 30]),
    (1, 1, [1, 1], [.875, .9], [.5, .3], [0, 0], [10, 28], [10, 30]),
    (2, 2, [0, 2], [.75, .9], [.75, .3], [0, 0], [10, 28], [10, 30]),
    (0, 0, [1, 0], [.625, .9], [1, .3], [0, 0], [10, 28], [10, 30]),
]
W4 = [
    (0, 0, [0, 1], [.875, .5], [.5, 1], [0, 0], [10, 28], [10, 30]),
    (1, 1, [0, 1], [.96875, .5], [.125, 1], [0, 0], [10, 28], [10, 30]),
    (2, 2, [1, 2], [.8125, .5], [.5625, 1], [0, 0], [11, 31], [11, 33]),
    (0, 0, [0, 1], [.5, .5], [.75, 1], [0, 0], [10, 28], [10, 30]),
]
d = sys.argv[1]
write(d + "/t6.h5", T6, 3, 5, GATES)
write(d + "/v4.h5", V4, 2, 3, ckpt="/models/v4.h5", arch="resnet-cifar")
write(d + "/w4.h5", W4, 2, 3, ckpt="/models/v4.h5", arch="resnet-cifar")
write(d + "/other.h5", W4, 2, 3, sha="b" * 64, ckpt="/models/v4.h5", arch="resnet-cifar")
PY
$PY "$T/traces.py" "$T" || { not_ok "hand-made traces"; exit 1; }

# $J FILE CODE: runs the Python CODE with d bound to the JSON in FILE (for check).
cat >"$T/check_json.py" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[2])
PY
J="$PY $T/check_json.py"

for c in curve budget gates; do
	expect_ok "$c --help" "$EEPROF" "$c" --help
	check "$c --help shows usage" "grep -q '^usage: eeprof $c' '$T/out'"
done
check "--help lists the analyses" "$EEPROF --help | grep -q '^  curve' && $EEPROF --help | grep -q '^  gates'"

# ---------------------------------------------------------------- curve
expect_ok "curve of a hand-made trace" "$EEPROF" curve "$T/t6.h5" --json
cp "$T/out" "$T/t6.json"
stamped "curve --json" "$T/t6.json"
check "curve: per-exit points, ensemble, 101 sweep points" "$J '$T/t6.json' '
m = d[\"models\"][0]
assert d[\"policy\"] == \"maxprob\" and d[\"fallback\"] == \"last\" and m[\"name\"] == \"t6\"
assert [e[\"accuracy\"] for e in m[\"exits\"]] == [0.5, round(4/6, 10), 0.5]
assert [e[\"macs_mean\"] for e in m[\"exits\"]][2] == 41 and m[\"exits\"][2][\"macs_cascade_mean\"] == 46
assert m[\"ensemble\"] == {\"accuracy\": round(5/6, 10), \"macs_mean\": 46}
assert len(m[\"curve\"]) == 101 and m[\"curve\"][0][\"threshold\"] == 0 and m[\"curve\"][100][\"threshold\"] == 1
assert m[\"samples\"] == 6 and m[\"deepest_macs\"] == 41'"
check "curve at 0.75: 3/6 right, 221/6 MACs, exits 1 1 1 + 3 fallbacks" "$J '$T/t6.json' '
p = d[\"models\"][0][\"curve\"][75]
assert p[\"threshold\"] == 0.75 and p[\"accuracy\"] == 0.5 and abs(p[\"macs_mean\"] - 221/6) < 1e-8
assert p[\"exit_count\"] == [1, 1, 1] and p[\"fallback_count\"] == 3 and p[\"fallback_share\"] == 0.5
assert p[\"exit_share\"] == [round(1/6, 10)] * 3'"
check "curve: budget table at 25/50/75/100 % of the deepest exit" "$J '$T/t6.json' '
w = d[\"models\"][0][\"budget_table\"]
assert [x[\"fraction\"] for x in w] == [0.25, 0.5, 0.75, 1] and w[0][\"budget_macs\"] == 10.25
assert w[0] == {\"fraction\": 0.25, \"budget_macs\": 10.25, \"feasible\": False}
assert w[1] == {\"fraction\": 0.5, \"budget_macs\": 20.5, \"feasible\": True, \"accuracy\": 0.5, \"threshold\": 0, \"macs_mean\": round(62/6, 8)}'"
check "curve --json: none fits is feasible false, never null" "! grep -q null '$T/t6.json'"

expect_ok "curve --fallback ensemble --thresholds 0.75" "$EEPROF" curve "$T/t6.h5" --json \
	--fallback ensemble --thresholds 0.75
check "one point: ensemble fallback gives 4/6" "$J '$T/out' '
m = d[\"models\"][0]
assert d[\"fallback\"] == \"ensemble\" and len(m[\"curve\"]) == 1 and m[\"thresholds\"] == [0.75] * 3
assert m[\"curve\"][0][\"accuracy\"] == round(4/6, 10)'"
expect_ok "curve --thresholds per exit" "$EEPROF" curve "$T/t6.h5" --thresholds 0.9375,0.625,0.9 --json
check "per-exit vector: 3/6 at 36 MACs, exits 0 3 0 + 3" "$J '$T/out' '
p = d[\"models\"][0][\"curve\"][0]
assert p[\"accuracy\"] == 0.5 and p[\"macs_mean\"] == 36 and p[\"exit_count\"] == [0, 3, 0] and p[\"fallback_count\"] == 3'"
expect_ok "curve --policy patience" "$EEPROF" curve "$T/t6.h5" --policy patience --json
check "patience sweeps 1..E-1" "$J '$T/out' '
c = d[\"models\"][0][\"curve\"]
assert [p[\"threshold\"] for p in c] == [1, 2] and c[0][\"exit_count\"] == [0, 1, 3]'"
expect_ok "curve --policy margin --fallback best (text)" "$EEPROF" curve "$T/t6.h5" --policy margin \
	--fallback best
check "text: runs of equal thresholds merged, shares shown" "grep -q '^0.25-0.37 *0.8333 *24.5 *59.8% *50.0% *16.7% *0.0% *33.3%' '$T/out'"
check "text: a budget nothing fits reads none fits" "grep -Eq '^25% +10.25 +none fits +- +-\$' '$T/out'"

expect_ok "curve of two models, with CSV" "$EEPROF" curve "$T/t6.h5" "$T/w4.h5" --json --csv "$T/c.csv"
cp "$T/out" "$T/two.json"
check "two models in one JSON" "$J '$T/two.json' 'assert [m[\"name\"] for m in d[\"models\"]] == [\"t6\", \"v4\"]'"
check "CSV: header, exits, ensemble and 101 curve rows per model" "
head -1 '$T/c.csv' | grep -qx 'model,kind,exit,threshold,accuracy,macs_mean,macs_cascade_mean,exit_shares' &&
[ \$(grep -c '^t6,curve,' '$T/c.csv') -eq 101 ] && [ \$(grep -c '^v4,exit,' '$T/c.csv') -eq 2 ] &&
grep -qx 't6,curve,,0.75,0.5,36.83333333,,0.1666666667;0.1666666667;0.1666666667;0.5' '$T/c.csv' &&
grep -qx 't6,ensemble,,,0.8333333333,46,,' '$T/c.csv'"
check "CSV leaves no temporary file" "! ls '$T'/c.csv.tmp-* 2>/dev/null"
run "$EEPROF" curve "$T/t6.h5" "$T/w4.h5" --json --csv "$T/c2.csv"
check "curve is deterministic" "cmp -s '$T/out' '$T/two.json' && cmp -s '$T/c.csv' '$T/c2.csv'"
expect_ok "curve --csv - (stdout)" "$EEPROF" curve "$T/t6.h5" "$T/w4.h5" --csv -
check "--csv -: the CSV on stdout, instead of the text" "cmp -s '$T/out' '$T/c.csv'"
expect_fail "curve --json --csv -" 2 "--json and --csv - would both write to stdout" "$EEPROF" curve "$T/t6.h5" --json --csv -

# ---------------------------------------------------------------- budget
expect_ok "budget 20 MACs" "$EEPROF" budget "$T/w4.h5" --val "$T/v4.h5" --budget 20 --json
stamped "budget --json" "$T/out"
check "budget: thresholds from validation, test accuracy and MACs" "$J '$T/out' '
assert d[\"policy\"] == \"maxprob\" and d[\"fallback\"] == \"last\" and d[\"budget_macs\"] == 20
assert d[\"fraction\"] is None and d[\"deepest_macs\"] == 28
assert d[\"thresholds\"][1] is None and abs(d[\"thresholds\"][0] - 0.875) < 1e-7 and d[\"thresholds\"][0] < 0.875
v, t = d[\"val\"], d[\"test\"]
assert v[\"accuracy\"] == 1 and v[\"macs_mean\"] == 20 and v[\"exit_count\"] == [2, 2] and v[\"fallback_count\"] == 0
assert t[\"accuracy\"] == 0.5 and t[\"macs_mean\"] == 20.75 and t[\"samples\"] == 4'"
expect_ok "budget as a share, text" "$EEPROF" budget "$T/w4.h5" --val "$T/v4.h5" --budget 60%
check "text: 60% of the deepest 28 is 16.8, thresholds printed to round-trip" "
grep -q '^budget *16.8 MACs per sample (60% of the deepest exit' '$T/out' &&
grep -q '^1 *0.74999994 ' '$T/out' && grep -q '^2 *all ' '$T/out' && grep -q '^test *0.2500 *15.25' '$T/out'"
expect_ok "budget with a k suffix and patience" "$EEPROF" budget "$T/w4.h5" --val "$T/v4.h5" --budget 0.03k \
	--policy patience --json
check "patience budget: 1 at 30 MACs" "$J '$T/out' '
assert d[\"thresholds\"] == [1] and d[\"test\"][\"macs_mean\"] == 30.75'"
expect_fail "budget nothing fits" 3 "^eeprof: error: none fits: no thresholds meet a budget of 14.9 MACs per sample: the cheapest choice needs 15" \
	"$EEPROF" budget "$T/w4.h5" --val "$T/v4.h5" --budget 14.9
expect_fail "budget of different checkpoints" 3 "different checkpoints" \
	"$EEPROF" budget "$T/other.h5" --val "$T/v4.h5" --budget 20
expect_fail "budget without --val" 2 "--val and --budget are required" "$EEPROF" budget "$T/w4.h5" --budget 20
expect_fail "budget not a number" 2 "--budget: '20X' is neither" "$EEPROF" budget "$T/w4.h5" --val "$T/v4.h5" --budget 20X
expect_fail "budget of zero" 2 "--budget: '0%' is neither" "$EEPROF" budget "$T/w4.h5" --val "$T/v4.h5" --budget 0%

# ---------------------------------------------------------------- gates
expect_ok "gates --threshold 0.75" "$EEPROF" gates "$T/t6.h5" --threshold 0.75 --json
stamped "gates --json" "$T/out"
check "gates: ratio, spread, histogram, by exit, by class, constant channels" "$J '$T/out' '
assert d[\"policy\"] == \"maxprob\" and d[\"thresholds\"] == [0.75] * 3 and d[\"exit_count\"] == [1, 1, 1]
g0, g1 = d[\"gates\"]
assert g0[\"layer\"] == \"layer0\" and g0[\"exit\"] == 1 and g0[\"channels\"] == 4 and g0[\"ring_macs\"] == 64
assert abs(g0[\"open_ratio\"] - 13/24) < 1e-9 and abs(g0[\"std\"] - math.sqrt(17)/24) < 1e-9
assert g0[\"hist\"] == [0, 0, 1, 0, 0, 3, 0, 2, 0, 0] and g1[\"hist\"] == [1, 0, 1, 0, 2, 0, 0, 0, 1, 1]
assert g0[\"by_exit\"] == [0.5, 0.75, 0.5, 0.5] and g0[\"by_exit_samples\"] == [1, 1, 1, 3]
assert g0[\"by_class\"] == [0.5, 0.625, 0.25, 0.75, None]
assert g0[\"always_open_channels\"] == [0] and g0[\"never_open_channels\"] == [3] and g0[\"ring_macs_never\"] == 64
assert g1[\"always_open\"] == 0 and g1[\"never_open_channels\"] == [] and g1[\"ring_macs_always\"] == 0'"
expect_ok "gates default rule, text" "$EEPROF" gates "$T/t6.h5"
check "text: default maxprob 0.9, a layer beyond the exit marked" "
grep -q '^exits *maxprob 0.9,0.9,0.9, fallback last: exit 1 16.7%' '$T/out' &&
grep -q '^layer1 *1.0000\\*' '$T/out' && grep -q '^  never: *3' '$T/out'"
expect_fail "gates of a trace without EMG layers" 3 "trace '.*w4.h5' has no EMG layers" \
	"$EEPROF" gates "$T/w4.h5"
expect_fail "gates: patience takes a whole number" 2 "patience takes one whole number" \
	"$EEPROF" gates "$T/t6.h5" --policy patience --threshold 0.5

# ---------------------------------------------------------------- a real trace
expect_ok "profile the fixture model" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/real.h5" --batch 10
expect_ok "eval the fixture model" "$EEPROF" eval "$F/good.h5" --data "$D" --json
cp "$T/out" "$T/eval.json"
expect_ok "curve of the real trace" "$EEPROF" curve "$T/real.h5" --json --policy entropy
cp "$T/out" "$T/real.json"
check "real trace: curve agrees with eval, one exit never saves MACs" "$PY -c \"
import json
d, e = json.load(open('$T/real.json')), json.load(open('$T/eval.json'))
m = d['models'][0]
assert m['arch'] == 'resnet-cifar' and m['samples'] == 20 and len(m['exits']) == 1
assert m['exits'][0]['accuracy'] == e['exits'][0]['accuracy'] and m['exits'][0]['macs_mean'] > 0
assert abs(m['exits'][0]['macs_mean'] - e['exits'][0]['macs_mean']) < 1e-6 * m['exits'][0]['macs_mean']
assert len(m['curve']) == 101 and all(p['accuracy'] == m['exits'][0]['accuracy'] for p in m['curve'])
assert all(p['macs_mean'] == m['exits'][0]['macs_cascade_mean'] for p in m['curve'])
assert all(sum(p['exit_count']) + p['fallback_count'] == 20 for p in m['curve'])
\""
expect_fail "gates of the real (resnet) trace" 3 "has no EMG layers \\(arch resnet-cifar\\)" \
	"$EEPROF" gates "$T/real.h5"

# ---------------------------------------------------------------- refusals
expect_fail "unknown policy" 2 "unknown policy 'confidence'" "$EEPROF" curve "$T/t6.h5" --policy confidence
expect_fail "unknown policy before reading files" 2 "unknown policy" "$EEPROF" curve "$T/missing.h5" --policy x
expect_fail "unknown fallback" 2 "unknown fallback 'first'" "$EEPROF" gates "$T/t6.h5" --fallback first
expect_fail "bad threshold list" 2 "bad threshold list '0.9,,0.8'" "$EEPROF" curve "$T/t6.h5" --thresholds 0.9,,0.8
expect_fail "thresholds of the wrong length" 2 "2 thresholds for a model of 3 exits: give 3 \\(one per exit\\) or 1" \
	"$EEPROF" curve "$T/t6.h5" --thresholds 0.9,0.8
expect_fail "curve without a trace" 2 "missing argument" "$EEPROF" curve
expect_fail "curve of a missing file" 3 "missing.h5" "$EEPROF" curve "$T/missing.h5"
expect_fail "curve of a checkpoint, not a trace" 3 "not an eeprof trace" "$EEPROF" curve "$F/good.h5"
$PY - "$T" <<'PY' || not_ok "empty trace written"
import sys, h5py
src, dst = h5py.File(sys.argv[1] + "/w4.h5"), h5py.File(sys.argv[1] + "/empty.h5", "w")
for k, v in src.attrs.items():
    dst.attrs[k] = v
for name in ("index", "label", "ens_pred", "ens_maxprob", "pred", "maxprob", "entropy", "margin",
             "macs", "macs_cascade"):
    dst[name] = src[name][:0]
dst["exit_macs"] = src["exit_macs"][...]
src.copy("timing", dst)
PY
expect_fail "trace without samples" 3 "empty" "$EEPROF" curve "$T/empty.h5"
expect_fail "budget of an empty validation trace" 3 "empty" \
	"$EEPROF" budget "$T/w4.h5" --val "$T/empty.h5" --budget 20
expect_fail "CSV in a missing directory" 3 "cannot create '$T/no/c.csv'" \
	"$EEPROF" curve "$T/t6.h5" --csv "$T/no/c.csv"

# ---------------------------------------------------------------- one vocabulary for exit rules
# curve, gates, run and report take --policy, --fallback and --threshold (one value or one
# per exit; --thresholds a synonym) with the same meaning; budget --policy alone (it chooses
# the thresholds, and its last exit takes every sample left).
for c in curve gates run report; do
	run "$EEPROF" "$c" --help
	check "$c --help: --policy, --fallback, --threshold <t>[,<t>...], --thresholds" "
grep -q -- '--policy <p>' '$T/out' && grep -q -- '--fallback <f>' '$T/out' &&
grep -q -- '--threshold <t>\\[,<t>...\\]' '$T/out' && grep -q -- '--thresholds <t>\\[,<t>...\\] *the same as --threshold' '$T/out'"
done
run "$EEPROF" budget --help
check "budget --help: --policy" "grep -q -- '--policy <p>' '$T/out'"
expect_ok "curve --threshold 0.9375,0.625,0.9" "$EEPROF" curve "$T/t6.h5" --threshold 0.9375,0.625,0.9 --json
cp "$T/out" "$T/thr1.json"
run "$EEPROF" curve "$T/t6.h5" --thresholds 0.9375,0.625,0.9 --json
check "curve: --thresholds = --threshold" "cmp -s '$T/out' '$T/thr1.json'"
expect_ok "gates --thresholds 0.75 (synonym)" "$EEPROF" gates "$T/t6.h5" --thresholds 0.75 --json
check "gates --thresholds: the vector applied" "$J '$T/out' 'assert d[\"thresholds\"] == [0.75] * 3'"
expect_fail "curve: both --threshold and --thresholds" 2 "give one of --threshold or --thresholds" \
	"$EEPROF" curve "$T/t6.h5" --threshold 0.5 --thresholds 0.5
expect_fail "gates: both --threshold and --thresholds" 2 "give one of --threshold or --thresholds" \
	"$EEPROF" gates "$T/t6.h5" --threshold 0.5 --thresholds 0.5
expect_fail "gates: thresholds of the wrong length" 2 "4 thresholds for a model of 3 exits: give 3" \
	"$EEPROF" gates "$T/t6.h5" --threshold 0.5,0.5,0.5,0.5
# Text that states the rule gives every exit's value, a global threshold too.
expect_ok "gates text, default rule" "$EEPROF" gates "$T/t6.h5"
check "gates text: 0.9 for each of the 3 exits" "grep -q '^exits *maxprob 0.9,0.9,0.9, fallback last:' '$T/out'"
expect_ok "gates text, per-exit rule" "$EEPROF" gates "$T/t6.h5" --threshold 0.9375,0.625,0.9
check "gates text: the three values" "grep -q '^exits *maxprob 0.9375,0.625,0.9, fallback last:' '$T/out'"
# report --threshold: the rule applied beside the sweep, the same numbers as curve's
expect_ok "report --threshold per exit" "$EEPROF" report --traces "$T/t6.h5" -o "$T/rr" --no-plots \
	--threshold 0.9375,0.625,0.9
check "report summary: the rule with every exit's value" \
	"grep -q '^rule *t6: maxprob 0.9375,0.625,0.9, fallback last: accuracy 0.5000 at 36 MACs\$' '$T/out'"
check "report.json rule = curve's point (3/6 at 36 MACs, exits 0 3 0 + 3)" "$J '$T/rr/report.json' '
r = d[\"models\"][0][\"rule\"]
assert r == {\"thresholds\": [0.9375, 0.625, 0.9], \"accuracy\": 0.5, \"macs_mean\": 36, \"exit_share\": [0, 0.5, 0], \"fallback_share\": 0.5}, r
assert len(d[\"models\"][0][\"curve\"]) == 101'"
check "report.md: the rule given, every exit's threshold" \
	"grep -q '^maxprob, thresholds 0.9375, 0.625, 0.9 (exit 1 first), fallback last: accuracy 0.5000 at 36 MACs' '$T/rr/report.md'"
expect_ok "report without --threshold" "$EEPROF" report --traces "$T/t6.h5" -o "$T/rr0" --no-plots
check "no rule without --threshold" "$J '$T/rr0/report.json' 'assert \"rule\" not in d[\"models\"][0]' && ! grep -q '^rule' '$T/out'"
run "$EEPROF" report --traces "$T/t6.h5" -o "$T/rr1" --no-plots --thresholds 0.9375,0.625,0.9
check "report: --thresholds = --threshold" "cmp -s '$T/rr/report.json' '$T/rr1/report.json'"
expect_ok "report --threshold 0.75 --fallback ensemble" "$EEPROF" report --traces "$T/t6.h5" \
	-o "$T/rr2" --no-plots --threshold 0.75 --fallback ensemble
check "report: a global threshold is every exit's, ensemble fallback gives 4/6" "$J '$T/rr2/report.json' '
r = d[\"models\"][0][\"rule\"]
assert d[\"fallback\"] == \"ensemble\" and r[\"thresholds\"] == [0.75] * 3 and r[\"accuracy\"] == round(4/6, 10)'"
expect_fail "report: thresholds of the wrong length" 2 \
	"t6.h5': 2 thresholds for a model of 3 exits: give 3 \\(one per exit\\) or 1" \
	"$EEPROF" report --traces "$T/t6.h5" -o "$T/rr3" --no-plots --threshold 0.9,0.8
check "report: a refused list leaves no directory" "[ ! -e '$T/rr3' ]"
expect_fail "report: both --threshold and --thresholds" 2 "give one of --threshold or --thresholds" \
	"$EEPROF" report --traces "$T/t6.h5" -o "$T/rr3" --threshold 0.5 --thresholds 0.5
expect_fail "report: patience takes one whole number" 2 "patience takes one whole number" \
	"$EEPROF" report --traces "$T/t6.h5" -o "$T/rr3" --policy patience --threshold 0.5
expect_fail "report of a checkpoint: the wrong length before any inference" 2 \
	"good.h5': 2 thresholds for a model of 1 exits" \
	"$EEPROF" report "$F/good.h5" --data "$D" -o "$T/rr3" --no-plots --threshold 0.9,0.8
# diff compares the rule's accuracy and MACs when both reports have one, and refuses other rules
expect_ok "diff of two reports with the same rule" "$EEPROF" diff "$T/rr/report.json" "$T/rr1/report.json"
check "diff: the rule's accuracy and MACs are checked" \
	"grep -q 't6: rule accuracy *| *0.5000 *| *0.5000 ' '$T/out' && grep -q 't6: rule MACs ' '$T/out'"
check "diff: a budget nothing fits reads none fits, never null or an empty cell" \
	"grep -Eq 't6: budget 25% accuracy *\\| none fits \\| none fits \\| +- \\| +same \\|' '$T/out' && ! grep -q null '$T/out'"
run "$EEPROF" report --traces "$T/t6.h5" -o "$T/rr4" --no-plots --threshold 0.75
expect_fail "diff of reports of other rules" 3 "reports of different rules: model 't6' has other thresholds" \
	"$EEPROF" diff "$T/rr/report.json" "$T/rr4/report.json"
expect_ok "curve text, one threshold" "$EEPROF" curve "$T/t6.h5" --threshold 0.75
check "curve text: the threshold of each exit" "grep -q '^0.75,0.75,0.75 *0.5000 ' '$T/out'"
