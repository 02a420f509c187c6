#!/usr/bin/python3
"""bench.py EEPROF - eeprof against PyTorch 1.13 on the same weights (make bench).

Four sections (--section peak,threads,pytorch,layers; all by default):

peak: the machine's FMA peak, measured by tools/fmapeak.c (--fmapeak BIN): GFLOP/s of one
core while it runs (flops / thread CPU time, median of REPEATS runs) and the machine's
peak (that times the CPUs); the wall-clock figure with other processes is shown too.

threads: two threads never lose. For every model below (bench models and every sample
checkpoint) at batch 1, 8 and 64: `eeprof eval` with 1 and with 2 threads, alternated
(1,2 then 2,1 ...) REPEATS times; the row shows the median img/s of each, the ratio of
the medians and the spread (lowest and highest ratio of one pair of runs).

layers: per model, the five MAC layers furthest below the model's average GFLOP/s
(`eeprof run --layers --json`, all-exits pass, batch 64, one thread): the next kernel
work's target list.

pytorch: for the models with a PyTorch side, threads 1 and 2, batch 1 and 64: the same images through
`eeprof eval --data h5:FILE` (timing.inference_seconds: preprocessing, forward
passes, argmax) and through our PyTorch reference model loaded with the same
exported weights (preprocessing, forward, argmax, under torch.no_grad in eval
mode, torch.set_num_threads). Each side runs as its own process, interleaved,
REPEATS times; the table shows medians, the ratio of the medians, eeprof's achieved
GFLOP/s (2 x executed MACs x img/s) and its share of the measured peak of the threads
used.

OPENBLAS_CORETYPE is removed from the environment of both sides (OpenBLAS then
picks its kernels by CPU detection); both print which setting they ran with.
"""
import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, TOP)
PY = "/usr/bin/python3"
REPEATS = 5

# name -> how to get the checkpoint and build the PyTorch reference (norm: the export's
# --norm for the random models)
MODELS = [
    dict(name="resnet18-cifar100 (w64, random)", arch="resnet",
         kw=dict(block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3, width=64,
                 stem="3x3"), shape=(3, 32, 32), images={1: 8, 8: 32, 64: 128}, norm="cifar10"),
    dict(name="emgnet56-cifar100 (random, ~half gates open)", arch="emgnet",
         kw=dict(variant="cifar", depth=56, num_classes=100, in_channels=3), shape=(3, 32, 32),
         images={1: 16, 8: 64, 64: 128}, norm="cifar100"),
    dict(name="byot-resnet18-cifar100 (random)", arch="sdresnet",
         kw=dict(block="basic", layers=(2, 2, 2, 2), width=64, num_classes=100, in_channels=3),
         shape=(3, 32, 32), images={1: 8, 8: 32, 64: 128}, norm="cifar10"),
    dict(name="resnet20 sample (fashion-mnist)", arch="resnet-cifar",
         sample="checkpoints/samples/resnet20-fmnist.h5",
         kw=dict(depth=20, num_classes=10, in_channels=1, option="A"), shape=(1, 32, 32),
         images={1: 32, 8: 128, 64: 256}),
    dict(name="emgnet20 sample (fashion-mnist)", sample="checkpoints/samples/emgnet20-w8-fmnist.h5",
         shape=(1, 32, 32), images={1: 64, 8: 256, 64: 512}),
    dict(name="sdresnet18 sample (fashion-mnist)",
         sample="checkpoints/samples/sdresnet18-w7-fmnist.h5", shape=(1, 32, 32),
         images={1: 64, 8: 256, 64: 512}),
    dict(name="scan18 sample (fashion-mnist)", sample="checkpoints/samples/scan18-w7-fmnist.h5",
         shape=(1, 32, 32), images={1: 64, 8: 256, 64: 512}),
]
PAIR_BATCHES = (1, 8, 64)


def env_without_coretype():
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    return env


