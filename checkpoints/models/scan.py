"""SCAN (ArchipLab-LinfengZhang/pytorch-scalable-neural-networks, sresnet.py), arch "scan".

Written from the description of that repository's sresnet.py, not copied.

Backbone: torchvision BasicBlock/Bottleneck (stride on the 3x3), 3x3 stem (bias=False), BN,
ReLU, no max-pool, layer1..4 with width*{1,2,4,8} planes.
    ScalaNet(a, b, size) = 1x1(a->M) BN ReLU, size x size stride size (M->M) BN ReLU,
                           1x1(M->b) BN ReLU, AvgPool2d(4, 4); every conv with bias;
                           M = 128 in the public code (here 2*width, = 128 at width 64)
    scala1 = ScalaNet(w e, 8w e, 8); scala2 = ScalaNet(2w e, 8w e, 4);
    scala3 = ScalaNet(4w e, 8w e, 2); scala4 = AvgPool2d(4, 4)
    attentionK = Conv2d(C, C, 3, pad 1, stride 2) BN ReLU,
                 ConvTranspose2d(C, C, 4, pad 1, stride 2) BN Sigmoid     (conv biases on)
    fc1..fc4 = Linear(8w e, num_classes)
forward: f_k = attention_k(x_k) * x_k (exit only), f4 = x4, o_k = scala_k(f_k) flattened,
feature_loss = sum_k ((o4.detach() - o_k)^2).sum();
returns ([fc4(o4), fc3(o3), fc2(o2), fc1(o1)], feature_loss)      -- deepest first.
"""
import torch.nn as nn
import torch.nn.functional as F

from .backbone import add_cifar_trunk, block_class, exit_region
from .training import save_bare, soft_ce

ARCH = "scan"


def scala_net(channel_in, channel_out, size, middle):
    return nn.Sequential(
        nn.Conv2d(channel_in, middle, 1, 1),
        nn.BatchNorm2d(middle),
        nn.ReLU(),
        nn.Conv2d(middle, middle, size, size),
        nn.BatchNorm2d(middle),
        nn.ReLU(),
        nn.Conv2d(middle, channel_out, 1, 1),
        nn.BatchNorm2d(channel_out),
        nn.ReLU(),
        nn.AvgPool2d(4, 4))


def attention(c):
    return nn.Sequential(
        nn.Conv2d(c, c, 3, padding=1, stride=2),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        nn.ConvTranspose2d(c, c, 4, padding=1, stride=2),
        nn.BatchNorm2d(c),
        nn.Sigmoid())


class SResNet(nn.Module):
    def __init__(self, block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3,
                 width=64, middle=None):
        super().__init__()
        block = block_class(block)
        e = block.expansion
        w = width
        if middle is None:
            middle = 2 * w
        add_cifar_trunk(self, block, layers, in_channels, w, "SCAN ResNet")
        top = 8 * w * e
        self.scala1 = scala_net(w * e, top, 8, middle)
        self.scala2 = scala_net(2 * w * e, top, 4, middle)
        self.scala3 = scala_net(4 * w * e, top, 2, middle)
        self.scala4 = nn.AvgPool2d(4, 4)
        self.attention1 = attention(w * e)
        self.attention2 = attention(2 * w * e)
        self.attention3 = attention(4 * w * e)
        self.fc1 = nn.Linear(top, num_classes)
        self.fc2 = nn.Linear(top, num_classes)
        self.fc3 = nn.Linear(top, num_classes)
        self.fc4 = nn.Linear(top, num_classes)

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
        b = x.size(0)
        o4 = self.scala4(f4).view(b, -1)
        o3 = self.scala3(f3).view(b, -1)
        o2 = self.scala2(f2).view(b, -1)
        o1 = self.scala1(f1).view(b, -1)
        feature_loss = sum(((o4.detach() - o) ** 2).sum() for o in (o3, o2, o1))
        return [self.fc4(o4), self.fc3(o3), self.fc2(o2), self.fc1(o1)], feature_loss


def build(block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3, width=64,
          middle=None):
    return SResNet(block, layers, num_classes, in_channels, width, middle)


def exits_shallow_to_deep(outputs):
    return list(reversed(outputs[0]))


def num_exits(model):
    return 4


def cost_region(name):
    """stem + layerK = backbone K; attentionK, scalaK, fcK = head K."""
    return exit_region(name, ("attention", "scala", "fc"))


# ---------------------------------------------------------------- checkpoints

KEYS = ("conv1.weight", "layer4.0.conv1.weight", "scala1.0.weight", "attention1.3.weight",
        "fc4.weight")


def matches(sd):
    return "scala1.0.weight" in sd and "attention1.3.weight" in sd


CLASSIFIERS = ("fc4.weight",)


def default_norm(sd, kernel, num_classes):
    """SCAN's train.py normalises CIFAR-10 and CIFAR-100 alike with CIFAR-10's statistics."""
    return ("cifar10", "ArchipLab-LinfengZhang/pytorch-scalable-neural-networks train.py")


# ---------------------------------------------------------------- training

T, LAMBDA = 3.0, 0.5
LOSS_TEXT = ("SCAN: CE(out4) + sum_{i<4} [0.5*9 SoftCE_3(out_i, out4) + 0.5 CE(out_i)] "
             "+ 5e-7 sum_{i<4} ||o4 - o_i||^2")
SELECTED_BY = "deepest exit"
save = save_bare
CHECKPOINT_NAME = "bestmodel.pth"


def loss(model, outputs, y, settings):
    """CE(out4) + sum_{i<4} [9 l SoftCE_3(out_i, out4) + (1-l) CE(out_i)] + 5e-7
    feature_loss, l = 0.5 (the teacher out4 detached)."""
    exits = exits_shallow_to_deep(outputs)
    out4 = exits[3]
    total = F.cross_entropy(out4, y)
    for i in range(3):
        total = total + soft_ce(exits[i], out4.detach(), T) * LAMBDA * 9 \
            + F.cross_entropy(exits[i], y) * (1 - LAMBDA)
    if LAMBDA != 0:
        total = total + 5e-7 * outputs[1]
    return total
