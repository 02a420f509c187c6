#!/usr/bin/python3
"""overhead.py EEPROF - what per-layer timing and counters cost (make bench).

For the models of tools/bench.py (same checkpoints, same random images), threads 1,
batch 64 and batch 1: `eeprof run --threshold 0.5 --json` as separate processes,
interleaved, REPEATS times each, with
    --counters off               the plain run: no per-layer hooks at all
    --counters none              PAPI real and CPU time around every layer
    --counters default           plus PAPI_TOT_INS, PAPI_TOT_CYC, PAPI_L1_DCM, PAPI_L2_DCM
                                 (on machines without a PMU: the times only)
    --counters perf::TASK-CLOCK  plus one event PAPI counts everywhere Linux perf works
The measure is the time of the forward calls of both passes of `run` (dynamic exit and
every exit, input preparation excluded), as process CPU time (cpu_seconds, less moved
by other processes on a shared machine) and as wall time (seconds); the table shows
medians per setting and the overhead against the plain run. The target is <= 5 % at
batch 64. This is a benchmark, not a test: on a loaded machine the numbers move.

    /usr/bin/python3 tools/overhead.py build/eeprof [--only emgnet] [--repeats 5] [--images N]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (MODELS, prepare: the checkpoints and images of make bench)

SETTINGS = ["off", "none", "default", "perf::TASK-CLOCK"]


def forward_seconds(eeprof, ckpt, data, batch, threads, n, counters):
    out = subprocess.run([eeprof, "run", ckpt, "--data", "h5:" + data, "--threshold", "0.5",
                          "--batch", str(batch), "--threads", str(threads), "--limit", str(n),
                          "--counters", counters, "--json"], env=bench.env_without_coretype(),
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    r = json.loads(out.stdout)
    return (r["seconds"] + r["seconds_all_exits"], r["cpu_seconds"] + r["cpu_seconds_all_exits"],
            r["counters"])


def measure(eeprof, ckpt, data, batch, threads, n, repeats):
    """Medians per setting of (wall, CPU) seconds, and the events each setting counted."""
    wall, cpu = {s: [] for s in SETTINGS}, {s: [] for s in SETTINGS}
    counted = {}
    for _ in range(repeats):
        for s in SETTINGS:
            w, c, counters = forward_seconds(eeprof, ckpt, data, batch, threads, n, s)
            wall[s].append(w)
            cpu[s].append(c)
            counted[s] = counters["events"]
    med = lambda d: {s: statistics.median(v) for s, v in d.items()}  # noqa: E731
    return med(wall), med(cpu), counted


def main():
    p = argparse.ArgumentParser()
    p.add_argument("eeprof")
    p.add_argument("--only", default="")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--images", type=int, default=0, help="images per run (default: bench's)")
    a = p.parse_args()
    eeprof = os.path.abspath(a.eeprof)
    print("overhead: eeprof run, forward time of both passes, medians of %d interleaved runs, "
          "threads %d" % (a.repeats, a.threads))
    rows = []
    for model in bench.MODELS:
        if a.only not in model["name"] or (model.get("sample") and
                                          not os.path.exists(os.path.join(bench.TOP,
                                                                          model["sample"]))):
            continue
        with tempfile.TemporaryDirectory() as work:
            ckpt, data = bench.prepare(model, work)
            for batch in (64, 1):
                n = a.images or model["images"][batch]
                wall, cpu, counted = measure(eeprof, ckpt, data, batch, a.threads, n, a.repeats)
                for kind, med in (("CPU", cpu), ("wall", wall)):
                    pct = [100.0 * (med[s] / med["off"] - 1) for s in SETTINGS[1:]]
                    rows.append([model["name"], batch, n, kind, med["off"]] + pct)
                    print("  %-44s batch %2d %4s: plain %.3f s; %s" % (
                        model["name"], batch, kind, med["off"], ", ".join(
                            "%s %+.1f %%" % (s, p) for s, p in zip(SETTINGS[1:], pct))),
                        flush=True)
                print("    events counted: %s" % "; ".join(
                    "%s: %s" % (s, ",".join(counted[s]) or "none") for s in SETTINGS[1:]))
    print("\n| model | batch | images | clock | plain (s) | times | default events | "
          "perf::TASK-CLOCK |")
    print("|---|--:|--:|---|--:|--:|--:|--:|")
    for r in rows:
        print("| %s | %d | %d | %s | %.3f | %+.1f %% | %+.1f %% | %+.1f %% |" % tuple(r))


if __name__ == "__main__":
    sys.exit(main())
