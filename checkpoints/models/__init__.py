"""PyTorch reference models for eeprof, one module per architecture family.

Each family module defines
    ARCH                         the name used in checkpoints and on the command line
    build(**kw)                  a model with the public code's state_dict keys and forward
    exits_shallow_to_deep(out)   the forward's output -> list of exit logits, exit 1 first
    cost_region(module_name)     ("backbone", k): run for exit k and every deeper exit
                                 ("head", k):     run only for exit k
                                 None:            never run at inference
The cost regions are the independent reference for the C side's per-exit MACs:
    standalone cost of exit k = backbone regions <= k + head k
    cascade cost of exit k    = backbone regions <= k + heads <= k
They are derived from module names (stem conv1/bn1, layerK, branchK, fcK, scalaK,
attentionK, bottleneckK_1, middle_fcK, ...) following shared/research/architectures.md.
"""
from . import emgnet, resnet, resnet_cifar, scan, sdresnet, sdresnet_tpami

FAMILIES = {m.ARCH: m for m in (resnet, resnet_cifar, sdresnet, sdresnet_tpami, scan, emgnet)}
ARCHS = tuple(FAMILIES)


def family(arch):
    try:
        return FAMILIES[arch]
    except KeyError:
        raise ValueError("unknown arch %r (known: %s)" % (arch, ", ".join(ARCHS))) from None


def build(arch, **kw):
    """build("sdresnet", block="basic", num_classes=100) etc.; see each family's build()."""
    return family(arch).build(**kw)


def exits_shallow_to_deep(arch, outputs):
    return family(arch).exits_shallow_to_deep(outputs)


def cost_region(arch, name):
    return family(arch).cost_region(name)


def num_exits(arch, model):
    """Number of exits of a built model (emgnet: 3 for CIFAR, 4 for ImageNet)."""
    if arch in ("resnet", "resnet-cifar"):
        return 1
    if arch == "emgnet":
        return 4 if hasattr(model, "fc4") else 3
    return 4
