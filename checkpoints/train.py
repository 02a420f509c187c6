#!/usr/bin/python3
"""train.py - train a reference model on Fashion-MNIST and export it for eeprof.

    /usr/bin/python3 checkpoints/train.py --preset emgnet20-w8-fmnist    (a bundled sample, as
        committed: the preset carries its epochs, alpha and augmentation; flags override)
    /usr/bin/python3 checkpoints/train.py --arch emgnet --model variant=cifar depth=20 \
        --name emgnet20-fmnist --epochs 10 --alpha 1e-4

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
journal code, which selects that way) is kept.

Losses per family (shared/research/architectures.md):
  resnet, resnet-cifar  cross-entropy
  sdresnet (BYOT)       (1-a) sum_exits CE + a T^2 sum_{i<4} KD_T(out_i, out4) + b sum_{i<4}
                        F(feat_i, feat4), T = 3, a = 0.1, b = 1e-6, F = masked squared L2
  scan                  CE(out4) + sum_{i<4} [9 l SoftCE_3(out_i, out4) + (1-l) CE(out_i)]
                        + 5e-7 feature_loss, l = 0.5
  sdresnet-tpami        CE(out4) + sum_{i<4} [0.3 SoftCE_3(out_i, out4) + 0.7 CE(out_i)]
                        + 0.03 sum_{exits 2,1} ||adapt(feat_i) - feat4||_2
  emgnet                sum_exits CE + alpha sum_{all MLConv2d channels} exp(-t), with the
                        BinaryStep surrogate gradient (paper eq. 6-7); --alpha
(The teacher terms always use out4/feat4 detached.)

The trained model is saved the way its public repository saves it (akamaster dict with
`state_dict` and `best_prec1` for resnet-cifar, BYOT's DataParallel dict, bare state_dicts
otherwise) under --work, then exported with checkpoints/export.py to
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
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from checkpoints import export as exporter  # noqa: E402
from checkpoints import models  # noqa: E402
from checkpoints.models.emgnet import BinaryStep, MLConv2d  # noqa: E402
from checkpoints.models.macs import MacCounter  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
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
    # The bundled early-exit samples: half (EMGNet) or a quarter (ResNet-18 families) of the
    # public widths, so that each trains in under 30 minutes on two cores here.
    "sdresnet18-w8-fmnist": dict(arch="sdresnet", model=dict(block="basic", width=8,
                                                             in_channels=1, num_classes=10),
                                 train=dict(epochs=10)),
    "scan18-w8-fmnist": dict(arch="scan", model=dict(block="basic", width=8, in_channels=1,
                                                     num_classes=10),
                             train=dict(epochs=8)),
    # 3 epochs (about 500 s each here); without crop and flip, which at this length cost
    # about a point on every exit (test 87.15/89.52/89.30 % with them, 88.27/90.77/90.16 %
    # without); alpha 1e-3 chosen on the validation split (README, "Sample checkpoints").
    "emgnet20-w8-fmnist": dict(arch="emgnet", model=dict(variant="cifar", depth=20, width=8,
                                                         in_channels=1, num_classes=10),
                               train=dict(epochs=3, alpha=1e-3, augment=False)),
}
# Training settings that a preset may change (its "train" entry): the committed samples were
# trained with `train.py --preset NAME` and nothing else. Flags given on the command line win.
TRAIN_DEFAULTS = dict(epochs=5, alpha=1e-4, augment=True)


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


# ---------------------------------------------------------------- EMGNet training speed-up

# Debian's CPU PyTorch computes the weight gradient of a depthwise 5x5 convolution about
# four times slower than the convolution itself, and MLConv2d runs two of them (Y3 with the
# masked weight and Y5 with the full one), which made an EMGNet-20 training step 6-9 s at
# batch 128 and width 16 (2.7 s at width 8, against 1.1 s in the form below; 2 threads).
# In training mode only, MLConv2d is run here in an equivalent form:
#     Y3 = depthwise 3x3 with weight[:, :, 1:4, 1:4] (padding 1)  == conv(x, weight * mask)
#     Yo = depthwise 5x5 with weight * (1 - mask)   (padding 2)   == Y5 - Y3
#     gate = BinaryStep(sigmoid(mean_HW(|Y3| - t)) - 0.5)            (unchanged)
#     out  = Y3 + gate * Yo                        == Y3 * (1 - gate) + Y5 * gate
# with a depthwise convolution whose backward is written out (input gradient: the same
# convolution with the flipped kernel; weight gradient: a depthwise convolution of the input
# with the output gradient, below). Values agree with the reference forward to float rounding;
# evaluation, export and every accuracy in the checkpoint use the reference forward
# (model.eval()), untouched.

class _DepthwiseConv(torch.autograd.Function):
    """Stride-1 depthwise conv, k x k, 'same' padding, no bias, with a faster weight gradient:
    dW[c, i, j] = sum_{n,y,x} xpad[n, c, y+i, x+j] * g[n, c, y, x] is itself a depthwise
    convolution of the padded input (one group per image and channel, in NCHW order, so no
    transpose) with the output gradient as its kernel, summed over the images."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return F.conv2d(x, w, None, 1, w.shape[-1] // 2, 1, x.shape[1])

    @staticmethod
    def backward(ctx, go):
        x, w = ctx.saved_tensors
        n, c, h, wd = x.shape
        k = w.shape[-1]
        pad = k // 2
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = F.conv2d(go, w.flip(2, 3), None, 1, pad, 1, c)
        if ctx.needs_input_grad[1]:
            g = go.reshape(n * c, 1, h, wd)
            gw = F.conv2d(x.reshape(1, n * c, h, wd), g, None, 1, pad, 1, n * c)
            gw = gw.view(n, c, k, k).sum(0).view(c, 1, k, k)
        return gx, gw


