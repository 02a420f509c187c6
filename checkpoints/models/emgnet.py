"""EMGNet (arch "emgnet"): the EMG shared-kernel convolution and the author's early-exit
ResNets, written from the description of the public code, not copied: MLConv2d from
lee-gwang/EMGNet (emgnet.py), the networks from lee-gwang/imagenet_paper_starter_code
(model/sresnet.py), the loss from the paper (G. Lee, M. Kim, S. S. Woo, "Efficient
Multi-Scale Feature Generation Adaptive Network", CIKM 2021, doi:10.1145/3459637.3482337,
eq. 6-7), since no public file holds the multi-exit training loop.

MLConv2d (5x5 depthwise conv whose centre 3x3 is the "inner" kernel):
    parameters in this order: weight [out, in/groups, 5, 5], bias (None in EMGNet),
    threshold [1, out, 1, 1] (init 0), skeleton_mask [5, 5] (centre-3x3 ones; an
    nn.Parameter with requires_grad=False, so it is in state_dict()).
    Y3 = conv(x, weight * mask);  Y5 = conv(x, weight)
    gate = BinaryStep(sigmoid(mean_HW(|Y3| - threshold)) - 0.5)    per sample and channel
    out  = Y3 * (1 - gate) + Y5 * gate
  BinaryStep.forward = (x > 0).float(); its backward is the surrogate
  2 - 4|x| (|x| <= 0.4), 0.4 (0.4 < |x| <= 1), 0 otherwise, used for training only.
  The gate is viewed to [B, C_in, 1, 1] as in the public code, so it needs out == in.

MLModule(inp, oup): Ghost-style  x1 = [1x1 conv(inp -> ceil(oup/2)), BN, ReLU?](x)
    x2 = [MLConv2d depthwise 5x5 pad 2, BN, ReLU?](x1);  out = cat(x1, x2)[:, :oup]
MLBottleneck (expansion 4): conv = Sequential(MLModule(in, planes),
    [dw 3x3 stride s, BN, ReLU] if s > 1 else Sequential(), MLModule(planes, 4 planes,
    relu=False)); out = relu(conv(x) + shortcut), shortcut = 1x1 conv stride s + BN when
    s != 1 or in != 4 planes.
BranchNet(a, b): MLModule(a, a), Conv2d(a, a, 3, stride 3) with bias, BN, ReLU,
    MLModule(a, b), AdaptiveAvgPool2d(1).
ResNet_CIFAR (3 exits): 3x3 stem (in_channels -> w), layers of w/2w/4w planes (w = 16),
    branch1 = BranchNet(4w, 16w), branch2 = BranchNet(8w, 16w), branch3 = GAP,
    fc1..3 = Linear(16w, num_classes); forward returns ([o1, o2, o3], 0).
ResNet (ImageNet, 4 exits): 7x7/s2 stem + BN + ReLU + maxpool 3/2/1, planes
    int(ratio * base * 2^k) (ratio 1.2, base 64: 76/153/307/614), branch1..3 =
    BranchNet(C_k, 4*P4), branch4 = GAP, fc1..4 = Linear(4*P4, num_classes);
    forward returns [o1, o2, o3, o4].
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .training import save_bare

ARCH = "emgnet"


class BinaryStep(torch.autograd.Function):
    """Heaviside step with a piecewise-linear surrogate gradient."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).float()

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        a = x.abs()
        g = torch.where(a <= 0.4, 2 - 4 * a,
                        torch.where(a <= 1.0, torch.full_like(a, 0.4), torch.zeros_like(a)))
        return grad_output * g


class MLConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True):
        super().__init__()
        if kernel_size != 5:
            raise ValueError("MLConv2d uses a fixed 5x5 skeleton mask")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.groups = dilation, groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, 5, 5))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.threshold = nn.Parameter(torch.zeros(1, out_channels, 1, 1))
        self.skeleton_mask = nn.Parameter(F.pad(torch.ones(3, 3), (1, 1, 1, 1)),
                                          requires_grad=False)
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.weight[0].numel())
            nn.init.uniform_(self.bias, -bound, bound)

    def _conv(self, x, w):
        return F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def inner(self, x):
        """Y3: the convolution with the centre 3x3 taps only."""
        return self._conv(x, self.weight * self.skeleton_mask.view(1, 1, 5, 5))

    def gate_logit(self, y3):
        """z = mean_HW(|Y3| - t), [B, C]; the gate is sigmoid(z) - 0.5 > 0."""
        return (y3.abs() - self.threshold).mean(dim=(2, 3))

    def forward(self, x):
        bs, c = x.shape[0], x.shape[1]
        y3 = self.inner(x)
        y5 = self._conv(x, self.weight)
        mask = BinaryStep.apply(torch.sigmoid(self.gate_logit(y3)) - 0.5).view(bs, c, 1, 1)
        return y3 * (1 - mask) + y5 * mask


