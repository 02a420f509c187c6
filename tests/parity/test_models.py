#!/usr/bin/python3
"""Self-tests of the PyTorch side: reference models, cost regions, MAC counter, exporter,
the family registry and train.py.

    /usr/bin/python3 tests/parity/test_models.py [-k substring] [-v]

Exits nonzero if any check fails. The expected numbers (key counts, parameter counts,
per-exit MACs) were obtained by instantiating the public code of each family (the
repositories named in checkpoints/models/<family>.py) in PyTorch and counting with forward
hooks, and agree with the figures those projects publish where they publish any
(akamaster's README parameter counts, torchvision's resnet18/50 GMACs); matching them shows
that our models have the public state_dict layout and compute the same layers.
"""
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from checkpoints import models  # noqa: E402
from checkpoints.models.emgnet import BinaryStep, MLConv2d, MLModule  # noqa: E402
from checkpoints.models.macs import MacCounter  # noqa: E402

EXPORT = os.path.join(ROOT, "checkpoints", "export.py")
torch.set_num_threads(2)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def nkeys(sd):
    return len(sd)


def nparams(m):
    return sum(p.numel() for p in m.parameters())


def run_macs(arch, model, shape):
    model.eval()
    c = MacCounter(model, arch)
    with torch.no_grad():
        model(torch.randn(*shape))
    c.remove()
    return c.per_exit(models.num_exits(arch, model))


def M(v):
    return v / 1e6


# ---------------------------------------------------------------- structure and sizes

STRUCT = [
    # arch, build kwargs, input, keys, params (None = not checked), standalone MACs per exit
    # in millions (rounded to 0.1 M), cascade cost of the deepest exit in millions
    ("sdresnet", dict(num_classes=100), (1, 3, 32, 32), 209, None,
     [179.0, 296.5, 425.5, 555.5], 595.5),
    ("sdresnet", dict(block="bottleneck", layers=(3, 4, 6, 3), num_classes=100),
     (1, 3, 32, 32), 407, 54113232, [639.5, 706.6, 1100.9, 1298.0], 1936.2),
    ("scan", dict(num_classes=100), (1, 3, 32, 32), 233, 15164240,
     [205.2, 322.7, 451.7, 555.5], 674.1),
    ("sdresnet-tpami", dict(num_classes=100), (1, 3, 32, 32), 269, 12283344,
     [165.2, 295.8, 426.6, 555.5], 582.1),
    ("sdresnet-tpami", dict(block="bottleneck", layers=(3, 4, 6, 3), num_classes=100),
     (1, 3, 32, 32), None, 38426576, [407.9, 691.3, 1118.3, 1298.0], 1706.6),
    ("resnet", dict(block="basic", layers=(2, 2, 2, 2), stem="3x3", num_classes=100),
     (1, 3, 32, 32), 122, 11220132, [555.5], 555.5),
    ("resnet", dict(block="basic", layers=(2, 2, 2, 2)), (1, 3, 224, 224), None, 11689512,
     [1814.1], None),                                    # torchvision resnet18: 1.82 GMACs
    ("resnet", dict(block="bottleneck", layers=(3, 4, 6, 3)), (1, 3, 224, 224), None,
     25557032, [4089.2], None),                          # torchvision resnet50: 4.09 GMACs
    ("resnet-cifar", dict(depth=56, num_classes=100, option="B", naming="downsample"),
     (1, 3, 32, 32), None, 861620, [125.8], None),
    ("resnet-cifar", dict(depth=20, num_classes=10, option="B", naming="downsample"),
     (1, 3, 32, 32), None, None, [40.8], None),
    ("emgnet", dict(variant="cifar", depth=56, num_classes=100), (1, 3, 32, 32), 868, 616854,
     None, None),
    ("emgnet", dict(variant="imagenet", depth=18), (1, 3, 224, 224), None, 39055056, None, None),
    ("emgnet", dict(variant="imagenet", depth=50), (1, 3, 224, 224), 609, 42451758, None, None),
]


def test_structure_and_macs():
    for arch, kw, shape, keys, params, macs, casc in STRUCT:
        m = models.build(arch, **kw)
        tag = "%s %s" % (arch, kw)
        if keys is not None:
            check(nkeys(m.state_dict()) == keys,
                  "%s: %d keys, expected %d" % (tag, nkeys(m.state_dict()), keys))
        if params is not None:
            check(nparams(m) == params, "%s: %d params, expected %d" % (tag, nparams(m), params))
        if macs is None:
            continue
        r = run_macs(arch, m, shape)
        got = [M(v) for v in r["macs"][:, 0].tolist()]
        check(len(got) == len(macs), "%s: %d exits" % (tag, len(got)))
        for e, (g, want) in enumerate(zip(got, macs)):
            # 0.06: 425.445 -> 425.5 and 1118.249 -> 1118.3 above were rounded twice
            check(abs(g - want) <= 0.06, "%s exit %d: %.3f M MACs, expected %.1f"
                  % (tag, e + 1, g, want))
        if casc is not None:
            g = M(r["macs_cascade"][-1, 0].item())
            check(abs(g - casc) <= 0.06, "%s: all-exit cascade %.3f M, expected %.1f"
                  % (tag, g, casc))


def test_akamaster_params():
    # README: ResNet20 0.27M, 32 0.46M, 44 0.66M, 56 0.85M, 110 1.7M parameters.
    for depth, want in ((20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85), (110, 1.7)):
        m = models.build("resnet-cifar", depth=depth)
        got = nparams(m) / 1e6
        check(abs(got - want) <= 0.03 * want,               # README gives 2 digits
              "resnet%d: %.3f M params, README %.2f" % (depth, got, want))
        sd = m.state_dict()
        check("linear.weight" in sd and not any("shortcut" in k for k in sd),
              "option A has no shortcut parameters and a `linear` classifier")


