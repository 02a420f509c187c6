# t0013-bad-surface.sh - the bad-input surface of issue 13, command by command: corrupt or
# inconsistent datasets, corrupt traces, malformed report JSON, outputs that cannot be
# written, numeric options at and beyond their limits. Each gets one "eeprof: error:"
# line, exit 2 (usage) or 3 (bad input), and leaves no output behind.
. tests/cli/lib.sh
S=checkpoints/samples
R=$S/resnet20-fmnist.h5 E=$S/emgnet20-w8-fmnist.h5
$PY - "$T" <<'PY' || { not_ok "fixtures"; exit 1; }
import gzip, json, os, struct, sys
import h5py, numpy as np
t = sys.argv[1]
rng = np.random.default_rng(1)
def h5(name, images, labels, **attrs):
    with h5py.File(os.path.join(t, name), "w") as f:
        f["images"] = images
        f["labels"] = labels
        for k, v in attrs.items():
            f.attrs[k] = v
u8 = rng.integers(0, 256, (6, 1, 28, 28), dtype=np.uint8)
lab = rng.integers(0, 10, 6).astype(np.int64)
h5("data.h5", u8, lab)
x = (u8 / 255.0).astype(np.float32)
x[2, 0, 3, 3] = np.nan
h5("nan.h5", x, lab)
h5("empty.h5", np.zeros((0, 1, 28, 28), np.uint8), np.zeros(0, np.int64))
h5("classes.h5", u8, np.array([0, 1, 2, 3, 4, 50]), num_classes=100)
h5("disagree.h5", u8, lab[:4])
def idx(d, images, labels, gz=True, cut=None):
    os.makedirs(os.path.join(t, d), exist_ok=True)
    for name, data in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        if gz:
            data = gzip.compress(data)
        if cut and name.startswith("t10k-images"):
            data = data[:cut]
        open(os.path.join(t, d, name + (".gz" if gz else "")), "wb").write(data)
