"""The PyTorch parity cases the C side runs (one make_case.py call each).

Each case: name (also the output sub-directory), arch, variant (a key of
make_case.VARIANTS[arch]) and options: seed, batch, in_ch, size ("HxW", None = the
variant's default). Every case builds and exports in well under ~10 s on 2 cores.

    import cases
    for c in cases.CASES:
        subprocess.run(cases.argv(c, out_dir), check=True)    # -> out_dir/<name>/{model,input,ref}.h5

Coverage: torchvision ResNet (BasicBlock with a 3x3 stem at CIFAR size; Bottleneck-50 at
width 16 with 7x7 stem + max-pool on 64x64 and an odd class count; 1 input channel on an
odd-sized 28x28 input; 7x7 stem without max-pool), CIFAR ResNet (option A from an akamaster
.th, option B shortcut/linear, option B downsample/fc with `module.` keys), BYOT (full-width
ResNet-18 / 100 classes, Bottleneck-50 at width 16), journal self-distillation (ResNet-18
at width 32 with adaptation_layers to drop, Bottleneck-50 at width 8), SCAN (full-width
ResNet-18 / 100 classes, Bottleneck-50 at width 8), EMGNet CIFAR depth 20 and 56 with 1
and 3 input channels (one saved through DataParallel, one with batch 7, one with batch 1)
and EMGNet ImageNet resnet18 depth at base width 16 on 64x64.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CASE = os.path.join(HERE, "make_case.py")


def _c(name, arch, variant, seed, batch=4, in_ch=3, size=None):
    return {"name": name, "arch": arch, "variant": variant, "seed": seed, "batch": batch,
            "in_ch": in_ch, "size": size}


CASES = [
    # resnet (torchvision names)
    _c("resnet-r18-3x3-cifar", "resnet", "r18-w32-3x3", 11),
    _c("resnet-r50-w16-7x7-64", "resnet", "r50-w16-7x7", 12, size="64x64"),
    _c("resnet-r10-1ch-28", "resnet", "r10-w16-3x3", 13, in_ch=1, size="28x28"),
    _c("resnet-r18-7x7-nopool-48", "resnet", "r18-w16-7x7-nopool", 14, size="48x48"),
    # resnet-cifar (He et al.)
    _c("resnet-cifar-r20-a", "resnet-cifar", "r20-a", 21),
    _c("resnet-cifar-r20-a-1ch", "resnet-cifar", "r20-a", 22, in_ch=1),
    _c("resnet-cifar-r32-b-shortcut", "resnet-cifar", "r32-b-shortcut", 23),
    _c("resnet-cifar-r20-b-downsample", "resnet-cifar", "r20-b-downsample", 24),
    # sdresnet (BYOT, luanyunteng)
    _c("sdresnet-r18", "sdresnet", "r18", 31),
    _c("sdresnet-r50-w16", "sdresnet", "r50-w16", 32),
    # sdresnet-tpami (journal self-distillation)
    _c("sdresnet-tpami-r18-w32", "sdresnet-tpami", "r18-w32", 41),
    _c("sdresnet-tpami-r50-w8", "sdresnet-tpami", "r50-w8", 42),
    # scan
    _c("scan-r18", "scan", "r18", 51),
    _c("scan-r50-w8", "scan", "r50-w8", 52),
    # emgnet
    _c("emgnet-cifar-r20-1ch", "emgnet", "cifar-r20-dp", 61, in_ch=1),
    _c("emgnet-cifar-r20-3ch-b7", "emgnet", "cifar-r20", 62, batch=7),
    _c("emgnet-cifar-r20-3ch-b1", "emgnet", "cifar-r20", 63, batch=1),
    _c("emgnet-cifar-r56-3ch", "emgnet", "cifar-r56", 64),
    _c("emgnet-cifar-r56-1ch", "emgnet", "cifar-r56", 65, in_ch=1),
    _c("emgnet-imagenet-r18-w16-64", "emgnet", "imagenet-r18-w16", 66, size="64x64"),
]


def argv(case, out_root, python=sys.executable):
    """The make_case.py command line that builds `case` into out_root/<name>."""
    a = [python, MAKE_CASE, "--arch", case["arch"], "--variant", case["variant"],
         "--seed", str(case["seed"]), "--out", os.path.join(out_root, case["name"]),
         "--batch", str(case["batch"]), "--in-ch", str(case["in_ch"])]
    if case["size"]:
        a += ["--size", case["size"]]
    return a


def by_name(name):
    for c in CASES:
        if c["name"] == name:
            return c
    raise KeyError(name)


if __name__ == "__main__":                       # list the cases
    for c in CASES:
        print("%-32s %-15s %-20s seed %-3d N=%d C=%d %s"
              % (c["name"], c["arch"], c["variant"], c["seed"], c["batch"], c["in_ch"],
                 c["size"] or "default"))