def test_emg_macs_ranges():
    # (min, max) per exit: all gates closed / all open.
    table = [
        (dict(variant="cifar", depth=56, num_classes=100), (1, 3, 32, 32), 1e6,
         [(20.9, 27.5), (34.1, 43.5), (40.8, 51.4)], 0.051),
        (dict(variant="imagenet", depth=18), (1, 3, 224, 224), 1e9,
         [(0.89, 0.92), (1.17, 1.20), (1.41, 1.45), (1.35, 1.39)], 0.0051),
        (dict(variant="imagenet", depth=50), (1, 3, 224, 224), 1e9,
         [(0.96, 1.01), (1.40, 1.45), (1.94, 2.01), (1.96, 2.03)], 0.0051),
    ]
    for kw, shape, unit, want, tol in table:
        r = run_macs("emgnet", models.build("emgnet", **kw), shape)
        for e, (lo, hi) in enumerate(want):
            glo, ghi = r["macs_min"][e].item() / unit, r["macs_max"][e].item() / unit
            check(abs(glo - lo) <= tol and abs(ghi - hi) <= tol,
                  "emgnet %s exit %d: %.3f-%.3f, expected %.2f-%.2f"
                  % (kw, e + 1, glo, ghi, lo, hi))
            ex = r["macs"][e, 0].item() / unit
            check(glo - 1e-9 <= ex <= ghi + 1e-9, "executed MACs outside [min, max]")


def test_key_shapes():
    spots = {
        ("sdresnet", ()): {
            "bottleneck1_1.3.weight": [128, 128, 8, 8], "bottleneck2_1.3.weight": [128, 128, 4, 4],
            "bottleneck3_1.0.weight": [128, 256, 1, 1], "downsample1_1.0.weight": [512, 64, 1, 1],
            "middle_fc1.weight": [100, 512], "fc.weight": [100, 512],
            "layer2.0.downsample.0.weight": [128, 64, 1, 1]},
        ("scan", ()): {
            "scala1.3.weight": [128, 128, 8, 8], "scala2.3.weight": [128, 128, 4, 4],
            "scala3.0.weight": [128, 256, 1, 1], "scala1.6.weight": [512, 128, 1, 1],
            "attention1.0.weight": [64, 64, 3, 3], "attention1.3.weight": [64, 64, 4, 4],
            "attention1.3.bias": [64], "fc4.weight": [100, 512]},
        ("sdresnet-tpami", ()): {
            "scala1.0.op.0.weight": [64, 1, 3, 3], "scala1.0.op.1.weight": [64, 64, 1, 1],
            "scala1.0.op.5.weight": [128, 64, 1, 1], "scala1.2.op.6.running_var": [512],
            "scala3.0.op.5.weight": [512, 256, 1, 1], "attention1.0.op.0.weight": [64, 1, 3, 3],
            "attention1.1.running_mean": [64], "fc1.weight": [100, 512]},
        ("emgnet", ("cifar",)): {
            "conv1.weight": [16, 3, 3, 3], "layer1.0.conv.0.conv.0.weight": [8, 16, 1, 1],
            "layer1.0.conv.0.more_feature_conv.0.weight": [8, 1, 5, 5],
            "layer1.0.conv.0.more_feature_conv.0.threshold": [1, 8, 1, 1],
            "layer1.0.conv.0.more_feature_conv.0.skeleton_mask": [5, 5],
            "layer1.0.conv.2.conv.0.weight": [32, 16, 1, 1],
            "layer1.0.downsample.0.weight": [64, 16, 1, 1], "layer2.0.conv.1.0.weight": [32, 1, 3, 3],
            "branch1.0.conv.0.weight": [32, 64, 1, 1], "branch1.1.weight": [64, 64, 3, 3],
            "branch1.1.bias": [64], "branch1.4.conv.0.weight": [128, 64, 1, 1],
            "branch1.4.more_feature_conv.0.weight": [128, 1, 5, 5], "fc1.weight": [100, 256]},
        ("emgnet", ("imagenet",)): {
            "conv1.weight": [76, 3, 7, 7], "layer2.0.conv.0.conv.0.weight": [77, 304, 1, 1],
            "layer2.0.conv.1.0.weight": [153, 1, 3, 3], "branch3.1.weight": [1228, 1228, 3, 3],
            "fc4.weight": [1000, 2456]},
    }
    for (arch, extra), want in spots.items():
        if arch == "emgnet":
            kw = dict(variant=extra[0], depth=56 if extra[0] == "cifar" else 50,
                      num_classes=100 if extra[0] == "cifar" else 1000)
        else:
            kw = dict(num_classes=100)
        sd = models.build(arch, **kw).state_dict()
        for k, shape in want.items():
            check(k in sd, "%s: key %s missing" % (arch, k))
            check(list(sd[k].shape) == shape, "%s: %s is %s, expected %s"
                  % (arch, k, list(sd[k].shape), shape))
        if arch == "emgnet":
            check(not any(k.startswith("layer1.0.conv.1.") for k in sd),
                  "stride-1 blocks have no conv.1")
            m = sd["layer1.0.conv.0.more_feature_conv.0.skeleton_mask"]
            check(torch.equal(m, F.pad(torch.ones(3, 3), (1, 1, 1, 1))), "skeleton mask")


# ---------------------------------------------------------------- exit order and regions

SMALL = [
    ("resnet", dict(block="basic", layers=(1, 1, 1, 1), width=8, stem="3x3", num_classes=5),
     (2, 3, 32, 32)),
    ("resnet-cifar", dict(depth=20, width=8, num_classes=5), (2, 3, 32, 32)),
    ("sdresnet", dict(block="basic", layers=(1, 1, 1, 1), width=8, num_classes=5), (2, 3, 32, 32)),
    ("sdresnet-tpami", dict(block="basic", layers=(1, 1, 1, 1), width=8, num_classes=5,
                            adaptation_layers=True), (2, 3, 32, 32)),
    ("scan", dict(block="basic", layers=(1, 1, 1, 1), width=8, num_classes=5), (2, 3, 32, 32)),
    ("emgnet", dict(variant="cifar", depth=20, width=8, num_classes=5), (2, 3, 32, 32)),
    ("emgnet", dict(variant="imagenet", layers=(1, 1, 1, 1), width=8, num_classes=5),
     (2, 3, 64, 64)),
]