_reference_mlconv_forward = MLConv2d.forward


def _mlconv_train_forward(self, x):
    if not self.training or self.bias is not None or self.stride != 1 or self.dilation != 1 \
            or self.padding != 2 or not (self.groups == x.shape[1] == self.out_channels):
        return _reference_mlconv_forward(self, x)
    y3 = _DepthwiseConv.apply(x, self.weight[:, :, 1:4, 1:4])
    ring = 1 - self.skeleton_mask.view(1, 1, 5, 5)
    yo = _DepthwiseConv.apply(x, self.weight * ring)
    gate = BinaryStep.apply(torch.sigmoid(self.gate_logit(y3)) - 0.5)
    return y3 + gate.view(x.shape[0], x.shape[1], 1, 1) * yo


def use_fast_emg_training(on=True):
    """Install (or remove) the training-mode MLConv2d form above."""
    MLConv2d.forward = _mlconv_train_forward if on else _reference_mlconv_forward


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


# ---------------------------------------------------------------- losses

def soft_ce(student, teacher, T):
    """-mean_batch sum_c softmax(teacher/T) log_softmax(student/T)."""
    return -(F.softmax(teacher / T, dim=1) * F.log_softmax(student / T, dim=1)).sum(1).mean()


def family_loss(arch, model, raw, y, args):
    """-> (loss, exit logits shallow -> deep)."""
    exits = models.exits_shallow_to_deep(arch, raw)
    if arch in ("resnet", "resnet-cifar"):
        return F.cross_entropy(exits[0], y), exits
    if arch == "sdresnet":
        T, a, b = 3.0, 0.1, 1e-6
        out, feats = exits[3], raw[4]
        loss = (1 - a) * sum(F.cross_entropy(e, y) for e in exits)
        teacher = out.detach()
        for i in range(3):
            loss = loss + a * T * T * soft_ce(exits[i], teacher, T)
            f, t = raw[5 + i], feats.detach()
            loss = loss + b * ((f - t) ** 2 * ((f > 0) | (t > 0)).float()).sum()
        return loss, exits
    if arch == "scan":
        lam, T = 0.5, 3.0
        out4 = exits[3]
        loss = F.cross_entropy(out4, y)
        for i in range(3):
            loss = loss + soft_ce(exits[i], out4.detach(), T) * lam * 9 \
                + F.cross_entropy(exits[i], y) * (1 - lam)
        if lam != 0:
            loss = loss + 5e-7 * raw[1]
        return loss, exits
    if arch == "sdresnet-tpami":
        T = 3.0
        outs, feats = raw                                    # deepest first
        loss = F.cross_entropy(outs[0], y)
        for index in range(1, 4):
            loss = loss + 0.3 * soft_ce(outs[index], outs[0].detach(), T) \
                + 0.7 * F.cross_entropy(outs[index], y)
        for index in (2, 3):                                  # exits 2 and 1
            adapted = model.adaptation_layers[index - 1](feats[index])
            loss = loss + 0.03 * torch.dist(adapted, feats[0].detach())
        return loss, exits
    if arch == "emgnet":
        loss = sum(F.cross_entropy(e, y) for e in exits)
        reg = sum(torch.exp(-m.threshold).sum() for m in model.modules()
                  if isinstance(m, MLConv2d))
        return loss + args.alpha * reg, exits
    raise ValueError(arch)