def load_model(arch, kw, ckpt):
    import torch
    from checkpoints.models import build
    model = build(arch, **kw).eval()
    with h5py.File(ckpt) as f:
        sd = {k: torch.from_numpy(f["state_dict"][k][...]) for k in f["state_dict"]}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit("bench: %s does not fit the reference: %s %s" % (ckpt, missing[:3],
                                                                          unexpected[:3]))
    with h5py.File(ckpt) as f:
        mean, std = f.attrs["mean"], f.attrs["std"]
    return model, mean, std


def torch_worker(a):
    """Times the PyTorch side in this (fresh) process; prints JSON."""
    import torch
    from checkpoints import models
    torch.set_num_threads(a.threads)
    model, mean, std = load_model(a.arch, json.loads(a.kw), a.ckpt)
    with h5py.File(a.data) as f:
        imgs = f["images"][: a.n]
    c = imgs.shape[1]
    m = torch.tensor(mean, dtype=torch.float32).view(1, c, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, c, 1, 1)
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, a.n, a.batch):
            x = (torch.from_numpy(imgs[i:i + a.batch]).float() / 255 - m) / s
            out = models.exits_shallow_to_deep(a.arch, model(x))
            [o.argmax(1) for o in out]
    sec = time.perf_counter() - t0
    print(json.dumps({"seconds": sec, "threads": torch.get_num_threads(),
                      "coretype": os.environ.get("OPENBLAS_CORETYPE", "(unset)")}))


def eval_json(eeprof, ckpt, data, batch, threads, n):
    out = subprocess.run([eeprof, "eval", ckpt, "--data", "h5:" + data, "--batch", str(batch),
                          "--threads", str(threads), "--limit", str(n), "--json"],
                         env=env_without_coretype(), check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)


def run_eeprof(eeprof, ckpt, data, batch, threads, n):
    return eval_json(eeprof, ckpt, data, batch, threads, n)["timing"]["inference_seconds"]


def run_torch(model, ckpt, data, batch, threads, n):
    out = subprocess.run([PY, __file__, "--torch-worker", "--arch", model["arch"], "--kw",
                          json.dumps(model["kw"]), "--ckpt", ckpt, "--data", data, "--batch",
                          str(batch), "--threads", str(threads), "--n", str(n)],
                         env=env_without_coretype(), check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)["seconds"]


def peak_section(fmapeak):
    """Per-core FMA peak (median of REPEATS runs, CPU time) and the machine's."""
    print("\n## FMA peak (tools/fmapeak.c: 12 chains of FMAs per thread)", flush=True)
    got = {}
    for threads in (1, os.cpu_count()):
        runs = [json.loads(subprocess.run([fmapeak, str(threads)], check=True,
                                          stdout=subprocess.PIPE, text=True).stdout)
                for _ in range(REPEATS)]
        core = statistics.median(r["per_core_gflops"] for r in runs)
        wall = [r["wall_gflops"] for r in runs]
        got[threads] = core
        print("  %d thread(s), %s: %.1f GFLOP/s per core while running (median of %d, %.1f-%.1f); "
              "wall clock with the machine's other load %.1f GFLOP/s (%.1f-%.1f)" %
              (threads, runs[0]["isa"], core, REPEATS,
               min(r["per_core_gflops"] for r in runs), max(r["per_core_gflops"] for r in runs),
               statistics.median(wall), min(wall), max(wall)), flush=True)
    core = got[1]
    print("  peak: %.1f GFLOP/s per core, %.1f GFLOP/s for the machine's %d CPUs" %
          (core, core * os.cpu_count(), os.cpu_count()))
    return core