def _exits(arch, model, x):
    with torch.no_grad():
        return [e.clone() for e in models.exits_shallow_to_deep(arch, model(x))]


def test_regions_by_perturbation():
    """For every top-level module with parameters: perturb it and see which exits change.
    ("backbone", k) must change exactly exits k..E, ("head", k) exactly exit k, None none.
    This checks the cost-region table and the shallow -> deep exit order independently of
    the names."""
    for arch, kw, shape in SMALL:
        torch.manual_seed(0)
        m = models.build(arch, **kw).eval()
        for mod in m.modules():                       # make gates open for some samples
            if isinstance(mod, MLConv2d):
                with torch.no_grad():
                    mod.threshold.fill_(0.05)
        x = torch.randn(*shape)
        base = _exits(arch, m, x)
        E = len(base)
        check(E == models.num_exits(arch, m), "%s: %d exits" % (arch, E))
        tops = sorted({n.split(".")[0] for n, _ in m.named_parameters()}
                      | {n.split(".")[0] for n, _ in m.named_buffers()})
        for top in tops:
            mod = getattr(m, top)
            saved = {k: v.clone() for k, v in mod.state_dict().items()}
            with torch.no_grad():
                for p in list(mod.parameters()) + [b for b in mod.buffers() if b.is_floating_point()]:
                    if p.dim() == 2 and p.shape[0] == p.shape[1] == 5:   # skeleton_mask: keep
                        continue
                    p.add_(torch.randn_like(p) * 0.5 + 0.1)
            new = _exits(arch, m, x)
            mod.load_state_dict(saved)
            changed = [k + 1 for k in range(E) if not torch.allclose(new[k], base[k])]
            region = models.cost_region(arch, top)
            if region is None:
                want = []
            elif region[0] == "backbone":
                want = list(range(region[1], E + 1))
            else:
                want = [region[1]]
            check(changed == want, "%s: perturbing %s changes exits %s, region %s says %s"
                  % (arch, top, changed, region, want))
            # every sub-module inherits the top-level region
            for name, _ in mod.named_modules():
                full = top + ("." + name if name else "")
                check(models.cost_region(arch, full) == region, "%s: region of %s" % (arch, full))


def test_forward_output_shapes():
    x = torch.randn(2, 3, 32, 32)
    m = models.build("sdresnet", layers=(1, 1, 1, 1), width=8, num_classes=7).eval()
    out = m(x)
    check(len(out) == 8 and out[4].shape == (2, 64, 1, 1), "BYOT returns 4 logits + 4 features")
    m = models.build("scan", layers=(1, 1, 1, 1), width=8, num_classes=7).eval()
    outs, fl = m(x)
    check(len(outs) == 4 and fl.dim() == 0, "SCAN returns ([4 logits], feature_loss)")
    m = models.build("sdresnet-tpami", layers=(1, 1, 1, 1), width=8, num_classes=7).eval()
    outs, feats = m(x)
    check(len(outs) == 4 and feats[0].shape == (2, 64), "journal returns ([4], [4 feats])")
    m = models.build("emgnet", variant="cifar", depth=20, width=8, num_classes=7).eval()
    outs, zero = m(x)
    check(len(outs) == 3 and zero == 0, "EMG CIFAR returns ([o1,o2,o3], 0)")


# ---------------------------------------------------------------- EMG convolution

def test_mlconv_semantics():
    torch.manual_seed(3)
    c = 6
    conv = MLConv2d(c, c, 5, padding=2, groups=c, bias=False)
    x = torch.randn(3, c, 9, 7)
    y3 = conv.inner(x)
    ref3 = F.conv2d(x, conv.weight[:, :, 1:4, 1:4], None, 1, 1, 1, c)
    check(torch.allclose(y3, ref3, atol=1e-6), "Y3 = 3x3 conv with the centre taps")
    ring = F.conv2d(x, conv.weight * (1 - conv.skeleton_mask), None, 1, 2, 1, c)
    y5 = F.conv2d(x, conv.weight, None, 1, 2, 1, c)
    check(torch.allclose(y5, y3 + ring, atol=1e-5), "Y5 = Y3 + ring taps")
    with torch.no_grad():
        v = y3.abs().mean(dim=(2, 3))
        conv.threshold.copy_(v.median(dim=0).values.view(1, c, 1, 1) + 1e-3)
    out = conv(x)
    z = conv.gate_logit(y3)
    g = ((torch.sigmoid(z) - 0.5) > 0).float().view(3, c, 1, 1)
    check(0 < g.sum() < g.numel(), "mixed gates in the test")
    check(torch.equal(out, y3 * (1 - g) + y5 * g), "output = Y3 or Y5 per sample/channel")
    # hook count: 9 taps always, 16 more per open channel
    cnt = MacCounter(nn.Sequential(conv), "emgnet")
    cnt.regions = {k: ("backbone", 1) for k in cnt.regions}
    with torch.no_grad():
        cnt.model(x)
    per = cnt.exec["0"]
    opened = g.view(3, c).sum(dim=1).double()
    check(torch.equal(per, 9 * c * 63 + 16 * opened * 63), "MLConv2d MACs per sample: %s" % per)
    check(torch.equal(cnt.gates["0"], g.view(3, c).to(torch.uint8)), "hook gate = module gate")
    # float32 tie: sigmoid(z) - 0.5 == 0 for tiny positive z, so the gate stays closed
    for zz in (1e-9, 3e-8, 6e-8):
        t = torch.tensor([zz], dtype=torch.float32)
        check((torch.sigmoid(t) - 0.5).item() == 0.0, "sigmoid tie at z=%g" % zz)
    # BinaryStep surrogate gradient
    xs = torch.tensor([-2.0, -0.7, -0.2, 0.0, 0.1, 0.4, 0.5, 1.0, 1.5], requires_grad=True)
    BinaryStep.apply(xs).sum().backward()
    want = torch.tensor([0, 0.4, 1.2, 2.0, 1.6, 0.4, 0.4, 0.4, 0])
    check(torch.allclose(xs.grad, want, atol=1e-6), "surrogate gradient %s" % xs.grad)
    # the public view(bs, c_in, 1, 1) makes in != out fail
    try:
        MLConv2d(4, 8, 5, padding=2)(torch.randn(1, 4, 5, 5))
        check(False, "MLConv2d(4, 8) should fail like the public code")
    except RuntimeError:
        pass


