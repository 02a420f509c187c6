#!/usr/bin/python3
"""images.py - eeprof's image datasets against Pillow and torchvision, on real photographs.

    /usr/bin/python3 tests/parity/images.py --eeprof build/eeprof [--workdir DIR]

Builds the set of image_set.py (python3-skimage's photographs in every JPEG/PNG mode
eeprof decodes) as an ImageFolder tree, then checks:

  pixels   `eeprof dataset imagefolder:SET --uint8` against torchvision's ImageFolder with
           Resize + CenterCrop + PILToTensor (its loader's convert('RGB'), or 'L' for one
           channel): every uint8 value of every image identical, labels identical, for
           several shapes (224 and odd, non-square crops; crops larger than the image, so
           torchvision's padding) and each filter (bilinear, bicubic, nearest, no resize)
  list     imagelist:FILE with the same files gives the same pixels and labels
  logits   a torchvision ResNet-18 (torchvision.models.resnet18, random weights and
           BatchNorm statistics, exported by checkpoints/export.py): eeprof's logits on
           `eeprof dataset --mean/--std` output equal PyTorch's on torchvision's tensors,
           max |diff| / max |logit| <= 1e-4; `eeprof profile --data imagefolder:SET
           --softmax` (decoding in the inference loop) gives the same softmax (1e-5) and
           `eeprof eval` the same top-1 accuracy
Prints one line per check and a summary; exits 1 if any failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import datasets, transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import image_set  # noqa: E402

LOGIT_RTOL = 1e-4
SOFTMAX_ATOL = 1e-5
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
MODES = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC,
         "nearest": T.InterpolationMode.NEAREST}

# (channels, crop H, crop W, resize S or None for the default / "none", filter)
PIXEL_CASES = [
    (3, 224, 224, None, "bilinear"),
    (1, 224, 224, None, "bilinear"),
    (3, 224, 224, None, "bicubic"),
    (3, 97, 131, 113, "bilinear"),
    (1, 97, 131, 113, "bicubic"),
    (3, 224, 224, 150, "nearest"),
    (3, 301, 160, "none", "bilinear"),
]

failed = 0


def report(ok, what):
    global failed
    failed += not ok
    print("%s %s" % ("ok" if ok else "FAILED", what))


def run(cmd):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: status %d: %s" % (" ".join(cmd[:3]), r.returncode,
                                                  r.stderr.strip()))
    return r.stdout


def loader(channels):
    mode = "L" if channels == 1 else "RGB"

    def load(path):
        with open(path, "rb") as f:
            return Image.open(f).convert(mode)
    return load


def torchvision_set(root, c, h, w, resize, interp, last):
    steps = []
    if resize != "none":
        s = resize if resize is not None else int(round(h / 0.875))
        steps.append(T.Resize(s, interpolation=MODES[interp]))
    steps += [T.CenterCrop((h, w)), last]
    return datasets.ImageFolder(root, transform=T.Compose(steps), loader=loader(c))


def eeprof_pixels(eeprof, spec, out, c, h, w, resize, interp):
    cmd = [eeprof, "dataset", spec, "-o", out, "--input-shape", "%d,%d,%d" % (c, h, w),
           "--uint8", "--interpolation", interp, "--threads", "2"]
    cmd += ["--no-resize"] if resize == "none" else []
    cmd += ["--resize", str(resize)] if isinstance(resize, int) else []
    run(cmd)
    with h5py.File(out, "r") as f:
        return f["images"][...], f["labels"][...]


def check_pixels(eeprof, root, work):
    total = same = 0
    for c, h, w, resize, interp in PIXEL_CASES:
        ref = torchvision_set(root, c, h, w, resize, interp, T.PILToTensor())
        got, labels = eeprof_pixels(eeprof, "imagefolder:" + root,
                                    os.path.join(work, "px.h5"), c, h, w, resize, interp)
        diffs = []
        for i, (x, y) in enumerate(ref):
            total += 1
            d = int(np.abs(x.numpy().astype(int) - got[i].astype(int)).max())
            same += d == 0 and labels[i] == y
            if d or labels[i] != y:
                diffs.append("%s (max diff %d, label %d/%d)" % (
                    os.path.relpath(ref.samples[i][0], root), d, labels[i], y))
        report(not diffs and len(got) == len(ref),
               "pixels %dx%dx%d resize %s %s: %d/%d images identical%s" % (
                   c, h, w, resize if resize is not None else "default", interp,
                   len(ref) - len(diffs), len(ref), "; " + ", ".join(diffs[:4]) if diffs else ""))
    return total, same


def check_list(eeprof, root, work):
    ref = datasets.ImageFolder(root)
    lst = os.path.join(root, "val list.txt")
    with open(lst, "w") as f:
        f.write("# path label\n\n")
        for path, y in ref.samples:
            f.write("%s %d\n" % (os.path.relpath(path, root), y))
    a, la = eeprof_pixels(eeprof, "imagelist:" + lst, os.path.join(work, "l.h5"), 3, 224, 224,
                          None, "bilinear")
    b, lb = eeprof_pixels(eeprof, "imagefolder:" + root, os.path.join(work, "f.h5"), 3, 224,
                          224, None, "bilinear")
    os.unlink(lst)
    report(np.array_equal(a, b) and np.array_equal(la, lb),
           "imagelist: %d images, same pixels and labels as imagefolder" % len(la))


ORDER_TREE = ["B/z.png", "a/z.png", "a/B.PNG", "a/y.Jpg", "a/b/c.png", "a/b-x/d.png",
              "a/b/c/e.png", "a/b.png", "a/x.txt", ".hidden/f.png", "a-x/g.jpeg",
              "a-x/h/i.webp.png"]


def check_order(eeprof, work):
    """Classes and files in ImageFolder's order: each file a flat grey of its own value."""
    root = os.path.join(work, "order")
    for i, rel in enumerate(ORDER_TREE):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if rel.endswith(".txt"):
            open(path, "w").write("not an image\n")
            continue
        fmt = "JPEG" if rel.lower().endswith((".jpg", ".jpeg")) else "PNG"
        Image.new("L", (8, 8), 10 + 20 * i).save(path, fmt, quality=100)
    ref = datasets.ImageFolder(root, loader=loader(1), transform=T.PILToTensor())
    got, labels = eeprof_pixels(eeprof, "imagefolder:" + root, os.path.join(work, "o.h5"), 1,
                                8, 8, "none", "bilinear")
    want = [int(x[0, 4, 4]) for x, _ in ref]
    have = [int(x[0, 4, 4]) for x in got]
    report(have == want and list(labels) == [y for _, y in ref],
           "imagefolder order: %d files in %d classes as ImageFolder lists them%s" % (
               len(ref), len(ref.classes), "" if have == want else
               " (eeprof %s, torchvision %s)" % (have, want)))


