"""Named input normalisations: the per-channel mean and std that inputs in [0, 1] are
normalised with, x' = (x - mean) / std. export.py offers them as --norm NAME and the
family modules name them as their defaults (default_norm).

Each entry says where its numbers come from. A model must be evaluated with the statistics
it was trained with, which are not always the dataset's exact ones: the CIFAR-10 std
(0.2023, 0.1994, 0.2010) that the public CIFAR trainers copy from kuangliu/pytorch-cifar
is not the per-pixel std of CIFAR-10 (0.2470, 0.2435, 0.2616, kuangliu/pytorch-cifar
issue #8), yet it is what those models expect.
"""
from collections import namedtuple

Norm = namedtuple("Norm", "mean std source")

PRESETS = {
    "fashion-mnist": Norm(
        (0.2860,), (0.3530,),
        "mean and std of the pixels (/255) of the 60,000 Fashion-MNIST training images "
        "(zalandoresearch/fashion-mnist); tests/parity/test_models.py recomputes them"),
    "mnist": Norm(
        (0.1307,), (0.3081,),
        "pytorch/examples mnist/main.py, transforms.Normalize((0.1307,), (0.3081,))"),
    "cifar10": Norm(
        (0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010),
        "kuangliu/pytorch-cifar main.py; the values BYOT, SCAN, the journal self-distillation "
        "code and the EMGNet author's train.py normalise with"),
    "cifar100": Norm(
        (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761),
        "lee-gwang/imagenet_paper_starter_code train.py (the EMGNet author's), --dataset "
        "cifar100"),
    "imagenet": Norm(
        (0.485, 0.456, 0.406), (0.229, 0.224, 0.225),
        "torchvision's ImageNet classification weights (pytorch/vision) and "
        "pytorch/examples imagenet/main.py"),
}
NAMES = tuple(PRESETS)
