#!/usr/bin/python3
"""export.py - convert a PyTorch early-exit CNN checkpoint to an eeprof HDF5 checkpoint.

    /usr/bin/python3 checkpoints/export.py IN.pth OUT.h5 [--arch NAME] [--num-classes N]
        [--input-shape C,H,W] [--norm NAME | --mean a,b,c --std a,b,c] [--dataset TEXT]
        [--eval-json FILE] [--stem-maxpool 0|1] [--bn-eps E]

Reads what the public repositories save (README.md, "Exporting your own PyTorch
checkpoint"): a bare state_dict (.pth), a checkpoint dict with a `state_dict` entry
(.pth.tar, akamaster .th, with epoch / best_prec1 / arch entries beside it), keys with
DataParallel's `module.` prefix, tensors saved from a GPU (loaded with map_location='cpu'),
with or without `num_batches_tracked`. The family is recognised by its key names; what
each family's checkpoints look like is in its module, checkpoints/models/<family>.py.

The input normalisation (mean and std per channel) is never guessed: it is --mean/--std,
or a named preset --norm (checkpoints/models/norms.py, with where each comes from), or the
default of the family's public code where that code defines one (default_norm in the
family module: 3-channel checkpoints only). Otherwise export refuses (status 2) and says
how to give it.

Writes schema version 1 (README.md, "Schema (version 1)"; checkpoints/ckpt.h):
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

Exit status: 0 success, 2 usage error (including a missing normalisation), 3 bad input,
4 internal error; errors are one line on stderr, `export.py: error: ...` (an unrecognised
architecture adds the keys each family expects on the lines after it).

It can also be imported: export(in_path, out_path, ...) raises ExportError on bad input
(UsageError, a subclass, for a missing or contradictory option).
"""
import argparse
import hashlib
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from checkpoints import models  # noqa: E402
from checkpoints.models.norms import NAMES as NORMS, PRESETS  # noqa: E402

EXPORTER = "eeprof export.py 1"
FORMAT = "eeprof-checkpoint"
FORMAT_VERSION = 1

ARCHS = models.ARCHS


class ExportError(Exception):
    """Bad input (exit status 3)."""
    status = 3


class UsageError(ExportError):
    """A missing or contradictory option (exit status 2)."""
    status = 2


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


def identify(sd, arch, in_path):
    """The family of sd: `arch` when given (its keys must be there), else detected from the
    key names; raises ExportError listing each family's keys when neither works."""
    if arch is None:
        arch = models.detect(sd)
        if arch is None:
            lines = ["cannot tell the architecture from the key names of %s "
                     "(give --arch); keys each arch expects:" % in_path]
            lines += ["  %-15s %s" % (a, models.signature_text(a)) for a in ARCHS]
            lines.append("  found (first 8): %s" % ", ".join(list(sd)[:8]))
            raise ExportError("\n".join(lines))
    elif arch not in ARCHS:
        raise UsageError("unknown arch %r (known: %s)" % (arch, ", ".join(ARCHS)))
    missing = models.missing_keys(arch, sd)
    if missing:
        raise ExportError("keys do not match arch %s: missing %s" % (arch, ", ".join(missing)))
    return arch


def _check_norm_options(mean, std, norm):
    if norm is not None and (mean is not None or std is not None):
        raise UsageError("give either --norm or --mean/--std, not both")
    if (mean is None) != (std is None):
        raise UsageError("--mean and --std go together")
    if norm is not None and norm not in PRESETS:
        raise UsageError("unknown --norm %r (known: %s)" % (norm, ", ".join(NORMS)))


def resolve_norm(arch, sd, channels, kernel, num_classes, mean=None, std=None, norm=None):
    """-> (mean, std, where they come from): the explicit values, the named preset, or the
    family's default; raises UsageError when there is none of these."""
    _check_norm_options(mean, std, norm)
    if mean is not None:
        origin = "given"
    else:
        if norm is not None:
            origin = "--norm %s" % norm
        else:
            default = models.default_norm(arch, sd, channels, kernel, num_classes)
            if default is None:
                raise UsageError(
                    "no input normalisation for this %d-channel %s checkpoint (its public "
                    "code defines none): give --norm %s, or --mean and --std with %d value%s "
                    "each" % (channels, arch, "|".join(NORMS), channels,
                              "" if channels == 1 else "s"))
            norm = default[0]
            origin = "%s, the default of %s" % default
        mean, std = PRESETS[norm].mean, PRESETS[norm].std
    mean, std = [float(v) for v in mean], [float(v) for v in std]
    if len(mean) != channels or len(std) != channels:
        raise ExportError("mean and std need %d values each (got %d and %d)"
                          % (channels, len(mean), len(std)))
    if not all(math.isfinite(v) for v in mean) or not all(math.isfinite(v) and v > 0 for v in std):
        raise ExportError("mean must be finite and std finite and positive")
    return mean, std, origin


