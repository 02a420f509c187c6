#!/usr/bin/python3
"""train.py - train a reference model on Fashion-MNIST and export it for eeprof.

    /usr/bin/python3 checkpoints/train.py --preset emgnet20-w8-fmnist    (a bundled sample, as
        committed: the preset carries its epochs, alpha and augmentation; flags override)
    /usr/bin/python3 checkpoints/train.py --arch emgnet --model variant=cifar depth=20 \
        --name emgnet20-fmnist --epochs 10 --alpha 1e-4
    /usr/bin/python3 checkpoints/train.py --resume /tmp/eeprof-train/emgnet20-fmnist/run
        (continue a stopped run; see "Resuming" below)

Data: the gzipped IDX files of /usr/share/datasets/fashion-mnist read with numpy (no
torchvision). Inputs are prepared exactly as eeprof's dataset reader does
(plugins/dataset.h): pixels / 255 in float32, zero-padded 28 -> 32 (2 px each side), then
(x - 0.2860) / 0.3530. The LAST 5,000 training images are the validation split, the first
55,000 are trained on; the 10,000 t10k images are the test split. Augmentation (training
only, unless --no-augment): random crop 32 from the padded image with 2 more px of zero
padding, and horizontal flip, both before the normalisation (as torchvision's
RandomCrop/Flip before Normalize).

Optimisation: SGD, momentum 0.9, Nesterov, batch 128, weight decay (not on EMG thresholds),
learning rate warmed up linearly over the first half epoch, then cosine to 0. The model
with the best validation accuracy of the deepest exit (the logit-mean ensemble for the
journal code, which selects that way: SELECTED_BY in the family module) is kept.

Each family's loss is its public code's (EMGNet's: the paper's), written in the family's
module, checkpoints/models/<family>.py (loss(), LOSS_TEXT):
  resnet, resnet-cifar  cross-entropy
  sdresnet (BYOT)       (1-a) sum_exits CE + a T^2 sum_{i<4} KD_T(out_i, out4) + b sum_{i<4}
                        F(feat_i, feat4), T = 3, a = 0.1, b = 1e-6, F = masked squared L2
  scan                  CE(out4) + sum_{i<4} [9 l SoftCE_3(out_i, out4) + (1-l) CE(out_i)]
                        + 5e-7 feature_loss, l = 0.5
  sdresnet-tpami        CE(out4) + sum_{i<4} [0.3 SoftCE_3(out_i, out4) + 0.7 CE(out_i)]
                        + 0.03 sum_{exits 2,1} ||adapt(feat_i) - feat4||_2
  emgnet                sum_exits CE + alpha sum_{all MLConv2d channels} exp(-t), with the
                        BinaryStep surrogate gradient (paper eq. 6-7); --alpha
(The teacher terms always use out4/feat4 detached.) EMGNet trains with the faster but
equivalent training form of MLConv2d (TrainingMLConv2d in checkpoints/models/emgnet.py)
unless --reference-emg.

Resuming: after every epoch the run's state is written atomically to RUN_DIR/state.pt
(--run-dir, default WORK/NAME/run: model, optimiser with its momentum buffers, the
learning-rate step, the torch/numpy/python random states and the data-order generator's,
the best validation score with its epoch and weights, the training seconds so far, one
history entry per epoch), its settings once to RUN_DIR/run.json and the progress lines to
RUN_DIR/log.txt. `train.py --resume RUN_DIR` continues from the last completed epoch and
gives the same weights, bit for bit, as a run that was never stopped (with the same
--threads; tests/parity/test_models.py checks it). --max-seconds S stops at the end of the
epoch after which another one would pass S seconds of this invocation, resumable, without
exporting. A finished run is evaluated and exported when its last epoch ends (and again by
--resume).

The trained model is saved the way its public repository saves it (the family's save():
akamaster dict with `state_dict` and `best_prec1` for resnet-cifar, BYOT's DataParallel
dict, bare state_dicts otherwise) under --work, then exported with checkpoints/export.py to
checkpoints/samples/<name>.h5 with attributes recipe, seed, epochs, train_seconds and
/eval/test_accuracy, /eval/val_accuracy (fractions, per exit, shallow -> deep, measured by
PyTorch on the 10,000 test and 5,000 validation images) and /eval/test_macs_mean (mean
executed MACs per exit on the test images, standalone).
"""
import argparse
import gzip
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from checkpoints import export as exporter  # noqa: E402
from checkpoints import models  # noqa: E402
from checkpoints.models.emgnet import MLConv2d, use_training_form  # noqa: E402
from checkpoints.models.macs import MacCounter  # noqa: E402
from checkpoints.models.norms import PRESETS as NORMS  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
NORM = "fashion-mnist"
MEAN, STD = NORMS[NORM].mean[0], NORMS[NORM].std[0]
VAL_SIZE = 5000
PAD = 2                                  # 28 -> 32