def layers_section(eeprof, models):
    """The five MAC layers furthest below each model's average GFLOP/s, in CPU time (thread
    CPU time per layer, PAPI): on a shared machine wall time mostly measures the waits."""
    print("\n## Five layers furthest below each model's average GFLOP/s (eeprof run --layers, "
          "all-exits pass, batch 64, 1 thread; GFLOP/s from each layer's thread CPU time)",
          flush=True)
    for model, ckpt, data in models:
        n = model["images"][64]
        out = subprocess.run([eeprof, "run", ckpt, "--data", "h5:" + data, "--threshold", "0.9",
                              "--counters", "none", "--batch", "64", "--limit", str(n), "--json"],
                             env=env_without_coretype(), check=True, stdout=subprocess.PIPE,
                             text=True)
        layers = [l for l in json.loads(out.stdout)["layers"]
                  if l["macs"] > 0 and (l["cpu_seconds"] or 0) > 0]
        macs, cpu = sum(l["macs"] for l in layers), sum(l["cpu_seconds"] for l in layers)
        avg = 2e-9 * macs / cpu
        print("\n%s: %d MAC layers, average %.1f GFLOP/s\n" % (model["name"], len(layers), avg))
        print("| layer | kind | MACs/sample | CPU us/sample | GFLOP/s | vs average | share of "
              "MAC-layer CPU time |")
        print("|---|---|--:|--:|--:|--:|--:|")
        for l in sorted(layers, key=lambda l: l["macs"] / l["cpu_seconds"])[:5]:
            g = 2e-9 * l["macs"] / l["cpu_seconds"]
            print("| %s | %s | %.3gM | %.1f | %.1f | %.2fx | %.1f%% |" %
                  (l["name"], l["kind"], l["macs"] / l["samples"] / 1e6,
                   1e6 * l["cpu_seconds"] / l["samples"], g, g / avg,
                   100 * l["cpu_seconds"] / cpu), flush=True)


def two_vs_one(eeprof, ckpt, data, batch, n):
    """Median img/s with 1 and 2 threads over REPEATS alternated pairs, the ratio of the
    medians, and the lowest and highest ratio of one pair."""
    one, two = [], []
    for i in range(REPEATS):
        order = (1, 2) if i % 2 == 0 else (2, 1)
        got = {t: n / run_eeprof(eeprof, ckpt, data, batch, t, n) for t in order}
        one.append(got[1])
        two.append(got[2])
    ratios = [b / a for a, b in zip(one, two)]
    m1, m2 = statistics.median(one), statistics.median(two)
    return m1, m2, m2 / m1, min(ratios), max(ratios)


