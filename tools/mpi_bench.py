#!/usr/bin/python3
"""mpi_bench.py EEPROF - how `eeprof profile` scales over MPI ranks (make bench).

For each of the four sample checkpoints: `eeprof profile` over the first --limit images of
Fashion-MNIST's test split (batch 64, 1 thread per rank), started plainly (P = 1) and by
`mpirun -n 2` (P = 2), interleaved, --repeats times. The table shows medians of:
  - the job's wall time as the shell sees it (mpirun's start-up included) and inside eeprof
    (the slowest rank's wall time, timing/rank_seconds of the trace: loading, inference,
    sending; rank 0's also gathering, decoding and merging);
  - speedup = T(1) / T(2) and parallel efficiency = speedup / 2, for both;
  - the gather: the trace bytes received per sample and rank 0's time to put the trace
    together once every rank has profiled (the ranks' encoding, receiving, decoding,
    merging; not the wait for the slower rank), as a share of the P = 1 inference time.
Ranks share this machine's cores with whatever else runs: compare with `nproc` and the load.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import h5py

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SAMPLES = ["emgnet20-w8-fmnist", "resnet20-fmnist", "scan18-w7-fmnist", "sdresnet18-w7-fmnist"]


def mpirun(n):
    cmd = ["mpirun", "-n", str(n), "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    return cmd


def one(eeprof, ckpt, ranks, limit, out):
    cmd = [eeprof, "profile", ckpt, "--data", "fashion-mnist:test", "--limit", str(limit),
           "--batch", "64", "--threads", "1", "-o", out]
    if ranks > 1:
        cmd = mpirun(ranks) + cmd
    start = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    wall = time.monotonic() - start
    with h5py.File(out) as f:
        t = f["timing"].attrs
        inner, loop = max(t["rank_seconds"]), float(t["seconds"])
    m = re.search(r"^gather +(\d+) bytes, ([0-9.]+) s", res.stdout, re.M)
    return dict(wall=wall, inner=inner, loop=loop,
                bytes=int(m.group(1)) if m else 0, gather=float(m.group(2)) if m else 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("eeprof")
    ap.add_argument("--limit", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if not shutil.which("mpirun"):
        print("mpi_bench: skipped: no mpirun (make deps installs openmpi-bin)")
        return 0
    eeprof = os.path.abspath(a.eeprof)
    tmp = tempfile.mkdtemp(prefix="eeprof-mpibench.")
    print(f"eeprof profile, {a.limit} Fashion-MNIST test images, batch 64, 1 thread per rank, "
          f"P = 1 (plain) and 2 (mpirun), medians of {a.repeats} interleaved runs; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start\n")
    print("| model | T(1) s | T(2) s | speedup | efficiency | in eeprof T(1) | T(2) | speedup "
          "| efficiency | gather bytes/sample | gather s | gather / inference |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in SAMPLES:
        ckpt = os.path.join(TOP, "checkpoints", "samples", name + ".h5")
        runs = {1: [], 2: []}
        for _ in range(a.repeats):
            for p in (1, 2):
                runs[p].append(one(eeprof, ckpt, p, a.limit, os.path.join(tmp, f"{p}.h5")))
        med = {p: {k: statistics.median(r[k] for r in runs[p]) for k in runs[p][0]}
               for p in runs}
        s_out, s_in = med[1]["wall"] / med[2]["wall"], med[1]["inner"] / med[2]["inner"]
        print(f"| {name} | {med[1]['wall']:.2f} | {med[2]['wall']:.2f} | {s_out:.2f} | "
              f"{s_out / 2:.0%} | {med[1]['inner']:.2f} | {med[2]['inner']:.2f} | {s_in:.2f} | "
              f"{s_in / 2:.0%} | {med[2]['bytes'] / a.limit:.0f} | {med[2]['gather']:.3f} | "
              f"{med[2]['gather'] / med[1]['loop']:.1%} |", flush=True)
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
