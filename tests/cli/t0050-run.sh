# t0050-run.sh - eeprof run: real early exit agrees with the policy simulated on a trace of
# the same data (profile + curve: same accuracy, exit counts and mean MACs) for every policy
# and fallback, at batch 1, in micro-batches and on two threads; counters from the fake
# source and warnings for events that cannot be counted; usage errors and refusals.
# No timing is checked beyond being reported.
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx
D=h5:$F/data.h5
# A multi-exit model: a random EMGNet-20 (3 exits, EMG gates), as the parity cases make it.
$PY tests/parity/make_case.py --arch emgnet --variant cifar-r20 --seed 3 --out "$T/emg" \
	--in-ch 1 --batch 8 >/dev/null || { not_ok "emgnet fixture"; exit 1; }
M=$T/emg/model.h5

expect_ok "run --help" "$EEPROF" run --help
check "run --help shows usage" "grep -q '^usage: eeprof run' '$T/out' && grep -q -- '--counters' '$T/out' && grep -q -- '--fallback' '$T/out'"

# ---------------------------------------------------------------- refusals
expect_fail "run: no threshold" 2 "--data and --threshold are required" "$EEPROF" run "$M" --data "$D"
expect_fail "run: both --threshold and --thresholds" 2 "give one of --threshold or --thresholds" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --thresholds 0.5,0.5,0.5
expect_fail "run: thresholds per exit" 2 "2 thresholds for a model of 3 exits: give 3 \\(one per exit\\) or 1" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5,0.6
expect_fail "run: unknown policy" 2 "unknown policy 'confidence'" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --policy confidence
expect_fail "run: unknown fallback" 2 "unknown fallback 'first'" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --fallback first
expect_fail "run: bad event list" 2 "bad event list 'PAPI_TOT_INS,,X'" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --counters PAPI_TOT_INS,,X
expect_fail "run: unknown counter source" 2 "unknown counter source 'pmu'" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --counters pmu:cycles
# An event PAPI does not know at all is a usage error with PAPI's message; one it knows but
# cannot count here is a warning (below); without --counters nothing is asked, nothing warned.
expect_fail "run: an event PAPI does not know" 2 "unknown event 'PAPI_NO_SUCH': Not supported \\(PAPI; papi_avail" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --counters PAPI_TOT_INS,PAPI_NO_SUCH
expect_fail "run: an event the fake source does not know" 2 "unknown event 'NOSUCH_X': Event does not exist \\(fake source\\)" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --counters fake:PAPI_TOT_INS,NOSUCH_X
expect_fail "profile: an event PAPI does not know" 2 "unknown event 'PAPI_NO_SUCH'" \
	"$EEPROF" profile "$M" --data "$D" -o "$T/x.h5" --counters PAPI_NO_SUCH
no_file "profile: no trace after the usage error" "$T/x.h5"
expect_ok "run without --counters" "$EEPROF" run "$M" --data "$D" --threshold 0.5 --limit 4 --json
check "run without --counters: no warning, no events, times only" "[ ! -s '$T/err' ] && $PY -c \"
import json; c = json.load(open('$T/out'))['counters']
assert c == {'source': 'papi', 'events': [], 'warnings': []}, c\""
expect_ok "run --counters PAPI_TOT_INS" "$EEPROF" run "$M" --data "$D" --threshold 0.5 --limit 4 --counters PAPI_TOT_INS --json
check "PAPI_TOT_INS: counted, or one warning with PAPI's reason (no PMU)" "$PY -c \"
import json; c = json.load(open('$T/out'))['counters']; err = open('$T/err').read().splitlines()
assert (c['events'] == ['PAPI_TOT_INS'] and not err and not c['warnings']) or \\
    (c['events'] == [] and len(err) == 1 and err[0] == 'eeprof: warning: ' + c['warnings'][0] and
     c['warnings'][0].startswith('PAPI_TOT_INS not counted: ')), (c, err)\""
expect_fail "run: bad checkpoint" 3 "nan.h5.*NaN" "$EEPROF" run "$F/nan.h5" --data "$D" --threshold 0.5
expect_fail "run: missing dataset" 3 "nosuch.h5" "$EEPROF" run "$M" --data "h5:$F/nosuch.h5" --threshold 0.5
expect_fail "run: offset past the end" 2 "--offset 20 selects no samples" \
	"$EEPROF" run "$M" --data "$D" --threshold 0.5 --offset 20

