"""SCAN (ArchipLab-LinfengZhang/pytorch-scalable-neural-networks, sresnet.py), arch "scan".

Written from shared/research/architectures.md sections 3.1-3.2, not copied.

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
import torch
import torch.nn as nn

from .sdresnet_tpami import BasicBlock, Bottleneck, conv1x1

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


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class SResNet(nn.Module):
    def __init__(self, block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3,
                 width=64, middle=None):
        super().__init__()
        if isinstance(block, str):
            block = BLOCKS[block]
        if len(layers) != 4:
            raise ValueError("SCAN ResNet has 4 stages")
        e = block.expansion
        w = width
        if middle is None:
            middle = 2 * w
        self.inplanes = w
        self.conv1 = nn.Conv2d(in_channels, w, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, w, layers[0], 1)
        self.layer2 = self._make_layer(block, w * 2, layers[1], 2)
        self.layer3 = self._make_layer(block, w * 4, layers[2], 2)
        self.layer4 = self._make_layer(block, w * 8, layers[3], 2)
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

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       nn.BatchNorm2d(planes * block.expansion))
        mods = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            mods.append(block(self.inplanes, planes))
        return nn.Sequential(*mods)

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


def cost_region(name):
    """stem + layerK = backbone K; attentionK, scalaK, fcK = head K."""
    top = name.split(".")[0]
    if top in ("conv1", "bn1", "relu"):
        return ("backbone", 1)
    if top.startswith("layer"):
        return ("backbone", int(top[5:]))
    for pfx in ("attention", "scala", "fc"):
        if top.startswith(pfx) and top[len(pfx):].isdigit():
            return ("head", int(top[len(pfx):]))
    return None
