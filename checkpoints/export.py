#!/usr/bin/python3
"""export.py - convert a PyTorch early-exit CNN checkpoint to an eeprof HDF5 checkpoint.

    /usr/bin/python3 checkpoints/export.py IN.pth OUT.h5 [--arch NAME] [--num-classes N]
        [--input-shape C,H,W] [--mean a,b,c] [--std a,b,c] [--dataset TEXT]
        [--eval-json FILE] [--stem-maxpool 0|1] [--bn-eps E]

Reads what the public repositories save (shared/research/architectures.md section 5):
a bare state_dict (.pth), a checkpoint dict with a `state_dict` entry (.pth.tar, akamaster
.th, with epoch / best_prec1 / arch entries beside it), keys with DataParallel's `module.`
prefix, tensors saved from a GPU (loaded with map_location='cpu'), with or without
`num_batches_tracked`.

Writes schema version 1 (shared/DESIGN.md, checkpoints/ckpt.h):
  root attributes  format="eeprof-checkpoint", format_version=1, arch, num_classes,
                   input_shape int[3], mean/std float[C], bn_eps, stem_maxpool (resnet only),
                   source, source_sha256, exporter, dataset, dropped_tensors
                   (comma-separated list of the keys left out)
  /state_dict/<key> one float32 dataset per kept tensor, PyTorch's shape, dots kept
  /eval/<name>      float64 datasets copied from --eval-json (per exit, shallow to deep)
Strings are HDF5 variable-length UTF-8 strings (h5py's default), numbers are int64 /
float64 attributes.

Training-only tensors are dropped: every `num_batches_tracked` (0-dim int64) and the
journal code's `adaptation_layers.*`. Everything else (BYOT's unused downsampleX_1,
EMGNet's threshold and skeleton_mask, ...) is kept. NaN/Inf are refused. The file is
written to a temporary name beside OUT and renamed, so OUT is never half-written.

Exit status: 0 success, 2 usage error, 3 bad input, 4 internal error; errors are one
line on stderr, `export.py: error: ...`.

It can also be imported: export(in_path, out_path, ...) raises ExportError on bad input.
"""
import argparse
import hashlib
import json
import math
import os
import sys

EXPORTER = "eeprof export.py 1"
FORMAT = "eeprof-checkpoint"
FORMAT_VERSION = 1

ARCHS = ("resnet", "resnet-cifar", "sdresnet", "sdresnet-tpami", "scan", "emgnet")

