# t0070-images.sh - image folders: imagefolder:/imagelist: specs through eval and
# `eeprof dataset`, their options, --skip-bad, and bad input (one "eeprof: error:" line
# naming the file, exit 3, no output left). Pixel exactness against Pillow/torchvision
# is tests/parity/images.py; here a few small photographs from python3-skimage.
. tests/cli/lib.sh
D=$T/set
$PY - "$D" <<'PY' || { not_ok "image fixtures"; exit 1; }
import os, sys
import numpy as np, skimage.data
from PIL import Image
d = sys.argv[1]
ims = [("coat", "a.jpg", "camera", (60, 45), "L"), ("coat", "sub/b.png", "coins", (41, 70), "L"),
       ("dress", "c.JPEG", "astronaut", (50, 50), "RGB"), ("dress", "d.png", "chelsea", (30, 20), "RGBA"),
       ("shirt", "e.jpg", "rocket", (64, 48), "CMYK"), ("shirt", "f.png", "moon", (33, 33), "P")]
for cls, name, photo, size, mode in ims:
    os.makedirs(os.path.dirname(os.path.join(d, cls, name)), exist_ok=True)
    im = Image.fromarray(getattr(skimage.data, photo)()).resize(size)
    im = im.convert("RGB").quantize(16) if mode == "P" else im.convert(mode)
    im.save(os.path.join(d, cls, name))
open(os.path.join(d, "coat", "notes.txt"), "w").write("not an image, not listed\n")
with open(os.path.join(d, "list.txt"), "w") as f:
    f.write("# the same six, relative to this file\n")
    for i, (cls, name, *_) in enumerate(ims):
        f.write("%s/%s %d\n" % (cls, name, ["coat", "dress", "shirt"].index(cls)))
PY
CK=checkpoints/samples/resnet20-fmnist.h5

expect_ok "dataset: imagefolder to uint8 h5" "$EEPROF" dataset "imagefolder:$D" -o "$T/u8.h5" \
	--input-shape 1,32,32 --uint8
check "dataset: summary line" "grep -q 'wrote $T/u8.h5: 6 images \[1,32,32\] uint8, 3 classes' '$T/out'"
check "dataset: h5 holds the images, labels and provenance" "$PY -c \"
import h5py; f = h5py.File('$T/u8.h5', 'r')
assert f['images'].shape == (6, 1, 32, 32) and f['images'].dtype == 'uint8', f['images']
assert list(f['labels'][...]) == [0, 0, 1, 1, 2, 2], f['labels'][...]
assert f.attrs['num_classes'] == 3 and f.attrs['resize'] == 37
assert f.attrs['interpolation'] == b'bilinear' and f.attrs['source'] == b'imagefolder:$D'
\""
expect_ok "eval: --data imagefolder:" "$EEPROF" eval "$CK" --data "imagefolder:$D" --json
cp "$T/out" "$T/eval_folder.json"
expect_ok "eval: --data h5: of the uint8 conversion" "$EEPROF" eval "$CK" --data "h5:$T/u8.h5" --json
check "eval: folder and its uint8 h5 give the same results" "$PY -c \"
import json; a, b = (json.load(open(p)) for p in ('$T/eval_folder.json', '$T/out'))
assert a['exits'] == b['exits'] and a['samples'] == 6, (a['exits'], b['exits'])
\""
expect_ok "eval: --batch 2 (the next batch decoded while one runs), 2 threads" "$EEPROF" eval "$CK" \
	--data "imagefolder:$D" --json --batch 2 --threads 2
check "eval: batches of 2 give the same results" "$PY -c \"
import json; a, b = (json.load(open(p)) for p in ('$T/eval_folder.json', '$T/out'))
assert a['exits'] == b['exits'], (a['exits'], b['exits'])
\""
expect_ok "eval: imagelist: with --offset/--limit" "$EEPROF" eval "$CK" --data "imagelist:$D/list.txt" \
	--offset 2 --limit 3 --json
