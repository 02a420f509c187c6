#!/usr/bin/python3
"""bench.py EEPROF - eeprof against PyTorch 1.13 on the same weights (make bench).

For every model below, threads 1 and 2, batch 1 and 64: the same images through
`eeprof eval --data h5:FILE` (timing.inference_seconds: preprocessing, forward
passes, argmax) and through our PyTorch reference model loaded with the same
exported weights (preprocessing, forward, argmax, under torch.no_grad in eval
mode, torch.set_num_threads). Each side runs as its own process, interleaved,
REPEATS times; the table shows medians and the ratio of the medians.

OPENBLAS_CORETYPE is removed from the environment of both sides (OpenBLAS then
picks its kernels by CPU detection); both print which setting they ran with.
"""
import argparse
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
                 stem="3x3"), shape=(3, 32, 32), images={1: 24, 64: 128}, norm="cifar10"),
    dict(name="emgnet56-cifar100 (random, ~half gates open)", arch="emgnet",
         kw=dict(variant="cifar", depth=56, num_classes=100, in_channels=3), shape=(3, 32, 32),
         images={1: 64, 64: 512}, norm="cifar100"),
    dict(name="byot-resnet18-cifar100 (random)", arch="sdresnet",
         kw=dict(block="basic", layers=(2, 2, 2, 2), width=64, num_classes=100, in_channels=3),
         shape=(3, 32, 32), images={1: 16, 64: 128}, norm="cifar10"),
    dict(name="resnet20 sample (fashion-mnist)", arch="resnet-cifar",
         sample="checkpoints/samples/resnet20-fmnist.h5",
         kw=dict(depth=20, num_classes=10, in_channels=1, option="A"), shape=(1, 32, 32),
         images={1: 128, 64: 1024}),
]


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


def run_eeprof(eeprof, ckpt, data, batch, threads, n):
    out = subprocess.run([eeprof, "eval", ckpt, "--data", "h5:" + data, "--batch", str(batch),
                          "--threads", str(threads), "--limit", str(n), "--json"],
                         env=env_without_coretype(), check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)["timing"]["inference_seconds"]


def run_torch(model, ckpt, data, batch, threads, n):
    out = subprocess.run([PY, __file__, "--torch-worker", "--arch", model["arch"], "--kw",
                          json.dumps(model["kw"]), "--ckpt", ckpt, "--data", data, "--batch",
                          str(batch), "--threads", str(threads), "--n", str(n)],
                         env=env_without_coretype(), check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)["seconds"]


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
    rows = []
    for model in MODELS:
        if a.only not in model["name"]:
            continue
        with tempfile.TemporaryDirectory() as work:
            ckpt, data = prepare(model, work)
            for threads in a.threads_list:
                for batch in (1, 64):
                    n = model["images"][batch]
                    ee, pt = [], []
                    for _ in range(REPEATS):
                        ee.append(n / run_eeprof(eeprof, ckpt, data, batch, threads, n))
                        pt.append(n / run_torch(model, ckpt, data, batch, threads, n))
                    e, t = statistics.median(ee), statistics.median(pt)
                    rows.append((model["name"], threads, batch, n, e, t, e / t))
                    print("  %-34s threads %d batch %2d: eeprof %8.1f img/s  PyTorch %8.1f img/s"
                          "  ratio %.2fx" % (model["name"], threads, batch, e, t, e / t), flush=True)
    print("\n| model | threads | batch | images | eeprof img/s | PyTorch img/s | eeprof/PyTorch |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        print("| %s | %d | %d | %d | %.1f | %.1f | %.2fx |" % r)


if __name__ == "__main__":
    sys.exit(main())