# ---------------------------------------------------------------- one exit: eval's numbers
expect_ok "eval of the one-exit model" "$EEPROF" eval "$F/good.h5" --data "$D" --json
cp "$T/out" "$T/eval.json"
expect_ok "run of the one-exit model" "$EEPROF" run "$F/good.h5" --data "$D" --threshold 0.5 --counters none --json
stamped "run --json" "$T/out"
check "one exit: accuracy and MACs of eval, every sample at exit 1" "$PY -c \"
import json
e, r = json.load(open('$T/eval.json')), json.load(open('$T/out'))
x = r['exits'][0]
assert r['accuracy'] == e['exits'][0]['accuracy'], (r['accuracy'], e)
assert r['macs_mean'] == e['exits'][0]['macs_cascade_mean'] == r['macs_all_exits']
assert x['count'] + r['fallback_count'] == 20 and x['entered'] == 20 and r['samples'] == 20
assert r['fallback'] == 'last' and r['policy'] == 'maxprob'
assert r['seconds'] > 0 and r['seconds_all_exits'] > 0 and r['simulated']['agree'] == 20
assert r['counters']['events'] == [] and r['counters']['warnings'] == []
\""
check "run --counters none warns of nothing" "[ ! -s '$T/err' ]"

# ---------------------------------------------------------------- dynamic = simulated
expect_ok "profile the EMGNet" "$EEPROF" profile "$M" --data "$D" -o "$T/emg.h5" --batch 7
# Thresholds from the trace's own confidences, so that samples leave at every exit.
$PY -c "
import h5py, numpy as np
t = h5py.File('$T/emg.h5')
q = lambda name, x, p: '%.6g' % np.quantile(t[name][:, x], p)
print('mp', 'maxprob', 'last', q('maxprob', 0, 0.6))
print('mpv', 'maxprob', 'ensemble', ','.join(q('maxprob', x, 0.7) for x in range(3)))
print('en', 'entropy', 'ensemble', ','.join(q('entropy', x, 0.3) for x in range(3)))
print('mg', 'margin', 'best', q('margin', 1, 0.5))
print('pa', 'patience', 'last', '1')
print('none', 'maxprob', 'best', '1')
print('all', 'maxprob', 'last', '0')
" >"$T/rules" || not_ok "thresholds from the trace"

cat >"$T/same.py" <<'PY'
import json, sys
c, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
p = c["models"][0]["curve"][0]
assert r["accuracy"] == p["accuracy"], (r["accuracy"], p["accuracy"])
assert r["macs_mean"] == p["macs_mean"], (r["macs_mean"], p["macs_mean"])
assert [x["count"] for x in r["exits"]] == p["exit_count"], (r["exits"], p["exit_count"])
assert r["fallback_count"] == p["fallback_count"], (r["fallback_count"], p)
assert r["simulated"]["agree"] == r["samples"] == 20, r["simulated"]
entered = [x["entered"] for x in r["exits"]]
left = [x["count"] for x in r["exits"]]
assert entered[0] == 20 and all(entered[k + 1] == entered[k] - left[k] for k in range(2)), entered
PY
cover=""
while read -r name policy fallback thr; do
	expect_ok "curve $name" "$EEPROF" curve "$T/emg.h5" --policy "$policy" --fallback "$fallback" --thresholds "$thr" --json
	cp "$T/out" "$T/curve-$name.json"
	for mode in "--batch 7" "--batch 1" "--batch 4 --threads 2"; do
		# shellcheck disable=SC2086
		expect_ok "run $name $mode" "$EEPROF" run "$M" --data "$D" --policy "$policy" \
			--fallback "$fallback" --thresholds "$thr" --counters none --json $mode
		check "run $name $mode = simulated on the trace" "$PY '$T/same.py' '$T/curve-$name.json' '$T/out'"
	done
	cover="$cover $($PY -c "import json; r = json.load(open('$T/out')); print(''.join('x' if e['count'] else '-' for e in r['exits']) + ('f' if r['fallback_count'] else '-'))")"
done <"$T/rules"
check "the rules send samples out at every exit and to the fallback" "echo '$cover' | grep -q 'x..' && echo '$cover' | grep -q '.x.' && echo '$cover' | grep -q '..x' && echo '$cover' | grep -q 'f'"

