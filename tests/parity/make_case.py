#!/usr/bin/python3
"""make_case.py - build one PyTorch parity case for eeprof.

    /usr/bin/python3 tests/parity/make_case.py --arch A --variant V --seed S --out DIR
        [--batch N] [--in-ch C] [--size HxW]

Writes into DIR:
  <checkpoint>   the reference model saved exactly as its public repository saves it
                 (akamaster .th dict, BYOT DataParallel .pth.tar dict, bare .pth, ...)
  model.h5       checkpoints/export.py run on that file (as a subprocess), with mean 0 and
                 std 1: input.h5 is the network input itself (eeprof infer takes it as is)
  input.h5       /images float32 [N, C, H, W], standard normal (the network input as is)
  ref.h5         what PyTorch computes on input.h5 in eval mode:
    /logits        float32 [E, N, K]  exit logits, shallow -> deep
    /logits64      float64 [E, N, K]  the same weights and input run in float64 (how far
                                      PyTorch's own float32 result is from exact)
    /macs          float64 [E, N]     standalone executed MACs per sample
    /macs_cascade  float64 [E, N]     cascade executed MACs per sample
    /gates/<p>     uint8   [N, C]     EMG gate decisions of the MLConv2d with state_dict
                                      prefix p (e.g. layer1.0.conv.0.more_feature_conv.0)
    /gate_z/<p>    float32 [N, C]     z = mean_HW(|Y3| - t) behind each decision
    /module_macs/<name> float64 [N]   executed MACs of each counted module (attribute
                                      `region`, e.g. "backbone 2" or "head 3"), for debugging
    attributes: arch, variant, seed, num_exits, num_classes, checkpoint (file name),
                fp32_rel_err float64 [E] (PyTorch float32 vs float64, relative),
                macs_min, macs_max, macs_cascade_min, macs_cascade_max  float64 [E]
                (all gates closed / all open)

The model gets random weights (He-normal convolutions, biases ~ N(0, 0.1)) and random
BatchNorm parameters gamma ~ U(0.5, 1.5) (U(0.2, 0.5) for the BN that ends a residual
branch, which keeps deep random ResNets well-conditioned), beta ~ N(0, 0.1), eval mode. The BN running
statistics are random but scaled to the data: a calibration forward on the case's inputs
sets running_mean = batch mean + N(0, 0.1) * batch std and running_var = batch var *
U(0.5, 1.5), layer by layer. (Plain running_mean ~ N(0, 0.1), running_var ~ U(0.5, 1.5)
let activations grow to ~1e12 in EMGNet-56, where a wrong layer would no longer show in
the logits; this way every layer stays at O(1) scale and matters.)
Every EMG threshold is set per channel in the same calibration forward so that about half
of the gates open: t = midpoint of the two middle values of mean_HW|Y3| over the batch (moved by 5 % of
the layer's mean when those two are tied; for N = 1 a random +-20..50 % offset), with ~10 % of channels forced always-open and ~10 % always-closed.
The case is refused if PyTorch's float32 logits differ from a float64 forward by more
than 2e-5 of their scale (ref.h5 attribute fp32_rel_err), so that the 1e-4 parity
tolerance has headroom. MACs are counted with forward hooks (checkpoints/models/macs.py). Before writing ref.h5
the exported model.h5 is loaded back into a fresh model and must reproduce the logits
bit for bit (checks export.py).
"""
import argparse
import copy
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from checkpoints import models  # noqa: E402
from checkpoints.models.emgnet import MLConv2d  # noqa: E402
from checkpoints.models.macs import MacCounter  # noqa: E402

EXPORT = os.path.join(ROOT, "checkpoints", "export.py")
FP32_ERR_MAX = 2e-5         # a fifth of the parity tolerance