# The loss of each family in words, for the checkpoint's recipe attribute.
LOSS_TEXT = {
    "resnet": "CE",
    "resnet-cifar": "CE",
    "sdresnet": "BYOT: 0.9 sum_4 exits CE + 0.1 T^2 sum_{i<4} KD_T(out_i, out4), T = 3, "
                "+ 1e-6 sum_{i<4} masked squared L2(feat_i, feat4)",
    "scan": "SCAN: CE(out4) + sum_{i<4} [0.5*9 SoftCE_3(out_i, out4) + 0.5 CE(out_i)] "
            "+ 5e-7 sum_{i<4} ||o4 - o_i||^2",
    "sdresnet-tpami": "journal self-distillation: CE(out4) + sum_{i<4} [0.3 SoftCE_3(out_i, out4) "
                      "+ 0.7 CE(out_i)] + 0.03 sum_{exits 2,1} ||adapt(feat_i) - feat4||_2",
    "emgnet": "EMGNet: sum_3 exits CE + alpha sum_{MLConv2d channels} exp(-t), alpha %(alpha)g, "
              "BinaryStep surrogate gradient",
}


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


# ---------------------------------------------------------------- saving

def save_public(arch, model, path, best_prec1, epoch):
    """Save as the family's public repository does (research notes section 5)."""
    sd = model.state_dict()
    if arch == "resnet-cifar":                       # akamaster: DataParallel dict, .th
        torch.save({"epoch": epoch, "state_dict": {"module." + k: v for k, v in sd.items()},
                    "best_prec1": best_prec1}, path)
    elif arch == "sdresnet":                         # BYOT: DataParallel dict, .pth.tar
        torch.save({"epoch": epoch, "arch": "multi_resnet_kd",
                    "state_dict": {"module." + k: v for k, v in sd.items()},
                    "best_prec1": torch.tensor(best_prec1)}, path)
    else:                                            # SCAN, journal, EMGNet, torchvision
        torch.save(sd, path)


SAVE_NAMES = {"resnet-cifar": "model_best.th", "sdresnet": "model_best.pth.tar",
              "scan": "bestmodel.pth", "sdresnet-tpami": "model.pth", "emgnet": "best_model.pth",
              "resnet": "model.pth"}


# ---------------------------------------------------------------- main

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