def _classes(arch, sd, num_classes):
    fck = models.classifier_key(arch, sd)
    if fck not in sd or sd[fck].dim() != 2:
        raise ExportError("classifier %s missing or not 2-D" % fck)
    nc = int(sd[fck].shape[0])
    if num_classes is not None and int(num_classes) != nc:
        raise ExportError("--num-classes %d disagrees with %s %s"
                          % (num_classes, fck, list(sd[fck].shape)))
    return nc


def _input_shape(input_shape, conv1):
    channels, kernel = int(conv1.shape[1]), int(conv1.shape[-1])
    if input_shape is None:
        side = 224 if kernel == 7 else 32
        input_shape = (channels, side, side)
    input_shape = tuple(int(v) for v in input_shape)
    if len(input_shape) != 3 or min(input_shape) <= 0:
        raise ExportError("input shape must be three positive integers C,H,W")
    if input_shape[0] != channels:
        raise ExportError("input shape has %d channels but conv1.weight %s takes %d"
                          % (input_shape[0], list(conv1.shape), channels))
    return input_shape


def _float32_arrays(sd):
    """[(key, float32 numpy array)] in state_dict order; refuses NaN and Inf."""
    import torch
    arrays = []
    for k, t in sd.items():
        if not isinstance(t, torch.Tensor):
            raise ExportError("%s is not a tensor" % k)
        a = t.detach().to("cpu").float().contiguous()
        if not bool(torch.isfinite(a).all()):
            raise ExportError("tensor %s holds NaN or Inf" % k)
        arrays.append((k, a.numpy()))
    return arrays


def _write(out_path, attrs, arrays, eval_data):
    """The HDF5 file, written under a temporary name beside out_path and renamed."""
    import h5py
    out_dir = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(out_dir):
        raise ExportError("%s: output directory does not exist" % out_dir)
    tmp = os.path.join(out_dir, ".%s.tmp.%d" % (os.path.basename(out_path), os.getpid()))
    try:
        with h5py.File(tmp, "w") as f:
            for name, value in attrs.items():
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


def _values(v):
    return ",".join("%g" % x for x in v)


