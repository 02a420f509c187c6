# t0075-timeline.sh - --timeline FILE.json: a Chrome trace-event file whose structure is
# checked here with Python's json: metadata, complete events with name/ts/dur/pid/tid/args,
# layer spans nested in exit-head and region spans on their lane, one layer span per node
# per micro-batch, counter tracks, and the batches' executed MACs adding up to the trace's.
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx
D=h5:$F/data.h5

cat >"$T/check_tl.py" <<'PY'
import json, sys
import h5py, numpy as np

d = json.load(open(sys.argv[1]))
trace = h5py.File(sys.argv[2], "r") if len(sys.argv) > 2 and sys.argv[2] else None
ev = d["traceEvents"]
assert isinstance(ev, list) and ev, "traceEvents is a non-empty list"
assert d["otherData"]["dropped_events"] == 0
meta = [e for e in ev if e["ph"] == "M"]
spans = [e for e in ev if e["ph"] == "X"]
counters = [e for e in ev if e["ph"] == "C"]
assert len(meta) + len(spans) + len(counters) == len(ev), "only M, X and C events"
assert any(e["name"] == "process_name" for e in meta)
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in meta if e["name"] == "thread_name"}
for e in spans:
    for k in ("name", "cat", "ts", "dur", "pid", "tid", "args"):
        assert k in e, f"{k} missing in {e}"
    assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0 and e["dur"] >= 0, e
    assert (e["pid"], e["tid"]) in names, f"thread of {e} has no name"
cats = {c: [e for e in spans if e["cat"] == c] for c in ("batch", "region", "exit", "layer")}
assert all(cats.values()), {c: len(v) for c, v in cats.items()}
for e in cats["layer"]:
    a = e["args"]
    assert a["macs"] >= 0 and a["samples"] >= 1 and a["exit"] >= 1 and "kind" in a, e
for e in cats["batch"]:
    assert e["tid"] == 0 and {"first", "samples", "macs", "open_gates"} <= set(e["args"])
# nesting: every layer span lies within a region span (and an exit span, if a head) of its lane
eps = 0.002  # microseconds, printed to the nanosecond
def inside(a, b):
    return b["ts"] - eps <= a["ts"] and a["ts"] + a["dur"] <= b["ts"] + b["dur"] + eps
for e in cats["layer"]:
    regs = [r for r in cats["region"] if r["tid"] == e["tid"] and r["pid"] == e["pid"] and inside(e, r)]
    assert len(regs) == 1, f"layer {e['name']} at {e['ts']} is in {len(regs)} regions"
    assert regs[0]["args"]["exit"] == e["args"]["exit"]
    assert regs[0]["args"]["samples"] == e["args"]["samples"]
for x in cats["exit"]:
    assert any(inside(x, r) for r in cats["region"] if r["tid"] == x["tid"]), "exit span outside regions"
ctr = {e["name"] for e in counters}
assert {"executed MACs", "open gates"} <= ctr and any(n.startswith("samples lane") for n in ctr), ctr
for e in counters:
    assert len(e["args"]) == 1 and e["ts"] >= 0
samples = sum(e["args"]["samples"] for e in cats["batch"])
macs = sum(e["args"]["macs"] for e in cats["batch"])
assert abs(macs - sum(e["args"]["macs"] for e in cats["layer"])) <= 1e-6 * macs
if trace is not None:
    n = len(trace["index"])
    assert samples == n, (samples, n)
    want = trace["macs_cascade"][:, -1].sum()
    assert abs(macs - want) <= 1e-6 * want, (macs, want)
    layers = len(trace["timing/layer_name"])
    regions_first = [r for r in cats["region"]]
    micro = sum(1 for e in cats["layer"] if e["name"] == cats["layer"][0]["name"])
    assert len(cats["layer"]) == layers * micro, (len(cats["layer"]), layers, micro)
print("ok", len(spans), "spans", len(counters), "counters")
PY

expect_ok "profile --timeline" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/p.h5" --batch 6 \
	--timeline "$T/tl.json"