def test_mlmodule_odd_slice():
    m = MLModule(8, 19)
    check(m.conv[0].weight.shape[0] == 10, "ceil(19/2) = 10 primary channels")
    check(m(torch.randn(2, 8, 6, 6)).shape == (2, 19, 6, 6), "cat then slice to 19")


# ---------------------------------------------------------------- exporter

def _export(args):
    r = subprocess.run([sys.executable, EXPORT] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    return r.returncode, r.stdout, r.stderr


def _attrs(path):
    with h5py.File(path, "r") as f:
        a = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
        keys = list(f["state_dict"])
        dtypes = {f["state_dict"][k].dtype for k in keys}
        ev = {k: np.asarray(f["eval"][k]) for k in f["eval"]} if "eval" in f else {}
    return a, keys, dtypes, ev


def test_export_formats():
    with tempfile.TemporaryDirectory() as d:
        # akamaster: {'state_dict': module.-prefixed, no num_batches_tracked, 'best_prec1'}
        m = models.build("resnet-cifar", depth=20)
        sd = {"module." + k: v for k, v in m.state_dict().items()
              if not k.endswith("num_batches_tracked")}
        p = os.path.join(d, "resnet20-12fca82f.th")
        torch.save({"state_dict": sd, "best_prec1": 91.78}, p)
        rc, out, err = _export([p, os.path.join(d, "a.h5")])
        check(rc == 0, "akamaster export: %s" % err)
        a, keys, dt, _ = _attrs(os.path.join(d, "a.h5"))
        check(a["arch"] == "resnet-cifar" and a["num_classes"] == 10, "akamaster attrs %s" % a)
        check(list(a["input_shape"]) == [3, 32, 32], "input shape")
        check(np.allclose(a["mean"], [0.485, 0.456, 0.406]), "akamaster uses ImageNet stats")
        check(a["format"] == "eeprof-checkpoint" and a["format_version"] == 1, "format")
        check(a["source"] == "resnet20-12fca82f.th" and len(a["source_sha256"]) == 64, "source")
        check(a["exporter"] == "eeprof export.py 1" and a["dropped_tensors"] == "", "dropped")
        check(keys[0] == "conv1.weight" and len(keys) == 97 and dt == {np.dtype("float32")},
              "keys in order, float32")
        check("stem_maxpool" not in a and abs(a["bn_eps"] - 1e-5) < 1e-12, "bn_eps")

        # BYOT: DataParallel dict with epoch/arch/best_prec1 tensor, .pth.tar
        m = models.build("sdresnet", layers=(1, 1, 1, 1), width=8, num_classes=100)
        p = os.path.join(d, "checkpoint_latest.pth.tar")
        torch.save({"epoch": 199, "arch": "multi_resnet18_kd", "best_prec1": torch.tensor(79.41),
                    "state_dict": {"module." + k: v for k, v in m.state_dict().items()}}, p)
        rc, out, err = _export([p, os.path.join(d, "b.h5"), "--dataset", "CIFAR-100 test"])
        check(rc == 0, "byot export: %s" % err)
        a, keys, _, _ = _attrs(os.path.join(d, "b.h5"))
        check(a["arch"] == "sdresnet" and a["dataset"] == "CIFAR-100 test", "byot attrs")
        check("downsample1_1.0.weight" in keys, "unused downsample1_1 kept")
        check(not any("num_batches_tracked" in k for k in keys), "nbt dropped")
        check("bn1.num_batches_tracked" in a["dropped_tensors"], "dropped list")
        check(np.allclose(a["mean"], [0.4914, 0.4822, 0.4465]), "BYOT uses CIFAR-10 stats")

        # journal: bare state_dict with adaptation_layers
        m = models.build("sdresnet-tpami", layers=(1, 1, 1, 1), width=8, adaptation_layers=True)
        p = os.path.join(d, "resnet18.pth")
        torch.save(m.state_dict(), p)
        rc, out, err = _export([p, os.path.join(d, "c.h5")])
        check(rc == 0, "journal export: %s" % err)
        a, keys, _, _ = _attrs(os.path.join(d, "c.h5"))
        check(a["arch"] == "sdresnet-tpami", "journal arch")
        check(not any(k.startswith("adaptation_layers") for k in keys), "adapters dropped")
        check("adaptation_layers.2.bias" in a["dropped_tensors"], "adapters listed")

        # SCAN: bare; EMGNet: DataParallel bare, 1 channel, eval json
        m = models.build("scan", layers=(1, 1, 1, 1), width=8)
        p = os.path.join(d, "bestmodel.pth")
        torch.save(m.state_dict(), p)
        rc, _, err = _export([p, os.path.join(d, "s.h5")])
        a, keys, _, _ = _attrs(os.path.join(d, "s.h5"))
        check(rc == 0 and a["arch"] == "scan" and a["num_classes"] == 100, "scan export")
        m = models.build("emgnet", variant="cifar", depth=20, in_channels=1)
        p = os.path.join(d, "best_model.pth")
        torch.save({"module." + k: v for k, v in m.state_dict().items()}, p)
        with open(os.path.join(d, "ev.json"), "w") as f:
            f.write('{"test_accuracy": [0.81, 0.9, 0.92], "val_accuracy": [0.8, 0.89, 0.91]}')
        rc, _, err = _export([p, os.path.join(d, "e.h5"), "--eval-json",
                              os.path.join(d, "ev.json"), "--norm", "fashion-mnist"])
        check(rc == 0, "emg export: %s" % err)
        a, keys, _, ev = _attrs(os.path.join(d, "e.h5"))
        check(a["arch"] == "emgnet" and list(a["input_shape"]) == [1, 32, 32], "emg attrs")
        check(np.allclose(a["mean"], [0.2860]) and np.allclose(a["std"], [0.3530]), "1-ch stats")
        check("layer1.0.conv.0.more_feature_conv.0.skeleton_mask" in keys, "mask kept")
        check("layer1.0.conv.0.more_feature_conv.0.threshold" in keys, "threshold kept")
        check(ev["test_accuracy"].dtype == np.float64 and len(ev["val_accuracy"]) == 3, "eval")

        # torchvision: 7x7 stem -> 224 and stem_maxpool 1; overrides
        m = models.build("resnet", layers=(1, 1, 1, 1), width=8, num_classes=9)
        p = os.path.join(d, "tv.pth")
        torch.save(m.state_dict(), p)
        rc, _, err = _export([p, os.path.join(d, "t.h5")])
        a, _, _, _ = _attrs(os.path.join(d, "t.h5"))
        check(rc == 0 and a["arch"] == "resnet" and a["stem_maxpool"] == 1, "tv export")
        check(list(a["input_shape"]) == [3, 224, 224] and a["num_classes"] == 9, "tv shape")
        rc, _, err = _export([p, os.path.join(d, "t2.h5"), "--input-shape", "3,64,64",
                              "--stem-maxpool", "0", "--mean", "0,0,0", "--std", "1,1,1"])
        a, _, _, _ = _attrs(os.path.join(d, "t2.h5"))
        check(rc == 0 and a["stem_maxpool"] == 0 and list(a["input_shape"]) == [3, 64, 64]
              and np.allclose(a["std"], 1), "tv overrides")

        # errors: one line, exit 3 for bad input, 2 for usage; no file left behind
        torch.save({"foo": 1}, os.path.join(d, "bad.pth"))
        sd = m.state_dict()
        sd["fc.weight"][0, 0] = float("inf")
        torch.save(sd, os.path.join(d, "inf.pth"))
        with open(os.path.join(d, "junk.pth"), "w") as f:
            f.write("not a checkpoint")
        for args, want in (([os.path.join(d, "bad.pth")], 3), ([os.path.join(d, "inf.pth")], 3),
                           ([os.path.join(d, "junk.pth")], 3), ([os.path.join(d, "none.pth")], 3),
                           ([p, "--arch", "scan"], 3), ([p, "--num-classes", "3"], 3),
                           ([p, "--input-shape", "1,32,32"], 3),
                           ([p, "--mean", "1,2", "--std", "1,2"], 3),
                           ([p, "--arch", "nope"], 2), ([p, "--frob"], 2)):
            out_h5 = os.path.join(d, "err.h5")
            rc, _, err = _export([args[0], out_h5] + args[1:])
            check(rc == want, "%s: exit %d, expected %d (%s)" % (args, rc, want, err.strip()))
            check(err.startswith("export.py: error: "), "error format: %r" % err)
            check(not os.path.exists(out_h5), "no output on error")
        check(not [f for f in os.listdir(d) if ".tmp." in f], "no temp files left")


def test_detection():
    for arch, kw in (("resnet", dict(layers=(1, 1, 1, 1), width=8)),
                     ("resnet", dict(layers=(1, 1, 1, 1), width=8, stem="3x3")),
                     ("resnet-cifar", dict(depth=20)),
                     ("resnet-cifar", dict(depth=20, option="B")),
                     ("resnet-cifar", dict(depth=20, option="B", naming="downsample")),
                     ("sdresnet", dict(layers=(1, 1, 1, 1), width=8)),
                     ("sdresnet-tpami", dict(layers=(1, 1, 1, 1), width=8)),
                     ("scan", dict(layers=(1, 1, 1, 1), width=8)),
                     ("emgnet", dict(variant="cifar", depth=20)),
                     ("emgnet", dict(variant="imagenet", layers=(1, 1, 1, 1), width=8))):
        sd = models.build(arch, **kw).state_dict()
        got = models.detect(sd)
        check(got == arch, "detect %s %s -> %s" % (arch, kw, got))
        check(not models.missing_keys(arch, sd), "%s has its family's KEYS" % arch)


def test_registry():
    """Every family module offers the whole interface models/__init__.py documents, and the
    registry lists each family once, in the detection order too."""
    names = ("ARCH", "build", "exits_shallow_to_deep", "num_exits", "cost_region", "KEYS",
             "matches", "CLASSIFIERS", "default_norm", "loss", "LOSS_TEXT", "SELECTED_BY",
             "save", "CHECKPOINT_NAME")
    for arch in models.ARCHS:
        fam = models.family(arch)
        missing = [n for n in names if not hasattr(fam, n)]
        check(not missing, "%s lacks %s" % (arch, missing))
        check(fam.SELECTED_BY in ("deepest exit", "ensemble"), "%s SELECTED_BY" % arch)
    check(sorted(f.ARCH for f in models.DETECTION_ORDER) == sorted(models.ARCHS),
          "detection order lists every family once")


# ---------------------------------------------------------------- input normalisation

def _norm_case(d, name, arch, **kw):
    """A bare .pth of a small model of arch, for the normalisation tests."""
    p = os.path.join(d, name + ".pth")
    torch.save(models.build(arch, **kw).state_dict(), p)
    return p


def test_norm_presets():
    """Each --norm preset writes its published values exactly; Fashion-MNIST's are the
    statistics of its training images (recomputed here from the IDX file)."""
    import gzip
    from checkpoints import export as ex
    from checkpoints.models.norms import PRESETS
    with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
        px = np.frombuffer(f.read(), np.uint8, offset=16).astype(np.float64) / 255
    check(px.size == 60000 * 28 * 28, "Fashion-MNIST training images")
    check(round(px.mean(), 4) == PRESETS["fashion-mnist"].mean[0]
          and round(px.std(), 4) == PRESETS["fashion-mnist"].std[0],
          "Fashion-MNIST mean/std %.4f/%.4f" % (px.mean(), px.std()))
    want = {"fashion-mnist": ([0.2860], [0.3530]), "mnist": ([0.1307], [0.3081]),
            "cifar10": ([0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010]),
            "cifar100": ([0.5071, 0.4867, 0.4408], [0.2675, 0.2565, 0.2761]),
            "imagenet": ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])}
    check(sorted(want) == sorted(PRESETS), "presets %s" % sorted(PRESETS))
    with tempfile.TemporaryDirectory() as d:
        one = _norm_case(d, "one", "resnet-cifar", depth=8, in_channels=1)
        three = _norm_case(d, "three", "resnet-cifar", depth=8)
        for name, (mean, std) in want.items():
            out = os.path.join(d, name + ".h5")
            r = ex.export(one if len(mean) == 1 else three, out, norm=name, quiet=True)
            a, _, _, _ = _attrs(out)
            check(list(a["mean"]) == mean and list(a["std"]) == std and r["mean"] == mean
                  and r["norm"] == "--norm " + name, "--norm %s: %s %s" % (name, a["mean"],
                                                                         a["std"]))
        r = ex.export(three, os.path.join(d, "x.h5"), mean=[0.5, 0.25, 0.125], std=[2, 3, 4],
                      quiet=True)
        a, _, _, _ = _attrs(os.path.join(d, "x.h5"))
        check(list(a["mean"]) == [0.5, 0.25, 0.125] and list(a["std"]) == [2, 3, 4]
              and r["norm"] == "given", "explicit --mean/--std")