# Input statistics used by the public trainers (research notes, sections 1.3, 2, 3.3, 4).
STATS = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010)),
    "cifar100": ((0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    "fashion-mnist": ((0.2860,), (0.3530,)),
}

# Keys that identify each family (all must be present), for detection and for the error
# message when detection fails.
SIGNATURES = {
    "emgnet": ["conv1.weight", "layer1.0.conv.0.more_feature_conv.0.threshold",
               "layer1.0.conv.0.more_feature_conv.0.skeleton_mask", "fc1.weight", "fc3.weight"],
    "sdresnet": ["conv1.weight", "layer4.0.conv1.weight", "bottleneck1_1.0.weight",
                 "middle_fc1.weight", "fc.weight"],
    "sdresnet-tpami": ["conv1.weight", "layer4.0.conv1.weight", "scala1.0.op.0.weight",
                       "attention1.0.op.0.weight", "fc4.weight"],
    "scan": ["conv1.weight", "layer4.0.conv1.weight", "scala1.0.weight", "attention1.3.weight",
             "fc4.weight"],
    "resnet-cifar": ["conv1.weight", "layer1.0.conv1.weight", "layer3.0.conv1.weight",
                     "linear.weight | fc.weight (then no layer4.*)"],
    "resnet": ["conv1.weight", "layer1.0.conv1.weight", "fc.weight", "(layer4.* or a 7x7 conv1)"],
}


class ExportError(Exception):
    """Bad input (exit status 3)."""


def _has(keys, *names):
    return all(n in keys for n in names)


def detect_arch(sd):
    """Family name from the state_dict key names, or None."""
    keys = set(sd)
    if any(k.endswith("skeleton_mask") or ".more_feature_conv." in k for k in keys):
        return "emgnet"
    if _has(keys, "middle_fc1.weight") or _has(keys, "bottleneck1_1.0.weight"):
        return "sdresnet"
    if _has(keys, "scala1.0.op.0.weight"):
        return "sdresnet-tpami"
    if _has(keys, "scala1.0.weight", "attention1.3.weight"):
        return "scan"
    if _has(keys, "conv1.weight", "layer1.0.conv1.weight"):
        if "linear.weight" in keys:
            return "resnet-cifar"
        if "fc.weight" in keys:
            has4 = any(k.startswith("layer4.") for k in keys)
            k3 = sd["conv1.weight"].dim() == 4 and sd["conv1.weight"].shape[-1] == 3
            return "resnet-cifar" if (not has4 and k3) else "resnet"
    return None


def check_signature(arch, sd):
    """Raise when the keys clearly do not belong to `arch` (used with --arch)."""
    keys = set(sd)
    need = [k for k in SIGNATURES[arch] if " " not in k]
    if arch == "resnet-cifar":
        need = need + (["linear.weight"] if "linear.weight" in keys else ["fc.weight"])
    missing = [k for k in need if k not in keys]
    if missing:
        raise ExportError("keys do not match arch %s: missing %s" % (arch, ", ".join(missing)))


def classifier_key(arch, sd):
    """The deepest classifier's weight key (its row count is num_classes)."""
    if arch == "resnet-cifar":
        return "linear.weight" if "linear.weight" in sd else "fc.weight"
    if arch in ("resnet", "sdresnet"):
        return "fc.weight"
    if arch == "emgnet":
        return "fc4.weight" if "fc4.weight" in sd else "fc3.weight"
    return "fc4.weight"


def default_stats(arch, sd, channels, kernel, num_classes):
    """mean/std per repository (None if no default exists for this channel count)."""
    if channels == 1:
        return STATS["fashion-mnist"]
    if channels != 3:
        return None
    if kernel == 7:                                   # torchvision / EMGNet ImageNet stems
        return STATS["imagenet"]
    if arch == "resnet-cifar":
        if "linear.weight" in sd:                     # akamaster trains with ImageNet stats
            return STATS["imagenet"]
        return STATS["cifar100" if num_classes == 100 else "cifar10"]   # EMGNet author
    if arch == "emgnet":
        return STATS["cifar100" if num_classes == 100 else "cifar10"]
    return STATS["cifar10"]                           # BYOT, SCAN, journal, CIFAR resnet


def load_state_dict(path):
    """torch.load + unwrapping -> (OrderedDict of tensors, list of dropped keys)."""
    import torch
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:                            # noqa: BLE001 - any unreadable file
        raise ExportError("cannot read %s: %s" % (path, str(e).splitlines()[0] if str(e) else
                                                  type(e).__name__))
    if isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ExportError("%s holds a %s, not a state_dict or checkpoint dict"
                          % (path, type(obj).__name__))
    if not all(isinstance(v, torch.Tensor) for v in obj.values()):
        inner = None
        for name in ("state_dict", "model_state_dict", "model", "net"):
            v = obj.get(name)
            if isinstance(v, torch.nn.Module):
                v = v.state_dict()
            if isinstance(v, dict) and v and all(isinstance(t, torch.Tensor) for t in v.values()):
                inner = v
                break
        if inner is None:
            raise ExportError("%s is a dict without a state_dict (entries: %s)"
                              % (path, ", ".join(map(str, list(obj)[:10]))))
        obj = inner
    if not obj:
        raise ExportError("%s holds an empty state_dict" % path)
    sd, dropped = {}, []
    for key, t in obj.items():
        k = key[len("module."):] if key.startswith("module.") else key
        if k in sd:
            raise ExportError("duplicate key %s after stripping 'module.'" % k)
        if k.endswith("num_batches_tracked") or k.startswith("adaptation_layers."):
            dropped.append(k)
            continue
        sd[k] = t
    return sd, dropped


def _floats(text, what):
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ExportError("%s: expected comma-separated numbers, got %r" % (what, text)) from None


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dropped_text(dropped, limit=16000):
    """Comma-separated dropped keys; when that gets long (HDF5 keeps attributes small), the
    num_batches_tracked entries are summarised as one item "<n> x *.num_batches_tracked"."""
    text = ", ".join(dropped)
    if len(text) <= limit:
        return text
    nbt = [k for k in dropped if k.endswith("num_batches_tracked")]
    rest = [k for k in dropped if not k.endswith("num_batches_tracked")]
    text = ", ".join(["%d x *.num_batches_tracked" % len(nbt)] + rest)
    return text if len(text) <= limit else text[:limit - 4] + " ..."


def _write_eval(group, data, where="eval"):
    """Copy a JSON object of numbers / lists of numbers (nested objects = subgroups)."""
    import numpy as np
    for name, v in data.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ExportError("eval: bad name %r" % (name,))
        if isinstance(v, dict):
            _write_eval(group.create_group(name), v, where + "/" + name)
            continue
        vals = v if isinstance(v, list) else [v]
        if not vals or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                               for x in vals):
            raise ExportError("eval: %s/%s must be a number or a list of numbers" % (where, name))
        arr = np.asarray(vals, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ExportError("eval: %s/%s holds NaN or Inf" % (where, name))
        group.create_dataset(name, data=arr)


def export(in_path, out_path, arch=None, num_classes=None, input_shape=None, mean=None,
           std=None, dataset="", eval_data=None, stem_maxpool=None, bn_eps=1e-5,
           extra_attrs=None, quiet=False):
    """Convert in_path to out_path; returns a summary dict. Raises ExportError."""
    import h5py
    import numpy as np
    import torch

    if not os.path.isfile(in_path):
        raise ExportError("%s: no such file" % in_path)
    sd, dropped = load_state_dict(in_path)

    detected = detect_arch(sd)
    if arch is None:
        if detected is None:
            lines = ["cannot tell the architecture from the key names of %s "
                     "(give --arch); keys each arch expects:" % in_path]
            lines += ["  %-15s %s" % (a, ", ".join(SIGNATURES[a])) for a in ARCHS]
            lines.append("  found (first 8): %s" % ", ".join(list(sd)[:8]))
            raise ExportError("\n".join(lines))
        arch = detected
    elif arch not in ARCHS:
        raise ExportError("unknown arch %r (known: %s)" % (arch, ", ".join(ARCHS)))
    check_signature(arch, sd)

    conv1 = sd["conv1.weight"]
    if conv1.dim() != 4:
        raise ExportError("conv1.weight has shape %s, expected 4 dims" % list(conv1.shape))
    channels, kernel = int(conv1.shape[1]), int(conv1.shape[-1])
    fck = classifier_key(arch, sd)
    if fck not in sd or sd[fck].dim() != 2:
        raise ExportError("classifier %s missing or not 2-D" % fck)
    nc = int(sd[fck].shape[0])
    if num_classes is not None and int(num_classes) != nc:
        raise ExportError("--num-classes %d disagrees with %s %s"
                          % (num_classes, fck, list(sd[fck].shape)))

    if input_shape is None:
        side = 224 if kernel == 7 else 32
        input_shape = (channels, side, side)
    input_shape = tuple(int(v) for v in input_shape)
    if len(input_shape) != 3 or min(input_shape) <= 0:
        raise ExportError("input shape must be three positive integers C,H,W")
    if input_shape[0] != channels:
        raise ExportError("input shape has %d channels but conv1.weight %s takes %d"
                          % (input_shape[0], list(conv1.shape), channels))

    if mean is None or std is None:
        st = default_stats(arch, sd, channels, kernel, nc)
        if st is None:
            print("export.py: warning: no default mean/std for %d channels, using 0/1"
                  % channels, file=sys.stderr)
            st = ((0.0,) * channels, (1.0,) * channels)
        mean = st[0] if mean is None else mean
        std = st[1] if std is None else std
    mean, std = [float(v) for v in mean], [float(v) for v in std]
    if len(mean) != channels or len(std) != channels:
        raise ExportError("mean and std need %d values each (got %d and %d)"
                          % (channels, len(mean), len(std)))
    if not all(math.isfinite(v) for v in mean) or not all(math.isfinite(v) and v > 0 for v in std):
        raise ExportError("mean must be finite and std finite and positive")

    if stem_maxpool is not None and arch != "resnet":
        raise ExportError("--stem-maxpool applies to arch resnet only")
    if arch == "resnet" and stem_maxpool is None:
        stem_maxpool = 1 if kernel == 7 else 0
    if not (bn_eps > 0 and math.isfinite(bn_eps)):
        raise ExportError("bn_eps must be positive")

    arrays = []
    params = 0
    for k, t in sd.items():
        if not isinstance(t, torch.Tensor):
            raise ExportError("%s is not a tensor" % k)
        a = t.detach().to("cpu").float().contiguous()
        if not bool(torch.isfinite(a).all()):
            raise ExportError("tensor %s holds NaN or Inf" % k)
        arrays.append((k, a.numpy()))
        params += a.numel()

    out_dir = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(out_dir):
        raise ExportError("%s: output directory does not exist" % out_dir)
    tmp = os.path.join(out_dir, ".%s.tmp.%d" % (os.path.basename(out_path), os.getpid()))
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = np.int64(FORMAT_VERSION)
            f.attrs["arch"] = arch
            f.attrs["num_classes"] = np.int64(nc)
            f.attrs["input_shape"] = np.asarray(input_shape, dtype=np.int64)
            f.attrs["mean"] = np.asarray(mean, dtype=np.float64)
            f.attrs["std"] = np.asarray(std, dtype=np.float64)
            f.attrs["bn_eps"] = np.float64(bn_eps)
            if arch == "resnet":
                f.attrs["stem_maxpool"] = np.int64(1 if int(stem_maxpool) else 0)
            f.attrs["source"] = os.path.basename(in_path)
            f.attrs["source_sha256"] = _sha256(in_path)
            f.attrs["exporter"] = EXPORTER
            f.attrs["dataset"] = dataset or ""
            f.attrs["dropped_tensors"] = _dropped_text(dropped)
            for name, value in (extra_attrs or {}).items():
                f.attrs[name] = value
            g = f.create_group("state_dict", track_order=True)
            for k, a in arrays:
                g.create_dataset(k, data=a)
            if eval_data:
                _write_eval(f.create_group("eval"), eval_data)
        os.replace(tmp, out_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    summary = {"arch": arch, "num_classes": nc, "input_shape": list(input_shape),
               "tensors": len(arrays), "params": params, "dropped": len(dropped)}
    if not quiet:
        print("export.py: wrote %s: arch %s, %d classes, input %s, %d tensors, %d floats, "
              "%d dropped" % (out_path, arch, nc, "x".join(map(str, input_shape)), len(arrays),
                              params, len(dropped)))
    return summary


class _Parser(argparse.ArgumentParser):
    def error(self, message):                          # one line, exit status 2
        sys.stderr.write("export.py: error: %s\n" % message)
        sys.exit(2)


def main(argv=None):
    p = _Parser(prog="export.py", description="PyTorch checkpoint -> eeprof HDF5 checkpoint")
    p.add_argument("input", help=".pth / .pth.tar / .th file")
    p.add_argument("output", help="HDF5 file to write")
    p.add_argument("--arch", choices=ARCHS, help="architecture (default: from key names)")
    p.add_argument("--num-classes", type=int)
    p.add_argument("--input-shape", help="C,H,W (default C from conv1, 32x32 or 224x224)")
    p.add_argument("--mean", help="per-channel mean, comma-separated")
    p.add_argument("--std", help="per-channel std, comma-separated")
    p.add_argument("--dataset", default="", help="free text recorded in the file")
    p.add_argument("--eval-json", help="JSON object of per-exit numbers to store under /eval")
    p.add_argument("--stem-maxpool", type=int, choices=(0, 1), help="resnet only")
    p.add_argument("--bn-eps", type=float, default=1e-5)
    a = p.parse_args(argv)
    try:
        shape = None
        if a.input_shape is not None:
            vals = _floats(a.input_shape, "--input-shape")
            if len(vals) != 3 or any(v != int(v) for v in vals):
                raise ExportError("--input-shape takes three integers C,H,W")
            shape = [int(v) for v in vals]
        mean = _floats(a.mean, "--mean") if a.mean is not None else None
        std = _floats(a.std, "--std") if a.std is not None else None
        ev = None
        if a.eval_json:
            try:
                with open(a.eval_json) as f:
                    ev = json.load(f)
            except (OSError, ValueError) as e:
                raise ExportError("cannot read %s: %s" % (a.eval_json, e)) from None
            if not isinstance(ev, dict):
                raise ExportError("%s: expected a JSON object" % a.eval_json)
        export(a.input, a.output, a.arch, a.num_classes, shape, mean, std, a.dataset, ev,
               a.stem_maxpool, a.bn_eps)
    except ExportError as e:
        msg = str(e).split("\n")
        sys.stderr.write("export.py: error: %s\n" % msg[0])
        for line in msg[1:]:
            sys.stderr.write(line + "\n")
        return 3
    except Exception as e:                             # noqa: BLE001
        sys.stderr.write("export.py: error: internal: %s: %s\n" % (type(e).__name__, e))
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