class MLModule(nn.Module):
    """1x1 conv to ceil(oup/2) channels, then the EMG conv on them; outputs concatenated."""

    def __init__(self, inp, oup, kernel_size=1, ratio=2, padding=1, stride=1, relu=True):
        super().__init__()
        self.oup = oup
        ratio = 2                                   # the public code overrides it
        init_channels = math.ceil(oup / ratio)
        new_channels = init_channels * (ratio - 1)
        self.conv = nn.Sequential(
            nn.Conv2d(inp, init_channels, kernel_size, stride=stride, bias=False),
            nn.BatchNorm2d(init_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential())
        self.more_feature_conv = nn.Sequential(
            MLConv2d(init_channels, new_channels, kernel_size=5, stride=stride,
                     groups=init_channels, padding=2, bias=False),
            nn.BatchNorm2d(new_channels),
            nn.ReLU(inplace=True) if relu else nn.Sequential())

    def forward(self, x):
        x1 = self.conv(x)
        x2 = self.more_feature_conv(x1)
        out = torch.cat([x1, x2], dim=1)
        # [:, :oup] keeps every channel when oup is even (every module of the networks
        # here); skipping it then gives the same tensor without the slice's backward, which
        # zero-fills a gradient of the cat's size and copies into it (a fifth of an
        # EMGNet-20 training step on one thread).
        return out if out.shape[1] == self.oup else out[:, :self.oup, :, :]


def conv3x3_modify(inp, oup, stride, relu=True, groups=1):
    return nn.Sequential(
        nn.Conv2d(inp, oup, 3, stride, 1, groups=groups, bias=False),
        nn.BatchNorm2d(oup),
        nn.ReLU(inplace=True) if relu else nn.Sequential())


class MLBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, ratio=2):
        super().__init__()
        self.conv = nn.Sequential(
            MLModule(inplanes, planes, ratio=ratio, relu=True),
            conv3x3_modify(planes, planes, stride, relu=True, groups=planes)
            if stride > 1 else nn.Sequential(),
            MLModule(planes, planes * 4, ratio=ratio, relu=False))
        self.downsample = downsample
        self.relu = nn.ReLU(inplace=True)
        self.stride = stride

    def forward(self, x):
        out = self.conv(x)
        identity = x if self.downsample is None else self.downsample(x)
        out = out + identity
        return self.relu(out)


def BranchNet(channel_in, channel_out):
    return nn.Sequential(
        MLModule(channel_in, channel_in, stride=1, kernel_size=1, relu=True),
        nn.Conv2d(channel_in, channel_in, kernel_size=3, stride=3, groups=1),
        nn.BatchNorm2d(channel_in),
        nn.ReLU(),
        MLModule(channel_in, channel_out, stride=1, kernel_size=1, relu=True),
        nn.AdaptiveAvgPool2d((1, 1)))


def _make_layer(owner, block, planes, blocks, stride):
    downsample = None
    if stride != 1 or owner.inplanes != planes * block.expansion:
        downsample = nn.Sequential(
            nn.Conv2d(owner.inplanes, planes * block.expansion, 1, stride, bias=False),
            nn.BatchNorm2d(planes * block.expansion))
    mods = [block(owner.inplanes, planes, stride, downsample)]
    owner.inplanes = planes * block.expansion
    for _ in range(1, blocks):
        mods.append(block(owner.inplanes, planes))
    return nn.Sequential(*mods)