def test_norm_defaults_and_refusals():
    """A family's default applies only where its public code defines one (3 channels); any
    other checkpoint is refused (status 2) until the normalisation is given."""
    from checkpoints import export as ex
    cases = [  # arch, build kwargs, expected preset (None: refused)
        ("resnet", dict(layers=(1, 1, 1, 1), width=8), "imagenet"),
        ("resnet", dict(layers=(1, 1, 1, 1), width=8, stem="3x3"), None),
        ("resnet-cifar", dict(depth=8), "imagenet"),
        ("resnet-cifar", dict(depth=8, option="B", naming="downsample", num_classes=100),
         "cifar100"),
        ("resnet-cifar", dict(depth=8, option="B", naming="downsample", num_classes=10),
         "cifar10"),
        ("resnet-cifar", dict(depth=8, option="B", naming="downsample", num_classes=37), None),
        ("sdresnet", dict(layers=(1, 1, 1, 1), width=8), "cifar10"),
        ("sdresnet-tpami", dict(layers=(1, 1, 1, 1), width=8), "cifar10"),
        ("scan", dict(layers=(1, 1, 1, 1), width=8), "cifar10"),
        ("emgnet", dict(variant="cifar", depth=20, width=4, num_classes=100), "cifar100"),
        ("emgnet", dict(variant="cifar", depth=20, width=4, num_classes=10), "cifar10"),
        ("emgnet", dict(variant="cifar", depth=20, width=4, num_classes=37), None),
        ("emgnet", dict(variant="imagenet", layers=(1, 1, 1, 1), width=8, num_classes=5),
         "imagenet"),
        ("emgnet", dict(variant="cifar", depth=20, width=4, in_channels=1), None),
        ("sdresnet", dict(layers=(1, 1, 1, 1), width=8, in_channels=1), None),
    ]
    from checkpoints.models.norms import PRESETS
    with tempfile.TemporaryDirectory() as d:
        for i, (arch, kw, want) in enumerate(cases):
            p = _norm_case(d, "m%d" % i, arch, **kw)
            out = os.path.join(d, "m%d.h5" % i)
            tag = "%s %s" % (arch, kw)
            try:
                r = ex.export(p, out, quiet=True)
                got = r["norm"].split(",")[0]
            except ex.UsageError as e:
                got, msg = None, str(e)
            check(got == want, "%s: default %s, expected %s" % (tag, got, want))
            if want is None:
                check("--norm fashion-mnist|mnist|cifar10|cifar100|imagenet" in msg
                      and "--mean and --std" in msg and "\n" not in msg,
                      "%s: the refusal says how to give it: %s" % (tag, msg))
                check(not os.path.exists(out), "%s: no output when refused" % tag)
            else:
                a, _, _, _ = _attrs(out)
                check(list(a["mean"]) == list(PRESETS[want].mean), "%s: mean" % tag)
        p = _norm_case(d, "one", "resnet-cifar", depth=8, in_channels=1)
        for kw, status in ((dict(norm="cifar10"), 3), (dict(norm="cifar", mean=[0.5]), 2),
                           (dict(mean=[0.5]), 2), (dict(norm="svhn"), 2),
                           (dict(mean=[0.5], std=[0.0]), 3)):
            try:
                ex.export(p, os.path.join(d, "bad.h5"), quiet=True, **kw)
                check(False, "%s should be refused" % kw)
            except ex.ExportError as e:
                check(e.status == status, "%s: status %d, expected %d (%s)"
                      % (kw, e.status, status, e))