check "eval: imagelist: counts 3 samples" "grep -q '\"samples\": 3' '$T/out'"
expect_ok "dataset: float32 with --mean/--std, bicubic, threads" "$EEPROF" dataset \
	"imagelist:$D/list.txt" -o "$T/f.h5" --input-shape 3,24,20 --mean 0.5,0.5,0.5 \
	--std 0.25,0.25,0.25 --interpolation bicubic --resize 30 --threads 2 --limit 4
check "dataset: float32 [4,3,24,20] in [-2, 2]" "$PY -c \"
import h5py; x = h5py.File('$T/f.h5', 'r')['images'][...]
assert x.shape == (4, 3, 24, 20) and x.dtype == 'float32' and x.min() >= -2 and x.max() <= 2
\""
expect_ok "dataset: --no-resize pads a small image with zeros" "$EEPROF" dataset "imagefolder:$D" \
	-o "$T/pad.h5" --input-shape 3,64,64 --uint8 --no-resize --offset 3 --limit 1
check "dataset: 30x20 image centred in 64x64" "$PY -c \"
import h5py; x = h5py.File('$T/pad.h5', 'r')['images'][0]
assert (x[:, :22, :].max(), x[:, 42:, :].max(), x[:, :, :17].max(), x[:, :, 47:].max()) == (0, 0, 0, 0)
assert x[:, 22:42, 17:47].min() > 0 or x[:, 22:42, 17:47].max() > 0
\""
expect_ok "dataset: fashion-mnist to h5 (any spec)" "$EEPROF" dataset fashion-mnist:test -o "$T/fm.h5" \
	--uint8 --limit 10
check "dataset: fashion-mnist keeps [10,1,28,28]" "$PY -c \"
import h5py; assert h5py.File('$T/fm.h5', 'r')['images'].shape == (10, 1, 28, 28)\""

# usage errors: status 2
expect_fail "dataset: --input-shape needed for images" 2 "--input-shape C,H,W is required" \
	"$EEPROF" dataset "imagefolder:$D" -o "$T/x.h5"
expect_fail "dataset: --uint8 with --mean" 2 "no --mean/--std with it" \
	"$EEPROF" dataset "imagefolder:$D" -o "$T/x.h5" --input-shape 3,8,8 --uint8 --mean 1,1,1 --std 1,1,1
expect_fail "dataset: --mean of 2 values for 3 channels" 2 "has 2 values, expected 3" \
	"$EEPROF" dataset "imagefolder:$D" -o "$T/x.h5" --input-shape 3,8,8 --mean 1,1 --std 1,1,1
expect_fail "eval: unknown --interpolation" 2 "unknown --interpolation 'lanczos'" \
	"$EEPROF" eval "$CK" --data "imagefolder:$D" --interpolation lanczos
expect_fail "eval: --resize with --no-resize" 2 "contradict" \
	"$EEPROF" eval "$CK" --data "imagefolder:$D" --resize 40 --no-resize
no_file "dataset: no output after usage errors" "$T/x.h5"

# bad input: status 3, the file named, nothing written
B=$T/bad
mkdir -p "$B/a" "$B/b"
cp "$D/coat/a.jpg" "$D/dress/d.png" "$B/a/"
head -c 300 "$D/coat/a.jpg" >"$B/b/truncated.jpg"
bad() { # what pattern spec
	expect_fail "dataset: $1" 3 "$2" "$EEPROF" dataset "$3" -o "$T/x.h5" --input-shape 3,16,16
	no_file "dataset: $1: no output" "$T/x.h5"
}
bad "truncated JPEG" "image '$B/b/truncated.jpg': truncated JPEG data" "imagefolder:$B"
rm "$B/b/truncated.jpg"
echo "hello" >"$B/b/text.png"
bad "not an image" "image '$B/b/text.png': not a JPEG or PNG image" "imagefolder:$B"
head -c 100 "$D/dress/d.png" >"$B/b/text.png"
bad "truncated PNG" "image '$B/b/text.png': corrupt PNG: truncated PNG data" "imagefolder:$B"
rm "$B/b/text.png"
ln -s "$B/gone.jpg" "$B/b/dangling.jpg"
bad "unreadable file (dangling link)" "image '$B/b/dangling.jpg': cannot open: No such file" \
	"imagefolder:$B"