run $PY "$T/check_tl.py" "$T/tl.json" "$T/p.h5"
check "profile timeline: structure, nesting, one span per layer per micro-batch, MACs add up" \
	"[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
check "profile timeline: 4 batches of 6, 6, 6, 2 samples" "$PY -c '
import json; d = json.load(open(\"$T/tl.json\"))
b = [e[\"args\"][\"samples\"] for e in d[\"traceEvents\"] if e.get(\"cat\") == \"batch\"]
assert b == [6, 6, 6, 2], b'"
expect_ok "profile --timeline with 2 threads" "$EEPROF" profile "$F/good.h5" --data "$D" -o "$T/p2.h5" \
	--batch 20 --threads 2 --timeline "$T/tl2.json"
run $PY "$T/check_tl.py" "$T/tl2.json" "$T/p2.h5"
check "2 threads: structure and MACs" "[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
expect_ok "profile --timeline with counters" "$EEPROF" profile "$F/good.h5" --data "$D" \
	-o "$T/p3.h5" --counters fake:A,B --timeline "$T/tl3.json"
run $PY "$T/check_tl.py" "$T/tl3.json" "$T/p3.h5"
check "counters and timeline together" "[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
check "counters still counted with a timeline" "$PY -c '
import h5py; f = h5py.File(\"$T/p3.h5\"); assert list(f[\"timing/counter_names\"].asstr()[:]) == [\"A\", \"B\"]'"
expect_fail "timeline in a missing directory" 3 "nodir" "$EEPROF" profile "$F/good.h5" --data "$D" \
	-o "$T/p4.h5" --timeline "$T/nodir/tl.json"
no_file "no trace left when the timeline cannot be written" "$T/p4.h5"

# ---------------------------------------------------------------- run: real early exit
S=checkpoints/samples/emgnet20-w8-fmnist.h5
expect_ok "run --timeline (EMGNet sample, 64 samples)" "$EEPROF" run "$S" --data fashion-mnist:test \
	--threshold 0.9 --limit 64 --batch 32 --timeline "$T/run.json"
run $PY "$T/check_tl.py" "$T/run.json" ""
check "run timeline: structure and nesting" "[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
check "run timeline: the micro-batch shrinks from region to region (compaction)" "$PY -c '
import json; ev = json.load(open(\"$T/run.json\"))[\"traceEvents\"]
reg = [e for e in ev if e.get(\"cat\") == \"region\"]
first = {}
shrunk = False
for e in reg:
    if e[\"args\"][\"exit\"] == 1:
        n1 = e[\"args\"][\"samples\"]
    else:
        assert e[\"args\"][\"samples\"] <= n1
        shrunk |= e[\"args\"][\"samples\"] < n1
assert shrunk and sum(e[\"args\"][\"samples\"] for e in ev if e.get(\"cat\") == \"batch\") == 64'"

# ---------------------------------------------------------------- report: a process per model
cp "$F/good.h5" "$T/other.h5"
expect_ok "report --timeline of two models" "$EEPROF" report "$F/good.h5" "$T/other.h5" --data "$D" \
	-o "$T/rep" --no-plots --batch 8 --timeline "$T/rep.json"
run $PY "$T/check_tl.py" "$T/rep.json" ""
check "report timeline: structure and nesting" "[ $rc -eq 0 ] || { cat '$T/err' >&2; false; }"
check "report timeline: one named process per model, each with all 20 samples" "$PY -c '
import json; ev = json.load(open(\"$T/rep.json\"))[\"traceEvents\"]
procs = {e[\"pid\"]: e[\"args\"][\"name\"] for e in ev if e[\"name\"] == \"process_name\"}
assert procs == {1: \"good\", 2: \"other\"}, procs
for pid in procs:
    assert sum(e[\"args\"][\"samples\"] for e in ev if e.get(\"cat\") == \"batch\" and e[\"pid\"] == pid) == 20'"
expect_fail "report --timeline with --traces" 2 "timeline" "$EEPROF" report --traces "$T/p.h5" \
	-o "$T/rep2" --timeline "$T/x.json"