def test_make_case_small():
    """One quick end-to-end make_case run (EMGNet, since it has the most to write)."""
    sys.path.insert(0, HERE)
    import make_case
    with tempfile.TemporaryDirectory() as d:
        make_case.make_case("emgnet", "cifar-r20", 5, d, batch=3, in_ch=1, quiet=True)
        with h5py.File(os.path.join(d, "ref.h5"), "r") as f:
            E, N, K = f["logits"].shape
            check((E, N, K) == (3, 3, 10), "logits shape %s" % ((E, N, K),))
            check(f["macs"].shape == (3, 3) and f["macs"].dtype == np.float64, "macs")
            check(f["macs_cascade"].shape == (3, 3), "macs_cascade")
            g = f["gates"]
            check("layer1.0.conv.0.more_feature_conv.0" in g, "gate prefix names")
            frac = np.mean(np.concatenate([np.asarray(g[k]).ravel() for k in g]))
            check(0.3 < frac < 0.7, "about half of the gates open (%.2f)" % frac)
            check(set(f["gate_z"]) == set(g), "gate_z for every gate")
            lo, hi = f.attrs["macs_min"], f.attrs["macs_max"]
            m = np.asarray(f["macs"])
            check(np.all(m >= lo[:, None]) and np.all(m <= hi[:, None]), "min <= macs <= max")
            mc = np.asarray(f["macs_cascade"])
            check(np.all(mc >= m), "cascade >= standalone")
            check(np.all(mc[0] == m[0]), "exit 1: cascade == standalone")
        with h5py.File(os.path.join(d, "input.h5"), "r") as f:
            check(f["images"].shape == (3, 1, 32, 32) and f["images"].dtype == np.float32, "input")
        check(os.path.exists(os.path.join(d, "model.h5")), "model.h5")