rm "$B/b/dangling.jpg"
bad "empty class folder" "class folder 'b' holds no image files" "imagefolder:$B"
bad "no class folders" "dataset '$B/a': no class folders" "imagefolder:$B/a"
bad "missing folder" "dataset '$T/nosuch': cannot read folder: No such file" "imagefolder:$T/nosuch"
printf 'a/a.jpg 0\na/d.png x1\n' >"$B/l1.txt"
bad "list label not a number" "dataset '$B/l1.txt': line 2: label 'x1' is not a number" "imagelist:$B/l1.txt"
printf 'a/a.jpg -1\n' >"$B/l2.txt"
bad "list label out of range" "line 1: label -1 is out of range" "imagelist:$B/l2.txt"
printf 'a/a.jpg\n' >"$B/l3.txt"
bad "list line without label" "line 1: expected 'PATH LABEL'" "imagelist:$B/l3.txt"
printf 'a/nosuch.jpg 1\n' >"$B/l4.txt"
bad "listed file missing" "image '$B/a/nosuch.jpg': cannot open: No such file" "imagelist:$B/l4.txt"
expect_fail "eval: corrupt file in the folder" 3 "image '$B/l4.txt'|'$B/a/nosuch.jpg'" \
	"$EEPROF" eval "$CK" --data "imagelist:$B/l4.txt"

# --skip-bad
head -c 300 "$D/coat/a.jpg" >"$B/b/truncated.jpg"
expect_ok "dataset: --skip-bad skips a truncated file" "$EEPROF" dataset "imagefolder:$B" -o "$T/s.h5" \
	--input-shape 1,16,16 --uint8 --skip-bad
check "dataset: --skip-bad warning names the file" \
	"grep -q \"^eeprof: warning: skipped 1 undecodable file: $B/b/truncated.jpg\" '$T/err'"
check "dataset: --skip-bad wrote the 2 good images" "grep -q ': 2 images' '$T/out'"

# --skip-bad on eval, profile, run and report: the bad files (first and sixth of eight)
# are left out, the results are those of the folder without them, the trace keeps the
# listing's positions
S=$T/skip
G=$T/good
cp -r "$D" "$S"; cp -r "$D" "$G"; rm "$S/list.txt" "$G/list.txt"
head -c 300 "$D/coat/a.jpg" >"$S/coat/0bad.jpg"
head -c 100 "$D/dress/d.png" >"$S/dress/zz.png"
expect_fail "eval: without --skip-bad the first bad file fails" 3 "image '$S/coat/0bad.jpg'" \
	"$EEPROF" eval "$CK" --data "imagefolder:$S"
expect_ok "eval: --data imagefolder of the good files" "$EEPROF" eval "$CK" --data "imagefolder:$G" --json
cp "$T/out" "$T/eval_good.json"
expect_ok "eval: --skip-bad" "$EEPROF" eval "$CK" --data "imagefolder:$S" --json --skip-bad --batch 4
check "eval: --skip-bad warning counts and names both files" "grep -q \"^eeprof: warning: skipped 2 \
undecodable files: $S/coat/0bad.jpg, $S/dress/zz.png\$\" '$T/err' && [ \$(wc -l <'$T/err') -eq 1 ]"
check "eval: --skip-bad gives the results of the good files" "$PY -c \"
import json; a, b = (json.load(open(p)) for p in ('$T/eval_good.json', '$T/out'))
assert a['exits'] == b['exits'] and b['samples'] == 6, (a['exits'], b['exits'], b['samples'])
assert b['skipped'] == {'count': 2, 'files': ['$S/coat/0bad.jpg', '$S/dress/zz.png']}, b['skipped']
assert 'skipped' not in a
\""
expect_ok "eval: --skip-bad with --offset 3 --limit 3" "$EEPROF" eval "$CK" --data "imagefolder:$S" \
	--json --skip-bad --offset 3 --limit 3