PRESETS = {
    "resnet20-fmnist": dict(arch="resnet-cifar",
                            model=dict(depth=20, option="A", in_channels=1, num_classes=10)),
    "resnet18-w16-fmnist": dict(arch="resnet",
                                model=dict(block="basic", layers=[2, 2, 2, 2], width=16,
                                           stem="3x3", in_channels=1, num_classes=10)),
    "sdresnet18-w16-fmnist": dict(arch="sdresnet",
                                  model=dict(block="basic", width=16, in_channels=1,
                                             num_classes=10)),
    "scan18-w16-fmnist": dict(arch="scan", model=dict(block="basic", width=16, in_channels=1,
                                                      num_classes=10)),
    "sdtpami18-w16-fmnist": dict(arch="sdresnet-tpami",
                                 model=dict(block="basic", width=16, in_channels=1,
                                            num_classes=10, adaptation_layers=True)),
    "emgnet20-fmnist": dict(arch="emgnet", model=dict(variant="cifar", depth=20, in_channels=1,
                                                      num_classes=10)),
    # The bundled early-exit samples (issue 18's equal-effort recipe: 12 epochs, crop and
    # flip, seed 1; checkpoints/runs/README.md): SD-ResNet-18 and SCAN-18 at width 7, whose
    # deepest exits cost 6.688M MACs, close to EMGNet-20 w8's 5.015M-6.883M. All three were
    # trained with --threads 1 (a run is bit-reproducible only with the same thread count).
    "sdresnet18-w7-fmnist": dict(arch="sdresnet", model=dict(block="basic", width=7,
                                                             in_channels=1, num_classes=10),
                                 train=dict(epochs=12)),
    "scan18-w7-fmnist": dict(arch="scan", model=dict(block="basic", width=7, in_channels=1,
                                                     num_classes=10),
                             train=dict(epochs=12)),
    # EMGNet-20 at half width, the same recipe; alpha 1e-3 chosen on the validation split
    # for the earlier 3-epoch sample (README, "Sample checkpoints").
    "emgnet20-w8-fmnist": dict(arch="emgnet", model=dict(variant="cifar", depth=20, width=8,
                                                         in_channels=1, num_classes=10),
                               train=dict(epochs=12, alpha=1e-3)),
}
# Training settings that a preset may change (its "train" entry): the committed samples are
# reproduced by `train.py --preset NAME` (--threads 1 for the early-exit ones). Flags given
# on the command line win.
TRAIN_DEFAULTS = dict(epochs=5, alpha=1e-4, augment=True)
# What a run directory records of the command line (run.json), so that --resume continues
# with the same settings; the rest of the state (state.pt) changes after every epoch.
RUN_SETTINGS = ("arch", "model", "name", "epochs", "seed", "batch", "lr", "wd", "alpha",
                "augment", "reference_emg", "max_train", "max_eval", "threads")
RUN_FILE, STATE_FILE, LOG_FILE = "run.json", "state.pt", "log.txt"


# ---------------------------------------------------------------- data

