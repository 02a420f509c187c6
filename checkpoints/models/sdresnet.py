"""BYOT / SD-ResNet as in luanyunteng/pytorch-be-your-own-teacher (arch "sdresnet").

Written from shared/research/architectures.md section 2.1, not copied.

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

ARCH = "sdresnet"


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 1, stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class BottleneckBlock(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)     # stride on the 3x3
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


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


BLOCKS = {"basic": BasicBlock, "bottleneck": BottleneckBlock}


class MultiResNet(nn.Module):
    def __init__(self, block="basic", layers=(2, 2, 2, 2), num_classes=100, in_channels=3,
                 width=64):
        super().__init__()
        if isinstance(block, str):
            block = BLOCKS[block]
        if len(layers) != 4:
            raise ValueError("BYOT ResNet has 4 stages")
        e = block.expansion
        self.inplanes = width
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, width, layers[0], 1)
        self.layer2 = self._make_layer(block, width * 2, layers[1], 2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], 2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], 2)
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


def cost_region(name):
    """stem + layerK = backbone of exit K; bottleneckK_1/avgpoolK/middle_fcK = head K;
    avgpool/fc = head 4; downsampleK_1 is never executed (None)."""
    top = name.split(".")[0]
    if top in ("conv1", "bn1", "relu"):
        return ("backbone", 1)
    if top.startswith("layer"):
        return ("backbone", int(top[5:]))
    for pfx in ("bottleneck", "avgpool", "middle_fc"):
        if top.startswith(pfx) and top[len(pfx):len(pfx) + 1].isdigit():
            return ("head", int(top[len(pfx)]))
    if top in ("avgpool", "fc"):
        return ("head", 4)
    return None
