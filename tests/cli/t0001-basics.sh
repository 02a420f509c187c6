# t0001-basics.sh - usage, help and the good paths of info, infer and eval.
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx

expect_ok "--help" "$EEPROF" --help
check "--help lists commands" "grep -q '^  info' '$T/out' && grep -q '^  eval' '$T/out'"
for c in info infer eval; do
	expect_ok "$c --help" "$EEPROF" "$c" --help
	check "$c --help shows usage" "grep -q '^usage: eeprof $c' '$T/out'"
done
run "$EEPROF"
check "no command: status 2" "[ $rc -eq 2 ]"
expect_fail "unknown command" 2 "unknown command 'frobnicate'" "$EEPROF" frobnicate
expect_fail "unknown option" 2 "unknown option '--bogus'" "$EEPROF" info "$F/good.h5" --bogus
expect_fail "missing argument" 2 "missing argument" "$EEPROF" info
expect_fail "bad number" 2 "--batch: 'x' is not a number" "$EEPROF" eval "$F/good.h5" --data h5:"$F/data.h5" --batch x
expect_fail "number out of range" 2 "--threads: 0 is out of range \\[1, 256\\]" "$EEPROF" eval "$F/good.h5" --data h5:"$F/data.h5" --threads 0
# --limit 0 is a usage error (not "all"), and bounds print as numbers people write.
for c in eval profile run; do
	expect_fail "$c --limit 0" 2 "--limit: 0 is out of range \\[1, 1073741824\\]" "$EEPROF" $c "$F/good.h5" --data h5:"$F/data.h5" --limit 0 -o "$T/x.h5" --threshold 0.5
done
expect_fail "report --limit 0" 2 "--limit: 0 is out of range \\[1, 1073741824\\]" "$EEPROF" report "$F/good.h5" --data h5:"$F/data.h5" --limit 0 -o "$T/x"
# Every option a command accepts is in its --help: -o beside --output, -h beside --help.
for c in infer profile merge report; do
	run "$EEPROF" $c --help
	check "$c --help lists -o" "grep -Eq '^  -o, --output <[a-z]+>' '$T/out'"
done
run "$EEPROF" eval --help
check "--help lists -h" "grep -q '^  -h, --help' '$T/out'"
# '-' is standard output for text outputs only: a trace, an HDF5 file, a plot or a report
# directory named '-' is a usage error (no file called '-' appears).
expect_fail "profile -o -" 2 "--output: '-' \\(standard output\\) is for text outputs; this one needs a file name" \
	"$EEPROF" profile "$F/good.h5" --data h5:"$F/data.h5" -o -