def main(argv=None):
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
    p.add_argument("--data", default=DATA_DIR)
    p.add_argument("--out", default=os.path.join(HERE, "samples"))
    p.add_argument("--work", default="/tmp/eeprof-train")
    p.add_argument("--threads", type=int, default=2,
                   help="torch threads (at most 2 here; 1 is faster when the other core is busy)")
    p.add_argument("--max-seconds", type=float, default=0,
                   help="stop after the epoch that passes this wall time (a guard against a "
                        "slower machine; the epochs actually run are recorded)")
    a = p.parse_args(argv)

    if a.preset:
        arch = PRESETS[a.preset]["arch"]
        kw = dict(PRESETS[a.preset]["model"])
    elif a.arch:
        arch, kw = a.arch, {}
    else:
        p.error("give --preset or --arch")
    kw.update(parse_model_args(a.model))
    preset_train = PRESETS[a.preset].get("train", {}) if a.preset else {}
    for key, value in dict(TRAIN_DEFAULTS, **preset_train).items():
        if getattr(a, key) is None:
            setattr(a, key, value)
    if "layers" in kw and isinstance(kw["layers"], list):
        kw["layers"] = tuple(kw["layers"])
    kw.setdefault("in_channels", 1)
    kw.setdefault("num_classes", 10)
    name = a.name or a.preset
    if not name:
        p.error("give --name")

    keep_freed_memory()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)

    xtr_all, ytr_all = load_split(a.data, "train")
    xte, yte = load_split(a.data, "t10k")
    xtr, ytr = xtr_all[:-VAL_SIZE], ytr_all[:-VAL_SIZE]
    xva, yva = xtr_all[-VAL_SIZE:], ytr_all[-VAL_SIZE:]
    if a.max_train:
        xtr, ytr = xtr[:a.max_train], ytr[:a.max_train]

    model = models.build(arch, **kw)
    use_fast_emg_training(arch == "emgnet" and not a.reference_emg)
    decay, no_decay = [], []
    for n, prm in model.named_parameters():
        if not prm.requires_grad:
            continue
        (no_decay if n.endswith("threshold") else decay).append(prm)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.wd},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = math.ceil(xtr.shape[0] / a.batch)
    total = a.epochs * steps_per_epoch
    warm = max(1, steps_per_epoch // 2)

    recipe = ("arch %s %s; Fashion-MNIST 55k train (last 5k of train = val), x/255, zero-pad "
              "28->32, normalise %.4f/%.4f%s; SGD nesterov momentum 0.9, batch %d, lr %g "
              "(linear warm-up %d steps, cosine to 0), wd %g; loss: %s; %d epochs, seed %d, "
              "%d thread%s; best val (deepest exit%s) kept; checkpoints/train.py"
              % (arch, json.dumps(kw, sort_keys=True), MEAN, STD,
                 ", random crop (pad 2) + h-flip" if a.augment else "",
                 a.batch, a.lr, warm, a.wd, LOSS_TEXT[arch] % {"alpha": a.alpha},
                 a.epochs, a.seed, a.threads, "" if a.threads == 1 else "s",
                 " / ensemble for sdresnet-tpami" if arch == "sdresnet-tpami" else ""))
    print("train.py: %s: %s, %d parameters, %d train / %d val / %d test images, %d steps"
          % (name, arch, sum(q.numel() for q in model.parameters()), xtr.shape[0],
             xva.shape[0], xte.shape[0], total), flush=True)

    best, best_state, best_epoch = -1.0, None, 0
    step = 0
    t_start = time.time()
    for epoch in range(1, a.epochs + 1):
        model.train()
        t0 = time.time()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        loss_sum, seen = 0.0, 0
        for s in range(0, xtr.shape[0], a.batch):
            idx = perm[s:s + a.batch]
            b = idx.shape[0]
            if not a.augment:
                xb = to_input(xtr[idx])
            else:
                crop = torch.randint(0, 2 * PAD + 1, (b, 2), generator=gen)
                flip = torch.rand(b, generator=gen) < 0.5
                xb = to_input(xtr[idx], crop, flip)
            yb = ytr[idx]
            lr = a.lr * min(1.0, (step + 1) / warm) * 0.5 * (1 + math.cos(math.pi * step / total))
            for g in opt.param_groups:
                g["lr"] = lr
            loss, _ = family_loss(arch, model, model(xb), yb, a)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.item() * b
            seen += b
        gates = {} if arch == "emgnet" else None
        val, val_ens, _ = evaluate(arch, model, xva, yva, gates=gates)
        score = val_ens if arch == "sdresnet-tpami" else val[-1]
        if score > best:
            best, best_epoch = score, epoch
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        print("epoch %d/%d  loss %.4f  val acc %s  ens %.4f  lr %.4f  %.0fs"
              % (epoch, a.epochs, loss_sum / seen, " ".join("%.4f" % v for v in val), val_ens,
                 lr, time.time() - t0), flush=True)
        if gates:
            print("    val open-gate ratio: %s" % gate_summary(gates["names"], gates["ratios"]),
                  flush=True)
        epochs_run = epoch
        spent = time.time() - t_start
        if a.max_seconds and epoch < a.epochs and spent * (epoch + 1) / epoch > a.max_seconds:
            print("stopping after epoch %d: %.0fs spent, another epoch would pass --max-seconds "
                  "%.0f" % (epoch, spent, a.max_seconds), flush=True)
            break
    train_seconds = time.time() - t_start
    if epochs_run < a.epochs:
        recipe += "; stopped by --max-seconds after %d of the %d epochs" % (epochs_run, a.epochs)

    model.load_state_dict(best_state)
    gates = {} if arch == "emgnet" else None
    val, val_ens, _ = evaluate(arch, model, xva, yva, gates=gates)
    test, test_ens, test_macs = evaluate(arch, model, xte, yte, count_macs=True)
    print("best epoch %d: test acc %s (ensemble %.4f), val acc %s, MACs/exit %s, trained %.0fs"
          % (best_epoch, " ".join("%.4f" % v for v in test), test_ens,
             " ".join("%.4f" % v for v in val), " ".join("%.4gM" % (m / 1e6) for m in test_macs),
             train_seconds), flush=True)
    extra = {}
    if gates:
        for n, r in zip(gates["names"], gates["ratios"]):
            print("    val open-gate ratio %-45s %.4f" % (n, r))
        total = sum(gates["ratios"]) / len(gates["ratios"])
        print("    val open-gate ratio, mean over the %d EMG layers: %.4f"
              % (len(gates["ratios"]), total), flush=True)
        # The MLConv2d layers in module order and the fraction of (image, channel) gates
        # open on the validation split, measured by PyTorch.
        extra["gate_layers"] = ",".join(gates["names"])
        extra["val_gate_open_ratio"] = np.asarray(gates["ratios"], dtype=np.float64)

    work = os.path.join(a.work, name)
    os.makedirs(work, exist_ok=True)
    ckpt = os.path.join(work, SAVE_NAMES[arch])
    save_public(arch, model, ckpt, 100.0 * test[-1], best_epoch)
    os.makedirs(a.out, exist_ok=True)
    out = os.path.join(a.out, name + ".h5")
    ev = {"test_accuracy": test, "val_accuracy": val, "test_macs_mean": test_macs}
    if len(test) > 1:
        ev["test_ensemble_accuracy"] = test_ens
        ev["val_ensemble_accuracy"] = val_ens
    exporter.export(ckpt, out, arch=arch, input_shape=(kw["in_channels"], 32, 32),
                    mean=[MEAN] * kw["in_channels"], std=[STD] * kw["in_channels"],
                    dataset="Fashion-MNIST (IDX, 28x28 zero-padded to 32x32; test = t10k 10000, "
                            "val = last 5000 of train)",
                    eval_data=ev,
                    extra_attrs={"recipe": recipe, "seed": np.int64(a.seed),
                                 "epochs": np.int64(epochs_run),
                                 "train_seconds": np.float64(round(train_seconds, 1)),
                                 **extra})
    return 0


if __name__ == "__main__":
    sys.exit(main())
