# t0078-gallery.sh - eeprof gallery: the samples it lists per exit (easy: the most
# confident leaving there, hard: the least) checked against a ranking computed here in
# Python from a hand-made 2-exit trace; the PNG and SVG it draws; refusals (another
# dataset, a bad extension).
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx

# A 2-exit trace of fx/data.h5's 20 samples (labels as in the dataset), rows 2..19.
cat >"$T/trace.py" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(5)
lab = h5py.File(sys.argv[1])["labels"][:].astype(np.int32)
idx = np.arange(2, 20, dtype=np.int32); n, e, k = len(idx), 2, 10
label = lab[idx]
pred = np.where(rng.random((n, e)) < 0.6, label[:, None], rng.integers(0, k, (n, e))).astype(np.int32)
conf = np.round(rng.uniform(0.3, 1, (n, e)), 3).astype(np.float32)
with h5py.File(sys.argv[2], "w") as f:
    for key, v in dict(format="eeprof-trace", trace_version=1, eeprof_version="test",
                       checkpoint="/m/gal.h5", checkpoint_sha256="e" * 64, arch="scan",
                       data="h5:data.h5", dataset_size=20, num_classes=k, exits=e).items():
        f.attrs[key] = v
    f["index"], f["label"], f["pred"], f["maxprob"] = idx, label, pred, conf
    f["entropy"] = (1 - conf).astype(np.float32)
    f["margin"] = (conf / 2).astype(np.float32)
    f["ens_pred"], f["ens_maxprob"] = label, np.full(n, 0.5, np.float32)
    f["macs"] = np.tile([10.0, 20], (n, 1))
    f["macs_cascade"] = np.tile([10.0, 21], (n, 1))
    f["exit_macs"] = np.ones((4, e))
    t = f.create_group("timing")
    t.attrs["seconds"], t.attrs["threads"], t.attrs["batch"] = 0.0, 1, 1
PY
$PY "$T/trace.py" "$F/data.h5" "$T/t.h5" || { not_ok "hand-made trace"; exit 1; }

# check.py LISTING TRACE THRESHOLD PER: the rows eeprof lists, as Python ranks them.
cat >"$T/check.py" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[2]); thr = np.float32(float(sys.argv[3])); per = int(sys.argv[4])
idx, label, pred, conf = f["index"][:], f["label"][:], f["pred"][:], f["maxprob"][:]
n, e = pred.shape
taken = np.array([next((k for k in range(e) if conf[i, k] > thr), e) for i in range(n)])
want = []
for k in range(e + 1):
    rows = sorted(np.flatnonzero(taken == k), key=lambda i: (-conf[i, min(k, e - 1)], i))
    name = str(k + 1) if k < e else "fallback"
    easy, hard = rows[:per], rows[per:][::-1][:per]
    for kind, sel in (("easy", easy), ("hard", hard)):
        for r, i in enumerate(sel):
            c = min(k, e - 1)
            want.append(f"{name} {kind} {r + 1} {idx[i]} {label[i]} {pred[i, c]} {conf[i, c]:.6f}")
got = [" ".join(l.split()) for l in open(sys.argv[1]).read().splitlines()[1:]]
assert got == want, "\n".join(["eeprof:"] + got + ["python:"] + want)
PY

expect_ok "gallery --per 3" "$EEPROF" gallery "$T/t.h5" --data "h5:$F/data.h5" -o "$T/g.png" \
	--per 3 --threshold 0.7
cp "$T/out" "$T/list.txt"
run $PY "$T/check.py" "$T/list.txt" "$T/t.h5" 0.7 3
check "listed samples: per exit the 3 most and least confident, as Python ranks them" \
	"[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
check "gallery PNG" "$PY -c '
h = open(\"$T/g.png\", \"rb\").read(24); assert h[:8] == b\"\\x89PNG\\r\\n\\x1a\\n\"'"
expect_ok "gallery SVG at a size" "$EEPROF" gallery "$T/t.h5" --data "h5:$F/data.h5" -o "$T/g.svg" \
	--plot-size 500,300 --title "easy and hard"
check "SVG with the title" "grep -q 'easy and hard' '$T/g.svg' && grep -q 'width=\"500\"' '$T/g.svg'"
expect_fail "another dataset" 3 "not the trace's data" "$EEPROF" gallery "$T/t.h5" \
	--data "h5:$F/data_100.h5" -o "$T/x.png"
no_file "no gallery left by a refusal" "$T/x.png"
expect_fail "bad extension" 2 "png or .svg" "$EEPROF" gallery "$T/t.h5" --data "h5:$F/data.h5" \
	-o "$T/x.jpg"
expect_fail "--data missing" 2 "required" "$EEPROF" gallery "$T/t.h5" -o "$T/x.png"
