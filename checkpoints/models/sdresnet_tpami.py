"""Self-distillation, journal version (ArchipLab-LinfengZhang/pytorch-self-distillation-final),
arch "sdresnet-tpami".

Written from the description of that repository's resnet.py, not copied.

Backbone: torchvision BasicBlock/Bottleneck (stride on conv2), 3x3 stem (bias=False), BN,
ReLU; a max-pool is constructed but never called. Exits (e = block expansion, w = width):
    SepConv(a, b) = dw3x3/s2/p1 -> 1x1 -> BN -> ReLU -> dw3x3/s1/p1 -> 1x1(a->b) -> BN -> ReLU
                    (no conv bias), keys op.{0,1,2,4,5,6}
    scala1 = SepConv(w e, 2w e), SepConv(2w e, 4w e), SepConv(4w e, 8w e), AvgPool2d(4, 4)
    scala2 = SepConv(2w e, 4w e), SepConv(4w e, 8w e), AvgPool2d(4, 4)
    scala3 = SepConv(4w e, 8w e), AvgPool2d(4, 4);      scala4 = AvgPool2d(4, 4)
    attentionK = SepConv(C, C) [stride 2], BN(C), ReLU, Upsample(x2, bilinear,
                 align_corners unset = False), Sigmoid        for C = w e, 2w e, 4w e
    fc1..fc4 = Linear(8w e, num_classes)
forward: f_k = attention_k(x_k) * x_k (k = 1..3; only the exit sees the attended map,
the backbone continues with x_k); f4 = x4; o_k = scala_k(f_k) flattened;
returns ([fc4(o4), fc3(o3), fc2(o2), fc1(o1)], [o4, o3, o2, o1])  -- deepest first.

The training code attaches `adaptation_layers` (ModuleList of 3 Linear(8w e, 8w e)) to the
network after the first batch, so they are in saved state_dicts; pass
adaptation_layers=True to reproduce that. They are never used at inference.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .backbone import add_cifar_trunk, block_class, exit_region
from .training import save_bare, soft_ce

ARCH = "sdresnet-tpami"


class SepConv(nn.Module):
    def __init__(self, channel_in, channel_out, kernel_size=3, stride=2, padding=1, affine=True):
        super().__init__()
        self.op = nn.Sequential(
            nn.Conv2d(channel_in, channel_in, kernel_size, stride, padding, groups=channel_in,
                      bias=False),
            nn.Conv2d(channel_in, channel_in, 1, padding=0, bias=False),
            nn.BatchNorm2d(channel_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(channel_in, channel_in, kernel_size, 1, padding, groups=channel_in,
                      bias=False),
            nn.Conv2d(channel_in, channel_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(channel_out, affine=affine),
            nn.ReLU(inplace=False))

    def forward(self, x):
        return self.op(x)


def attention(c):
    return nn.Sequential(SepConv(c, c), nn.BatchNorm2d(c), nn.ReLU(),
                         nn.Upsample(scale_factor=2, mode="bilinear"), nn.Sigmoid())


class ResNetSD(nn.Module):
    def __init__(self, block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3,
                 width=64, adaptation_layers=False):
        super().__init__()
        block = block_class(block)
        e = block.expansion
        w = width
        add_cifar_trunk(self, block, layers, in_channels, w, "the journal ResNet")
        self.maxpool = nn.MaxPool2d(3, 2, 1)              # constructed, never called
        self.scala1 = nn.Sequential(SepConv(w * e, 2 * w * e), SepConv(2 * w * e, 4 * w * e),
                                    SepConv(4 * w * e, 8 * w * e), nn.AvgPool2d(4, 4))
        self.scala2 = nn.Sequential(SepConv(2 * w * e, 4 * w * e), SepConv(4 * w * e, 8 * w * e),
                                    nn.AvgPool2d(4, 4))
        self.scala3 = nn.Sequential(SepConv(4 * w * e, 8 * w * e), nn.AvgPool2d(4, 4))
        self.scala4 = nn.AvgPool2d(4, 4)
        self.attention1 = attention(w * e)
        self.attention2 = attention(2 * w * e)
        self.attention3 = attention(4 * w * e)
        self.fc1 = nn.Linear(8 * w * e, num_classes)
        self.fc2 = nn.Linear(8 * w * e, num_classes)
        self.fc3 = nn.Linear(8 * w * e, num_classes)
        self.fc4 = nn.Linear(8 * w * e, num_classes)
        if adaptation_layers:
            self.add_adaptation_layers()

    def add_adaptation_layers(self):
        """Training-only feature adapters, attached the way the journal trainer does."""
        d = self.fc4.in_features
        self.adaptation_layers = nn.ModuleList([nn.Linear(d, d) for _ in range(3)])
        return self.adaptation_layers

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        f1 = self.attention1(x) * x
        x = self.layer2(x)
        f2 = self.attention2(x) * x
        x = self.layer3(x)
        f3 = self.attention3(x) * x
        x = self.layer4(x)
        f4 = x
        o4 = self.scala4(f4).view(x.size(0), -1)
        o3 = self.scala3(f3).view(x.size(0), -1)
        o2 = self.scala2(f2).view(x.size(0), -1)
        o1 = self.scala1(f1).view(x.size(0), -1)
        return [self.fc4(o4), self.fc3(o3), self.fc2(o2), self.fc1(o1)], [o4, o3, o2, o1]


def build(block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3, width=64,
          adaptation_layers=False):
    return ResNetSD(block, layers, num_classes, in_channels, width, adaptation_layers)


def exits_shallow_to_deep(outputs):
    return list(reversed(outputs[0]))


def num_exits(model):
    return 4


def cost_region(name):
    """stem + layerK = backbone K; attentionK, scalaK, fcK = head K (the attended map only
    feeds exit K); adaptation_layers / maxpool never run at inference (None)."""
    return exit_region(name, ("attention", "scala", "fc"))


# ---------------------------------------------------------------- checkpoints

KEYS = ("conv1.weight", "layer4.0.conv1.weight", "scala1.0.op.0.weight",
        "attention1.0.op.0.weight", "fc4.weight")


def matches(sd):
    return "scala1.0.op.0.weight" in sd


CLASSIFIERS = ("fc4.weight",)


def default_norm(sd, kernel, num_classes):
    """The journal code's train.py normalises with CIFAR-10's statistics (train and test)."""
    return ("cifar10", "ArchipLab-LinfengZhang/pytorch-self-distillation-final train.py")


# ---------------------------------------------------------------- training

T = 3.0
LOSS_TEXT = ("journal self-distillation: CE(out4) + sum_{i<4} [0.3 SoftCE_3(out_i, out4) "
             "+ 0.7 CE(out_i)] + 0.03 sum_{exits 2,1} ||adapt(feat_i) - feat4||_2")
SELECTED_BY = "ensemble"          # the journal trainer keeps the best logit-mean ensemble
save = save_bare
CHECKPOINT_NAME = "model.pth"


def loss(model, outputs, y, settings):
    """CE(out4) + sum_{i<4} [0.3 SoftCE_3(out_i, out4) + 0.7 CE(out_i)]
    + 0.03 sum_{exits 2,1} ||adapt(feat_i) - feat4||_2 (teacher terms detached); needs the
    model built with adaptation_layers=True."""
    outs, feats = outputs                                 # deepest first
    total = F.cross_entropy(outs[0], y)
    for index in range(1, 4):
        total = total + 0.3 * soft_ce(outs[index], outs[0].detach(), T) \
            + 0.7 * F.cross_entropy(outs[index], y)
    for index in (2, 3):                                  # exits 2 and 1
        adapted = model.adaptation_layers[index - 1](feats[index])
        total = total + 0.03 * torch.dist(adapted, feats[0].detach())
    return total