# variant -> build kwargs, save style, default input (C, H, W), extra export.py arguments.
# Save styles (README.md, "Exporting your own PyTorch checkpoint"; each family's save() in
# checkpoints/models/<family>.py writes the one its public repository uses):
#   akamaster    {'state_dict': module.-prefixed, no num_batches_tracked, 'best_prec1'} .th
#   byot         {'epoch', 'arch', 'state_dict': module.-prefixed, 'best_prec1': tensor}
#                .pth.tar (DataParallel)
#   bare         torch.save(net.state_dict(), 'x.pth')
#   bare-module  the same from an nn.DataParallel model (every key 'module.'-prefixed)
VARIANTS = {
    "resnet": {
        "r18-w32-3x3": dict(build=dict(block="basic", layers=(2, 2, 2, 2), width=32,
                                       stem="3x3", num_classes=10), save="bare", size=32),
        "r50-w16-7x7": dict(build=dict(block="bottleneck", layers=(3, 4, 6, 3), width=16,
                                       stem="7x7", num_classes=37), save="bare", size=64),
        "r10-w16-3x3": dict(build=dict(block="basic", layers=(1, 1, 1, 1), width=16,
                                       stem="3x3", num_classes=10), save="bare", size=28),
        "r18-w16-7x7-nopool": dict(build=dict(block="basic", layers=(2, 2, 2, 2), width=16,
                                              stem="7x7", maxpool=False, num_classes=10),
                                   save="bare", size=48, export=["--stem-maxpool", "0"]),
    },
    "resnet-cifar": {
        "r20-a": dict(build=dict(depth=20, option="A", num_classes=10), save="akamaster"),
        "r32-b-shortcut": dict(build=dict(depth=32, option="B", naming="shortcut",
                                          num_classes=10), save="akamaster"),
        "r20-b-downsample": dict(build=dict(depth=20, option="B", naming="downsample",
                                            num_classes=100), save="bare-module"),
    },
    "sdresnet": {
        "r18": dict(build=dict(block="basic", layers=(2, 2, 2, 2), width=64, num_classes=100),
                    save="byot", arch_name="multi_resnet18_kd"),
        "r50-w16": dict(build=dict(block="bottleneck", layers=(3, 4, 6, 3), width=16,
                                   num_classes=100), save="byot", arch_name="multi_resnet50_kd"),
    },
    "sdresnet-tpami": {
        "r18-w32": dict(build=dict(block="basic", layers=(2, 2, 2, 2), width=32, num_classes=100,
                                   adaptation_layers=True), save="bare"),
        "r50-w8": dict(build=dict(block="bottleneck", layers=(3, 4, 6, 3), width=8,
                                  num_classes=100, adaptation_layers=True), save="bare"),
    },
    "scan": {
        "r18": dict(build=dict(block="basic", layers=(2, 2, 2, 2), width=64, num_classes=100),
                    save="bare"),
        "r50-w8": dict(build=dict(block="bottleneck", layers=(3, 4, 6, 3), width=8,
                                  num_classes=100), save="bare"),
    },
    "emgnet": {
        "cifar-r20": dict(build=dict(variant="cifar", depth=20, num_classes=10), save="bare"),
        "cifar-r20-dp": dict(build=dict(variant="cifar", depth=20, num_classes=10),
                             save="bare-module"),
        "cifar-r56": dict(build=dict(variant="cifar", depth=56, num_classes=100), save="bare"),
        "imagenet-r18-w16": dict(build=dict(variant="imagenet", depth=18, width=16,
                                            num_classes=1000), save="bare", size=64),
    },
}

FILENAMES = {"akamaster": "model.th", "byot": "checkpoint_latest.pth.tar",
             "bare": "model.pth", "bare-module": "model.pth"}


def parse_size(text):
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit("make_case.py: error: --size takes HxW, e.g. 32x32") from None
    return h, w


