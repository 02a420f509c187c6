# t0040-report.sh - eeprof report and diff on the CLI fixtures: the report directory
# (files, plots' magic bytes, fields, time and counters per exit and per layer from the
# fake counter source), determinism (twice, with and without counters, and again from kept traces),
# atomicity (a failing or interrupted plot leaves nothing new), and diff's verdicts:
# a report against itself, against a doctored one, and against another model or data.
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx
D=h5:$F/data.h5

expect_ok "report --help" "$EEPROF" report --help
check "report --help shows usage" "grep -q '^usage: eeprof report' '$T/out' && grep -q -- '--traces' '$T/out'"
expect_ok "diff --help" "$EEPROF" diff --help

expect_ok "report" "$EEPROF" report "$F/good.h5" --data "$D" -o "$T/r1" --trace-dir "$T/tr" --batch 7 \
	--counters fake:PAPI_TOT_INS,PAPI_TOT_CYC,PAPI_L1_DCM,BAD_X
check "report summary names the model and the report" "grep -q '^good ' '$T/out' && grep -q '$T/r1/report.md' '$T/out'"
check "report --counters: one warning per event" "[ \"\$(cat '$T/err')\" = 'eeprof: warning: BAD_X not counted: Event exists but cannot be counted here (fake source)' ]"
for f in report.json report.md exits.csv curve.csv gates.csv calibration.csv classes.csv timing.json \
	accuracy_vs_macs.png accuracy_vs_macs.svg reliability-good.png reliability-good.svg \
	layers-good.png layers-good.svg; do
	check "report wrote $f" "[ -s '$T/r1/$f' ]"
done
check "no gate plot for a model without gates" "[ ! -e '$T/r1/gates.png' ]"
check "no exit-distribution or class-share plot for a one-exit model" "[ ! -e '$T/r1/exits-good.png' ] &&
[ ! -e '$T/r1/classes-good.png' ] && ! grep -q 'exits-good.png\|classes-good.png' '$T/r1/report.md'"
check "no budgets without --val" "[ ! -e '$T/r1/budgets.csv' ]"
check "no temporary files left" "! ls '$T/r1' | grep -q tmp"
check "kept the trace" "[ -s '$T/tr/good.h5' ]"
stamped "report.json" "$T/r1/report.json"
stamped "timing.json" "$T/r1/timing.json"
check "PNG magic bytes" "[ \"\$(head -c 8 '$T/r1/accuracy_vs_macs.png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ]"
check "SVG header" "head -c 5 '$T/r1/reliability-good.svg' | grep -q '<?xml' && grep -q '<svg' '$T/r1/reliability-good.svg'"
check "layer plot: PNG magic bytes" "[ \"\$(head -c 8 '$T/r1/layers-good.png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ]"
check "layer plot: SVG of time against MACs" "head -c 5 '$T/r1/layers-good.svg' | grep -q '<?xml' && grep -q 'slower than their MACs say' '$T/r1/layers-good.svg'"
check "report.md: time and counters" "grep -q '^### Time and counters' '$T/r1/report.md' && grep -q '](layers-good.png)' '$T/r1/report.md' && grep -q 'BAD_X not counted' '$T/r1/report.md' && grep -Eq '^\| exit +\| layers .*\| +IPC \| PAPI_L1_DCM/sample \|$' '$T/r1/report.md' && grep -Eq '^\| 1 +\| +14 \| .* 0.50 \| +[0-9.]+ \|$' '$T/r1/report.md' && grep -q '^The layers slowest for their MACs' '$T/r1/report.md'"
check "report.md links the plots" "grep -q '](accuracy_vs_macs.png)' '$T/r1/report.md' && grep -q '## good (\`resnet-cifar\`)' '$T/r1/report.md'"

