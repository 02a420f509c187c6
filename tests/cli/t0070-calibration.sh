# t0070-calibration.sh - eeprof calibration: ECE, adaptive ECE, MCE, Brier, NLL and the
# temperatures, checked against the same numbers computed here independently in Python
# (numpy, scipy's bounded scalar minimiser) from the traces' logits; a real profile keeps
# logits that agree with its maxprob and pred (and --no-logits drops them); refusals.
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx
D=h5:$F/data.h5

# Two hand-made traces of one "checkpoint": 3 exits, 10 classes, random logits whose scale
# grows with the exit (over- and under-confident exits), labels agreeing with the argmax
# more often at deeper exits.
cat >"$T/traces.py" <<'PY'
import sys, h5py, numpy as np

def write(path, n, seed):
    rng = np.random.default_rng(seed)
    e, k = 3, 10
    label = rng.integers(0, k, n).astype(np.int32)
    z = rng.normal(0, 1, (n, e, k)).astype(np.float32)
    for x, (boost, scale) in enumerate([(1.5, 0.7), (2.5, 1.5), (3.0, 3.0)]):
        z[np.arange(n), x, label] += boost
        z[:, x] *= scale
    z = z.astype(np.float32)
    p = np.exp(z - z.max(2, keepdims=True)); p /= p.sum(2, keepdims=True)
    s = np.sort(p, 2)
    ent = -(p * np.log(np.where(p > 0, p, 1))).sum(2)
    with h5py.File(path, "w") as f:
        for key, v in dict(format="eeprof-trace", trace_version=1, eeprof_version="test",
                           checkpoint="/m/cal.h5", checkpoint_sha256="c" * 64, arch="scan",
                           data="hand", dataset_size=n, num_classes=k, exits=e).items():
            f.attrs[key] = v
        f["index"] = np.arange(n, dtype=np.int32)
        f["label"] = label
        f["pred"] = p.argmax(2).astype(np.int32)
        f["maxprob"] = s[:, :, -1].astype(np.float32)
        f["entropy"] = ent.astype(np.float32)
        f["margin"] = (s[:, :, -1] - s[:, :, -2]).astype(np.float32)
        f["logits"] = z
        f["ens_pred"] = p.mean(1).argmax(1).astype(np.int32)
        f["ens_maxprob"] = p.mean(1).max(1).astype(np.float32)
        f["macs"] = np.tile([10.0, 20.0, 30.0], (n, 1))
        f["macs_cascade"] = np.tile([11.0, 22.0, 33.0], (n, 1))
        f["exit_macs"] = np.array([[10, 20, 30], [10, 20, 30], [11, 22, 33], [11, 22, 33]], float)
        t = f.create_group("timing")
        t.attrs["seconds"], t.attrs["threads"], t.attrs["batch"] = 0.0, 1, 1

write(sys.argv[1] + "/test.h5", 700, 1)
write(sys.argv[1] + "/val.h5", 500, 2)
PY
$PY "$T/traces.py" "$T" || { not_ok "hand-made traces"; exit 1; }

# The independent computation: check.py JSON TRACE [VAL] compares every number.
cat >"$T/check.py" <<'PY'
import json, math, sys
import h5py, numpy as np
from scipy.optimize import minimize_scalar

d = json.load(open(sys.argv[1]))
f = h5py.File(sys.argv[2], "r")
z, label, pred, maxprob = (f[x][:] for x in ("logits", "label", "pred", "maxprob"))
val = h5py.File(sys.argv[3], "r") if len(sys.argv) > 3 else None
n, e, k = z.shape

def softmax(z):
    p = np.exp(z - z.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)

