"""PyTorch reference models for eeprof, one module per architecture family, and the
registry that checkpoints/export.py, checkpoints/train.py and the tests look families up in.

Each family module defines
  the model
    ARCH                         the name used in checkpoints and on the command line
    build(**kw)                  a model with the public code's state_dict keys and forward
    exits_shallow_to_deep(out)   the forward's output -> list of exit logits, exit 1 first
    num_exits(model)             how many exits a built model has
    cost_region(module_name)     ("backbone", k): run for exit k and every deeper exit
                                 ("head", k):     run only for exit k
                                 None:            never run at inference
  its checkpoints (export.py)
    KEYS                         keys every checkpoint of the family holds (a tuple inside
                                 KEYS: one of these)
    matches(sd)                  whether a state_dict's key names are this family's
    CLASSIFIERS                  the deepest classifier's weight key (its rows are the
                                 classes); the first one a checkpoint holds
    default_norm(sd, kernel, num_classes)
                                 (a name in norms.PRESETS, the public code that normalises
                                 with it) for a 3-channel checkpoint, or None where the
                                 public code defines no normalisation for it
  its training (train.py)
    loss(model, outputs, y, settings)   the public training loss (settings.alpha: EMGNet's
                                 threshold regulariser)
    LOSS_TEXT                    that loss in words, %(alpha)g-formatted, for the recipe
    SELECTED_BY                  which validation accuracy picks the kept epoch
    save(model, path, best_prec1, epoch), CHECKPOINT_NAME
                                 the public repository's way and file name of saving

The cost regions are the independent reference for the C side's per-exit MACs:
    standalone cost of exit k = backbone regions <= k + head k
    cascade cost of exit k    = backbone regions <= k + heads <= k
They are derived from module names (stem conv1/bn1, layerK, branchK, fcK, scalaK,
attentionK, bottleneckK_1, middle_fcK, ...), following each family's public code (named in
its module) and README.md, "Exporting your own PyTorch checkpoint".
"""
from . import emgnet, resnet, resnet_cifar, scan, sdresnet, sdresnet_tpami

FAMILIES = {m.ARCH: m for m in (resnet, resnet_cifar, sdresnet, sdresnet_tpami, scan, emgnet)}
ARCHS = tuple(FAMILIES)

# The order detect() tries families in: the early-exit families first, because their exit
# heads have names of their own, while a plain ResNet's keys are a subset of theirs.
DETECTION_ORDER = (emgnet, sdresnet, sdresnet_tpami, scan, resnet_cifar, resnet)


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
    return family(arch).num_exits(model)


def detect(sd):
    """The family whose key names sd has, or None."""
    for fam in DETECTION_ORDER:
        if fam.matches(sd):
            return fam.ARCH
    return None


def _alternatives(entry):
    return entry if isinstance(entry, tuple) else (entry,)


def missing_keys(arch, sd):
    """The entries of the family's KEYS that sd lacks (alternatives joined by ' | ')."""
    return [" | ".join(_alternatives(e)) for e in family(arch).KEYS
            if not any(k in sd for k in _alternatives(e))]


def signature_text(arch):
    """The family's KEYS as one line, for error messages."""
    return ", ".join(" | ".join(_alternatives(e)) for e in family(arch).KEYS)


def classifier_key(arch, sd):
    """The deepest classifier's weight key in sd (the family's first CLASSIFIERS entry when
    sd has none of them)."""
    names = family(arch).CLASSIFIERS
    return next((k for k in names if k in sd), names[0])


def default_norm(arch, sd, channels, kernel, num_classes):
    """(preset name, whose default it is), or None. The public code of every family reads
    RGB datasets, so only 3-channel checkpoints have a default."""
    if channels != 3:
        return None
    return family(arch).default_norm(sd, kernel, num_classes)