check "report.json fields" "$PY -c \"
import json; d=json.load(open('$T/r1/report.json'))
assert d['schema_version']==1 and d['data']=='h5:data.h5' and d['samples']==20, d
assert d['policy']=='maxprob' and d['fallback']=='last'
m=d['models'][0]; assert m['name']=='good' and m['arch']=='resnet-cifar' and len(m['checkpoint_sha256'])==64
e=m['exits'][0]; assert e['exit']==1 and 0<=e['accuracy']<=1 and e['macs_mean']>0
assert e['macs_min']<=e['macs_mean']<=e['macs_max'] and e['macs_cascade_mean']>=e['macs_mean']
assert 0<=m['ensemble']['accuracy']<=1 and len(m['curve'])==101
c=m['curve'][50]; assert set(c)=={'threshold','accuracy','macs_mean','exit_share','fallback_share'}
assert [b['fraction'] for b in m['budget_table']]==[0.25,0.5,0.75,1]
assert 'gates' not in m and 'budgets' not in m
\""
check "report.json holds no directory or time" "! grep -q '$T' '$T/r1/report.json' && ! grep -q seconds '$T/r1/report.json'"
check "timing.json has seconds and layers" "$PY -c \"
import json; d=json.load(open('$T/r1/timing.json')); m=d['models'][0]
assert m['seconds']>0 and m['images_per_second']>0 and len(m['layers'])>5 and d['wall_seconds']>0
\""
check "timing.json: time, MACs, GFLOP/s and counters per exit and per layer" "$PY -c \"
import json; m=json.load(open('$T/r1/timing.json'))['models'][0]
assert m['counters']=={'cpu_time': True, 'counted': True, 'events': ['PAPI_TOT_INS','PAPI_TOT_CYC','PAPI_L1_DCM'], 'warnings': ['BAD_X not counted: Event exists but cannot be counted here (fake source)']}, m['counters']
keys={'macs_mean','seconds','us_per_sample','gflops','cpu_seconds','ipc','events','cache_misses_per_sample'}
L=m['layers']; e=m['exits'][0]
assert len(m['exits'])==1 and e['exit']==1 and e['layers']==len(L) and keys<=set(e), e
assert all(keys|{'name','kind','exit','head'}<=set(l) for l in L)
assert abs(e['seconds']-sum(l['seconds'] for l in L))<1e-9 and abs(e['macs_mean']-sum(l['macs_mean'] for l in L))<1e-3
assert abs(e['gflops']-2*e['macs_mean']*m['samples']/e['seconds']/1e9)<1e-6*e['gflops']
for x in L+[e]:
    ev=x['events']; assert ev['PAPI_TOT_CYC']==2*ev['PAPI_TOT_INS']>0 and x['ipc']==0.5, x
    assert x['cache_misses_per_sample']=={'PAPI_L1_DCM': ev['PAPI_L1_DCM']/m['samples']} and x['cpu_seconds']>0
    assert set(ev)=={'PAPI_TOT_INS','PAPI_TOT_CYC','PAPI_L1_DCM'}
\""

expect_ok "report again" "$EEPROF" report "$F/good.h5" --data "$D" -o "$T/r2" --batch 5
check "report.json is byte-identical (counters or not)" "cmp -s '$T/r1/report.json' '$T/r2/report.json'"
expect_ok "report a third time" "$EEPROF" report "$F/good.h5" --data "$D" -o "$T/r2b" --batch 5 --counters none
check "report.json is byte-identical again" "cmp -s '$T/r2/report.json' '$T/r2b/report.json'"
check "--counters none: no events, no warnings" "[ ! -s '$T/err' ] && grep -q 'Events: none asked for' '$T/r2b/report.md' && $PY -c \"
import json; m=json.load(open('$T/r2b/timing.json'))['models'][0]
assert m['counters']=={'cpu_time': True, 'counted': False, 'events': [], 'warnings': []} and m['exits'][0]['ipc'] is None
assert m['exits'][0]['cpu_seconds']>0 and m['exits'][0]['events']=={}
\""
expect_ok "report from the kept trace" "$EEPROF" report --traces "$T/tr/good.h5" -o "$T/r3" --no-plots
check "from a trace: byte-identical report.json" "cmp -s '$T/r1/report.json' '$T/r3/report.json'"
check "--no-plots draws nothing" "! ls '$T/r3' | grep -q png"
check "from a trace: the counters too" "grep -q 'BAD_X not counted' '$T/r3/report.md' && ! grep -q 'layers-good.png' '$T/r3/report.md'"
expect_ok "profile without counting" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/off.h5" --counters off
expect_ok "report of a trace without counters" "$EEPROF" report --traces "$T/off.h5" -o "$T/r8" --no-plots
check "without counters: not measured" "cmp -s '$T/r1/report.json' '$T/r8/report.json' && grep -q 'Events: not measured' '$T/r8/report.md' && $PY -c \"
import json; m=json.load(open('$T/r8/timing.json'))['models'][0]
assert m['counters']['counted'] is False and m['counters']['cpu_time'] is False and m['exits'][0]['cpu_seconds'] is None and m['exits'][0]['seconds']>0
\""
expect_fail "--traces with --counters" 2 "--counters do not apply" "$EEPROF" report --traces "$T/tr/good.h5" -o "$T/x" --counters none