def metrics(conf, correct, prob, lab):
    edges = np.arange(16) / 15.0
    b = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, 14)
    ece, mce = 0.0, 0.0
    for i in range(15):
        m = b == i
        if m.any():
            gap = abs(correct[m].mean() - conf[m].mean())
            ece += gap * m.sum() / len(conf)
            mce = max(mce, gap)
    order = np.lexsort((np.arange(len(conf)), conf))
    ada = 0.0
    for i in range(15):
        r = order[i * len(conf) // 15:(i + 1) * len(conf) // 15]
        if len(r):
            ada += abs(correct[r].sum() - conf[r].sum()) / len(conf)
    onehot = np.eye(prob.shape[1])[lab]
    brier = ((prob - onehot) ** 2).sum(1).mean()
    nll = -np.log(prob[np.arange(len(lab)), lab]).mean()
    return dict(ece=ece, ece_adaptive=ada, mce=mce, brier=brier, nll=nll,
                accuracy=correct.mean(), confidence=conf.mean())

def close(what, got, want, tol):
    assert got is not None and abs(got - want) <= tol, f"{what}: eeprof {got}, python {want}"

assert [x["exit"] for x in d["exits"]] == list(range(1, e + 1))
for x in range(e):
    zx = z[:, x].astype(np.float64)
    correct = (pred[:, x] == label).astype(float)
    want = metrics(maxprob[:, x].astype(np.float64), correct, softmax(zx), label)
    got = d["exits"][x]["calibration"]
    for key, v in want.items():
        close(f"exit {x + 1} {key}", got[key], v, 1e-6)
    assert sum(b["count"] for b in got["bins"]) == n and len(got["bins"]) == 15
    if val is None:
        assert "calibrated" not in d["exits"][x]
        continue
    vz = val["logits"][:, x].astype(np.float64)
    vl = val["label"][:]
    nll = lambda u: -np.log(softmax(vz / math.exp(u))[np.arange(len(vl)), vl]).mean()
    r = minimize_scalar(nll, bounds=(math.log(0.01), math.log(100)), method="bounded",
                        options=dict(xatol=1e-9))
    T = math.exp(r.x)
    cal = d["exits"][x]["calibrated"]
    close(f"exit {x + 1} temperature", cal["temperature"], T, 1e-4 * T)
    ps = softmax(zx / cal["temperature"])
    want = metrics(ps.max(1), correct, ps, label)
    for key, v in want.items():
        close(f"exit {x + 1} calibrated {key}", cal[key], v, 1e-6)
print("temperatures", [round(d["exits"][x]["calibrated"]["temperature"], 4) for x in range(e)]
      if val is not None else "-")
PY

expect_ok "calibration --help" "$EEPROF" calibration --help
check "calibration --help shows usage" "grep -q '^usage: eeprof calibration' '$T/out'"
check "--help lists calibration" "$EEPROF --help | grep -q '^  calibration'"

expect_ok "calibration --json" "$EEPROF" calibration "$T/test.h5" --json
cp "$T/out" "$T/c.json"
run $PY "$T/check.py" "$T/c.json" "$T/test.h5"
check "ECE, adaptive ECE, MCE, Brier, NLL as computed in Python" "[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"

expect_ok "calibration --val --json" "$EEPROF" calibration "$T/test.h5" --val "$T/val.h5" --json
cp "$T/out" "$T/cv.json"
run $PY "$T/check.py" "$T/cv.json" "$T/test.h5" "$T/val.h5"
check "temperatures and scaled numbers as computed in Python" "[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
check "temperatures: exit 1 under-confident (T < 1), exit 3 over-confident (T > 1)" \
	"$PY -c 'import json; d = json.load(open(\"$T/cv.json\")); t = [x[\"calibrated\"][\"temperature\"] for x in d[\"exits\"]]; assert t[0] < 1 < t[2], t'"
check "budget table: 4 budgets with accuracy before and after" "$PY -c '
import json; d = json.load(open(\"$T/cv.json\")); b = d[\"budget_table\"]
assert [x[\"fraction\"] for x in b] == [0.25, 0.5, 0.75, 1] and d[\"policy\"] == \"maxprob\"
assert b[3][\"budget_macs\"] == 30 and b[3][\"accuracy\"] is not None and b[3][\"accuracy_calibrated\"] is not None'"
run "$EEPROF" calibration "$T/test.h5" --val "$T/val.h5" --json
check "calibration is deterministic" "cmp -s '$T/out' '$T/cv.json'"

expect_ok "calibration text with --val and a plot" "$EEPROF" calibration "$T/test.h5" \
	--val "$T/val.h5" --plot "$T/rel.png" --plot-size 640,300 --font-size 8
check "text: tables before and after scaling, budgets" "grep -q '^as recorded' '$T/out' &&
grep -q '^after temperature scaling' '$T/out' && grep -q '^75%' '$T/out'"
check "reliability diagram drawn at the size asked" "$PY -c '
import struct; h = open(\"$T/rel.png\", \"rb\").read(24); assert h[:8] == b\"\\x89PNG\\r\\n\\x1a\\n\"
assert struct.unpack(\">II\", h[16:24]) == (640, 300)'"
expect_ok "reliability diagram as SVG" "$EEPROF" calibration "$T/test.h5" --plot "$T/rel.svg"
check "SVG written" "grep -q '<svg' '$T/rel.svg'"

# ---------------------------------------------------------------- real traces
expect_ok "profile keeps logits" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/p.h5" --batch 7
check "logits [n,E,K] agree with maxprob and pred" "$PY -c '
import h5py, numpy as np
f = h5py.File(\"$T/p.h5\"); z = f[\"logits\"][:].astype(np.float64)
assert z.shape == (20, 1, 10) and f[\"logits\"].dtype == np.float32
p = np.exp(z - z.max(2, keepdims=True)); p /= p.sum(2, keepdims=True)
assert (p.argmax(2) == f[\"pred\"][:]).all() and np.abs(p.max(2) - f[\"maxprob\"][:]).max() < 1e-6'"
expect_ok "calibration of a real trace" "$EEPROF" calibration "$T/p.h5" --json
cp "$T/out" "$T/p.json"
run $PY "$T/check.py" "$T/p.json" "$T/p.h5"
check "real trace: numbers as computed in Python" "[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
expect_ok "profile --no-logits" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/nl.h5" --no-logits
check "--no-logits: no /logits" "$PY -c 'import h5py; assert \"logits\" not in h5py.File(\"$T/nl.h5\")'"
expect_ok "calibration without logits" "$EEPROF" calibration "$T/nl.h5" --json
check "without logits: ECE, no Brier" "$PY -c '
import json; x = json.load(open(\"$T/out\"))[\"exits\"][0][\"calibration\"]
assert x[\"ece\"] is not None and x[\"brier\"] is None and x[\"nll\"] is None'"

# ---------------------------------------------------------------- refusals
expect_fail "val without logits" 3 "validation trace's logits" "$EEPROF" calibration "$T/p.h5" \
	--val "$T/nl.h5"
expect_fail "val of another checkpoint" 3 "another checkpoint" "$EEPROF" calibration "$T/test.h5" \
	--val "$T/p.h5"
expect_fail "missing trace" 3 "nothere" "$EEPROF" calibration "$T/nothere.h5"
expect_fail "plot of an unknown format" 2 "png or .svg" "$EEPROF" calibration "$T/test.h5" \
	--plot "$T/x.pdf"
no_file "no plot left by a refusal" "$T/x.pdf"
expect_fail "bad --plot-size" 2 "plot-size" "$EEPROF" calibration "$T/test.h5" --plot-size 10x
expect_fail "unknown policy" 2 "policy" "$EEPROF" calibration "$T/test.h5" --policy nope
expect_fail "merge of traces with and without logits" 3 "logits" "$EEPROF" merge "$T/p.h5" \
	"$T/nl.h5" -o "$T/m.h5"

# ---------------------------------------------------------------- in a report
expect_ok "report with a validation trace" "$EEPROF" report --traces "$T/test.h5" \
	--val-traces "$T/val.h5" -o "$T/rep" --no-plots
check "report.json: exits[].calibration as calibration --json says (6 decimals), temperatures" "$PY -c '
import json
c = json.load(open(\"$T/cv.json\")); r = json.load(open(\"$T/rep/report.json\"))[\"models\"][0]
for a, b in zip(c[\"exits\"], r[\"exits\"]):
    x, y = a[\"calibration\"], b[\"calibration\"]
    for k in (\"ece\", \"ece_adaptive\", \"mce\", \"brier\"):
        assert abs(x[k] - y[k]) <= 5e-7, (k, x[k], y[k])
    assert abs(a[\"calibrated\"][\"temperature\"] - y[\"temperature\"]) <= 5e-7
    assert abs(a[\"calibrated\"][\"ece\"] - y[\"calibrated\"][\"ece\"]) <= 5e-7
assert [x[\"accuracy_calibrated\"] for x in r[\"calibration_budget_table\"]] == [x[\"accuracy_calibrated\"] for x in c[\"budget_table\"]]'"
check "calibration.csv and report.md" "[ \$(wc -l <'$T/rep/calibration.csv') -eq 4 ] &&
grep -q '^### Calibration' '$T/rep/report.md' && grep -q '^### Where each class leaves' '$T/rep/report.md'"
check "classes.csv: shares of each class add up to 1" "$PY -c '
import csv
for row in csv.DictReader(open(\"$T/rep/classes.csv\")):
    s = sum(float(row[k]) for k in (\"exit_1\", \"exit_2\", \"exit_3\", \"fallback\"))
    assert abs(s - 1) < 1e-9, row'"
expect_ok "curve --plot of two traces, log axis forced" "$EEPROF" curve "$T/test.h5" "$T/p.h5" \
	--plot "$T/c.svg" --log-x --font-size 9
check "curve plot: log axis, SI tick labels, a key for the markers" "grep -q 'log scale' '$T/c.svg' &&
grep -q 'exit k (number: k)' '$T/c.svg' && grep -q 'ensemble of the exits' '$T/c.svg'"