def read_idx(path):
    """IDX file (gzipped or not) -> numpy array (uint8 images [N,H,W] or labels [N])."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise SystemExit("train.py: error: %s: not an unsigned-byte IDX file" % path)
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    off = 4 + 4 * ndim
    n = int(np.prod(dims))
    if len(data) - off != n:
        raise SystemExit("train.py: error: %s: size does not match its header" % path)
    return np.frombuffer(data, dtype=np.uint8, offset=off).reshape(dims)


def load_split(data_dir, which):
    """which = 'train' or 't10k' -> (uint8 [N,1,28,28] tensor, int64 labels)."""
    def find(stem):
        for p in (os.path.join(data_dir, stem + ".gz"), os.path.join(data_dir, stem)):
            if os.path.exists(p):
                return p
        raise SystemExit("train.py: error: %s not found in %s" % (stem, data_dir))
    x = read_idx(find("%s-images-idx3-ubyte" % which))
    y = read_idx(find("%s-labels-idx1-ubyte" % which))
    if x.shape[0] != y.shape[0]:
        raise SystemExit("train.py: error: %s images and labels differ in count" % which)
    return torch.from_numpy(x.copy()).unsqueeze(1), torch.from_numpy(y.astype(np.int64))


def to_input(u8, crop=None, flip=None):
    """uint8 [B,1,28,28] -> normalised float32 [B,1,32,32], as eeprof prepares inputs.
    crop: int offsets [B,2] in 0..4 (training augmentation: an extra 2 px zero pad, then a
    32x32 window); flip: bool [B] (horizontal)."""
    x = u8.float().div(255.0)                                    # ToTensor
    if crop is None:
        x = F.pad(x, (PAD, PAD, PAD, PAD))                       # 28 -> 32, zeros
    else:
        big = F.pad(x, (2 * PAD, 2 * PAD, 2 * PAD, 2 * PAD))     # 28 -> 36
        out = torch.empty(x.shape[0], 1, 32, 32)
        for i in range(x.shape[0]):
            r, c = int(crop[i, 0]), int(crop[i, 1])
            out[i] = big[i, :, r:r + 32, c:c + 32]
        x = out
    if flip is not None:
        x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    return (x - MEAN) / STD                                      # Normalize


# ---------------------------------------------------------------- memory

def keep_freed_memory():
    """Ask glibc to keep freed tensors' memory for reuse instead of returning it to the
    system: every batch allocates the same few-megabyte activations again, and with glibc's
    defaults (mmap above a dynamic threshold, trimming of the heap top) each allocation
    page-faults its memory afresh. A depthwise 5x5 convolution of [128, 16, 32, 32] took
    16-18 ms with the defaults and 4 ms with these settings here; a whole EMGNet training
    step (batch 128, 2 threads) about 5% less. The values are glibc's
    environment tunables MALLOC_MMAP_THRESHOLD_ (its 32 MiB maximum), MALLOC_TRIM_THRESHOLD_
    and MALLOC_TOP_PAD_; nothing happens where mallopt() is missing."""
    import ctypes
    import ctypes.util
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    mallopt(M_MMAP_THRESHOLD, 32 << 20)
    mallopt(M_TRIM_THRESHOLD, 1 << 30)
    mallopt(M_TOP_PAD, 256 << 20)


# ---------------------------------------------------------------- evaluation

class GateCounter:
    """Open-gate ratio of every MLConv2d (EMGNet) over the images evaluated: the fraction of
    (image, channel) pairs whose 5x5 ring is used. The gate is recomputed in a forward hook
    from the module's input with the module's own ops, in the reference forward's order."""

    def __init__(self, model):
        self.names, self.open, self.total, self.handles = [], [], [], []
        for name, mod in model.named_modules():
            if isinstance(mod, MLConv2d):
                self.handles.append(mod.register_forward_hook(self._hook(len(self.names))))
                self.names.append(name)
                self.open.append(0)
                self.total.append(0)

    def _hook(self, k):
        def hook(mod, inputs, output):
            gate = (torch.sigmoid(mod.gate_logit(mod.inner(inputs[0]))) - 0.5) > 0
            self.open[k] += int(gate.sum())
            self.total[k] += gate.numel()
        return hook

    def ratios(self):
        return [o / t if t else 0.0 for o, t in zip(self.open, self.total)]

    def remove(self):
        for h in self.handles:
            h.remove()


