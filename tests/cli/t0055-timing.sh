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

# report --repeat: each model's profile pass timed N times; timing.json has the spread
expect_ok "report --repeat 3 --warmup 1" "$EEPROF" report "$F/good.h5" --data "h5:$F/data.h5" \
	-o "$T/rr" --no-plots --batch 7 --repeat 3 --warmup 1 --counters fake:PAPI_TOT_INS
check "report timing spread" "$PY -c \"
import json; m=json.load(open('$T/rr/timing.json'))['models'][0]; s=m['spread']
assert m['repeat']==3 and m['warmup']==1 and s['runs']==3 and len(s['values'])==3, m
v=sorted(s['values']); assert s['min']==v[0] and s['max']==v[-1] and s['median']==v[1], s
assert s['min']<=s['median']<=s['max'] and all(x>0 for x in v) and s['iqr']>=0, s
assert m['seconds']==s['median'] and abs(m['images_per_second']*m['seconds']-m['samples'])<1e-6*m['samples']
assert all(l['seconds']>=0 and l['cpu_seconds']>=0 for l in m['layers']), m['layers'][0]
assert all(l['events']['PAPI_TOT_INS']>=0 for l in m['layers']), m['layers'][0]
\""
expect_ok "report default: one run" "$EEPROF" report "$F/good.h5" --data "h5:$F/data.h5" \
	-o "$T/r1" --no-plots --trace-dir "$T/tr"
check "report one run" "$PY -c \"
import json; m=json.load(open('$T/r1/timing.json'))['models'][0]; s=m['spread']
assert m['repeat']==1 and m['warmup']==0 and s['runs']==1 and s['iqr']==0 and s['min']==s['median']==s['max']==m['seconds'], m
\""
check "report --repeat: report.json as with one run" "cmp '$T/rr/report.json' '$T/r1/report.json'"
expect_ok "report of traces: no spread" "$EEPROF" report --traces "$T/tr/good.h5" -o "$T/rt" --no-plots
check "report of traces: no repeat" "$PY -c \"
import json; m=json.load(open('$T/rt/timing.json'))['models'][0]; assert 'spread' not in m and 'repeat' not in m, m
\""
expect_fail "report --traces --repeat" 2 "--traces reads traces: --repeat and --warmup" "$EEPROF" report \
	--traces "$T/tr/good.h5" -o "$T/rt2" --no-plots --repeat 3
expect_fail "report --repeat 0" 2 "--repeat: 0 is out of range" "$EEPROF" report "$F/good.h5" \
	--data "h5:$F/data.h5" -o "$T/rt3" --no-plots --repeat 0
expect_ok "diff --timing of repeated reports" "$EEPROF" diff --timing "$T/rr/timing.json" "$T/rr/timing.json"
check "diff --timing: a report against itself is the same" "grep -q 'good: seconds per sample' '$T/out'"
expect_ok "report --timeline --repeat 2 --warmup 1" "$EEPROF" report "$F/good.h5" --data "h5:$F/data.h5" \
	-o "$T/rtl" --no-plots --batch 7 --repeat 2 --warmup 1 --timeline "$T/tl2.json"
expect_ok "report --timeline" "$EEPROF" report "$F/good.h5" --data "h5:$F/data.h5" \
	-o "$T/rtl1" --no-plots --batch 7 --timeline "$T/tl1.json"
check "report --repeat: the timeline records one pass" "$PY -c \"
import json; ev=lambda p: (lambda d: d['traceEvents'] if isinstance(d, dict) else d)(json.load(open(p)))
assert len(ev('$T/tl2.json'))==len(ev('$T/tl1.json')), (len(ev('$T/tl2.json')), len(ev('$T/tl1.json')))
\""
