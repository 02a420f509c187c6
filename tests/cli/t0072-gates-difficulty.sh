# t0072-gates-difficulty.sh - eeprof gates against difficulty: the open-gate ratio of the
# samples leaving right and wrong (overall and per exit taken) and its correlation with the
# deepest exit's confidence, checked against numpy/scipy on a random hand-made EMG trace.
. tests/cli/lib.sh

cat >"$T/trace.py" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(3)
n, e, k, chans = 400, 3, 4, [6, 9]
label = rng.integers(0, k, n).astype(np.int32)
pred = np.where(rng.random((n, e)) < 0.7, label[:, None], rng.integers(0, k, (n, e))).astype(np.int32)
conf = rng.uniform(0.25, 1, (n, e)).astype(np.float32)
bits = [(rng.random((n, c)) < rng.uniform(0.1, 0.9, (n, 1))).astype(np.uint8) for c in chans]
with h5py.File(sys.argv[1], "w") as f:
    for key, v in dict(format="eeprof-trace", trace_version=1, eeprof_version="test",
                       checkpoint="/m/g.h5", checkpoint_sha256="d" * 64, arch="emgnet",
                       data="hand", dataset_size=n, num_classes=k, exits=e).items():
        f.attrs[key] = v
    f["index"] = np.arange(n, dtype=np.int32)
    f["label"], f["pred"], f["maxprob"] = label, pred, conf
    f["entropy"] = np.ones((n, e), np.float32)
    f["margin"] = np.zeros((n, e), np.float32)
    f["ens_pred"], f["ens_maxprob"] = label, np.full(n, 0.5, np.float32)
    f["macs"] = np.tile([10.0, 20, 30], (n, 1))
    f["macs_cascade"] = np.tile([10.0, 21, 33], (n, 1))
    f["exit_macs"] = np.ones((4, e))
    t = f.create_group("timing")
    t.attrs["seconds"], t.attrs["threads"], t.attrs["batch"] = 0.0, 1, 1
    g = f.create_group("gates")
    g["layer_name"] = np.array([b"a", b"b"])
    g["layer_exit"] = np.array([1, 2], np.int32)
    g["layer_ring_macs"] = np.array([16.0, 16.0])
    g["layer_channels"] = np.array(chans, np.int32)
    g["open"] = np.stack([b.sum(1) for b in bits], 1).astype(np.int32)
    for name, b in zip("ab", bits):
        g["bits/" + name] = b
PY
$PY "$T/trace.py" "$T/g.h5" || { not_ok "hand-made trace"; exit 1; }

cat >"$T/check.py" <<'PY'
import json, sys
import h5py, numpy as np
from scipy import stats
d = json.load(open(sys.argv[1])); f = h5py.File(sys.argv[2], "r")
thr = float(sys.argv[3])
label, pred, conf = f["label"][:], f["pred"][:], f["maxprob"][:]
opn, ch = f["gates/open"][:], f["gates/layer_channels"][:]
n, e = pred.shape
taken = np.full(n, e)                       # maxprob rule, fallback last
for i in range(n):
    for k in range(e):
        if conf[i, k] > np.float32(thr):
            taken[i] = k; break
final = np.array([pred[i, min(taken[i], e - 1)] for i in range(n)])
right = final == label
dd = d["difficulty"]
assert dd["samples_right"] == right.sum() and dd["samples_wrong"] == (~right).sum()
for k in range(e + 1):
    assert dd["by_exit_samples_right"][k] == (right & (taken == k)).sum()
    assert dd["by_exit_samples_wrong"][k] == (~right & (taken == k)).sum()
close = lambda a, b: (a is None and b != b) or abs(a - b) < 1e-9
for g, layer in enumerate(d["gates"]):
    frac = opn[:, g] / ch[g]
    assert close(layer["open_ratio_right"], frac[right].mean())
    assert close(layer["open_ratio_wrong"], frac[~right].mean())
    for k in range(e + 1):
        for key, m in (("by_exit_right", right), ("by_exit_wrong", ~right)):
            sel = m & (taken == k)
            want = frac[sel].mean() if sel.any() else float("nan")
            assert close(layer[key][k], want), (g, key, k, layer[key][k], want)
    assert close(layer["pearson_confidence"], stats.pearsonr(opn[:, g], conf[:, -1].astype(float))[0])
total = opn.sum(1)
assert close(dd["pearson"], stats.pearsonr(total, conf[:, -1].astype(float))[0])
assert close(dd["spearman"], stats.spearmanr(total, conf[:, -1].astype(float))[0])
print("ok")
PY

expect_ok "gates --json on a random EMG trace" "$EEPROF" gates "$T/g.h5" --threshold 0.8 --json
cp "$T/out" "$T/g.json"
run $PY "$T/check.py" "$T/g.json" "$T/g.h5" 0.8
check "right/wrong ratios, per exit, Pearson and Spearman as numpy and scipy compute them" \
	"[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
expect_ok "gates text" "$EEPROF" gates "$T/g.h5" --threshold 0.8
check "text: the right/wrong table and the correlation line" "grep -q '^layer  *right  *wrong  *exit 1 right' '$T/out' &&
grep -q '^open gates (summed over the EMG layers) against exit 3.s confidence: Pearson' '$T/out'"
expect_ok "gates --plot SVG with a title" "$EEPROF" gates "$T/g.h5" --plot "$T/g.svg" --title "gates here"
check "gates plot: SVG with the title and both layers" "grep -q 'gates here' '$T/g.svg' && grep -q '>a<' '$T/g.svg' && grep -q '>b<' '$T/g.svg'"
expect_fail "gates --plot of an unknown format" 2 "png or .svg" "$EEPROF" gates "$T/g.h5" --plot "$T/g.gif"