check "eval: --offset 3 --limit 3 keeps 2 of listed 3..5" "grep -q '\"samples\": 2' '$T/out' && \
grep -q \"skipped 1 undecodable file: $S/dress/zz.png\$\" '$T/err'"
expect_ok "profile: --skip-bad" "$EEPROF" profile "$CK" --data "imagefolder:$S" -o "$T/skip.h5" --skip-bad
expect_ok "profile: the good files" "$EEPROF" profile "$CK" --data "imagefolder:$G" -o "$T/good.h5"
check "profile: --skip-bad trace = the good files' trace, listing positions kept" "$PY -c \"
import h5py, numpy as np
a, b = h5py.File('$T/good.h5', 'r'), h5py.File('$T/skip.h5', 'r')
assert list(b['index'][...]) == [1, 2, 3, 4, 6, 7], b['index'][...]
assert b.attrs['dataset_size'] == 8 and a.attrs['dataset_size'] == 6
for k in ('label', 'pred', 'maxprob'):
    assert np.array_equal(a[k][...], b[k][...]), k
\""
expect_ok "run: --skip-bad" "$EEPROF" run "$CK" --data "imagefolder:$S" --threshold 0.9 --skip-bad \
	--json --repeat 1
check "run: --skip-bad runs the 6 good files and warns" "grep -q '\"samples\": 6' '$T/out' && \
grep -q '^eeprof: warning: skipped 2 undecodable files' '$T/err'"
check "run: --skip-bad JSON counts the 2 skipped files" "$PY -c \"
import json; d = json.load(open('$T/out'))
assert d['skipped']['count'] == 2 and len(d['skipped']['files']) == 2, d['skipped']\""
expect_ok "report: --skip-bad" "$EEPROF" report "$CK" --data "imagefolder:$S" -o "$T/rep" --skip-bad \
	--no-plots
check "report: --skip-bad warns and reports 6 samples" "grep -q '^eeprof: warning: skipped 2' '$T/err' \
&& grep -q '6 samples of' '$T/out'"
mkdir -p "$T/allbad/x"; cp "$S/coat/0bad.jpg" "$S/dress/zz.png" "$T/allbad/x/"
expect_fail "eval: --skip-bad with no decodable file" 3 \
	"none of the selected image files can be decoded \(the first: '$T/allbad/x/0bad.jpg'\)" \
	"$EEPROF" eval "$CK" --data "imagefolder:$T/allbad" --skip-bad

# --skip-bad on 2 MPI ranks: every rank checks the whole selection, the 6 kept files are
# shared out (3 batches of 2), the trace and the warning are those of one process
MPIRUN="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
if command -v mpirun >/dev/null 2>&1; then
	run $MPIRUN -n 2 "$EEPROF" profile "$CK" --data "imagefolder:$S" -o "$T/skip2.h5" --skip-bad \
		--batch 2
	if grep -q "built without MPI" "$T/err"; then
		echo "# skipped: $EEPROF is built without MPI"
	else
		check "profile --skip-bad on 2 ranks: status 0, one warning" "[ $rc -eq 0 ] && \
[ \$(grep -c '^eeprof: warning: skipped 2 undecodable files' '$T/err') -eq 1 ]"
		expect_ok "profile --skip-bad alone, batches of 2" "$EEPROF" profile "$CK" \
			--data "imagefolder:$S" -o "$T/skip1.h5" --skip-bad --batch 2
		check "profile --skip-bad: 2 ranks give the trace of one process" "$PY -c \"
import h5py, numpy as np
a, b = h5py.File('$T/skip1.h5', 'r'), h5py.File('$T/skip2.h5', 'r')
assert list(b['index'][...]) == [1, 2, 3, 4, 6, 7] and b.attrs['dataset_size'] == 8
for k in ('index', 'label', 'pred', 'maxprob', 'macs'):
    assert np.array_equal(a[k][...], b[k][...]), k
\""
	fi
fi