expect_ok "report --val, --policy entropy, --fallback ensemble" "$EEPROF" report "$F/good.h5" \
	--data "$D" --val "$D" --limit 12 --policy entropy --fallback ensemble -o "$T/r4" --no-plots \
	--trace-dir "$T/tr4"
check "budgets with --val" "[ -s '$T/r4/budgets.csv' ] && $PY -c \"
import json; d=json.load(open('$T/r4/report.json'))
assert d['policy']=='entropy' and d['fallback']=='ensemble' and d['samples']==12 and d['val_samples']==12
assert len(d['models'][0]['budgets'])==4
\""
expect_ok "report from kept traces and validation traces" "$EEPROF" report --traces "$T/tr4/good.h5" \
	--val-traces "$T/tr4/good.val.h5" --policy entropy --fallback ensemble -o "$T/r7" --no-plots
check "the same report.json with budgets" "cmp -s '$T/r4/report.json' '$T/r7/report.json'"
expect_fail "--val-traces of the wrong count" 2 "--val-traces lists 2 traces for 1" "$EEPROF" report \
	--traces "$T/tr4/good.h5" --val-traces "$T/tr4/good.val.h5,$T/tr4/good.val.h5" -o "$T/x"

# Atomicity: a plot that fails or is interrupted leaves no new file, and an old report as it was.
expect_fail "missing gnuplot" 3 "cannot run '/nonexistent/gnuplot'.*--no-plots" "$EEPROF" report \
	--traces "$T/tr/good.h5" -o "$T/r5" --gnuplot /nonexistent/gnuplot
check "missing gnuplot: nothing written" "[ -z \"\$(ls -A '$T/r5' 2>/dev/null)\" ]"
cat >"$T/badplot" <<EOF
#!/bin/sh
cat >/dev/null; echo 'line 1: undefined variable: oops' >&2; exit 1
EOF
chmod +x "$T/badplot"
expect_fail "failing gnuplot" 3 "gnuplot failed \(status 1\): line 1: undefined variable: oops" \
	"$EEPROF" report --traces "$T/tr/good.h5" -o "$T/r1" --policy margin --gnuplot "$T/badplot"
check "failing gnuplot: old report untouched" "cmp -s '$T/r1/report.json' '$T/r2/report.json' && ! ls '$T/r1' | grep -q tmp"
# slowplot: gnuplot, which passes report's check before the work; at the first real plot it
# then says so (started) and hangs, to be interrupted there.
cat >"$T/slowplot" <<EOF
#!/bin/sh
gnuplot || exit
[ -e '$T/checked' ] || { touch '$T/checked'; exit 0; }
touch '$T/started'
exec sleep 5
EOF
chmod +x "$T/slowplot"
"$EEPROF" report --traces "$T/tr/good.h5" -o "$T/r6" --gnuplot "$T/slowplot" >/dev/null 2>&1 &
pid=$!
for i in $(seq 100); do [ -e "$T/started" ] && break; sleep 0.2; done
kill -TERM $pid
wait $pid 2>/dev/null
st=$?
check "interrupted report: killed by the signal" "[ $st -eq 143 ]"
check "interrupted report: no file left" "[ -z \"\$(ls -A '$T/r6')\" ]"

# Usage and bad input.
expect_fail "report without --data" 2 "--data is required" "$EEPROF" report "$F/good.h5" -o "$T/x"
expect_fail "report without --output" 2 "--output is required" "$EEPROF" report "$F/good.h5" --data "$D"
expect_fail "--traces with --data" 2 "--traces reads traces" "$EEPROF" report --traces "$T/tr/good.h5" --data "$D" -o "$T/x"
expect_fail "unknown policy" 2 "policy 'sometimes'" "$EEPROF" report --traces "$T/tr/good.h5" -o "$T/x" --policy sometimes
expect_fail "same model twice" 2 "two models are named 'good': reports name models by file stem; --name a,b names them" "$EEPROF" report "$F/good.h5" "$F/good.h5" --data "$D" -o "$T/x"
# Checked before any inference: inputs, the output directory, gnuplot (nothing profiled yet).
expect_fail "pre-flight: a missing checkpoint after a good one" 3 "checkpoint '$T/nosuch.h5': cannot open" \
	"$EEPROF" report "$F/good.h5" "$T/nosuch.h5" --data "$D" -o "$T/pf" --trace-dir "$T/pftr"