def export(in_path, out_path, arch=None, num_classes=None, input_shape=None, mean=None,
           std=None, dataset="", eval_data=None, stem_maxpool=None, bn_eps=1e-5,
           extra_attrs=None, quiet=False, norm=None):
    """Convert in_path to out_path; returns a summary dict. Raises ExportError (UsageError
    when the normalisation is missing or given twice)."""
    import numpy as np

    _check_norm_options(mean, std, norm)
    if not os.path.isfile(in_path):
        raise ExportError("%s: no such file" % in_path)
    sd, dropped = load_state_dict(in_path)
    arch = identify(sd, arch, in_path)
    conv1 = sd["conv1.weight"]
    if conv1.dim() != 4:
        raise ExportError("conv1.weight has shape %s, expected 4 dims" % list(conv1.shape))
    channels, kernel = int(conv1.shape[1]), int(conv1.shape[-1])
    nc = _classes(arch, sd, num_classes)
    input_shape = _input_shape(input_shape, conv1)
    mean, std, norm_origin = resolve_norm(arch, sd, channels, kernel, nc, mean, std, norm)
    if stem_maxpool is not None and arch != "resnet":
        raise ExportError("--stem-maxpool applies to arch resnet only")
    if arch == "resnet" and stem_maxpool is None:
        stem_maxpool = 1 if kernel == 7 else 0
    if not (bn_eps > 0 and math.isfinite(bn_eps)):
        raise ExportError("bn_eps must be positive")
    arrays = _float32_arrays(sd)

    attrs = {"format": FORMAT, "format_version": np.int64(FORMAT_VERSION), "arch": arch,
             "num_classes": np.int64(nc),
             "input_shape": np.asarray(input_shape, dtype=np.int64),
             "mean": np.asarray(mean, dtype=np.float64),
             "std": np.asarray(std, dtype=np.float64), "bn_eps": np.float64(bn_eps)}
    if arch == "resnet":                               # the schema's resnet-only attribute
        attrs["stem_maxpool"] = np.int64(1 if int(stem_maxpool) else 0)
    attrs.update({"source": os.path.basename(in_path), "source_sha256": _sha256(in_path),
                  "exporter": EXPORTER, "dataset": dataset or "",
                  "dropped_tensors": _dropped_text(dropped)})
    attrs.update(extra_attrs or {})
    _write(out_path, attrs, arrays, eval_data)

    params = sum(a.size for _, a in arrays)
    summary = {"arch": arch, "num_classes": nc, "input_shape": list(input_shape),
               "mean": mean, "std": std, "norm": norm_origin,
               "tensors": len(arrays), "params": params, "dropped": len(dropped)}
    if not quiet:
        print("export.py: wrote %s: arch %s, %d classes, input %s, mean %s, std %s (%s), "
              "%d tensors, %d floats, %d dropped"
              % (out_path, arch, nc, "x".join(map(str, input_shape)), _values(mean),
                 _values(std), norm_origin, len(arrays), params, len(dropped)))
    return summary


class _Parser(argparse.ArgumentParser):
    def error(self, message):                          # one line, exit status 2
        sys.stderr.write("export.py: error: %s\n" % message)
        sys.exit(2)


def _parse_shape(text):
    vals = _floats(text, "--input-shape")
    if len(vals) != 3 or any(v != int(v) for v in vals):
        raise ExportError("--input-shape takes three integers C,H,W")
    return [int(v) for v in vals]


def _read_eval_json(path):
    try:
        with open(path) as f:
            ev = json.load(f)
    except (OSError, ValueError) as e:
        raise ExportError("cannot read %s: %s" % (path, e)) from None
    if not isinstance(ev, dict):
        raise ExportError("%s: expected a JSON object" % path)
    return ev


def main(argv=None):
    p = _Parser(prog="export.py", description="PyTorch checkpoint -> eeprof HDF5 checkpoint")
    p.add_argument("input", help=".pth / .pth.tar / .th file")
    p.add_argument("output", help="HDF5 file to write")
    p.add_argument("--arch", choices=ARCHS, help="architecture (default: from key names)")
    p.add_argument("--num-classes", type=int)
    p.add_argument("--input-shape", help="C,H,W (default C from conv1, 32x32 or 224x224)")
    p.add_argument("--norm", choices=NORMS,
                   help="input normalisation by dataset name (checkpoints/models/norms.py)")
    p.add_argument("--mean", help="per-channel mean, comma-separated (with --std)")
    p.add_argument("--std", help="per-channel std, comma-separated (with --mean)")
    p.add_argument("--dataset", default="", help="free text recorded in the file")
    p.add_argument("--eval-json", help="JSON object of per-exit numbers to store under /eval")
    p.add_argument("--stem-maxpool", type=int, choices=(0, 1), help="resnet only")
    p.add_argument("--bn-eps", type=float, default=1e-5)
    a = p.parse_args(argv)
    try:
        export(a.input, a.output, a.arch, a.num_classes,
               _parse_shape(a.input_shape) if a.input_shape is not None else None,
               _floats(a.mean, "--mean") if a.mean is not None else None,
               _floats(a.std, "--std") if a.std is not None else None, a.dataset,
               _read_eval_json(a.eval_json) if a.eval_json else None,
               a.stem_maxpool, a.bn_eps, norm=a.norm)
    except ExportError as e:
        msg = str(e).split("\n")
        sys.stderr.write("export.py: error: %s\n" % msg[0])
        for line in msg[1:]:
            sys.stderr.write(line + "\n")
        return e.status
    except Exception as e:                             # noqa: BLE001
        sys.stderr.write("export.py: error: internal: %s: %s\n" % (type(e).__name__, e))
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