def gate_summary(names, ratios):
    """Mean open ratio per top-level module (layer1, branch1, ...), for the progress line."""
    groups = {}
    for n, r in zip(names, ratios):
        groups.setdefault(n.split(".")[0], []).append(r)
    return " ".join("%s %.2f" % (g, sum(v) / len(v)) for g, v in groups.items())


@torch.no_grad()
def evaluate(arch, model, x_u8, y, batch=500, count_macs=False, gates=None):
    """-> (per-exit accuracy list, ensemble accuracy, mean standalone MACs per exit or None).
    gates: a dict, filled with the EMGNet open-gate ratios {"names": [...], "ratios": [...]}."""
    model.eval()
    counter = MacCounter(model, arch) if count_macs else None
    gcount = GateCounter(model) if gates is not None else None
    correct, ens_correct, macs_sum = None, 0, None
    for s in range(0, x_u8.shape[0], batch):
        xb, yb = to_input(x_u8[s:s + batch]), y[s:s + batch]
        if counter:
            counter.reset()
        exits = models.exits_shallow_to_deep(arch, model(xb))
        hits = torch.tensor([(e.argmax(1) == yb).sum().item() for e in exits], dtype=torch.float64)
        correct = hits if correct is None else correct + hits
        ens_correct += (torch.stack(exits).mean(0).argmax(1) == yb).sum().item()
        if counter:
            m = counter.per_exit(len(exits))["macs"].sum(dim=1)
            macs_sum = m if macs_sum is None else macs_sum + m
    if counter:
        counter.remove()
    if gcount:
        gcount.remove()
        gates["names"], gates["ratios"] = gcount.names, gcount.ratios()
    n = x_u8.shape[0]
    return ((correct / n).tolist(), ens_correct / n,
            (macs_sum / n).tolist() if macs_sum is not None else None)


# ---------------------------------------------------------------- the steps of main()

def parse_model_args(items):
    kw = {}
    for it in items or []:
        if "=" not in it:
            raise SystemExit("train.py: error: --model takes key=value, got %r" % it)
        k, v = it.split("=", 1)
        try:
            kw[k] = json.loads(v)
        except ValueError:
            kw[k] = v
    return kw


