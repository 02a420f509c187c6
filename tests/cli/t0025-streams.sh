# t0025-streams.sh - two or three threads at small batches run consecutive batches at
# once (plugins/streams.h), and change no result: the trace of `eeprof profile --counters
# off` (predictions, confidences, MACs, gate bits; per-layer counters, CPU time included,
# keep the plain loop) and `eeprof eval --json` are those of one thread, at batch 1, 3 (a
# partial last batch) and 8, for image files too; a bad image file fails the pass naming
# the first bad file in order, as with one thread.
. tests/cli/lib.sh
CK=checkpoints/samples/emgnet20-w8-fmnist.h5
SAME="$PY tests/cli/same_trace.py"

for b in 1 3 8; do
	for t in 1 2 3; do
		expect_ok "profile --batch $b --threads $t" "$EEPROF" profile "$CK" \
			--data fashion-mnist:test --offset 7 --limit 41 --batch $b --threads $t \
			--counters off -o "$T/fm-b$b-t$t.h5"
	done
	check "profile --batch $b: 2 and 3 threads give the trace of 1" \
		"$SAME '$T/fm-b$b-t1.h5' '$T/fm-b$b-t2.h5' '$T/fm-b$b-t3.h5'"
done
check "profile --batch 1: every layer has its time with 2 threads" "$PY -c \"
import h5py; t = h5py.File('$T/fm-b1-t2.h5')['timing']
assert (t['layer_seconds'][...] > 0).all() and t.attrs['threads'] == 2
\""

json_same() { # what a.json b.json: eval --json equal but for its timing
	check "$1" "$PY -c \"
import json; a, b = (json.load(open(p)) for p in ('$2', '$3'))
a.pop('timing'); b.pop('timing'); assert a == b, (a, b)
\""
}
for b in 1 8; do
	for t in 1 2; do
		expect_ok "eval --batch $b --threads $t" "$EEPROF" eval "$CK" --data fashion-mnist:test \
			--limit 50 --batch $b --threads $t --json
		cp "$T/out" "$T/eval-b$b-t$t.json"
	done
	json_same "eval --batch $b: 2 threads = 1" "$T/eval-b$b-t1.json" "$T/eval-b$b-t2.json"
done

# Image files: each stream decodes its own batch (no feeder thread).
D=$T/set
$PY - "$D" <<'PY' || { not_ok "image fixtures"; exit 1; }
import os, sys
import numpy as np
from PIL import Image
rng = np.random.default_rng(3)
for i in range(7):
    cls = "ab"[i % 2]
    os.makedirs(os.path.join(sys.argv[1], cls), exist_ok=True)
    size = (20 + 3 * i, 40 - 2 * i)
    Image.fromarray(rng.integers(0, 256, size[::-1], dtype=np.uint8)).save(
        os.path.join(sys.argv[1], cls, "%d.png" % i))
PY
for b in 1 2; do
	for t in 1 2; do
		expect_ok "profile imagefolder --batch $b --threads $t" "$EEPROF" profile "$CK" \
			--data "imagefolder:$D" --batch $b --threads $t --counters off -o "$T/im-b$b-t$t.h5"
	done
	check "profile imagefolder --batch $b: 2 threads give the trace of 1" \
		"$SAME '$T/im-b$b-t1.h5' '$T/im-b$b-t2.h5'"
done
# a/4.png and b/3.png broken (the 3rd and 6th files: a/0, a/2, a/4, a/6, b/1, b/3, b/5):
# streams decode both, possibly the later one first; the error is the 3rd's, as in order
head -c 60 "$D/b/1.png" >"$D/a/4.png"
head -c 60 "$D/b/1.png" >"$D/b/3.png"
for t in 1 2; do
	expect_fail "eval imagefolder --threads $t: the first bad file in order" 3 "image '$D/a/4.png'" \
		"$EEPROF" eval "$CK" --data "imagefolder:$D" --batch 1 --threads $t
	expect_ok "eval imagefolder --skip-bad --threads $t" "$EEPROF" eval "$CK" \
		--data "imagefolder:$D" --batch 1 --threads $t --skip-bad --json
	cp "$T/out" "$T/skip-t$t.json"
done
json_same "eval imagefolder --skip-bad: 2 threads = 1" "$T/skip-t1.json" "$T/skip-t2.json"