check "pre-flight: nothing profiled" "[ ! -e '$T/pftr' ]"
expect_fail "pre-flight: an unknown split" 2 "unknown split 'tst'" \
	"$EEPROF" report "$F/good.h5" --data fashion-mnist:tst -o "$T/pf" --trace-dir "$T/pftr"
expect_fail "pre-flight: bad validation data" 3 "nosuch.h5" \
	"$EEPROF" report "$F/good.h5" --data "$D" --val "h5:$T/nosuch.h5" -o "$T/pf" --trace-dir "$T/pftr"
expect_fail "pre-flight: a missing trace" 3 "nosuch.h5" "$EEPROF" report --traces "$T/tr/good.h5" "$T/nosuch.h5" -o "$T/pf"
expect_fail "pre-flight: no gnuplot" 3 "cannot run '/nonexistent/gnuplot'.*--no-plots" \
	"$EEPROF" report "$F/good.h5" --data "$D" -o "$T/pf" --trace-dir "$T/pftr" --gnuplot /nonexistent/gnuplot
check "pre-flight: nothing profiled, no directory left" "[ ! -e '$T/pftr' ] && [ ! -e '$T/pf' ]"
touch "$T/afile"
expect_fail "pre-flight: output under a file" 3 "cannot create directory '$T/afile/r'" \
	"$EEPROF" report "$F/good.h5" --data "$D" -o "$T/afile/r/x" --no-plots
# The output directory's missing parents are made, as mkdir -p; models named by --name.
expect_ok "report into new nested directories, --name" "$EEPROF" report "$F/good.h5" --data "$D" \
	-o "$T/deep/er/r9" --no-plots --name baseline --limit 6
check "--name: the model's name in report.json and timing.json" "$PY -c \"
import json; d=json.load(open('$T/deep/er/r9/report.json')); t=json.load(open('$T/deep/er/r9/timing.json'))
assert [m['name'] for m in d['models']]==['baseline'] and [m['name'] for m in t['models']]==['baseline']\""
cp "$F/good.h5" "$T/renamed.h5"
expect_ok "report of the renamed file, --name baseline" "$EEPROF" report "$T/renamed.h5" --data "$D" \
	-o "$T/r10" --no-plots --name baseline --limit 6
expect_ok "diff pairs them by name" "$EEPROF" diff "$T/deep/er/r9/report.json" "$T/r10/report.json"
check "diff by --name: same model, no change" "grep -q 'baseline: exit 1 accuracy' '$T/out' && grep -q '^0 regressions' '$T/out'"
expect_fail "--name of the wrong count" 2 "--name lists 2 names for 1 checkpoints" \
	"$EEPROF" report "$F/good.h5" --data "$D" -o "$T/x" --name a,b
expect_fail "--name with a slash" 2 "--name: 'a/b' is not a model name" \
	"$EEPROF" report "$F/good.h5" --data "$D" -o "$T/x" --name a/b
expect_fail "report of a bad checkpoint" 3 "nan.h5" "$EEPROF" report "$F/nan.h5" --data "$D" -o "$T/x"
no_file "bad checkpoint: no report" "$T/x/report.json"