def parse_args(argv):
    p = argparse.ArgumentParser(prog="train.py", description=__doc__.split("\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS))
    p.add_argument("--arch", choices=models.ARCHS)
    p.add_argument("--model", nargs="*", help="build() arguments key=value (JSON values)")
    p.add_argument("--name", help="sample name (default: the preset)")
    p.add_argument("--epochs", type=int,
                   help="default %(epochs)d, or the preset's" % TRAIN_DEFAULTS)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--wd", type=float, default=5e-4)
    p.add_argument("--alpha", type=float,
                   help="EMGNet threshold regulariser (default %(alpha)g, or the preset's)"
                   % TRAIN_DEFAULTS)
    p.add_argument("--reference-emg", action="store_true",
                   help="train EMGNet with the reference MLConv2d forward (slow here)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction,
                   help="random crop and flip (default on, or the preset's)")
    p.add_argument("--max-train", type=int, default=0, help="use only N training images (tests)")
    p.add_argument("--max-eval", type=int, default=0,
                   help="use only the first N validation and test images (tests)")
    p.add_argument("--data", default=DATA_DIR)
    p.add_argument("--out", default=os.path.join(HERE, "samples"))
    p.add_argument("--work", default="/tmp/eeprof-train")
    p.add_argument("--threads", type=int,
                   help="torch threads (default 2, or the resumed run's; at most 2 here, 1 is "
                        "faster when the other core is busy)")
    p.add_argument("--max-seconds", type=float, default=0,
                   help="stop at the end of the epoch after which another one would pass this "
                        "many seconds of this invocation; the run stays resumable (--resume) "
                        "and nothing is exported")
    p.add_argument("--run-dir",
                   help="where the run's state is saved after every epoch (default "
                        "WORK/NAME/run); must not hold a run already")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue the run saved in RUN_DIR from its last completed epoch, "
                        "with its settings (only --max-seconds, --threads, --data, --out and "
                        "--work may be given); a finished run is evaluated and exported again")
    a = p.parse_args(argv)
    if a.resume:
        given = [k for k in RUN_SETTINGS + ("preset", "run_dir") if k != "threads"
                 and getattr(a, k) != p.get_default(k)]
        if given:
            p.error("--resume takes the run's settings from %s; drop %s"
                    % (os.path.join(a.resume, RUN_FILE),
                       ", ".join("--" + k.replace("_", "-") for k in given)))
        return a
    if not a.preset and not a.arch:
        p.error("give --preset or --arch")
    a.name = a.name or a.preset
    if not a.name:
        p.error("give --name")
    return a


def resolve_run(a):
    """-> (arch, build kwargs) from the preset and --arch/--model; fills in the training
    settings neither the command line nor the preset gave (TRAIN_DEFAULTS)."""
    if a.preset:
        arch, kw = PRESETS[a.preset]["arch"], dict(PRESETS[a.preset]["model"])
    else:
        arch, kw = a.arch, {}
    kw.update(parse_model_args(a.model))
    preset_train = PRESETS[a.preset].get("train", {}) if a.preset else {}
    for key, value in dict(TRAIN_DEFAULTS, **preset_train).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    if "layers" in kw and isinstance(kw["layers"], list):
        kw["layers"] = tuple(kw["layers"])
    kw.setdefault("in_channels", 1)
    kw.setdefault("num_classes", 10)
    a.arch, a.model, a.threads = arch, kw, a.threads or 2
    return arch, kw


def load_data(a):
    """-> {"train": (x, y), "val": ..., "test": ...}: uint8 images and labels."""
    xtr_all, ytr_all = load_split(a.data, "train")
    xte, yte = load_split(a.data, "t10k")
    xtr, ytr = xtr_all[:-VAL_SIZE], ytr_all[:-VAL_SIZE]
    if a.max_train:
        xtr, ytr = xtr[:a.max_train], ytr[:a.max_train]
    xva, yva = xtr_all[-VAL_SIZE:], ytr_all[-VAL_SIZE:]
    if a.max_eval:
        xva, yva, xte, yte = xva[:a.max_eval], yva[:a.max_eval], xte[:a.max_eval], yte[:a.max_eval]
    return {"train": (xtr, ytr), "val": (xva, yva), "test": (xte, yte)}


def make_optimizer(model, a):
    """SGD with Nesterov momentum; no weight decay on the EMG thresholds."""
    decay, no_decay = [], []
    for n, prm in model.named_parameters():
        if not prm.requires_grad:
            continue
        (no_decay if n.endswith("threshold") else decay).append(prm)
    return torch.optim.SGD([{"params": decay, "weight_decay": a.wd},
                            {"params": no_decay, "weight_decay": 0.0}],
                           lr=a.lr, momentum=0.9, nesterov=True)


class Schedule:
    """Linear warm-up over the first half epoch, then cosine to 0, per step."""

    def __init__(self, a, train_images):
        self.lr = a.lr
        self.steps_per_epoch = math.ceil(train_images / a.batch)
        self.total = a.epochs * self.steps_per_epoch
        self.warm = max(1, self.steps_per_epoch // 2)

    def at(self, step):
        return (self.lr * min(1.0, (step + 1) / self.warm)
                * 0.5 * (1 + math.cos(math.pi * step / self.total)))


def recipe_text(arch, kw, a, sched, threads):
    fam = models.family(arch)
    return ("arch %s %s; Fashion-MNIST 55k train (last 5k of train = val), x/255, zero-pad "
            "28->32, normalise %.4f/%.4f%s; SGD nesterov momentum 0.9, batch %d, lr %g "
            "(linear warm-up %d steps, cosine to 0), wd %g; loss: %s; %d epochs, seed %d, "
            "%s; best val (%s) kept; checkpoints/train.py"
            % (arch, json.dumps(kw, sort_keys=True), MEAN, STD,
               ", random crop (pad 2) + h-flip" if a.augment else "",
               a.batch, a.lr, sched.warm, a.wd, fam.LOSS_TEXT % {"alpha": a.alpha},
               a.epochs, a.seed, threads, fam.SELECTED_BY))


def has_gates(model):
    return any(isinstance(m, MLConv2d) for m in model.modules())


def train_epoch(arch, model, opt, sched, step, data, a, gen):
    """One pass over the training images in a random order -> (mean loss, next step, lr)."""
    fam = models.family(arch)
    xtr, ytr = data["train"]
    model.train()
    perm = torch.randperm(xtr.shape[0], generator=gen)
    loss_sum, seen, lr = 0.0, 0, sched.lr
    for s in range(0, xtr.shape[0], a.batch):
        idx = perm[s:s + a.batch]
        b = idx.shape[0]
        if not a.augment:
            xb = to_input(xtr[idx])
        else:
            crop = torch.randint(0, 2 * PAD + 1, (b, 2), generator=gen)
            flip = torch.rand(b, generator=gen) < 0.5
            xb = to_input(xtr[idx], crop, flip)
        lr = sched.at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = fam.loss(model, model(xb), ytr[idx], a)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        loss_sum += loss.item() * b
        seen += b
    return loss_sum / seen, step, lr


# ---------------------------------------------------------------- the run's state

def write_atomically(path, save):
    """save(tmp_path) then rename over path: a reader sees the old file or the new one,
    never half of one (a run stopped while saving keeps its previous epoch)."""
    tmp = path + ".tmp"
    save(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def start_run_dir(a):
    """A new run: its directory, with run.json (the settings --resume reuses)."""
    if os.path.exists(os.path.join(a.run_dir, STATE_FILE)):
        raise SystemExit("train.py: error: %s already holds a run (continue it with --resume "
                         "%s, or remove it)" % (a.run_dir, a.run_dir))
    os.makedirs(a.run_dir, exist_ok=True)
    settings = {k: getattr(a, k) for k in RUN_SETTINGS}

    def save(tmp):
        with open(tmp, "w") as f:
            json.dump(settings, f, indent=1, sort_keys=True)
            f.write("\n")
    write_atomically(os.path.join(a.run_dir, RUN_FILE), save)
    for stale in (LOG_FILE,):
        if os.path.exists(os.path.join(a.run_dir, stale)):
            os.remove(os.path.join(a.run_dir, stale))


def resume_settings(a):
    """--resume RUN_DIR: the run's settings from its run.json into a (--threads, --data,
    --out, --work, --max-seconds from the command line) -> (arch, build kwargs)."""
    path = os.path.join(a.resume, RUN_FILE)
    try:
        with open(path) as f:
            settings = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit("train.py: error: %s: cannot read the run's settings (%s)" % (path, e))
    missing = [k for k in RUN_SETTINGS if k not in settings]
    if missing:
        raise SystemExit("train.py: error: %s lacks %s" % (path, ", ".join(missing)))
    threads = a.threads
    for k in RUN_SETTINGS:
        setattr(a, k, settings[k])
    a.threads = threads or a.threads
    a.run_dir, a.preset = a.resume, None
    kw = dict(a.model)
    if isinstance(kw.get("layers"), list):
        kw["layers"] = tuple(kw["layers"])
    return a.arch, kw


def rng_states(gen):
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
            "python": random.getstate(), "data": gen.get_state()}


def set_rng_states(st, gen):
    torch.set_rng_state(st["torch"])
    np.random.set_state(st["numpy"])
    random.setstate(st["python"])
    gen.set_state(st["data"])


class Run:
    """Where training is: the epochs done, the optimiser step, the best validation score,
    its epoch and weights, the training seconds so far and one history entry per epoch.
    save() writes it with the model, the optimiser (momentum buffers) and every random
    generator's state to RUN_DIR/state.pt; load() restores all of it, so that the epochs
    after a resume are the same computation as without the stop."""

    def __init__(self):
        self.epoch, self.step, self.best, self.best_epoch = 0, 0, -1.0, 0
        self.best_state, self.seconds, self.history = None, 0.0, []

    def save(self, run_dir, model, opt, gen):
        state = {"format": 1, "epoch": self.epoch, "step": self.step, "best": self.best,
                 "best_epoch": self.best_epoch, "seconds": self.seconds,
                 "history": self.history, "model": model.state_dict(),
                 "optimizer": opt.state_dict(), "rng": rng_states(gen),
                 # the best weights only when they are not the current ones (smaller file)
                 "best_state": None if self.best_epoch == self.epoch else self.best_state}
        write_atomically(os.path.join(run_dir, STATE_FILE), lambda tmp: torch.save(state, tmp))

    def load(self, run_dir, model, opt, gen):
        path = os.path.join(run_dir, STATE_FILE)
        try:
            state = torch.load(path, weights_only=False)
        except (OSError, RuntimeError, EOFError) as e:
            raise SystemExit("train.py: error: %s: cannot read the run's state (%s)" % (path, e))
        if not isinstance(state, dict) or state.get("format") != 1:
            raise SystemExit("train.py: error: %s: not a train.py run state" % path)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        set_rng_states(state["rng"], gen)
        self.epoch, self.step = state["epoch"], state["step"]
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self.seconds, self.history = state["seconds"], state["history"]
        self.best_state = state["best_state"] or clone_state(model)


def clone_state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def log(run_dir, line):
    """A progress line on stdout and in RUN_DIR/log.txt (the run's history in words)."""
    print(line, flush=True)
    with open(os.path.join(run_dir, LOG_FILE), "a") as f:
        f.write(line + "\n")


def train(arch, model, opt, data, a, sched, gen, run):
    """The epochs after run.epoch; keeps the state with the best validation score (the
    family's SELECTED_BY); saves the run after every epoch. -> whether all epochs are done
    (False: stopped by --max-seconds)."""
    ensemble = models.family(arch).SELECTED_BY == "ensemble"
    t_start, done_here = time.time(), 0
    while run.epoch < a.epochs:
        t0 = time.time()
        loss, run.step, lr = train_epoch(arch, model, opt, sched, run.step, data, a, gen)
        gates = {} if has_gates(model) else None
        val, val_ens, _ = evaluate(arch, model, *data["val"], gates=gates)
        run.epoch += 1
        score = val_ens if ensemble else val[-1]
        if score > run.best:
            run.best, run.best_epoch = score, run.epoch
            run.best_state = clone_state(model)
        seconds = time.time() - t0
        run.seconds += seconds
        run.history.append({"epoch": run.epoch, "loss": loss, "val": val, "val_ens": val_ens,
                            "lr": lr, "seconds": round(seconds, 1), "threads": a.threads})
        run.save(a.run_dir, model, opt, gen)
        done_here += 1
        log(a.run_dir, "epoch %d/%d  loss %.4f  val acc %s  ens %.4f  lr %.4f  %.0fs"
            % (run.epoch, a.epochs, loss, " ".join("%.4f" % v for v in val), val_ens,
               lr, seconds))
        if gates:
            log(a.run_dir, "    val open-gate ratio: %s"
                % gate_summary(gates["names"], gates["ratios"]))
        spent = time.time() - t_start
        if a.max_seconds and run.epoch < a.epochs \
                and spent * (done_here + 1) / done_here > a.max_seconds:
            log(a.run_dir, "stopping after epoch %d: %.0fs spent, another epoch would pass "
                "--max-seconds %.0f; continue with train.py --resume %s"
                % (run.epoch, spent, a.max_seconds, a.run_dir))
            return False
    return True


def final_evaluation(arch, model, data, best_epoch, train_seconds):
    """Accuracy on the validation and test splits, MACs on the test split, EMG open-gate
    ratios on the validation split; printed, and returned as (/eval entries, gate
    attributes)."""
    gates = {} if has_gates(model) else None
    val, val_ens, _ = evaluate(arch, model, *data["val"], gates=gates)
    test, test_ens, test_macs = evaluate(arch, model, *data["test"], count_macs=True)
    print("best epoch %d: test acc %s (ensemble %.4f), val acc %s, MACs/exit %s, trained %.0fs"
          % (best_epoch, " ".join("%.4f" % v for v in test), test_ens,
             " ".join("%.4f" % v for v in val), " ".join("%.4gM" % (m / 1e6) for m in test_macs),
             train_seconds), flush=True)
    ev = {"test_accuracy": test, "val_accuracy": val, "test_macs_mean": test_macs}
    if len(test) > 1:
        ev["test_ensemble_accuracy"] = test_ens
        ev["val_ensemble_accuracy"] = val_ens
    attrs = {}
    if gates:
        for n, r in zip(gates["names"], gates["ratios"]):
            print("    val open-gate ratio %-45s %.4f" % (n, r))
        print("    val open-gate ratio, mean over the %d EMG layers: %.4f"
              % (len(gates["ratios"]), sum(gates["ratios"]) / len(gates["ratios"])), flush=True)
        # The MLConv2d layers in module order and the fraction of (image, channel) gates
        # open on the validation split, measured by PyTorch.
        attrs["gate_layers"] = ",".join(gates["names"])
        attrs["val_gate_open_ratio"] = np.asarray(gates["ratios"], dtype=np.float64)
    return ev, attrs


def save_and_export(arch, model, kw, a, best_epoch, ev, attrs):
    """The public repository's checkpoint under --work, exported to --out/<name>.h5 with
    the /eval entries ev and the attributes attrs."""
    fam = models.family(arch)
    work = os.path.join(a.work, a.name)
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, fam.CHECKPOINT_NAME)
    fam.save(model, ckpt, 100.0 * ev["test_accuracy"][-1], best_epoch)
    os.makedirs(a.out, exist_ok=True)
    exporter.export(ckpt, os.path.join(a.out, a.name + ".h5"), arch=arch,
                    input_shape=(kw["in_channels"], 32, 32), norm=NORM,
                    dataset="Fashion-MNIST (IDX, 28x28 zero-padded to 32x32; test = t10k 10000, "
                            "val = last 5000 of train)",
                    eval_data=ev, extra_attrs=attrs)


def threads_text(run):
    used = sorted({h["threads"] for h in run.history})
    return "-".join(str(t) for t in used) + (" thread" if used == [1] else " threads")


def main(argv=None):
    a = parse_args(argv)
    if a.resume:
        arch, kw = resume_settings(a)
    else:
        arch, kw = resolve_run(a)
        a.run_dir = a.run_dir or os.path.join(a.work, a.name, "run")
    keep_freed_memory()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    random.seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    data = load_data(a)
    model = models.build(arch, **kw)
    use_training_form(model, not a.reference_emg)
    opt = make_optimizer(model, a)
    sched = Schedule(a, data["train"][0].shape[0])
    run = Run()
    if a.resume:
        run.load(a.run_dir, model, opt, gen)
    else:
        start_run_dir(a)
    print("train.py: %s: %s, %d parameters, %d train / %d val / %d test images, %d steps%s"
          % (a.name, arch, sum(q.numel() for q in model.parameters()),
             data["train"][0].shape[0], data["val"][0].shape[0], data["test"][0].shape[0],
             sched.total, ("; resuming %s after epoch %d (%.0fs so far)"
                           % (a.run_dir, run.epoch, run.seconds)) if a.resume else ""),
          flush=True)

    if not train(arch, model, opt, data, a, sched, gen, run):
        return 0
    recipe = recipe_text(arch, kw, a, sched, threads_text(run))
    model.load_state_dict(run.best_state)
    ev, gate_attrs = final_evaluation(arch, model, data, run.best_epoch, run.seconds)
    attrs = {"recipe": recipe, "seed": np.int64(a.seed), "epochs": np.int64(run.epoch),
             "train_seconds": np.float64(round(run.seconds, 1)), **gate_attrs}
    save_and_export(arch, model, kw, a, run.best_epoch, ev, attrs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
