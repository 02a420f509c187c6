#!/usr/bin/python3
"""bench_images.py EEPROF - decoding a folder of photographs: eeprof against torchvision.

The same ImageNet evaluation preprocessing on the same folder of JPEG photographs
(python3-skimage's colour photographs, resized with Pillow to ImageNet-like sizes, a
shorter side of 333-500, saved at quality 90): Resize(256) + CenterCrop(224) + ToTensor +
Normalize with the ImageNet mean and std, float32 out.

  eeprof       `eeprof dataset imagefolder:DIR -o OUT.h5 --input-shape 3,224,224
               --mean ... --std ... --threads W` (wall time of the process, writing the
               HDF5 file included)
  torchvision  ImageFolder with those transforms, iterated through a DataLoader with
               num_workers=W and batch_size=64 (wall time from creating the loader to
               the last batch; the interpreter's start and imports excluded)

W = 1 and 2 (the machine's cores). Each side runs as its own process, interleaved,
REPEATS times; the table shows medians of images/s and their ratio. Both produce the
same tensors (tests/parity/images.py checks that they are identical).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

PY = "/usr/bin/python3"
REPEATS = 3
COPIES = 12  # of each of the photographs below, at different sizes: 12 x 8 = 96 files
PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
          "immunohistochemistry", "retina", "colorwheel"]

TORCHVISION = r"""
import sys, time
import torch
from torchvision import datasets, transforms as T
root, workers = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
tf = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
t0 = time.perf_counter()
ds = datasets.ImageFolder(root, transform=tf)
n = 0
for x, y in torch.utils.data.DataLoader(ds, batch_size=64, num_workers=workers):
    n += len(x)
print(n, time.perf_counter() - t0)
"""


def build(root):
    import skimage.data
    from PIL import Image
    rng = np.random.default_rng(0)
    n = 0
    for name in PHOTOS:
        im = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(COPIES):
            short = int(rng.integers(333, 501))
            w, h = im.size
            size = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
            im.resize(size, Image.BICUBIC).save(os.path.join(root, name, "%02d.jpg" % i),
                                                "JPEG", quality=90)
            n += 1
    return n


def eeprof_rate(eeprof, root, out, workers):
    t0 = time.perf_counter()
    subprocess.run([eeprof, "dataset", "imagefolder:" + root, "-o", out, "--input-shape",
                    "3,224,224", "--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225",
                    "--threads", str(workers)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def torchvision_rate(root, workers):
    r = subprocess.run([PY, "-c", TORCHVISION, root, str(workers)], check=True,
                       stdout=subprocess.PIPE, text=True)
    n, seconds = r.stdout.split()
    return int(n), float(seconds)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eeprof")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="eeprof-bench-images-") as work:
        root = os.path.join(work, "photos")
        n = build(root)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root)
                   for f in fs)
        print("bench_images: %d JPEG photographs (%.1f MB), Resize(256) + CenterCrop(224) + "
              "ToTensor + Normalize; medians of %d" % (n, size / 1e6, REPEATS))
        print("| workers | images | eeprof img/s | torchvision img/s | eeprof/torchvision |")
        print("|--:|--:|--:|--:|--:|")
        for workers in (1, 2):
            ours, theirs = [], []
            for _ in range(REPEATS):
                ours.append(n / eeprof_rate(a.eeprof, root, os.path.join(work, "o.h5"),
                                            workers))
                m, seconds = torchvision_rate(root, workers)
                assert m == n, (m, n)
                theirs.append(n / seconds)
            e, t = statistics.median(ours), statistics.median(theirs)
            print("| %d | %d | %.1f | %.1f | %.2fx |" % (workers, n, e, t, e / t))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
