"""BYOT / SD-ResNet as in luanyunteng/pytorch-be-your-own-teacher (arch "sdresnet").

Written from the description of that repository's models/resnet.py, not copied.

Backbone: CIFAR ResNet-18/50 with torchvision block names, 3x3 stem (in_channels -> width,
bias=False), BN, ReLU, no max-pool, layer1..4 with width*{1,2,4,8} planes, strides 1/2/2/2.
Exit i (i = 1..3) after layer i:
    bottleneck{i}_1 = branchBottleNeck(C_i, 8*width*e, kernel 8/4/2)  (1x1, kxk stride k, 1x1;
                      every conv has a bias, each followed by BN + ReLU)
    avgpool{i} (AdaptiveAvgPool2d 1), middle_fc{i} = Linear(8*width*e, num_classes)
Exit 4: avgpool + fc after layer4.
downsample{1,2,3}_1 (1x1 conv stride 8/4/2 + BN) are constructed and therefore saved in
every checkpoint, but forward never uses them.

forward returns (out, out1, out2, out3, final_fea, middle1_fea, middle2_fea, middle3_fea):
deepest logits first, then the three shallow exits in order, then the pooled features
([B, 8*width*e, 1, 1]).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .backbone import add_cifar_trunk, block_class, conv1x1, exit_region
from .training import dataparallel_keys, soft_ce

ARCH = "sdresnet"


def branch_bottleneck(channel_in, channel_out, kernel_size):
    """Exit branch: 1x1 -> kxk stride k -> 1x1, all with bias, BN + ReLU after each."""
    middle = channel_out // 4
    return nn.Sequential(
        nn.Conv2d(channel_in, middle, 1, 1),
        nn.BatchNorm2d(middle),
        nn.ReLU(),
        nn.Conv2d(middle, middle, kernel_size, kernel_size),
        nn.BatchNorm2d(middle),
        nn.ReLU(),
        nn.Conv2d(middle, channel_out, 1, 1),
        nn.BatchNorm2d(channel_out),
        nn.ReLU())


class MultiResNet(nn.Module):
    def __init__(self, block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3,
                 width=64):
        super().__init__()
        block = block_class(block)
        e = block.expansion
        add_cifar_trunk(self, block, layers, in_channels, width, "BYOT ResNet")
        top = width * 8 * e
        # Registration order as in the public code: per exit downsample, bottleneck, pool, fc.
        self.downsample1_1 = nn.Sequential(conv1x1(width * e, top, 8), nn.BatchNorm2d(top))
        self.bottleneck1_1 = branch_bottleneck(width * e, top, 8)
        self.avgpool1 = nn.AdaptiveAvgPool2d((1, 1))
        self.middle_fc1 = nn.Linear(top, num_classes)
        self.downsample2_1 = nn.Sequential(conv1x1(width * 2 * e, top, 4), nn.BatchNorm2d(top))
        self.bottleneck2_1 = branch_bottleneck(width * 2 * e, top, 4)
        self.avgpool2 = nn.AdaptiveAvgPool2d((1, 1))
        self.middle_fc2 = nn.Linear(top, num_classes)
        self.downsample3_1 = nn.Sequential(conv1x1(width * 4 * e, top, 2), nn.BatchNorm2d(top))
        self.bottleneck3_1 = branch_bottleneck(width * 4 * e, top, 2)
        self.avgpool3 = nn.AdaptiveAvgPool2d((1, 1))
        self.middle_fc3 = nn.Linear(top, num_classes)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(top, num_classes)
        for m in self.modules():                     # the public init (fan_out normal)
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        m1 = self.avgpool1(self.bottleneck1_1(x))
        out1 = self.middle_fc1(torch.flatten(m1, 1))
        x = self.layer2(x)
        m2 = self.avgpool2(self.bottleneck2_1(x))
        out2 = self.middle_fc2(torch.flatten(m2, 1))
        x = self.layer3(x)
        m3 = self.avgpool3(self.bottleneck3_1(x))
        out3 = self.middle_fc3(torch.flatten(m3, 1))
        x = self.layer4(x)
        final_fea = self.avgpool(x)
        out = self.fc(torch.flatten(final_fea, 1))
        return out, out1, out2, out3, final_fea, m1, m2, m3


def build(block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3, width=64):
    return MultiResNet(block, layers, num_classes, in_channels, width)


def exits_shallow_to_deep(outputs):
    out, out1, out2, out3 = outputs[:4]
    return [out1, out2, out3, out]


def num_exits(model):
    return 4


def cost_region(name):
    """stem + layerK = backbone of exit K; bottleneckK_1/avgpoolK/middle_fcK = head K;
    avgpool/fc = head 4; downsampleK_1 is never executed (None)."""
    return exit_region(name, ("bottleneck", "avgpool", "middle_fc"), ("avgpool", "fc"))


# ---------------------------------------------------------------- checkpoints

KEYS = ("conv1.weight", "layer4.0.conv1.weight", "bottleneck1_1.0.weight", "middle_fc1.weight",
        "fc.weight")


def matches(sd):
    return "middle_fc1.weight" in sd or "bottleneck1_1.0.weight" in sd


CLASSIFIERS = ("fc.weight",)


def default_norm(sd, kernel, num_classes):
    """BYOT's train.py normalises CIFAR-10 and CIFAR-100 alike with CIFAR-10's statistics
    (the CIFAR-100 ones are commented out there)."""
    return ("cifar10", "luanyunteng/pytorch-be-your-own-teacher train.py")


# ---------------------------------------------------------------- training

T, ALPHA, BETA = 3.0, 0.1, 1e-6
LOSS_TEXT = ("BYOT: 0.9 sum_4 exits CE + 0.1 T^2 sum_{i<4} KD_T(out_i, out4), T = 3, "
             "+ 1e-6 sum_{i<4} masked squared L2(feat_i, feat4)")
SELECTED_BY = "deepest exit"
CHECKPOINT_NAME = "model_best.pth.tar"


def loss(model, outputs, y, settings):
    """(1-a) sum_exits CE + a T^2 sum_{i<4} KD_T(out_i, out4) + b sum_{i<4} F(feat_i, feat4),
    F = squared L2 where either feature is positive; the teacher terms use out4/feat4
    detached."""
    exits = exits_shallow_to_deep(outputs)
    out, feats = exits[3], outputs[4]
    total = (1 - ALPHA) * sum(F.cross_entropy(e, y) for e in exits)
    teacher = out.detach()
    for i in range(3):
        total = total + ALPHA * T * T * soft_ce(exits[i], teacher, T)
        f, t = outputs[5 + i], feats.detach()
        total = total + BETA * ((f - t) ** 2 * ((f > 0) | (t > 0)).float()).sum()
    return total


def save(model, path, best_prec1, epoch):
    """BYOT: a DataParallel state_dict in a dict with epoch, arch and a best_prec1 tensor,
    .pth.tar."""
    torch.save({"epoch": epoch, "arch": "multi_resnet_kd",
                "state_dict": dataparallel_keys(model.state_dict()),
                "best_prec1": torch.tensor(best_prec1)}, path)