class ResNet_CIFAR(nn.Module):
    def __init__(self, block=MLBottleneck, layers=(9, 9, 9), num_classes=10, in_channels=3,
                 width=16):
        super().__init__()
        e = block.expansion
        self.inplanes = width
        self.conv1 = nn.Conv2d(in_channels, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = _make_layer(self, block, width, layers[0], 1)
        self.layer2 = _make_layer(self, block, width * 2, layers[1], 2)
        self.layer3 = _make_layer(self, block, width * 4, layers[2], 2)
        self.branch1 = BranchNet(width * e, width * 4 * e)
        self.branch2 = BranchNet(width * 2 * e, width * 4 * e)
        self.branch3 = nn.AdaptiveAvgPool2d((1, 1))
        self.fc1 = nn.Linear(width * 4 * e, num_classes)
        self.fc2 = nn.Linear(width * 4 * e, num_classes)
        self.fc3 = nn.Linear(width * 4 * e, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        b = x.size(0)
        out1 = self.fc1(self.branch1(f1).view(b, -1))
        out2 = self.fc2(self.branch2(f2).view(b, -1))
        out3 = self.fc3(self.branch3(f3).view(b, -1))
        return [out1, out2, out3], 0


class ResNet(nn.Module):
    def __init__(self, block=MLBottleneck, layers=(2, 2, 2, 2), num_classes=1000, in_channels=3,
                 ratio=1.2, base=64):
        super().__init__()
        e = block.expansion
        planes = [int(ratio * base * 2 ** k) for k in range(4)]
        self.inplanes = planes[0]
        self.conv1 = nn.Conv2d(in_channels, planes[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(planes[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = _make_layer(self, block, planes[0], layers[0], 1)
        self.layer2 = _make_layer(self, block, planes[1], layers[1], 2)
        self.layer3 = _make_layer(self, block, planes[2], layers[2], 2)
        self.layer4 = _make_layer(self, block, planes[3], layers[3], 2)
        top = planes[3] * e
        self.branch1 = BranchNet(planes[0] * e, top)
        self.branch2 = BranchNet(planes[1] * e, top)
        self.branch3 = BranchNet(planes[2] * e, top)
        self.branch4 = nn.AdaptiveAvgPool2d((1, 1))
        self.fc1 = nn.Linear(top, num_classes)
        self.fc2 = nn.Linear(top, num_classes)
        self.fc3 = nn.Linear(top, num_classes)
        self.fc4 = nn.Linear(top, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        f4 = self.layer4(f3)
        b = x.size(0)
        return [self.fc1(self.branch1(f1).view(b, -1)), self.fc2(self.branch2(f2).view(b, -1)),
                self.fc3(self.branch3(f3).view(b, -1)), self.fc4(self.branch4(f4).view(b, -1))]


def build(variant="cifar", layers=None, depth=None, num_classes=None, in_channels=3, width=None,
          ratio=1.2):
    """variant "cifar" (3 exits; depth 6n+2 as the factories name them: 20 -> [3,3,3],
    56 -> [9,9,9]; width = first-stage
    planes, 16) or "imagenet" (4 exits; depth 18 -> [2,2,2,2], 50 -> [3,4,6,3]; width = the
    base before the 1.2 ratio, 64)."""
    if variant == "cifar":
        if layers is None:
            d = depth or 56
            if (d - 2) % 6:
                raise ValueError("EMGNet CIFAR depth must be 6n+2 (20, 56, ...)")
            n = (d - 2) // 6
            layers = (n, n, n)
        return ResNet_CIFAR(MLBottleneck, layers, num_classes or 10, in_channels, width or 16)
    if variant == "imagenet":
        if layers is None:
            layers = {18: (2, 2, 2, 2), 50: (3, 4, 6, 3)}[depth or 50]
        return ResNet(MLBottleneck, layers, num_classes or 1000, in_channels, ratio, width or 64)
    raise ValueError("variant must be 'cifar' or 'imagenet'")


def exits_shallow_to_deep(outputs):
    """CIFAR returns ([o1, o2, o3], 0), ImageNet [o1, o2, o3, o4]: already shallow first."""
    if isinstance(outputs, tuple):
        outputs = outputs[0]
    return list(outputs)


def num_exits(model):
    """3 for the CIFAR networks, 4 for the ImageNet ones."""
    return 4 if hasattr(model, "fc4") else 3


def cost_region(name):
    """stem (+maxpool) and layerK = backbone K; branchK and fcK = head K."""
    top = name.split(".")[0]
    if top in ("conv1", "bn1", "relu", "maxpool"):
        return ("backbone", 1)
    if top.startswith("layer"):
        return ("backbone", int(top[5:]))
    for pfx in ("branch", "fc"):
        if top.startswith(pfx) and top[len(pfx):].isdigit():
            return ("head", int(top[len(pfx):]))
    return None


# ---------------------------------------------------------------- checkpoints

KEYS = ("conv1.weight", "layer1.0.conv.0.more_feature_conv.0.threshold",
        "layer1.0.conv.0.more_feature_conv.0.skeleton_mask", "fc1.weight", "fc3.weight")


def matches(sd):
    return any(k.endswith("skeleton_mask") or ".more_feature_conv." in k for k in sd)


CLASSIFIERS = ("fc4.weight", "fc3.weight")           # ImageNet networks, CIFAR ones


def default_norm(sd, kernel, num_classes):
    """The author's train.py: ImageNet's statistics for the ImageNet networks (7x7 stem),
    CIFAR-10's or CIFAR-100's for the CIFAR ones, by --dataset."""
    where = "lee-gwang/imagenet_paper_starter_code train.py"
    if kernel == 7:
        return ("imagenet", where)
    dataset = {10: "cifar10", 100: "cifar100"}.get(num_classes)
    return (dataset, where) if dataset else None


# ---------------------------------------------------------------- training

LOSS_TEXT = ("EMGNet: sum_3 exits CE + alpha sum_{MLConv2d channels} exp(-t), alpha %(alpha)g, "
             "BinaryStep surrogate gradient")
SELECTED_BY = "deepest exit"
save = save_bare
CHECKPOINT_NAME = "best_model.pth"


def loss(model, outputs, y, settings):
    """sum_exits CE + settings.alpha * sum over every MLConv2d channel of exp(-threshold)
    (paper eq. 6-7); the thresholds learn through BinaryStep's surrogate gradient."""
    total = sum(F.cross_entropy(e, y) for e in exits_shallow_to_deep(outputs))
    reg = sum(torch.exp(-m.threshold).sum() for m in model.modules() if isinstance(m, MLConv2d))
    return total + settings.alpha * reg


# Debian's CPU PyTorch computes the weight gradient of a depthwise 5x5 convolution about
# four times slower than the convolution itself, and MLConv2d runs two of them (Y3 with the
# masked weight and Y5 with the full one), which made an EMGNet-20 training step 6-9 s at
# batch 128 and width 16 (2.7 s at width 8, against 1.1 s in the form below; 2 threads).
# TrainingMLConv2d computes the same function in training mode as
#     Y3 = depthwise 3x3 with weight[:, :, 1:4, 1:4] (padding 1)  == conv(x, weight * mask)
#     Yo = depthwise 5x5 with weight * (1 - mask)   (padding 2)   == Y5 - Y3
#     gate = BinaryStep(sigmoid(mean_HW|Y3| - t) - 0.5)        == ...(mean_HW(|Y3| - t))
#     out  = Y3 + gate * Yo                        == Y3 * (1 - gate) + Y5 * gate
# with a depthwise convolution whose backward is written out (input gradient: the same
# convolution with the flipped kernel; weight gradient: a depthwise convolution of the input
# with the output gradient, below). Values agree with the reference forward to float
# rounding (tests/parity/test_models.py compares loss and gradients); in evaluation mode it
# is the reference forward, so evaluation, export and every accuracy in a checkpoint use
# that, untouched.

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


class TrainingMLConv2d(MLConv2d):
    """MLConv2d whose training-mode forward is the faster form above (the depthwise,
    stride-1, padding-2, bias-free EMG convolution of EMGNet; any other configuration, and
    evaluation mode, run the reference forward). Same parameters, same state_dict."""

    def forward(self, x):
        if not self.training or self.bias is not None or self.stride != 1 \
                or self.dilation != 1 or self.padding != 2 \
                or not (self.groups == x.shape[1] == self.out_channels):
            return super().forward(x)
        y3 = _DepthwiseConv.apply(x, self.weight[:, :, 1:4, 1:4])
        ring = 1 - self.skeleton_mask.view(1, 1, 5, 5)
        yo = _DepthwiseConv.apply(x, self.weight * ring)
        # mean_HW(|Y3| - t) as mean_HW|Y3| - t: no full-size subtraction and its gradient
        z = y3.abs().mean(dim=(2, 3)) - self.threshold.view(1, -1)
        gate = BinaryStep.apply(torch.sigmoid(z) - 0.5)
        return y3 + gate.view(x.shape[0], x.shape[1], 1, 1) * yo


def use_training_form(model, on=True):
    """Turn every MLConv2d of this model into a TrainingMLConv2d (on) or back. The modules
    keep their parameters and buffers; only their class, and so their forward, changes, for
    this model alone. Models without MLConv2d are left as they are."""
    for m in model.modules():
        if isinstance(m, MLConv2d):
            m.__class__ = TrainingMLConv2d if on else MLConv2d
