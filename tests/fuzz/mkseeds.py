"""mkseeds.py EEPROF - writes the seed corpora of the fuzz targets into tests/fuzz/corpus/.

Run once (its files are committed); every seed is small (libFuzzer mutates faster on
small inputs): tiny resnet-cifar and resnet checkpoints (width 2, one block per stage,
8x8 inputs), a trace and a report made from one of them by eeprof itself, and
IDX and CIFAR files of two images.
"""
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from checkpoints.models import build  # noqa: E402

OUT = os.path.join(HERE, "corpus")


def write_ckpt(path, arch, model, shape):
    sd = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()
          if not k.endswith("num_batches_tracked")}
    with h5py.File(path, "w", libver="latest") as f:  # smaller object headers
        f.attrs["format"] = "eeprof-checkpoint"
        f.attrs["format_version"] = 1
        f.attrs["arch"] = arch
        f.attrs["num_classes"] = 10
        f.attrs["input_shape"] = np.array(shape, dtype=np.int64)
        f.attrs["mean"] = np.full(shape[0], 0.5)
        f.attrs["std"] = np.full(shape[0], 0.25)
        g = f.create_group("state_dict")
        for k, v in sd.items():
            g.create_dataset(k, data=v)


def d(name):
    p = os.path.join(OUT, name)
    os.makedirs(p, exist_ok=True)
    return p


def main(eeprof):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    ck = d("ckpt")
    tiny = [("resnet-cifar", build("resnet-cifar", layers=[1, 1, 1], in_channels=1, width=2), (1, 8, 8)),
            ("resnet", build("resnet", layers=(1, 1, 1, 1), num_classes=10, in_channels=1, width=2,
                             stem="3x3"), (1, 8, 8)),
    ]
    # (tiny emgnet, scan and sdresnet checkpoints are 85-170 KB: too large to commit as seeds)
    for arch, model, shape in tiny:
        write_ckpt(os.path.join(ck, arch + ".h5"), arch, model.eval(), shape)

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.h5")
        with h5py.File(data, "w") as f:
            f["images"] = rng.integers(0, 256, (6, 1, 8, 8), dtype=np.uint8)
            f["labels"] = rng.integers(0, 10, 6).astype(np.int64)
        trace = os.path.join(d("trace"), "resnet-cifar.h5")
        subprocess.run([eeprof, "profile", os.path.join(ck, "resnet-cifar.h5"), "--data",
                        "h5:" + data, "-o", trace], check=True, stdout=subprocess.DEVNULL)
        rep = os.path.join(tmp, "rep")
        subprocess.run([eeprof, "report", "--traces", trace, "--no-plots", "-o", rep],
                       check=True, stdout=subprocess.DEVNULL)
        js = d("json")
        for name in sorted(os.listdir(rep)):
            if name.endswith(".json"):
                with open(os.path.join(rep, name)) as f:
                    doc = json.load(f)
                with open(os.path.join(js, name), "w") as f:
                    json.dump(doc, f, separators=(",", ":"))

    idx = d("idx")
    images = struct.pack(">IIII", 0x803, 2, 28, 28) + rng.integers(0, 256, 2 * 784, dtype=np.uint8).tobytes()
    labels = struct.pack(">II", 0x801, 2) + bytes([3, 7])
    with open(os.path.join(idx, "plain"), "wb") as f:
        f.write(struct.pack("<H", len(images)) + images + labels)
    gi, gl = gzip.compress(images), gzip.compress(labels)
    with open(os.path.join(idx, "gzip"), "wb") as f:
        f.write(struct.pack("<H", len(gi)) + gi + gl)

    cifar = d("cifar")
    with open(os.path.join(cifar, "two"), "wb") as f:
        for label in (3, 9):
            f.write(bytes([label]) + rng.integers(0, 256, 3072, dtype=np.uint8).tobytes())


if __name__ == "__main__":
    main(sys.argv[1])