img = struct.pack(">IIII", 0x803, 6, 28, 28) + u8.tobytes()
lbl = struct.pack(">II", 0x801, 6) + bytes(lab.tolist())
idx("idx-trunc", img, lbl, cut=len(gzip.compress(img)) // 2)
idx("idx-magic", struct.pack(">I", 0x804) + img[4:], lbl)
idx("idx-overflow", struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + u8.tobytes(), lbl)
idx("idx-disagree", img, struct.pack(">II", 0x801, 5) + bytes(lab.tolist()[:5]))
idx("idx-label", img, struct.pack(">II", 0x801, 6) + bytes([0, 1, 2, 3, 4, 12]))
idx("idx-empty", struct.pack(">IIII", 0x803, 0, 28, 28), struct.pack(">II", 0x801, 0))
os.makedirs(os.path.join(t, "cifar-trunc"), exist_ok=True)
open(os.path.join(t, "cifar-trunc", "test_batch.bin"), "wb").write(bytes(3073 + 1000))
PY
D=$T/data.h5

# --- datasets, for every command that reads one -------------------------------------------
bad_data() { # what pattern spec
	expect_fail "eval: $1" 3 "$2" "$EEPROF" eval "$R" --data "$3"
	expect_fail "profile: $1" 3 "$2" "$EEPROF" profile "$R" --data "$3" -o "$T/p.h5"
	no_file "profile: $1: no trace" "$T/p.h5"
	expect_fail "run: $1" 3 "$2" "$EEPROF" run "$R" --data "$3" --threshold 0.9
	expect_fail "report: $1" 3 "$2" "$EEPROF" report "$R" --data "$3" --no-plots -o "$T/rep"
	no_file "report: $1: no report" "$T/rep"
}
bad_data "truncated gzip" "idx-trunc.*truncated" "fashion-mnist:$T/idx-trunc:test"
bad_data "wrong IDX magic" "idx-magic.*magic" "fashion-mnist:$T/idx-magic:test"
bad_data "IDX sizes that overflow" "idx-overflow" "fashion-mnist:$T/idx-overflow:test"
bad_data "images and labels disagree" "idx-disagree.*(5|6)" "fashion-mnist:$T/idx-disagree:test"
bad_data "IDX label out of range" "idx-label.*12" "fashion-mnist:$T/idx-label:test"
bad_data "empty IDX set" "idx-empty" "fashion-mnist:$T/idx-empty:test"
bad_data "truncated CIFAR batch" "cifar-trunc" "cifar10:$T/cifar-trunc:test"
bad_data "NaN image" "nan.h5.*holds nan in image 2" "h5:$T/nan.h5"
bad_data "empty h5 set" "empty.h5" "h5:$T/empty.h5"
bad_data "labels beyond the model's classes" "100 classes but the model predicts 10" "h5:$T/classes.h5"
bad_data "h5 images and labels disagree" "6 images but '/labels' 4 labels" "h5:$T/disagree.h5"

# --- traces, for every command that reads one -----------------------------------------------
"$EEPROF" profile "$E" --data "h5:$D" -o "$T/t3.h5" >/dev/null 2>&1 || not_ok "profile a good trace"
"$EEPROF" profile "$E" --data "h5:$D" --offset 3 -o "$T/t3b.h5" >/dev/null 2>&1 || not_ok "profile a shard"
$PY - "$T" <<'PY' || not_ok "trace fixtures"
import os, shutil, sys
import h5py, numpy as np
t = sys.argv[1]
good = os.path.join(t, "t3.h5")
data = open(good, "rb").read()
open(os.path.join(t, "tr-trunc.h5"), "wb").write(data[: len(data) // 2])
def variant(name, fn):
    p = os.path.join(t, name)
    shutil.copy(good, p)
    with h5py.File(p, "a") as f:
        fn(f)
variant("tr-missing.h5", lambda f: f.__delitem__("maxprob"))
variant("tr-version.h5", lambda f: f.attrs.__setitem__("trace_version", np.int32(2)))
def shape(f):
    del f["pred"]
    f["pred"] = np.zeros((5, 3), np.int32)
variant("tr-shape.h5", shape)
def exits(f):
    del f["macs"]
    f["macs"] = np.zeros((6, 2))
variant("tr-exits.h5", exits)
def unwritten(f):
    del f["margin"]
    f.create_dataset("margin", shape=(6, 3), dtype="f4")
variant("tr-unwritten.h5", unwritten)
def vlen(f):
    names = [x.decode() for x in f["gates/layer_name"][...]]
    del f["gates/layer_name"]
    f["gates/layer_name"] = names  # h5py: variable-length strings (global heap)
variant("tr-vlen.h5", vlen)
PY
bad_trace() { # what pattern file
	expect_fail "curve: $1" 3 "$2" "$EEPROF" curve "$T/$3"
	expect_fail "gates: $1" 3 "$2" "$EEPROF" gates "$T/$3"
	expect_fail "budget: $1" 3 "$2" "$EEPROF" budget "$T/$3" --val "$T/t3.h5" --budget 50%
	expect_fail "budget --val: $1" 3 "$2" "$EEPROF" budget "$T/t3.h5" --val "$T/$3" --budget 50%
	expect_fail "merge: $1" 3 "$2" "$EEPROF" merge -o "$T/m.h5" "$T/$3" "$T/t3b.h5"
	no_file "merge: $1: no output" "$T/m.h5"
	expect_fail "report --traces: $1" 3 "$2" "$EEPROF" report --traces "$T/$3" --no-plots -o "$T/rep"
	no_file "report --traces: $1: no report" "$T/rep"
}
bad_trace "truncated" "tr-trunc.h5.*(truncated|not an HDF5)" tr-trunc.h5
bad_trace "missing dataset" "tr-missing.h5.*maxprob" tr-missing.h5
bad_trace "wrong version" "tr-version.h5.*trace_version 2" tr-version.h5
bad_trace "inconsistent rows" "tr-shape.h5.*pred" tr-shape.h5
bad_trace "inconsistent exits" "tr-exits.h5.*macs" tr-exits.h5
bad_trace "dataset declared, never written" "tr-unwritten.h5.*'/margin' was declared but" tr-unwritten.h5
bad_trace "variable-length strings" "tr-vlen.h5.*variable-length strings" tr-vlen.h5

# --- report JSON for diff ---------------------------------------------------------------------
"$EEPROF" report --traces "$T/t3.h5" --no-plots -o "$T/good" >/dev/null 2>&1 || not_ok "a good report"
G=$T/good/report.json
$PY - "$T" "$G" <<'PY' || not_ok "json fixtures"
import json, os, sys
t, good = sys.argv[1], sys.argv[2]
text = open(good).read()
def w(name, s):
    open(os.path.join(t, name), "w").write(s)
w("j-trunc.json", text[: len(text) // 2])
w("j-deep.json", "[" * 100000 + "]" * 100000)
w("j-huge.json", text.replace('"accuracy":', '"accuracy": 1e999, "x":', 1))
w("j-nan.json", text.replace('"accuracy":', '"accuracy": NaN, "x":', 1))
doc = json.loads(text)
doc["schema_version"] = 99
w("j-version.json", json.dumps(doc))
doc = json.loads(text)
del doc["models"][0]["exits"]
w("j-missing.json", json.dumps(doc))
PY
bad_json() { # what pattern file
	expect_fail "diff: $1 (new)" 3 "$2" "$EEPROF" diff "$G" "$T/$3"
	expect_fail "diff: $1 (base)" 3 "$2" "$EEPROF" diff "$T/$3" "$G" --junit "$T/j.xml"
}
bad_json "truncated" "j-trunc.json" j-trunc.json
bad_json "nested 100000 deep" "j-deep.json.*nested deeper" j-deep.json
bad_json "a number beyond double" "j-huge.json" j-huge.json
bad_json "NaN literal" "j-nan.json" j-nan.json
bad_json "wrong schema_version" "j-version.json|schema_version" j-version.json
bad_json "missing key" "exits" j-missing.json
expect_ok "diff: a report against itself" "$EEPROF" diff "$G" "$G"

# --- outputs that cannot be written ---------------------------------------------------------
expect_fail "profile -o into a missing directory" 3 "$T/nodir/t.h5" \
	"$EEPROF" profile "$R" --data "h5:$D" -o "$T/nodir/t.h5"
expect_fail "profile -o a directory" 3 "$T/good" "$EEPROF" profile "$R" --data "h5:$D" -o "$T/good"
check "profile -o a directory: the directory is intact" "[ -f '$T/good/report.json' ]"
expect_fail "merge -o into a missing directory" 3 "$T/nodir/m.h5" \
	"$EEPROF" merge -o "$T/nodir/m.h5" "$T/t3.h5"
expect_fail "curve --csv into a missing directory" 3 "$T/nodir/c.csv" \
	"$EEPROF" curve "$T/t3.h5" --csv "$T/nodir/c.csv"
expect_fail "curve --csv a directory" 3 "$T/good" "$EEPROF" curve "$T/t3.h5" --csv "$T/good"
expect_fail "diff --junit into a missing directory" 3 "$T/nodir/j.xml" \
	"$EEPROF" diff "$G" "$G" --junit "$T/nodir/j.xml"
expect_fail "report -o under a file" 3 "report.json" \
	"$EEPROF" report --traces "$T/t3.h5" --no-plots -o "$G/sub"
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/ro" && chmod 555 "$T/ro"
	expect_fail "profile -o into a read-only directory" 3 "$T/ro/t.h5" \
		"$EEPROF" profile "$R" --data "h5:$D" -o "$T/ro/t.h5"
	chmod 755 "$T/ro"
fi
no_file "no output in a missing directory" "$T/nodir"
expect_fail "report with a failing gnuplot" 3 "gnuplot failed" \
	"$EEPROF" report --traces "$T/t3.h5" -o "$T/gp" --gnuplot /bin/false
no_file "report with a failing gnuplot: no directory left" "$T/gp"

# --- numeric options at and beyond their limits ---------------------------------------------
expect_fail "--batch 0" 2 "--batch: 0 is out of range" "$EEPROF" eval "$R" --data "h5:$D" --batch 0
expect_fail "--threads 100000" 2 "--threads: 100000 is out of range" \
	"$EEPROF" eval "$R" --data "h5:$D" --threads 100000
expect_fail "--offset past the data" 2 "--offset 1000 selects no samples" \
	"$EEPROF" eval "$R" --data "h5:$D" --offset 1000
expect_fail "--offset -1" 2 "--offset: -1 is out of range" "$EEPROF" eval "$R" --data "h5:$D" --offset -1
expect_fail "NaN threshold (curve)" 2 "threshold" "$EEPROF" curve "$T/t3.h5" --thresholds nan
expect_fail "NaN threshold (run)" 2 "threshold" "$EEPROF" run "$E" --data "h5:$D" --threshold nan
expect_fail "threshold list of the wrong length (gates)" 2 "2 thresholds for a model of 3 exits" \
	"$EEPROF" gates "$T/t3.h5" --threshold 0.5,0.5
expect_fail "threshold list of the wrong length (curve)" 2 "4 thresholds for a model of 3 exits" \
	"$EEPROF" curve "$T/t3.h5" --thresholds 0.5,0.5,0.5,0.5
expect_fail "threshold list of the wrong length (run)" 2 "2 thresholds for a model of 3 exits" \
	"$EEPROF" run "$E" --data "h5:$D" --thresholds 0.5,0.5
for b in 0% abc -5% 1e400 nan%; do
	expect_fail "--budget $b" 2 "--budget: '$b' is neither" \
		"$EEPROF" budget "$T/t3.h5" --val "$T/t3.h5" --budget "$b"
done
expect_ok "maxprob threshold 1.5 (never exits early) is meaningful" \
	"$EEPROF" gates "$T/t3.h5" --threshold 1.5
expect_ok "curve at threshold 1.5" "$EEPROF" curve "$T/t3.h5" --thresholds 1.5