def test_train_pipeline():
    """train.py: IDX reading, input preparation (as eeprof's dataset reader); every family's
    loss with a backward pass and its save style read back by the exporter (tiny models)."""
    from checkpoints import export as ex
    from checkpoints import train
    x, y = train.load_split(train.DATA_DIR, "t10k")
    check(x.shape == (10000, 1, 28, 28) and x.dtype == torch.uint8, "t10k images")
    check(y.shape == (10000,) and int(y.min()) == 0 and int(y.max()) == 9, "t10k labels")
    inp = train.to_input(x[:3])
    check(inp.shape == (3, 1, 32, 32), "padded to 32x32")
    # the C reader computes (x/255.0f - mean_f) / std_f in float32; so must train.py
    f32 = np.float32
    bg = (f32(0) - f32(0.2860)) / f32(0.3530)
    check(torch.all(inp[:, :, :2, :] == torch.tensor(bg)), "pad value")
    want = (x[:3].numpy().astype(f32) / f32(255.0) - f32(0.2860)) / f32(0.3530)
    check(torch.equal(inp[:, :, 2:30, 2:30], torch.from_numpy(want)),
          "x/255, then normalise, float32")
    crop = torch.tensor([[2, 2], [0, 4], [4, 0]])
    aug = train.to_input(x[:3], crop, torch.tensor([False, False, True]))
    check(torch.equal(aug[0], inp[0]), "centre crop = plain padding")
    check(torch.equal(aug[1, :, 2:, :30], inp[1, :, :30, 2:]), "crop offset")

    class A:
        alpha = 1e-4
    for arch, kw in (("resnet", dict(layers=(1, 1, 1, 1), width=4, stem="3x3")),
                     ("resnet-cifar", dict(depth=20, width=4)),
                     ("sdresnet", dict(layers=(1, 1, 1, 1), width=4)),
                     ("scan", dict(layers=(1, 1, 1, 1), width=4)),
                     ("sdresnet-tpami", dict(layers=(1, 1, 1, 1), width=4, adaptation_layers=True)),
                     ("emgnet", dict(variant="cifar", depth=20, width=4))):
        fam = models.family(arch)
        m = models.build(arch, in_channels=1, num_classes=10, **kw).train()
        out = m(inp)
        loss = fam.loss(m, out, y[:3], A)
        loss.backward()
        check(math.isfinite(loss.item()) and loss.item() > 0, "%s loss" % arch)
        check(len(models.exits_shallow_to_deep(arch, out)) == models.num_exits(arch, m),
              "%s exits" % arch)
        if arch == "emgnet":
            t = [mm.threshold.grad for mm in m.modules() if isinstance(mm, MLConv2d)]
            check(all(g is not None for g in t), "EMG thresholds get gradients")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, fam.CHECKPOINT_NAME)
            fam.save(m, path, 12.5, 3)
            sd, dropped = ex.load_state_dict(path)
            want = {k for k in m.state_dict() if not k.startswith("adaptation_layers.")
                    and not k.endswith("num_batches_tracked")}
            check(models.detect(sd) == arch and set(sd) == want,
                  "%s: save style read back by the exporter" % arch)
    check_fast_emg_training(A)


TRAIN = os.path.join(ROOT, "checkpoints", "train.py")