def resnet18(work):
    torch.manual_seed(0)
    m = torchvision.models.resnet18(num_classes=10)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    m.eval()
    pth, h5 = os.path.join(work, "resnet18.pth"), os.path.join(work, "resnet18.h5")
    torch.save(m.state_dict(), pth)
    run(["/usr/bin/python3", os.path.join(TOP, "checkpoints", "export.py"), pth, h5,
         "--input-shape", "3,224,224", "--norm", "imagenet", "--num-classes", "10"])
    return m, h5


def check_logits(eeprof, root, work):
    m, ckpt = resnet18(work)
    ref = torchvision_set(root, 3, 224, 224, None, "bilinear",
                          T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)]))
    x = torch.stack([x for x, _ in ref])
    labels = np.array([y for _, y in ref])
    with torch.no_grad():
        want = m(x).numpy()
    inp, out = os.path.join(work, "x.h5"), os.path.join(work, "y.h5")
    run([eeprof, "dataset", "imagefolder:" + root, "-o", inp, "--input-shape", "3,224,224",
         "--mean", ",".join(map(str, MEAN)), "--std", ",".join(map(str, STD)),
         "--threads", "2"])
    with h5py.File(inp, "r") as f:
        xin = f["images"][...]
    report(float(np.abs(xin - x.numpy()).max()) == 0.0,
           "normalised inputs equal torchvision's ToTensor + Normalize (max diff %g)" %
           float(np.abs(xin - x.numpy()).max()))
    run([eeprof, "infer", ckpt, "--input", inp, "--output", out, "--threads", "2"])
    with h5py.File(out, "r") as f:
        got = f["logits"][-1]
    r = float(np.abs(got - want).max() / np.abs(want).max())
    report(r <= LOGIT_RTOL, "logits of torchvision resnet18 on %d images: max |diff| / max "
           "|logit| = %.2e (abs %.2e)" % (len(want), r, float(np.abs(got - want).max())))

    trace = os.path.join(work, "t.h5")
    run([eeprof, "profile", ckpt, "--data", "imagefolder:" + root, "-o", trace, "--softmax",
         "--batch", "8", "--threads", "2"])
    with h5py.File(trace, "r") as f:
        sm = f["softmax"][:, -1, :]
    p = torch.softmax(torch.from_numpy(want), 1).numpy()
    d = float(np.abs(sm - p).max())
    report(d <= SOFTMAX_ATOL, "profile --data imagefolder: softmax max diff %.2e" % d)
    js = json.loads(run([eeprof, "eval", ckpt, "--data", "imagefolder:" + root, "--json",
                         "--batch", "8"]))
    correct = int((want.argmax(1) == labels).sum())
    report(js["exits"][-1]["correct"] == correct,
           "eval --data imagefolder: %d/%d correct, PyTorch %d" % (
               js["exits"][-1]["correct"], len(labels), correct))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eeprof", required=True)
    ap.add_argument("--workdir")
    a = ap.parse_args()
    work = a.workdir or tempfile.mkdtemp(prefix="eeprof-images-")
    os.makedirs(work, exist_ok=True)
    root = os.path.join(work, "set")
    n = len(image_set.build(root))
    print("images: %d photographs from python3-skimage %s; Pillow %s, torchvision %s" % (
        n, __import__("skimage").__version__, PIL.__version__, torchvision.__version__))
    total, same = check_pixels(a.eeprof, root, work)
    check_list(a.eeprof, root, work)
    check_order(a.eeprof, work)
    check_logits(a.eeprof, root, work)
    print("images: %d/%d crops identical to torchvision's, %d checks failed" % (
        same, total, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
