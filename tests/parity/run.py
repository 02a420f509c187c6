#!/usr/bin/python3
"""run.py - the PyTorch parity tests: eeprof against our PyTorch references.

    /usr/bin/python3 tests/parity/run.py --eeprof build/eeprof [--workdir DIR] [--only SUBSTR]

For every case of cases.py: make_case.py builds the reference with random weights,
saves it as its public repository saves it, exports it and records what PyTorch
computes (ref.h5). Then `eeprof infer --gate-z` runs the exported model.h5 on the same
input and `eeprof info --json` reports its per-exit MAC ranges. Checks, per case:

  logits   max |eeprof - PyTorch| / max |PyTorch| <= 1e-4, per exit; where PyTorch's
           own float32 result is further than that from the same network run in
           float64 (an ill-conditioned random network), eeprof must be at least as
           close to the float64 result as PyTorch float32 is (shown as "cond")
  gates    every EMG gate decision equal, except where PyTorch's z = mean(|Y3| - t)
           is within float rounding of 0: |z| <= 1e-5 * mean|Y3| of that channel's
           layer (such flips are counted and shown, and the samples they touch are
           then compared only on exits upstream of the flip's layer)
  MACs     executed MACs per sample and exit (standalone and cascade) exactly equal to
           the forward-hook count; min/max per exit equal to `eeprof info`
"""
import argparse
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases  # noqa: E402
import make_case  # noqa: E402

LOGIT_RTOL = 1e-4
Z_RTOL = 1e-5


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(cmd[:2]), r.returncode, r.stderr.strip()))
    return r.stdout


def rel(a, b, scale):
    """max |a - b| relative to the largest |logit| of the exit."""
    return float(np.abs(a - b).max() / np.abs(scale).max())


def compare_gates(ref, out):
    """Returns (gates, mismatches, near-zero flips, {sample: exit index of the first flip})."""
    total = bad = flips = 0
    touched = {}
    if "gates" not in ref:
        return 0, 0, 0, touched
    for name in ref["gates"]:
        g_ref, g_out = ref["gates"][name][...], out["gates"][name][...]
        z = ref["gate_z"][name][...]
        scale = np.abs(z).mean() + 1e-30
        total += g_ref.size
        diff = g_ref != g_out
        near = np.abs(z) <= Z_RTOL * scale * 10
        flips += int((diff & near).sum())
        bad += int((diff & ~near).sum())
        for n in np.nonzero(diff.any(axis=1))[0]:
            touched.setdefault(int(n), name)
    return total, bad, flips, touched


def check_case(c, eeprof, work):
    d = os.path.join(work, c["name"])
    t0 = time.time()
    make_case.make_case(c["arch"], c["variant"], c["seed"], d, batch=c["batch"], in_ch=c["in_ch"],
                        size=make_case.parse_size(c["size"]) if c["size"] else None, quiet=True)
    t1 = time.time()
    batch = 3 if c["batch"] > 3 else 64  # also exercise a partial last batch
    run([eeprof, "infer", os.path.join(d, "model.h5"), "--input", os.path.join(d, "input.h5"),
         "--output", os.path.join(d, "out.h5"), "--gate-z", "--batch", str(batch)])
    info = json.loads(run([eeprof, "info", os.path.join(d, "model.h5"), "--json"]))
    t2 = time.time()
    problems = []
    with h5py.File(os.path.join(d, "ref.h5")) as ref, h5py.File(os.path.join(d, "out.h5")) as out:
        total, bad, flips, touched = compare_gates(ref, out)
        if bad:
            problems.append("%d gate decisions differ away from z = 0" % bad)
        lr, lo = ref["logits"][...], out["logits"][...]
        if lr.shape != lo.shape:
            return [c["name"], "shape %s vs %s" % (lo.shape, lr.shape)], False
        keep = [n for n in range(lr.shape[1]) if n not in touched]
        errs = [rel(lo[e][keep], lr[e][keep], lr[e]) if keep else 0.0 for e in range(lr.shape[0])]
        note = ""
        if max(errs) > LOGIT_RTOL or not np.isfinite(errs).all():
            l64 = ref["logits64"][...]
            ours = max(rel(lo[e][keep], l64[e][keep], l64[e]) for e in range(lr.shape[0]))
            torch32 = max(rel(lr[e][keep], l64[e][keep], l64[e]) for e in range(lr.shape[0]))
            note = " (cond: vs float64 eeprof %.1e, PyTorch %.1e)" % (ours, torch32)
            if not (ours <= torch32 and np.isfinite(ours)):
                problems.append("logit error %.2e > %.0e%s" % (max(errs), LOGIT_RTOL, note))
        for key in ("macs", "macs_cascade"):
            mr, mo = ref[key][...], out[key][...]
            if keep and not np.array_equal(mr[:, keep], mo[:, keep]):
                problems.append("%s differ: eeprof %s vs PyTorch %s" % (key, mo[:, 0], mr[:, 0]))
        for key, field in (("macs_min", "macs_min"), ("macs_max", "macs_max"),
                           ("macs_cascade_min", "macs_cascade_min"),
                           ("macs_cascade_max", "macs_cascade_max")):
            want = ref.attrs[key].tolist()
            got = [e[field] for e in info["exits"]]
            if got != want:
                problems.append("info %s %s vs PyTorch %s" % (field, got, want))
        row = [c["name"], "%d" % lr.shape[0], "%.1e%s" % (max(errs), note),
               "%d/%d" % (total - bad - flips, total) if total else "-", "%d" % flips,
               "%d/%d" % (len(touched), lr.shape[1]) if touched else "0",
               "equal" if not any("macs" in p for p in problems) else "DIFFER",
               "%.1f+%.1fs" % (t1 - t0, t2 - t1)]
    if problems:
        row.append("; ".join(problems))
    return row, not problems


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--eeprof", required=True)
    p.add_argument("--workdir", default="/tmp/eeprof-parity")
    p.add_argument("--only", default="")
    a = p.parse_args()
    eeprof = os.path.abspath(a.eeprof)
    head = ["case", "exits", "logit rel err", "gates equal", "near-0 flips", "samples w/ flip",
            "MACs", "time"]
    rows, failed = [], 0
    for c in cases.CASES:
        if a.only not in c["name"]:
            continue
        try:
            row, ok = check_case(c, eeprof, a.workdir)
        except (RuntimeError, SystemExit) as e:
            row, ok = [c["name"], "ERROR: %s" % e], False
        rows.append(row)
        failed += not ok
        print(("ok  " if ok else "FAIL") + "  " + "  ".join(row), flush=True)
    print("parity: %d cases, %d passed, %d failed (logits rel <= %.0e, MACs exact)"
          % (len(rows), len(rows) - failed, failed, LOGIT_RTOL))
    return 1 if failed or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
