"""He et al. 3-stage CIFAR ResNet-20/32/44/56/110 (reference model for arch "resnet-cifar").

Written from the description of the public code named below, not copied. Three naming
/ shortcut styles exist there and all three load into eeprof:

* option "A" (akamaster/pytorch_resnet_cifar10): parameter-free shortcut
      F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))
  whenever stride != 1 or the channel count changes, otherwise identity.
  Keys: conv1, bn1, layerK.i.{conv1,bn1,conv2,bn2}, linear.
* option "B" with naming "shortcut" (akamaster option B): shortcut = Sequential(1x1 conv
  stride s, BN) -> keys layerK.i.shortcut.{0,1}, classifier `linear`.
* option "B" with naming "downsample" (the EMGNet author's baseline, model/resnet.py):
  keys layerK.i.downsample.{0,1}, classifier `fc` (pool named `avg`, no parameters).

Stem: conv 3x3/s1/p1 (in_channels -> width, bias=False), BN, ReLU, no max-pool. Stages have
width, 2*width, 4*width planes (16/32/64 by default) with strides 1/2/2; global average pool
over the whole map, then the linear classifier. One exit.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .training import dataparallel_keys, single_exit_loss

ARCH = "resnet-cifar"

DEPTHS = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18, 1202: 200}


class PadShortcut(nn.Module):
    """Option A: take every second pixel, zero-pad planes//4 channels on both sides."""

    def __init__(self, planes):
        super().__init__()
        self.pad = planes // 4

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, option="A", naming="shortcut"):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.naming = naming
        needs = stride != 1 or in_planes != planes
        if option == "A":
            sc = PadShortcut(planes) if needs else nn.Sequential()
        else:
            sc = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                               nn.BatchNorm2d(planes)) if needs else None
        if naming == "shortcut":
            # akamaster always registers `shortcut` (an empty Sequential = identity).
            self.shortcut = sc if sc is not None else nn.Sequential()
        else:
            self.downsample = sc

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.naming == "shortcut":
            out = out + self.shortcut(x)
        else:
            out = out + (x if self.downsample is None else self.downsample(x))
        return F.relu(out)


class ResNetCIFAR(nn.Module):
    def __init__(self, layers=(3, 3, 3), num_classes=10, in_channels=3, width=16,
                 option="A", naming=None):
        super().__init__()
        if option not in ("A", "B"):
            raise ValueError("option must be 'A' or 'B'")
        if naming is None:
            naming = "shortcut"
        if naming not in ("shortcut", "downsample"):
            raise ValueError("naming must be 'shortcut' or 'downsample'")
        if option == "A" and naming != "shortcut":
            raise ValueError("option A exists only with akamaster's naming")
        self.option, self.naming = option, naming
        self.in_planes = width
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.num_stages = len(layers)
        for k, n in enumerate(layers):
            setattr(self, "layer%d" % (k + 1),
                    self._make_layer(width * 2 ** k, n, 1 if k == 0 else 2))
        if naming == "shortcut":
            self.linear = nn.Linear(self.in_planes, num_classes)
        else:
            self.fc = nn.Linear(self.in_planes, num_classes)

    def _make_layer(self, planes, n, stride):
        mods = []
        for s in [stride] + [1] * (n - 1):
            mods.append(BasicBlock(self.in_planes, planes, s, self.option, self.naming))
            self.in_planes = planes
        return nn.Sequential(*mods)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        for k in range(self.num_stages):
            out = getattr(self, "layer%d" % (k + 1))(out)
        out = F.avg_pool2d(out, out.size()[3])      # akamaster: pool over the whole map
        out = out.view(out.size(0), -1)
        return self.linear(out) if self.naming == "shortcut" else self.fc(out)


def build(depth=20, layers=None, num_classes=10, in_channels=3, width=16, option="A",
          naming=None):
    """depth 20/32/44/56/110/1202 (6n+2) or an explicit per-stage block list."""
    if layers is None:
        if depth not in DEPTHS and (depth - 2) % 6:
            raise ValueError("CIFAR ResNet depth must be 6n+2")
        n = DEPTHS.get(depth, (depth - 2) // 6)
        layers = (n, n, n)
    return ResNetCIFAR(layers, num_classes, in_channels, width, option, naming)


def exits_shallow_to_deep(outputs):
    return [outputs]


def num_exits(model):
    return 1


def cost_region(name):
    top = name.split(".")[0]
    if top in ("linear", "fc"):
        return ("head", 1)
    if top in ("conv1", "bn1") or top.startswith("layer"):
        return ("backbone", 1)
    return None


# ---------------------------------------------------------------- checkpoints

KEYS = ("conv1.weight", "layer1.0.conv1.weight", "layer3.0.conv1.weight",
        ("linear.weight", "fc.weight"))


def matches(sd):
    """conv1 and layer1 with a `linear` classifier, or with `fc` but no fourth stage and a
    3x3 stem (the EMGNet author's baselines; torchvision names otherwise, resnet.py)."""
    if "conv1.weight" not in sd or "layer1.0.conv1.weight" not in sd:
        return False
    if "linear.weight" in sd:
        return True
    conv1 = sd["conv1.weight"]
    stem3 = conv1.dim() == 4 and conv1.shape[-1] == 3
    return "fc.weight" in sd and stem3 and not any(k.startswith("layer4.") for k in sd)


CLASSIFIERS = ("linear.weight", "fc.weight")


def default_norm(sd, kernel, num_classes):
    """akamaster's trainer.py normalises with ImageNet's statistics; the EMGNet author's
    train.py with CIFAR-10's or CIFAR-100's, by --dataset."""
    if "linear.weight" in sd:
        return ("imagenet", "akamaster/pytorch_resnet_cifar10 trainer.py")
    dataset = {10: "cifar10", 100: "cifar100"}.get(num_classes)
    return (dataset, "lee-gwang/imagenet_paper_starter_code train.py") if dataset else None


# ---------------------------------------------------------------- training

loss = single_exit_loss
LOSS_TEXT = "CE"
SELECTED_BY = "deepest exit"
CHECKPOINT_NAME = "model_best.th"


def save(model, path, best_prec1, epoch):
    """akamaster: a DataParallel state_dict in a dict with epoch and best_prec1, .th."""
    torch.save({"epoch": epoch, "state_dict": dataparallel_keys(model.state_dict()),
                "best_prec1": best_prec1}, path)