# diff: itself, a doctored report, other models or data.
expect_ok "diff of a report with itself" "$EEPROF" diff "$T/r1/report.json" "$T/r2/report.json" --junit "$T/same.xml"
check "diff table and summary" "grep -q '^| metric' '$T/out' && grep -q 'good: exit 1 accuracy' '$T/out' && grep -q '^0 regressions in 9 checks' '$T/out'"
check "JUnit without failures" "grep -q 'failures=\"0\"' '$T/same.xml' && ! grep -q '<failure' '$T/same.xml'"
doctor() { # doctor OUT PYTHON-STATEMENT: a copy of r1/report.json changed by the statement on d
	$PY -c "
import json; d=json.load(open('$T/r1/report.json')); m=d['models'][0]
$2
json.dump(d, open('$1', 'w'), indent=2)"
}
doctor "$T/worse.json" "m['exits'][0]['accuracy'] -= 0.05"
run "$EEPROF" diff "$T/r1/report.json" "$T/worse.json" --junit "$T/worse.xml"
check "accuracy drop: status 1" "[ $rc -eq 1 ]"
check "accuracy drop: table says REGRESSION" "grep -q 'exit 1 accuracy .*-0.0500 .*REGRESSION' '$T/out' && grep -q '^1 regression in' '$T/out'"
check "accuracy drop: JUnit failure" "grep -q 'failures=\"1\"' '$T/worse.xml' && grep -q '<failure type=\"regression\"' '$T/worse.xml'"
check "JUnit is well-formed XML" "$PY -c \"import xml.dom.minidom as x; x.parse('$T/worse.xml')\""
expect_ok "within a wider limit" "$EEPROF" diff "$T/r1/report.json" "$T/worse.json" --max-acc-drop 0.06
expect_ok "an improvement never fails" "$EEPROF" diff "$T/worse.json" "$T/r1/report.json" --max-acc-drop 0
doctor "$T/costly.json" "m['exits'][0]['macs_mean'] *= 1.02"
run "$EEPROF" diff "$T/r1/report.json" "$T/costly.json"
check "MACs rise: status 1" "[ $rc -eq 1 ] && grep -q 'exit 1 MACs .*+2.00% .*REGRESSION' '$T/out'"
doctor "$T/other.json" "m['name'] = 'other'"
expect_fail "diff of different models" 3 "reports of different models: 'good' is in" "$EEPROF" diff "$T/r1/report.json" "$T/other.json" --junit "$T/refused.xml"
doctor "$T/otherdata.json" "d['data'] = 'fashion-mnist:test'"
expect_fail "diff of different data" 3 "reports of different data" "$EEPROF" diff "$T/r1/report.json" "$T/otherdata.json"
doctor "$T/otherpolicy.json" "d['policy'] = 'entropy'"
expect_fail "diff of a different policy" 3 "reports of different exit policies" "$EEPROF" diff "$T/r1/report.json" "$T/otherpolicy.json"
check "refused diff: JUnit with one failing test case that says why" "$PY -c \"
import xml.dom.minidom as x; d = x.parse('$T/refused.xml')
cases = d.getElementsByTagName('testcase'); f = d.getElementsByTagName('failure')
assert len(cases) == 1 and len(f) == 1 and f[0].getAttribute('type') == 'refused'
assert f[0].getAttribute('message').startswith(\\\"reports of different models: 'good' is in\\\"), f[0].getAttribute('message')
assert d.documentElement.getAttribute('failures') == '1'\""
# Models are paired by name; --match-by arch pairs renamed ones.
expect_ok "diff --match-by arch of a renamed model" "$EEPROF" diff "$T/r1/report.json" "$T/other.json" --match-by arch
check "renamed model: checks named old -> new" "grep -q 'good -> other: exit 1 accuracy' '$T/out' && grep -q '^0 regressions in 9 checks' '$T/out'"
doctor "$T/otherarch.json" "m['arch'] = 'emgnet'"
expect_fail "--match-by arch: another arch" 3 "reports of different models: arch 'resnet-cifar' is in" \
	"$EEPROF" diff "$T/r1/report.json" "$T/otherarch.json" --match-by arch
expect_fail "--match-by something else" 2 "--match-by: 'file' is neither name nor arch" \
	"$EEPROF" diff "$T/r1/report.json" "$T/other.json" --match-by file
expect_ok "diff --timing --match-by arch" "$EEPROF" diff --timing "$T/r1/timing.json" "$T/r2/timing.json" --match-by arch
# --junit -: the XML on stdout instead of the table.
expect_ok "diff --junit -" "$EEPROF" diff "$T/r1/report.json" "$T/r2/report.json" --junit -
check "--junit -: XML on stdout, no table" "! grep -q '^| metric' '$T/out' && cmp -s '$T/out' '$T/same.xml'"
printf 'PK\003\004 not json' >"$T/zip.json"
expect_fail "diff of a file that is not JSON" 3 "zip.json' is not JSON" "$EEPROF" diff "$T/r1/report.json" "$T/zip.json"
printf '{"schema_version": 1,}' >"$T/broken.json"
expect_fail "diff of broken JSON" 3 "broken.json' line 1, column 22: trailing comma" "$EEPROF" diff "$T/r1/report.json" "$T/broken.json"
expect_fail "diff with one report" 2 "missing argument" "$EEPROF" diff "$T/r1/report.json"
expect_ok "diff --timing" "$EEPROF" diff --timing "$T/r1/timing.json" "$T/r2/timing.json"
check "timing table" "grep -q 'good: seconds per sample' '$T/out'"
