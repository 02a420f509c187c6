#!/usr/bin/python3
"""train_bench.py - seconds per training step of checkpoints/train.py's own loop, without
training an epoch (the EMGNet sample's recipe by default), for one or several versions of
the code taking steps in turn.

    /usr/bin/python3 tools/train_bench.py [--root DIR]... [--steps N] [train.py options]

Each version (--root DIR: the tree whose checkpoints/ is used, e.g. made by
`git archive REV checkpoints | tar -x -C DIR`; default this tree) runs in a process of its
own, which builds the model and calls train.py's train_epoch on one batch at a time (data
preparation with augmentation, forward, the family's loss, backward, SGD step). After 2
warm-up steps each, the versions take N steps (default 10) in turn, one step each, so that
they meet the same load on a shared machine; the median wall and CPU (process) seconds per
step are printed, with the same per epoch (55,000 images at the batch size). CPU seconds
are what the step costs the machine and vary much less than wall seconds where other work
holds the cores (with --threads 1 they are the step's own work). Default train.py options:
--arch emgnet --model variant=cifar depth=20 width=8 --alpha 1e-3 --augment --threads 1
(options given replace them all).
"""
import math
import os
import statistics
import subprocess
import sys
import time

DEFAULT = ["--arch", "emgnet", "--model", "variant=cifar", "depth=20", "width=8",
           "--alpha", "1e-3", "--augment", "--threads", "1"]
TRAIN_IMAGES = 55000
HERE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(root, opts):
    """One version: build, then on every input line take one step and print its wall and
    CPU seconds."""
    sys.path.insert(0, root)
    import torch
    from checkpoints import models, train
    from checkpoints.models.emgnet import use_training_form
    a = train.parse_args(opts + ["--name", "bench"])
    arch, kw = train.resolve_run(a)
    train.keep_freed_memory()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    data = train.load_data(a)
    model = models.build(arch, **kw)
    use_training_form(model, not a.reference_emg)
    opt = train.make_optimizer(model, a)
    sched = train.Schedule(a, TRAIN_IMAGES)
    x, y = data["train"]
    print("ready %s %s, batch %d, %d thread(s)" % (arch, " ".join(
        "%s=%s" % kv for kv in sorted(kw.items())), a.batch, a.threads), flush=True)
    step = 0
    for _ in sys.stdin:
        s = (step * a.batch) % (x.shape[0] - a.batch)
        one = {"train": (x[s:s + a.batch], y[s:s + a.batch])}
        w0, c0 = time.perf_counter(), time.process_time()
        _, step, _ = train.train_epoch(arch, model, opt, sched, step, one, a, gen)
        print("%.6f %.6f" % (time.perf_counter() - w0, time.process_time() - c0), flush=True)


def main(argv):
    roots, steps = [], 10
    while argv and argv[0] in ("--root", "--steps", "--worker"):
        if argv[0] == "--worker":
            return worker(argv[1], argv[2:])
        if len(argv) < 2:
            raise SystemExit("train_bench.py: error: %s needs a value" % argv[0])
        if argv[0] == "--root":
            roots.append(os.path.abspath(argv[1]))
        else:
            steps = int(argv[1])
        argv = argv[2:]
    roots = roots or [HERE_ROOT]
    opts = argv or DEFAULT
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", r] + opts,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for r in roots]
    what = [p.stdout.readline().strip() for p in procs]
    times = [[] for _ in procs]
    for k in range(2 + steps):
        for p, t in zip(procs, times):
            p.stdin.write("\n")
            p.stdin.flush()
            line = p.stdout.readline().split()
            if len(line) != 2:
                raise SystemExit("train_bench.py: error: a worker stopped")
            if k >= 2:
                t.append([float(v) for v in line])
    for p in procs:
        p.stdin.close()
        p.wait()
    batch = int(opts[opts.index("--batch") + 1]) if "--batch" in opts else 128
    per_epoch = math.ceil(TRAIN_IMAGES / batch)
    for r, w, t in zip(roots, what, times):
        wall = statistics.median(v[0] for v in t)
        cpu = statistics.median(v[1] for v in t)
        print("train_bench: %s: %s, %d steps in turn with %d other version(s): median wall "
              "%.3f s/step (%.0f s/epoch), CPU %.3f s/step (%.0f s/epoch of %d steps)"
              % (r, w[len("ready "):], steps, len(roots) - 1, wall, wall * per_epoch, cpu,
                 cpu * per_epoch, per_epoch), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