# ---------------------------------------------------------------- counters and text
expect_ok "run with the fake counter source" "$EEPROF" run "$M" --data "$D" --threshold 0.2 \
	--counters fake:PAPI_TOT_INS,PAPI_TOT_CYC,BAD_X --json --batch 5
check "one warning for the event that cannot be counted" "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q '^eeprof: warning: BAD_X not counted: Event exists but cannot be counted here (fake source)\$' '$T/err'"
check "fake counters per exit and per layer" "$PY -c \"
import json
r = json.load(open('$T/out'))
assert r['counters'] == {'source': 'fake', 'events': ['PAPI_TOT_INS', 'PAPI_TOT_CYC'], 'warnings': ['BAD_X not counted: Event exists but cannot be counted here (fake source)']}, r['counters']
assert r['exits'][0]['entered'] == 20
for x in r['exits']:
    ev, fe = x['events'], x['events_all_exits']
    assert ev['PAPI_TOT_CYC'] == 2 * ev['PAPI_TOT_INS'] and fe['PAPI_TOT_CYC'] == 2 * fe['PAPI_TOT_INS'] > 0, x
    assert (ev['PAPI_TOT_INS'] > 0 and x['cpu_seconds'] > 0 and x['macs_mean'] > 0) == (x['entered'] > 0), x
L = r['layers']
assert len(L) == 89 and all(l['events']['PAPI_TOT_CYC'] == 2 * l['events']['PAPI_TOT_INS'] for l in L)
assert abs(sum(l['macs'] for l in L) / 20 - r['macs_all_exits']) < 1e-6 * r['macs_all_exits']
assert abs(sum(l['macs_dynamic'] for l in L) / 20 - r['macs_mean']) < 1e-6 * r['macs_mean']
assert sum(l['seconds'] > 0 for l in L) == len(L)
\""
expect_ok "run, text, with the default events and layers" "$EEPROF" run "$M" --data "$D" --threshold 0.2 --layers --counters default
check "text: the rule with every exit's threshold" "grep -q '^rule *maxprob, thresholds per exit 0.2,0.2,0.2, fallback last' '$T/out'"
check "text: speedups, exits, layers" "grep -q 'predicted speedup' '$T/out' && grep -q 'measured speedup' '$T/out' && grep -q '^fallback' '$T/out' && grep -q '^layer1.0.conv' '$T/out' && grep -q '20 of 20 samples agree' '$T/out'"
check "default events: each one counted or named once in a warning" "$PY -c \"
import sys
err = open('$T/err').read().splitlines()
assert all(l.startswith('eeprof: warning: ') and ' not counted: ' in l for l in err), err
for ev in ('PAPI_TOT_INS', 'PAPI_TOT_CYC', 'PAPI_L1_DCM', 'PAPI_L2_DCM'):
    assert sum(ev in l for l in err) <= 1, ev
\""
if command -v gnuplot >/dev/null; then
	expect_ok "run --plot" "$EEPROF" run "$M" --data "$D" --threshold 0.2 --counters none --plot "$T/layers.svg"
	check "time against MACs plot" "grep -q '<svg' '$T/layers.svg' && grep -q 'slower than their MACs say' '$T/layers.svg'"
	no_file "no temporary plot file" "$T/layers.svg.tmp"
	expect_fail "run --plot: unwritable" 3 "$T/nodir/l.png" \
		"$EEPROF" run "$M" --data "$D" --threshold 0.2 --counters none --plot "$T/nodir/l.png"
	expect_ok "run --plot with --plot-size, --font-size, --title" "$EEPROF" run "$M" --data "$D" \
		--threshold 0.2 --counters none --plot "$T/look.svg" --plot-size 640,400 \
		--font-size 12 --title "my layers"
	check "run --plot: the look applied" "grep -q 'width=\"640\"' '$T/look.svg' && grep -q 'height=\"400\"' '$T/look.svg' && grep -q 'my layers' '$T/look.svg'"
	expect_fail "run --plot: neither .png nor .svg" 2 "must end in .png or .svg" \
		"$EEPROF" run "$M" --data "$D" --threshold 0.2 --plot "$T/l.pdf"
	expect_fail "run --plot-size: bad size" 2 "plot-size" \
		"$EEPROF" run "$M" --data "$D" --threshold 0.2 --plot "$T/l.png" --plot-size 10
fi
rm -rf "$T"