def threads_section(eeprof, models):
    print("\n## 2 threads vs 1 (eeprof eval; medians of %d alternated pairs, spread = lowest "
          "and highest ratio of a pair)" % REPEATS, flush=True)
    rows = []
    for model, ckpt, data in models:
        for batch in PAIR_BATCHES:
            n = model["images"][batch]
            r = two_vs_one(eeprof, ckpt, data, batch, n)
            rows.append((model["name"], batch, n) + r)
            print("  %-44s batch %2d: 1 thread %8.1f img/s  2 threads %8.1f img/s  %.2fx "
                  "(%.2f-%.2f)%s" % ((model["name"], batch) + r +
                                     ("" if r[2] >= 1.0 else "  LOSES",)), flush=True)
    print("\n| model | batch | images | 1 thread img/s | 2 threads img/s | 2 vs 1 | spread |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print("| %s | %d | %d | %.1f | %.1f | %.2fx | %.2f-%.2f |" % r)
    return rows


def prepare(model, work):
    """The checkpoint and an image file. Models without a sample get random weights and
    BN statistics calibrated on the bench images, and EMG thresholds that open about half
    of the gates (tests/parity/make_case.py), then are exported like any checkpoint."""
    import torch
    from checkpoints.models import build
    sys.path.insert(0, os.path.join(TOP, "tests", "parity"))
    import make_case
    data = os.path.join(work, "images.h5")
    n = max(model["images"].values())
    imgs = np.random.default_rng(0).integers(0, 256, (n,) + model["shape"], dtype=np.uint8)
    with h5py.File(data, "w") as f:
        f["images"] = imgs
        f["labels"] = np.zeros(n, dtype=np.int64)
    if model.get("sample"):
        return os.path.join(TOP, model["sample"]), data
    gen = torch.Generator().manual_seed(0)
    net = build(model["arch"], **model["kw"])
    make_case.randomize(net, gen)
    net.eval()
    make_case.calibrate(net, torch.from_numpy(imgs[:16]).float() / 255 - 0.5, gen)
    pth = os.path.join(work, "model.pth")
    torch.save(net.state_dict(), pth)
    ckpt = os.path.join(work, "model.h5")
    subprocess.run([PY, os.path.join(TOP, "checkpoints/export.py"), pth, ckpt, "--input-shape",
                    ",".join(map(str, model["shape"])), "--norm", model["norm"]], check=True,
                   stdout=subprocess.DEVNULL)
    return ckpt, data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("eeprof", nargs="?")
    p.add_argument("--torch-worker", action="store_true")
    p.add_argument("--arch"), p.add_argument("--kw"), p.add_argument("--ckpt")
    p.add_argument("--data"), p.add_argument("--batch", type=int)
    p.add_argument("--threads", type=int), p.add_argument("--n", type=int)
    p.add_argument("--only", default="")
    p.add_argument("--section", default="peak,threads,pytorch,layers",
                   help="comma-separated: peak (FMA peak), threads (2 vs 1 thread), pytorch "
                   "(eeprof vs PyTorch), layers (five slowest layers per model)")
    p.add_argument("--fmapeak", help="the FMA-peak program (make bench builds build/fmapeak)")
    p.add_argument("--threads-list", type=lambda s: [int(v) for v in s.split(",")], default=[1, 2])
    a = p.parse_args()
    if a.torch_worker:
        return torch_worker(a)
    eeprof = os.path.abspath(a.eeprof)
    import torch
    print("bench: eeprof vs PyTorch %s, same exported weights, same images and threads;" %
          torch.__version__)
    print("bench: OPENBLAS_CORETYPE unset for both sides (was %s); medians of %d interleaved runs"
          % (os.environ.get("OPENBLAS_CORETYPE", "unset"), REPEATS))
    print("bench: %d CPUs, load average %s at the start (other work on the machine skews "
          "both sides)" % (os.cpu_count(), open("/proc/loadavg").read().split()[0]))
    sections = a.section.split(",")
    peak = peak_section(a.fmapeak) if "peak" in sections and a.fmapeak else None
    with tempfile.TemporaryDirectory() as work:
        models = []
        for i, model in enumerate(m for m in MODELS if a.only in m["name"]):
            d = os.path.join(work, str(i))
            os.mkdir(d)
            models.append((model,) + prepare(model, d))
        if "threads" in sections:
            threads_section(eeprof, models)
        if "pytorch" in sections:
            pytorch_section(eeprof, models, a.threads_list, peak)
        if "layers" in sections:
            layers_section(eeprof, [m for m in models if 64 in m[0]["images"]])


def pytorch_section(eeprof, models, threads_list, peak):
    print("\n## eeprof vs PyTorch (medians of %d interleaved runs; spread = lowest and highest "
          "ratio of a pair)" % REPEATS, flush=True)
    rows = []
    for model, ckpt, data in models:
        if "arch" not in model:
            continue
        for threads, batch in itertools.product(threads_list, (1, 64)):
            n = model["images"][batch]
            ee, pt = [], []
            for _ in range(REPEATS):
                d = eval_json(eeprof, ckpt, data, batch, threads, n)
                ee.append(n / d["timing"]["inference_seconds"])
                pt.append(n / run_torch(model, ckpt, data, batch, threads, n))
            macs = d["exits"][-1]["macs_cascade_mean"]
            e, t = statistics.median(ee), statistics.median(pt)
            ratios = [a / b for a, b in zip(ee, pt)]
            gflops = 2e-9 * macs * e
            share = "%.0f%%" % (100 * gflops / (peak * threads)) if peak else "n/a"
            rows.append((model["name"], threads, batch, n, e, t, e / t, min(ratios), max(ratios),
                         gflops, share))
            print("  %-34s threads %d batch %2d: eeprof %8.1f img/s  PyTorch %8.1f img/s"
                  "  ratio %.2fx (%.2f-%.2f)  %.1f GFLOP/s, %s of peak" %
                  (rows[-1][:3] + rows[-1][4:]), flush=True)
    print("\n| model | threads | batch | images | eeprof img/s | PyTorch img/s | eeprof/PyTorch "
          "| spread | eeprof GFLOP/s | share of peak |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print("| %s | %d | %d | %d | %.1f | %.1f | %.2fx | %.2f-%.2f | %.1f | %s |" % r)


if __name__ == "__main__":
    sys.exit(main())
