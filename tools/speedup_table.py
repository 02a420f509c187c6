#!/usr/bin/python3
"""speedup_table.py EEPROF [--thresholds a,b,c] [--repeats N] [--batch B] CKPT...

Real early exit against running every sample to the deepest exit: for each checkpoint
and maxprob threshold, `eeprof run --json` over the Fashion-MNIST test set, REPEATS
times; prints the speedup the MACs predict next to the measured one (median of the
repeats, with their spread) as a Markdown table. Timings are noisy on shared machines:
read the ratios, not the seconds.
"""
import argparse
import json
import statistics
import subprocess


def run(eeprof, ckpt, threshold, batch, threads, limit):
    cmd = [eeprof, "run", ckpt, "--data", "fashion-mnist:test", "--threshold", str(threshold),
           "--batch", str(batch), "--threads", str(threads), "--counters", "none", "--json"]
    if limit:
        cmd += ["--limit", str(limit)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("eeprof")
    p.add_argument("ckpts", nargs="+")
    p.add_argument("--thresholds", default="0.6,0.8,0.95")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--limit", type=int, default=0)
    a = p.parse_args()
    print("| model | threshold | accuracy | exits taken (shallow to deep) | MACs/sample "
          "| predicted speedup | measured speedup (median, min-max of %d) |" % a.repeats)
    print("|---|--:|--:|---|--:|--:|--:|")
    for ckpt in a.ckpts:
        name = ckpt.rsplit("/", 1)[-1][:-3]
        for t in a.thresholds.split(","):
            runs = [run(a.eeprof, ckpt, t, a.batch, a.threads, a.limit) for _ in range(a.repeats)]
            d = runs[0]
            measured = sorted(r["speedup_measured"] for r in runs)
            print("| %s | %s | %.4f | %s | %.2fM | %.2fx | %.2fx (%.2f-%.2f) |" % (
                name, t, d["accuracy"], " / ".join(str(e["count"]) for e in d["exits"]),
                d["macs_mean"] / 1e6, d["speedup_predicted"], statistics.median(measured),
                measured[0], measured[-1]), flush=True)
    print("\n(batch %d, %d thread%s, `--counters none`)" % (a.batch, a.threads,
                                                          "" if a.threads == 1 else "s"))


if __name__ == "__main__":
    main()
