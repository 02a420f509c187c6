"""fixtures.py DIR - writes the small files the CLI tests feed to eeprof.

good.h5 is a valid schema-v1 checkpoint of a random resnet-cifar ResNet-8 (1 input
channel, 32x32, 10 classes), written here with h5py straight from the schema (not
through export.py, so the reader is tested against the documented layout). Every
other checkpoint is good.h5 with one defect. Also: network inputs for `infer`
and small datasets (h5:FILE and IDX) for `eval`, good and broken.
"""
import gzip
import os
import struct
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from checkpoints.models import build  # noqa: E402


def write_ckpt(path, sd, **over):
    attrs = dict(format="eeprof-checkpoint", format_version=1, arch="resnet-cifar",
                 num_classes=10, input_shape=np.array([1, 32, 32], dtype=np.int64),
                 mean=np.array([0.2860]), std=np.array([0.3530]), source="fixture")
    attrs.update(over)
    with h5py.File(path, "w") as f:
        for k, v in attrs.items():
            if v is not None:
                f.attrs[k] = v
        g = f.create_group("state_dict")
        for k, v in sd.items():
            g.create_dataset(k, data=v)


def idx(path, magic, dims, payload):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = build("resnet-cifar", depth=8, in_channels=1, num_classes=10).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    sd = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()
          if not k.endswith("num_batches_tracked")}
    j = lambda name: os.path.join(out, name)  # noqa: E731

    write_ckpt(j("good.h5"), sd)
    bad = dict(sd)
    bad["layer2.0.conv1.weight"] = bad["layer2.0.conv1.weight"].copy()
    bad["layer2.0.conv1.weight"][0, 0, 1, 1] = np.nan
    write_ckpt(j("nan.h5"), bad)
    bad["layer2.0.conv1.weight"][0, 0, 1, 1] = np.inf
    write_ckpt(j("inf.h5"), bad)
    write_ckpt(j("version2.h5"), sd, format_version=2)
    write_ckpt(j("foonet.h5"), sd, arch="foonet")
    write_ckpt(j("noformat.h5"), sd, format=None)
    write_ckpt(j("noarch.h5"), sd, arch=None)
    write_ckpt(j("nomatch.h5"), {k: v for k, v in sd.items() if not k.startswith("linear")},
               arch=None)
    write_ckpt(j("missing.h5"), {k: v for k, v in sd.items() if k != "layer2.0.conv1.weight"})
    write_ckpt(j("misshaped.h5"), dict(sd, **{"layer1.0.bn1.weight": np.ones(15, np.float32)}))
    write_ckpt(j("extra.h5"), dict(sd, **{"layer9.weight": np.ones(3, np.float32)}))
    write_ckpt(j("classes.h5"), sd, num_classes=7)
    write_ckpt(j("absurd.h5"), sd, input_shape=np.array([1, 100000, 32], dtype=np.int64))
    # Issue 13: inputs that were accepted and computed garbage.
    write_ckpt(j("grouped.h5"), dict(sd, **{"layer2.0.conv2.weight": sd["layer2.0.conv2.weight"][:, :16].copy()}))
    write_ckpt(j("sixchan.h5"), sd, input_shape=np.array([6, 32, 32], dtype=np.int64),
               mean=np.full(6, 0.5), std=np.full(6, 0.25))
    write_ckpt(j("mean_nan.h5"), sd, mean=np.array([np.nan]))
    write_ckpt(j("mean_huge.h5"), sd, mean=np.array([1e300]))
    write_ckpt(j("std_tiny.h5"), sd, std=np.array([1e-30]))
    write_ckpt(j("fractional.h5"), sd, input_shape=np.array([1, 32.5, 32]))
    # The training record (checkpoints/train.py's attributes), good and malformed.
    write_ckpt(j("trained.h5"), sd, epochs=np.int64(12), seed=np.int64(2),
               train_seconds=np.float64(5816.5), recipe="arch resnet-cifar; 12 epochs, seed 2")
    write_ckpt(j("epochs_frac.h5"), sd, epochs=np.float64(2.5))
    write_ckpt(j("seed_text.h5"), sd, seed="one")
    write_ckpt(j("seconds_neg.h5"), sd, train_seconds=np.float64(-1))
    bad = dict(sd)
    bad["layer1.0.bn1.running_var"] = bad["layer1.0.bn1.running_var"].copy()
    bad["layer1.0.bn1.running_var"][3] = -0.5
    write_ckpt(j("negvar.h5"), bad)
    write_ckpt(j("unwritten.h5"), {k: v for k, v in sd.items() if k != "linear.weight"})
    with h5py.File(j("unwritten.h5"), "a") as f:  # declared, never written
        f["state_dict"].create_dataset("linear.weight", shape=(10, 64), dtype="f4")
    write_ckpt(j("huge_decl.h5"), {k: v for k, v in sd.items() if not k.startswith("linear")},
               num_classes=8388608)
    with h5py.File(j("huge_decl.h5"), "a") as f:  # 2 GiB declared in a small file
        f["state_dict"].create_dataset("linear.weight", shape=(8388608, 64), dtype="f4")
        f["state_dict"].create_dataset("linear.bias", shape=(8388608,), dtype="f4")
    data = open(j("good.h5"), "rb").read()
    open(j("truncated.h5"), "wb").write(data[: len(data) // 2])
    open(j("empty.h5"), "wb").close()
    open(j("text.h5"), "w").write("this is not an HDF5 file\n")

    x = rng.standard_normal((3, 1, 32, 32)).astype(np.float32)
    with h5py.File(j("images.h5"), "w") as f:
        f["images"] = x
    with torch.no_grad():
        np.save(j("images_logits.npy"), model(torch.from_numpy(x)).numpy())
    with h5py.File(j("images_rgb.h5"), "w") as f:
        f["images"] = rng.standard_normal((3, 3, 32, 32)).astype(np.float32)
    with h5py.File(j("images_nan.h5"), "w") as f:
        y = x.copy()
        y[1, 0, 5, 5] = np.nan
        f["images"] = y
    with h5py.File(j("images_rank3.h5"), "w") as f:
        f["images"] = rng.standard_normal((3, 32, 32)).astype(np.float32)
    with h5py.File(j("noimages.h5"), "w") as f:
        f["pictures"] = x

    with h5py.File(j("data.h5"), "w") as f:
        f["images"] = rng.integers(0, 256, (20, 1, 28, 28), dtype=np.uint8)
        f["labels"] = rng.integers(0, 10, 20).astype(np.int64)
    with h5py.File(j("data_rgb.h5"), "w") as f:
        f["images"] = rng.integers(0, 256, (20, 3, 32, 32), dtype=np.uint8)
        f["labels"] = rng.integers(0, 10, 20).astype(np.int64)
    with h5py.File(j("data_100.h5"), "w") as f:
        f["images"] = rng.integers(0, 256, (20, 1, 28, 28), dtype=np.uint8)
        f["labels"] = np.arange(20, dtype=np.int64) * 5

    os.makedirs(j("idx"), exist_ok=True)
    idx(j("idx/t10k-images-idx3-ubyte.gz"), 0x803, (10000, 28, 28), bytes(5 * 784))
    idx(j("idx/t10k-labels-idx1-ubyte.gz"), 0x801, (10000,), bytes(10000))


if __name__ == "__main__":
    main(sys.argv[1])