def randomize(model, gen):
    """He-normal conv weights, random linear/conv biases, random BN parameters and stats."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, MLConv2d)):
                fan_in = m.weight[0].numel()
                if isinstance(m, MLConv2d):
                    fan_in = 9 * m.weight.shape[1]         # the always-used centre taps
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen)
                               * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            elif isinstance(m, nn.ConvTranspose2d):
                fan_in = m.weight.shape[0] * m.weight.shape[2] * m.weight.shape[3] / 4.0
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen)
                               * (2.0 / fan_in) ** 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen)
                               * (1.0 / m.in_features) ** 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=gen) + 0.5)
                if m.affine:
                    m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                    m.bias.copy_(torch.randn(c, generator=gen) * 0.1)
                m.num_batches_tracked.fill_(1000)


def residual_branch_ends(model):
    """The BatchNorms that end a residual branch (right before the add): bn2 of basic
    blocks, bn3 of bottlenecks, both BNs of an MLBottleneck's last MLModule."""
    out = []
    for m in model.modules():
        if type(m).__name__ == "MLBottleneck":
            out += [m.conv[2].conv[1], m.conv[2].more_feature_conv[1]]
        elif hasattr(m, "downsample") or hasattr(m, "shortcut"):
            out.append(m.bn3 if hasattr(m, "bn3") else m.bn2)
    return out


def damp_residual_branches(model, gen):
    """gamma ~ U(0.2, 0.5) at the end of every residual branch. With U(0.5, 1.5) there,
    deep random ResNets amplify float32 rounding until PyTorch itself is ~1e-4 (relative
    to the logits) away from a float64 forward, i.e. at the parity tolerance; damped, the
    residual stream stays well-conditioned (<~1e-5) while every branch still changes the
    logits by far more than the tolerance."""
    with torch.no_grad():
        for bn in residual_branch_ends(model):
            bn.weight.copy_(torch.rand(bn.num_features, generator=gen) * 0.3 + 0.2)