expect_fail "merge -o -" 2 "--output: '-' .* needs a file name" "$EEPROF" merge "$F/good.h5" -o -
expect_fail "infer --output -" 2 "--output: '-' .* needs a file name" "$EEPROF" infer "$F/good.h5" --input "$F/images.h5" --output -
expect_fail "dataset -o -" 2 "--output: '-' .* needs a file name" "$EEPROF" dataset h5:"$F/data.h5" -o -
expect_fail "report -o -" 2 "--output: '-' .* needs a directory name" "$EEPROF" report "$F/good.h5" --data h5:"$F/data.h5" -o -
expect_fail "report --trace-dir -" 2 "--trace-dir: '-' .* needs a directory name" "$EEPROF" report "$F/good.h5" --data h5:"$F/data.h5" -o "$T/x" --trace-dir -
expect_fail "run --plot -" 2 "--plot: '-' .* needs a file name" "$EEPROF" run "$F/good.h5" --data h5:"$F/data.h5" --threshold 0.5 --plot -
check "no file named '-'" "[ ! -e ./- ] && [ ! -e '$T/x' ]"
# Every command parses through one path (analyzer/cli.c ee_cli_main): the same --help, the
# same unknown-option error with its hint, help CMD = CMD --help, for each command --help lists.
run "$EEPROF" --help
cmds=$(sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' "$T/out")
check "--help lists every command (one analyzer/cmd-*.c each)" "[ $(echo $cmds | wc -w) -eq $(ls analyzer/cmd-*.c | wc -l) ]"
for c in $cmds; do
	run "$EEPROF" $c --help
	cp "$T/out" "$T/help-$c"
	check "$c --help: usage, options, -h" "grep -q '^usage: eeprof $c' '$T/out' && grep -q '^  -h, --help  *show this help' '$T/out'"
	run "$EEPROF" help $c
	check "help $c = $c --help" "cmp -s '$T/out' '$T/help-$c'"
	expect_fail "$c --bogus" 2 "^eeprof: error: unknown option '--bogus'; see 'eeprof $c --help'\$" "$EEPROF" $c --bogus
done
expect_fail "infer without --output" 2 "--input and --output are required" "$EEPROF" infer "$F/good.h5" --input "$F/images.h5"

expect_ok "info" "$EEPROF" info "$F/good.h5"
check "info names the arch" "grep -q 'resnet-cifar' '$T/out'"
expect_ok "info: arch detected from the keys" "$EEPROF" info "$F/noarch.h5"
check "detected as resnet-cifar" "grep -q '^arch *resnet-cifar' '$T/out'"
expect_ok "info --json --layers" "$EEPROF" info "$F/good.h5" --json --layers
cp "$T/out" "$T/info.json"
stamped "info --json" "$T/info.json"
check "info json fields" "$PY -c \"
import json,sys; d=json.load(open('$T/info.json'))
assert d['arch']=='resnet-cifar' and d['num_classes']==10 and d['input_shape']==[1,32,32]
assert len(d['exits'])==1 and d['exits'][0]['macs_min']==d['exits'][0]['macs_max']>0
assert d['params']>0 and len(d['layers'])>10
assert d['epochs'] is None and d['seed'] is None and d['train_seconds'] is None and d['recipe']==''
\""
check "info: no training record, no 'trained' or 'recipe' line" \
	"! '$EEPROF' info '$F/good.h5' | grep -Eq '^(trained|recipe) '"
expect_ok "info of a trained file" "$EEPROF" info "$F/trained.h5"
check "info: the training record" "grep -qx 'trained     12 epochs, seed 2, 5816.5 s of training (97 min)' '$T/out' &&
	grep -qx 'recipe      arch resnet-cifar;' '$T/out' && grep -qx '            12 epochs, seed 2' '$T/out'"
expect_ok "info --json of a trained file" "$EEPROF" info "$F/trained.h5" --json
check "info json: the training record" "$PY -c \"
import json; d=json.load(open('$T/out'))
assert (d['epochs'], d['seed'], d['train_seconds']) == (12, 2, 5816.5), d
assert d['recipe'] == 'arch resnet-cifar; 12 epochs, seed 2', d['recipe']
\""

expect_ok "infer" "$EEPROF" infer "$F/good.h5" --input "$F/images.h5" --output "$T/y.h5" --batch 2
check "infer output matches PyTorch" "$PY -c \"
import h5py,numpy as np; y=h5py.File('$T/y.h5'); ref=np.load('$F/images_logits.npy')
assert y['logits'].shape==(1,3,10) and y['macs'].shape==(1,3) and y['macs_cascade'].shape==(1,3)
err=np.abs(y['logits'][0]-ref).max()/np.abs(ref).max(); assert err<1e-4, err
\""
check "infer leaves no temporary file" "! ls '$T'/y.h5.tmp-* 2>/dev/null"

expect_ok "eval on an h5 dataset" "$EEPROF" eval "$F/good.h5" --data "h5:$F/data.h5" --json --batch 7
cp "$T/out" "$T/eval.json"
stamped "eval --json" "$T/eval.json"
check "eval json fields" "$PY -c \"
import json; d=json.load(open('$T/eval.json'))
assert d['samples']==20 and len(d['exits'])==1
e=d['exits'][0]; assert 0<=e['accuracy']<=1 and e['correct']==round(e['accuracy']*20) and e['macs_mean']>0
assert 0<=d['ensemble']['accuracy']<=1 and d['timing']['inference_seconds']>0
\""
expect_ok "eval --limit --offset" "$EEPROF" eval "$F/good.h5" --data "h5:$F/data.h5" --limit 5 --offset 3
check "eval text counts samples" "grep -q '(5 samples)' '$T/out'"
