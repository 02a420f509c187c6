# t0055-timing.sh - timings with their spread: --repeat and --warmup of eval and run, the
# JSON fields they fill, run's warnings, and their limits (no assertion on the times
# themselves: the machine is shared).
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx

expect_ok "eval --repeat 4 --warmup 1" "$EEPROF" eval "$F/good.h5" --data "h5:$F/data.h5" --json \
	--batch 7 --repeat 4 --warmup 1
cp "$T/out" "$T/eval.json"
check "eval timing spread" "$PY -c \"
import json; d=json.load(open('$T/eval.json')); t=d['timing']; s=t['spread']
assert t['repeat']==4 and t['warmup']==1 and s['runs']==4 and len(s['values'])==4, t
v=sorted(s['values']); assert s['min']==v[0] and s['max']==v[-1] and all(x>0 for x in v)
assert abs(s['median']-(v[1]+v[2])/2)<=1e-9*s['median'] and t['inference_seconds']==s['median']
assert abs(s['iqr']-((v[2]+(v[3]-v[2])*0.25)-(v[0]+(v[1]-v[0])*0.75)))<=1e-6*s['median']
assert abs(t['images_per_second']*t['inference_seconds']-d['samples'])<1e-6*d['samples']
\""
expect_ok "eval default: one run" "$EEPROF" eval "$F/good.h5" --data "h5:$F/data.h5" --json
check "eval one run" "$PY -c \"
import json; t=json.load(open('$T/out'))['timing']
assert t['repeat']==1 and t['warmup']==0 and t['spread']['iqr']==0 and t['spread']['runs']==1, t
\""
expect_ok "eval text --repeat" "$EEPROF" eval "$F/good.h5" --data "h5:$F/data.h5" --repeat 3
check "eval text names the runs" "grep -Eq '^inference .*median of 3 runs: [0-9.]+-[0-9.]+ s, IQR' '$T/out'"
expect_fail "eval --repeat 0" 2 "--repeat: 0 is out of range" "$EEPROF" eval "$F/good.h5" \
	--data "h5:$F/data.h5" --repeat 0
expect_fail "eval --warmup -1" 2 "--warmup: -1 is out of range" "$EEPROF" eval "$F/good.h5" \
	--data "h5:$F/data.h5" --warmup -1

expect_ok "run --repeat 2 --warmup 1" "$EEPROF" run "$F/good.h5" --data "h5:$F/data.h5" \
	--threshold 0.5 --json --batch 7 --repeat 2 --warmup 1
cp "$T/out" "$T/run.json"
check "run timing spread" "$PY -c \"
import json; d=json.load(open('$T/run.json')); s=d['spread']
assert d['repeat']==2 and d['warmup']==1, d
for k, key in (('dynamic', 'seconds'), ('all_exits', 'seconds_all_exits')):
    v=s[k]; assert v['runs']==2 and len(v['values'])==2 and v['min']<=v['median']<=v['max'], v
    assert d[key]==v['median'] and abs(v['median']-sum(v['values'])/2)<=1e-9*v['median'], (k, v)
assert isinstance(d['warnings'], list) and all(isinstance(w, str) for w in d['warnings'])
\""
expect_ok "run default: three runs" "$EEPROF" run "$F/good.h5" --data "h5:$F/data.h5" --threshold 0.5 --json
check "run three runs" "$PY -c \"
import json; d=json.load(open('$T/out')); assert d['repeat']==3 and d['spread']['all_exits']['runs']==3, d['repeat']
\""
expect_ok "run text" "$EEPROF" run "$F/good.h5" --data "h5:$F/data.h5" --threshold 0.5
check "run text names the runs" "grep -Eq '^time .*medians of 3 runs: [0-9.]+-[0-9.]+ s dynamic' '$T/out'"
check "run text: warnings (if any) follow the time line" "! grep -q '^warning ' '$T/out' || sed -n '/^time /{n;p;}' '$T/out' | grep -q '^warning '"
expect_fail "run --repeat 0" 2 "--repeat: 0 is out of range" "$EEPROF" run "$F/good.h5" \
	--data "h5:$F/data.h5" --threshold 0.5 --repeat 0