def calibrate(model, x, gen):
    """One forward pass over the case's inputs with pre-hooks that, in forward order, set
    (a) every BatchNorm's running statistics from the batch statistics of its own input,
        perturbed: running_mean = mean + N(0, 0.1) * std, running_var = var * U(0.5, 1.5)
        (so activations keep an O(1) scale at any depth, yet the stored statistics are not
        the ones of the data), and
    (b) every MLConv2d threshold so that about half of the gates open (see module doc).
    Each layer sees the final parameters of the layers before it."""
    def bn_hook(mod, inputs):
        with torch.no_grad():
            v = inputs[0].transpose(0, 1).reshape(mod.num_features, -1)
            mean, var = v.mean(dim=1), v.var(dim=1, unbiased=False)
            # Floors: no zero variance on 1x1 maps, and no channel whose spread is tiny
            # next to its mean (normalising it would amplify float32 rounding of the
            # upstream sums and make the case ill-conditioned: |mean| / std <= ~4.5).
            var = var + 0.05 * mean * mean + 0.01 * var.mean() + 1e-4
            c = mod.num_features
            mod.running_mean.copy_(mean + torch.randn(c, generator=gen) * 0.1 * var.sqrt())
            mod.running_var.copy_(var * (torch.rand(c, generator=gen) + 0.5))

    def gate_hook(mod, inputs):
        with torch.no_grad():
            v = mod.inner(inputs[0]).abs().mean(dim=(2, 3))            # [N, C]
            n, c = v.shape
            s, _ = torch.sort(v, dim=0)
            if n >= 2:
                lo, hi = s[n // 2 - 1], s[n // 2]
                t = 0.5 * (lo + hi)
                # Middle values (nearly) tied, e.g. channels that ReLU zeroed for every
                # sample: move t off the tie so that no z sits at ~0.
                scale = v.mean() + 1e-3
                sign = torch.where(torch.rand(c, generator=gen) < 0.5, -1.0, 1.0)
                t = torch.where(hi - lo < 1e-3 * scale, t + sign * 0.05 * scale, t)
            else:
                sign = torch.where(torch.rand(c, generator=gen) < 0.5, -1.0, 1.0)
                t = v[0] * (1 + sign * (0.2 + 0.3 * torch.rand(c, generator=gen)))
            r = torch.rand(c, generator=gen)
            t = torch.where(r < 0.1, s[0] * 0.5 - 0.01, t)               # always open
            t = torch.where(r > 0.9, s[-1] * 1.5 + 0.01, t)              # always closed
            mod.threshold.copy_(t.view(1, c, 1, 1))

    hs = []
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            hs.append(m.register_forward_pre_hook(bn_hook))
        elif isinstance(m, MLConv2d):
            hs.append(m.register_forward_pre_hook(gate_hook))
    with torch.no_grad():
        model(x)
    for h in hs:
        h.remove()


def save_checkpoint(model, style, path, arch_name=None):
    sd = model.state_dict()
    if style == "akamaster":
        sd = {"module." + k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}
        torch.save({"state_dict": sd, "best_prec1": 91.78}, path)
    elif style == "byot":
        sd = {"module." + k: v for k, v in sd.items()}
        torch.save({"epoch": 200, "arch": arch_name or "multi_resnet18_kd", "state_dict": sd,
                    "best_prec1": torch.tensor(79.41)}, path)
    elif style == "bare":
        torch.save(sd, path)
    elif style == "bare-module":
        torch.save({"module." + k: v for k, v in sd.items()}, path)
    else:
        raise ValueError(style)


def load_h5_state(path):
    with h5py.File(path, "r") as f:
        return {k: torch.from_numpy(np.asarray(d)) for k, d in f["state_dict"].items()}


def forward_exits(arch, model, x):
    with torch.no_grad():
        return [e.float() for e in models.exits_shallow_to_deep(arch, model(x))]


def make_case(arch, variant, seed, out, batch=4, in_ch=None, size=None, quiet=False):
    if arch not in VARIANTS:
        raise SystemExit("make_case.py: error: unknown arch %r" % arch)
    if variant not in VARIANTS[arch]:
        raise SystemExit("make_case.py: error: unknown variant %r for %s (known: %s)"
                         % (variant, arch, ", ".join(VARIANTS[arch])))
    spec = VARIANTS[arch][variant]
    kw = dict(spec["build"])
    c = in_ch if in_ch is not None else 3
    kw["in_channels"] = c
    if size is None:
        s = spec.get("size", 32)
        size = (s, s)
    h, w = size
    os.makedirs(out, exist_ok=True)

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = models.build(arch, **kw)
    randomize(model, gen)
    damp_residual_branches(model, gen)
    model.eval()
    xgen = torch.Generator().manual_seed(seed + 7919)
    x = torch.randn((batch, c, h, w), generator=xgen)
    calibrate(model, x, gen)

    # Reference forward with the MAC counter.
    counter = MacCounter(model, arch)
    exits = forward_exits(arch, model, x)
    E = len(exits)
    ledger = counter.per_exit(E)
    counter.remove()

    # The case must be well-conditioned: PyTorch float32 vs float64 far below the parity
    # tolerance (1e-4 of the logit scale), or the comparison would measure rounding luck.
    m64 = copy.deepcopy(model).double()
    with torch.no_grad():
        e64 = models.exits_shallow_to_deep(arch, m64(x.double()))
    fp32_err = np.array([float((a.double() - b).abs().max() / b.abs().max())
                         for a, b in zip(exits, e64)])
    if fp32_err.max() > FP32_ERR_MAX:
        raise SystemExit("make_case.py: error: %s/%s seed %d is ill-conditioned: float32 vs "
                         "float64 logits differ by %.1e of their scale (limit %.0e)"
                         % (arch, variant, seed, fp32_err.max(), FP32_ERR_MAX))

    # Save as the public repository does, export, and check the round trip.
    ckpt = os.path.join(out, FILENAMES[spec["save"]])
    save_checkpoint(model, spec["save"], ckpt, spec.get("arch_name"))
    model_h5 = os.path.join(out, "model.h5")
    cmd = [sys.executable, EXPORT, ckpt, model_h5, "--input-shape", "%d,%d,%d" % (c, h, w),
           "--mean", ",".join(["0"] * c), "--std", ",".join(["1"] * c),
           "--dataset", "parity case %s/%s seed %d" % (arch, variant, seed)]
    cmd += spec.get("export", [])
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("make_case.py: error: export failed (%d): %s"
                         % (r.returncode, r.stderr.strip()))
    fresh = models.build(arch, **kw).eval()
    missing, unexpected = fresh.load_state_dict(load_h5_state(model_h5), strict=False)
    bad_missing = [k for k in missing if not (k.endswith("num_batches_tracked")
                                              or k.startswith("adaptation_layers."))]
    if bad_missing or unexpected:
        raise SystemExit("make_case.py: error: export round trip: missing %s, unexpected %s"
                         % (bad_missing[:5], unexpected[:5]))
    again = forward_exits(arch, fresh, x)
    for a, b in zip(exits, again):
        if not torch.equal(a, b):
            raise SystemExit("make_case.py: error: exported model gives different logits")

    with h5py.File(os.path.join(out, "input.h5"), "w") as f:
        f.create_dataset("images", data=x.numpy().astype(np.float32))

    logits = torch.stack(exits).numpy().astype(np.float32)           # [E, N, K]
    with torch.no_grad():  # the same weights in float64: how well-conditioned the case is
        logits64 = torch.stack(forward_exits(arch, fresh.double(), x.double())).numpy()
    with h5py.File(os.path.join(out, "ref.h5"), "w") as f:
        f.attrs["arch"] = arch
        f.attrs["variant"] = variant
        f.attrs["seed"] = np.int64(seed)
        f.attrs["num_exits"] = np.int64(E)
        f.attrs["num_classes"] = np.int64(logits.shape[2])
        f.attrs["checkpoint"] = os.path.basename(ckpt)
        f.attrs["fp32_rel_err"] = fp32_err          # PyTorch float32 vs float64, per exit
        for k in ("macs_min", "macs_max", "macs_cascade_min", "macs_cascade_max"):
            f.attrs[k] = ledger[k].numpy().astype(np.float64)
        f.create_dataset("logits", data=logits)
        f.create_dataset("logits64", data=logits64)
        f.create_dataset("macs", data=ledger["macs"].numpy())
        f.create_dataset("macs_cascade", data=ledger["macs_cascade"].numpy())
        if counter.gates:
            g = f.create_group("gates", track_order=True)
            z = f.create_group("gate_z", track_order=True)
            for name in counter.order:
                if name in counter.gates:
                    g.create_dataset(name, data=counter.gates[name].numpy().astype(np.uint8))
                    z.create_dataset(name, data=counter.gate_z[name].numpy().astype(np.float32))
        mm = f.create_group("module_macs", track_order=True)
        for name in counter.order:
            d = mm.create_dataset(name, data=counter.exec[name].numpy())
            d.attrs["region"] = "%s %d" % counter.regions[name]

    if not quiet:
        open_frac = ""
        if counter.gates:
            allg = torch.cat([g.flatten().float() for g in counter.gates.values()])
            open_frac = ", %d gates, %.1f%% open" % (allg.numel(), 100 * allg.mean().item())
        print("make_case.py: %s/%s seed %d: %d exits, N=%d, K=%d, |logit| max %.3g, "
              "MACs/sample %s%s -> %s"
              % (arch, variant, seed, E, batch, logits.shape[2], float(np.abs(logits).max()),
                 ", ".join("%.4gM" % (v / 1e6) for v in ledger["macs"][:, 0].tolist()),
                 open_frac, out))
    return {"exits": E, "logits": logits, "ledger": ledger}


def main(argv=None):
    p = argparse.ArgumentParser(prog="make_case.py")
    p.add_argument("--arch", required=True, choices=sorted(VARIANTS))
    p.add_argument("--variant", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--in-ch", type=int)
    p.add_argument("--size", help="HxW (default per variant)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    if a.batch < 1:
        p.error("--batch must be >= 1")
    make_case(a.arch, a.variant, a.seed, a.out, a.batch, a.in_ch,
              parse_size(a.size) if a.size else None, a.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
