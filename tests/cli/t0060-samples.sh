# t0060-samples.sh - every bundled sample checkpoint, evaluated by eeprof over all
# 10,000 Fashion-MNIST test images, reproduces the per-exit accuracy PyTorch measured
# at export (/eval/test_accuracy) to within 5 images; every sample records its training
# (epochs, seed 1, training time, recipe: eeprof info).
. tests/cli/lib.sh
n=0
for ckpt in checkpoints/samples/*.h5; do
	[ -e "$ckpt" ] || break
	n=$((n + 1))
	name=$(basename "$ckpt" .h5)
	expect_ok "eval $name" "$EEPROF" eval "$ckpt" --data fashion-mnist:test --json --threads 2
	cp "$T/out" "$T/$name.json"
	check "$name: per-exit accuracy within 5 images of PyTorch's" "$PY -c \"
import h5py, json, sys
d = json.load(open('$T/$name.json'))
want = h5py.File('$ckpt')['eval/test_accuracy'][...]
assert d['samples'] == 10000, d['samples']
assert len(want) == len(d['exits']), (len(want), len(d['exits']))
for e, w in zip(d['exits'], want):
    diff = e['correct'] - round(w * 10000)
    print('    exit %d: eeprof %d, PyTorch %d, difference %d' % (e['exit'], e['correct'], round(w * 10000), diff))
    assert abs(diff) <= 5
\""
	sed 's/^/    /' "$T/err" | grep -v '^ *$' | head -3
done
check "there are sample checkpoints" "[ $n -gt 0 ]"
archs=$(for ckpt in checkpoints/samples/*.h5; do
	"$EEPROF" info "$ckpt" --json | $PY -c "import json, sys; print(json.load(sys.stdin)['arch'])"
done | sort -u | tr '\n' ' ')
for want in emgnet sdresnet scan resnet; do
	check "a sample of every family: $want (have: $archs)" \
		"echo ' $archs' | grep -Eq ' $want( |-cifar )'"
done
# Issue 18: every sample carries its training record, seed 1 (the samples' seed).
for ckpt in checkpoints/samples/*.h5; do
	check "$(basename "$ckpt" .h5): eeprof info shows its epochs, seed 1 and training time" \
		"'$EEPROF' info '$ckpt' --json | $PY -c \"
import json, sys; d = json.load(sys.stdin)
assert d['epochs'] >= 1 and d['seed'] == 1 and d['train_seconds'] > 0 and d['recipe'], d
\""
done
check "the early-exit samples were trained for equal epochs, at least 12 (issue 18)" "$PY -c \"
import glob, json, subprocess
ep = {}
for c in glob.glob('checkpoints/samples/*.h5'):
    d = json.loads(subprocess.run(['$EEPROF', 'info', c, '--json'], capture_output=True, check=True).stdout)
    if len(d['exits']) > 1:
        ep[c] = d['epochs']
print('    epochs:', ep)
assert len(ep) >= 3 and len(set(ep.values())) == 1 and min(ep.values()) >= 12, ep
\""