def _train(args):
    """checkpoints/train.py args -> (exit status, stdout + stderr)."""
    r = subprocess.run([sys.executable, TRAIN] + args, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def test_train_resume():
    """train.py --resume: a 2-epoch toy run (EMGNet, 256 images, augmentation on) stopped by
    --max-seconds after epoch 1 and resumed ends with the same model, optimiser, random
    generators, best weights and exported file as the uninterrupted run, bit for bit. A
    stopped run exports nothing; --resume refuses new settings; a new run does not
    overwrite a run directory."""
    toy = ["--arch", "emgnet", "--model", "variant=cifar", "depth=20", "width=4", "--name",
           "toy", "--epochs", "2", "--max-train", "256", "--max-eval", "200", "--batch", "64",
           "--threads", "1"]
    with tempfile.TemporaryDirectory() as d:
        def run(which, extra):
            return _train(extra + ["--work", os.path.join(d, which, "work"),
                                   "--out", os.path.join(d, which, "out")])
        full, split = os.path.join(d, "full", "run"), os.path.join(d, "split", "run")
        rc, out = run("full", toy + ["--run-dir", full])
        check(rc == 0, "uninterrupted run: %s" % out[-500:])
        rc, out = run("split", toy + ["--run-dir", split, "--max-seconds", "1e-6"])
        check(rc == 0 and "stopping after epoch 1" in out, "stopped run: %s" % out[-500:])
        check(not os.path.exists(os.path.join(d, "split", "out", "toy.h5")),
              "a stopped run exports nothing")
        st = torch.load(os.path.join(split, "state.pt"), weights_only=False)
        check(st["epoch"] == 1, "the stopped run saved epoch 1")
        rc, out = run("split", ["--resume", split, "--epochs", "3"])
        check(rc == 2 and "drop --epochs" in out, "--resume refuses new settings: %s" % out)
        rc, out = run("split", toy + ["--run-dir", split])
        check(rc != 0 and "already holds a run" in out, "no new run over a run: %s" % out)
        rc, out = run("split", ["--resume", split])
        check(rc == 0 and "resuming" in out, "resumed run: %s" % out[-500:])
        a = torch.load(os.path.join(full, "state.pt"), weights_only=False)
        b = torch.load(os.path.join(split, "state.pt"), weights_only=False)

        def same(x, y):
            if isinstance(x, torch.Tensor):
                return isinstance(y, torch.Tensor) and torch.equal(x, y)
            if isinstance(x, dict):
                return isinstance(y, dict) and x.keys() == y.keys() \
                    and all(same(x[k], y[k]) for k in x)
            if isinstance(x, (list, tuple)):
                return len(x) == len(y) and all(same(u, v) for u, v in zip(x, y))
            if isinstance(x, np.ndarray):
                return np.array_equal(x, y)
            return x == y
        check(a["epoch"] == b["epoch"] == 2 and a["step"] == b["step"], "epochs and steps")
        for key in ("model", "optimizer", "rng", "best_state", "best", "best_epoch"):
            check(same(a[key], b[key]), "resumed = uninterrupted: %s" % key)
        for k in ("loss", "val", "val_ens", "lr"):
            check([h[k] for h in a["history"]] == [h[k] for h in b["history"]],
                  "resumed = uninterrupted: history %s" % k)
        fa, fb = (h5py.File(os.path.join(d, w, "out", "toy.h5"), "r") for w in ("full", "split"))
        names = []
        fa.visit(names.append)
        for n in names:
            if isinstance(fa[n], h5py.Dataset):
                check(np.array_equal(fa[n][()], fb[n][()]), "exported %s equal" % n)
        check(fa.attrs["recipe"] == fb.attrs["recipe"] and fb.attrs["epochs"] == 2,
              "recipe and epochs")


def check_fast_emg_training(args):
    """The training form of MLConv2d (TrainingMLConv2d: 3x3 centre + gated ring, hand-written
    depthwise backward) computes the reference forward's loss and gradients. In float64 the
    two agree to rounding (2.5e-9 measured); a wrong tap, transpose or sum gives O(1). The
    gradients of the branch convolutions' biases, which feed a BatchNorm, are mathematically
    0 and excluded. The form is switched on for one model only: another model keeps the
    reference class."""
    from checkpoints.models.emgnet import TrainingMLConv2d, use_training_form
    torch.manual_seed(0)
    m = models.build("emgnet", variant="cifar", depth=20, width=4, in_channels=1,
                     num_classes=10).double().train()
    x, y = torch.randn(16, 1, 32, 32, dtype=torch.float64), torch.randint(0, 10, (16,))

    def loss_and_grads(fast):
        use_training_form(m, fast)
        m.zero_grad()
        loss = models.family("emgnet").loss(m, m(x), y, args)
        loss.backward()
        return loss.item(), {n: p.grad.clone() for n, p in m.named_parameters()
                             if p.grad is not None and not re.fullmatch(r"branch\d\.1\.bias", n)}
    keys = list(m.state_dict())
    l_ref, g_ref = loss_and_grads(False)
    l_fast, g_fast = loss_and_grads(True)
    convs = [mm for mm in m.modules() if isinstance(mm, MLConv2d)]
    other = models.build("emgnet", variant="cifar", depth=20, width=4)
    check(convs and all(type(mm) is TrainingMLConv2d for mm in convs)
          and not any(isinstance(mm, TrainingMLConv2d) for mm in other.modules())
          and list(m.state_dict()) == keys, "the training form is this model's only")
    check(abs(l_ref - l_fast) <= 1e-12 * abs(l_ref), "fast EMG form: loss")
    err = math.sqrt(sum(float(((g_fast[n] - g_ref[n]) ** 2).sum()) for n in g_ref))
    scale = math.sqrt(sum(float((g ** 2).sum()) for g in g_ref.values()))
    check(g_ref.keys() == g_fast.keys() and err <= 1e-7 * scale,
          "fast EMG form: gradients rel %.1e" % (err / scale))


def main(argv):
    only = None
    if "-k" in argv:
        only = argv[argv.index("-k") + 1]
    tests = [(n, f) for n, f in sorted(globals().items())
             if n.startswith("test_") and callable(f) and (not only or only in n)]
    failed = 0
    for name, fn in tests:
        t = time.time()
        try:
            fn()
            print("ok    %-32s %5.1fs" % (name, time.time() - t))
        except Exception:                            # noqa: BLE001
            failed += 1
            print("FAIL  %-32s %5.1fs" % (name, time.time() - t))
            traceback.print_exc(file=sys.stdout)
    print("models: %d of %d tests failed" % (failed, len(tests)) if failed
          else "models: %d tests passed (reference models, exporter, train.py)" % len(tests))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
