"""Per-sample executed-MAC counting with forward hooks (the reference for eeprof's ledger).

Counted (everything else counts 0):
    Conv2d           Cout * Hout * Wout * (Cin / groups) * kh * kw      (bias not counted)
    ConvTranspose2d  Cin * (Cout / groups) * kh * kw * Hin * Win
    Linear           in * out (per row of the input)
    MLConv2d         per sample: 9 * Cout * (Cin/groups) * Hout * Wout
                     + 16 * (open gates of that sample) * (Cin/groups) * Hout * Wout
                     -- the centre 3x3 taps always, the 16 outer-ring taps only for open
                     channels. The gate is recomputed in the hook from the module's input
                     with the module's own ops (so in PyTorch's order).
Every counted module is attributed to its cost region (models.cost_region); per exit
    standalone_k = sum(backbone regions j <= k) + head k
    cascade_k    = sum(backbone regions j <= k) + sum(heads j <= k)
Three figures are kept per module: executed (per sample), min (all gates closed) and max
(all gates open); they differ only for MLConv2d.
"""
import torch
import torch.nn as nn

from . import cost_region
from .emgnet import MLConv2d


class MacCounter:
    def __init__(self, model, arch):
        self.arch = arch
        self.model = model
        self.handles = []
        self.regions = {}
        for name, mod in model.named_modules():
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, MLConv2d)):
                self.regions[name] = cost_region(arch, name)
                self.handles.append(mod.register_forward_hook(self._hook(name)))
        self.reset()

    def reset(self):
        self.exec = {}      # name -> float64 [N]
        self.min = {}       # name -> float (per sample)
        self.max = {}
        self.gates = {}     # MLConv2d name -> uint8 [N, C]
        self.gate_z = {}    # MLConv2d name -> float32 [N, C]
        self.order = []     # execution order of counted modules

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def _add(self, name, per_sample, lo, hi):
        if self.regions[name] is None:
            raise RuntimeError("module %s has no cost region but was executed" % name)
        if name in self.exec:
            self.exec[name] = self.exec[name] + per_sample
            self.min[name] += lo
            self.max[name] += hi
        else:
            self.exec[name] = per_sample
            self.min[name], self.max[name] = lo, hi
            self.order.append(name)

    def _hook(self, name):
        def hook(mod, inputs, output):
            x = inputs[0]
            n = x.shape[0]
            if isinstance(mod, MLConv2d):
                cin_g = mod.in_channels // mod.groups
                hw = output.shape[2] * output.shape[3]
                with torch.no_grad():
                    y3 = mod.inner(x)
                    z = mod.gate_logit(y3)                              # [N, C]
                    gate = (torch.sigmoid(z) - 0.5) > 0
                base = 9.0 * mod.out_channels * cin_g * hw
                ring = 16.0 * cin_g * hw
                per = base + ring * gate.sum(dim=1).double()
                self.gates[name] = gate.to(torch.uint8).cpu()
                self.gate_z[name] = z.detach().float().cpu()
                self._add(name, per, base, base + ring * mod.out_channels)
                return
            if isinstance(mod, nn.ConvTranspose2d):
                kh, kw = mod.kernel_size
                m = (mod.in_channels * (mod.out_channels // mod.groups) * kh * kw
                     * x.shape[2] * x.shape[3])
            elif isinstance(mod, nn.Conv2d):
                kh, kw = mod.kernel_size
                m = (mod.out_channels * output.shape[2] * output.shape[3]
                     * (mod.in_channels // mod.groups) * kh * kw)
            else:                                                       # Linear
                rows = x.numel() // (x.shape[0] * x.shape[-1])          # per sample
                m = rows * mod.in_features * mod.out_features
            self._add(name, torch.full((n,), float(m), dtype=torch.float64), float(m), float(m))
        return hook

    def per_exit(self, num_exits):
        """-> dict with standalone/cascade executed [E, N] and min/max [E] tensors."""
        n = next(iter(self.exec.values())).shape[0]
        out = {k: torch.zeros(num_exits, n, dtype=torch.float64)
               for k in ("macs", "macs_cascade")}
        for k in ("macs_min", "macs_max", "macs_cascade_min", "macs_cascade_max"):
            out[k] = torch.zeros(num_exits, dtype=torch.float64)
        for name, per in self.exec.items():
            kind, r = self.regions[name]
            for e in range(1, num_exits + 1):
                stand = (kind == "backbone" and r <= e) or (kind == "head" and r == e)
                casc = r <= e
                if stand:
                    out["macs"][e - 1] += per
                    out["macs_min"][e - 1] += self.min[name]
                    out["macs_max"][e - 1] += self.max[name]
                if casc:
                    out["macs_cascade"][e - 1] += per
                    out["macs_cascade_min"][e - 1] += self.min[name]
                    out["macs_cascade_max"][e - 1] += self.max[name]
        return out
