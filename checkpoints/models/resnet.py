"""Plain ResNet with torchvision's module names (reference model for arch "resnet").

Written from the description of pytorch/vision torchvision/models/resnet.py (the module
names and forward), not copied. What matters for eeprof is the state_dict layout and the
forward semantics:

    conv1, bn1, (relu), (maxpool), layer1..layerS, (avgpool), fc
    layerK.i.{conv1,bn1,conv2,bn2[,conv3,bn3],downsample.{0,1}}

* BasicBlock: 3x3(stride) -> BN -> ReLU -> 3x3 -> BN -> + shortcut -> ReLU.
* Bottleneck: 1x1 -> BN -> ReLU -> 3x3(stride, on conv2 as torchvision) -> BN -> ReLU
  -> 1x1 (x4) -> BN -> + shortcut -> ReLU.
* downsample = Sequential(1x1 conv stride s, BN) whenever stride != 1 or the channel count
  changes (torchvision's rule).
* stem "7x7": conv 7x7/s2/p3 + BN + ReLU + maxpool 3/2/1 (maxpool can be switched off);
  stem "3x3": conv 3x3/s1/p1 + BN + ReLU, no maxpool (the CIFAR variant).

Parameters beyond torchvision: `width` (planes of the first stage, 64 in torchvision, stage
k has width*2**(k-1)), `in_channels`, any number of stages (len(layers)). One exit.
"""
import torch
import torch.nn as nn

from .backbone import block_class, make_stage
from .training import save_bare, single_exit_loss

ARCH = "resnet"


class ResNet(nn.Module):
    def __init__(self, block="basic", layers=(2, 2, 2, 2), num_classes=1000, in_channels=3,
                 width=64, stem="7x7", maxpool=None):
        super().__init__()
        block = block_class(block)
        if stem not in ("7x7", "3x3"):
            raise ValueError("stem must be '7x7' or '3x3'")
        if maxpool is None:                     # torchvision default: pool after a 7x7 stem
            maxpool = stem == "7x7"
        self.stem = stem
        self.use_maxpool = bool(maxpool)
        if stem == "7x7":
            self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.num_stages = len(layers)
        planes = width
        for k, n in enumerate(layers):
            stage, planes = make_stage(block, planes, width * 2 ** k, n, 1 if k == 0 else 2)
            setattr(self, "layer%d" % (k + 1), stage)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(planes, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.use_maxpool:
            x = self.maxpool(x)
        for k in range(self.num_stages):
            x = getattr(self, "layer%d" % (k + 1))(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def build(block="basic", layers=(2, 2, 2, 2), num_classes=1000, in_channels=3, width=64,
          stem="7x7", maxpool=None):
    return ResNet(block, layers, num_classes, in_channels, width, stem, maxpool)


def exits_shallow_to_deep(outputs):
    """The single output as a one-element exit list."""
    return [outputs]


def num_exits(model):
    return 1


def cost_region(name):
    """Cost region of a module (see models/__init__.py): everything is exit 1's backbone
    except the classifier, which is exit 1's head."""
    top = name.split(".")[0]
    if top == "fc":
        return ("head", 1)
    if top in ("conv1", "bn1", "relu", "maxpool", "avgpool") or top.startswith("layer"):
        return ("backbone", 1)
    return None


# ---------------------------------------------------------------- checkpoints

KEYS = ("conv1.weight", "layer1.0.conv1.weight", "fc.weight")


def matches(sd):
    """torchvision names with a fourth stage or a 7x7 stem (otherwise the He et al. CIFAR
    ResNet, resnet_cifar.py, which also names its classifier fc in the EMGNet author's
    baselines)."""
    if not all(k in sd for k in KEYS) or "linear.weight" in sd:
        return False
    conv1 = sd["conv1.weight"]
    stem3 = conv1.dim() == 4 and conv1.shape[-1] == 3
    return any(k.startswith("layer4.") for k in sd) or not stem3


CLASSIFIERS = ("fc.weight",)


def default_norm(sd, kernel, num_classes):
    """torchvision's ResNets (7x7 stem) are trained on ImageNet; a 3x3-stem variant has no
    public trainer of its own."""
    return ("imagenet", "torchvision's ImageNet ResNets") if kernel == 7 else None


# ---------------------------------------------------------------- training

loss = single_exit_loss
LOSS_TEXT = "CE"
SELECTED_BY = "deepest exit"
save = save_bare
CHECKPOINT_NAME = "model.pth"
