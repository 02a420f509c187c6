#!/usr/bin/python3
"""samples_table.py EEPROF REPORT_DIR [CKPT...] - the README's table of the bundled samples.

Every number comes from a tool: parameters and per-exit MACs (standalone; min-max where
EMG gates make them vary) from `eeprof info --json`, per-exit test accuracy and the
test-set open-gate ratio from the report.json that `eeprof report` wrote into REPORT_DIR
(make demo: build/demo-report), PyTorch's accuracy, epochs and training time from the
checkpoint's attributes (checkpoints/train.py). Prints Markdown on stdout.
"""
import glob
import json
import subprocess
import sys

import h5py


def mega(v):
    return "%.2fM" % (v / 1e6)


def macs_cell(e):
    if e["macs_min"] == e["macs_max"]:
        return mega(e["macs_min"])
    return "%s-%s" % (mega(e["macs_min"]), mega(e["macs_max"]))


def row(eeprof, ckpt, model):
    info = json.loads(subprocess.run([eeprof, "info", ckpt, "--json"], check=True,
                                     capture_output=True, text=True).stdout)
    with h5py.File(ckpt, "r") as f:
        attrs = dict(f.attrs)
        torch_acc = list(f["/eval/test_accuracy"][()])
    acc = [e["accuracy"] for e in model["exits"]]
    diff = max(abs(a - b) for a, b in zip(acc, torch_acc)) * 10000
    gates = model.get("gates") or []
    gate = ("%.3f" % (sum(g["open_ratio"] for g in gates) / len(gates))) if gates else "-"
    return "| %s | %s | %d | %s | %s | %.2f%% | %s | %d | %d | %.0f min |" % (
        model["name"], info["arch"], info["params"],
        " / ".join(macs_cell(e) for e in info["exits"]),
        " / ".join("%.2f" % (100 * a) for a in acc),
        100 * model["ensemble"]["accuracy"], gate, round(diff),
        int(attrs["epochs"]), float(attrs["train_seconds"]) / 60)


def main():
    eeprof, rdir = sys.argv[1], sys.argv[2]
    ckpts = sys.argv[3:] or sorted(glob.glob("checkpoints/samples/*.h5"))
    report = json.load(open(rdir + "/report.json"))
    models = {m["name"]: m for m in report["models"]}
    print("| sample | arch | params | MACs per exit, shallow to deep (standalone) "
          "| test accuracy per exit, % (eeprof) | ensemble | EMG open-gate ratio (test) "
          "| max diff to PyTorch, images | epochs | training time |")
    print("|---|---|--:|---|---|--:|--:|--:|--:|--:|")
    for c in ckpts:
        name = c.rsplit("/", 1)[-1][:-3]
        print(row(eeprof, c, models[name]))
    print("\n(%d test images of %s; `python3 tools/samples_table.py %s %s`)"
          % (report["samples"], report["data"], eeprof, rdir))


if __name__ == "__main__":
    main()
