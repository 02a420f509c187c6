#!/usr/bin/python3
"""budget_table.py EEPROF TRACE_DIR NAME... [--budgets 3M,4M,5M,6M] - models compared at
equal MACs: the README's table of the samples' test accuracy within the same mean MACs
budgets.

For each NAME, TRACE_DIR holds NAME.h5 (test trace) and NAME.val.h5 (validation trace), as
`eeprof report --trace-dir` or `eeprof profile` write them. Each cell is `eeprof budget
NAME.h5 --val NAME.val.h5 --budget B --json`: MSDNet's thresholds chosen on the validation
trace to fit B MACs per sample, then applied to the test trace (test accuracy in %, the
test MACs used in parentheses); "none fits" when even the cheapest choice needs more.
Prints Markdown on stdout.
"""
import argparse
import json
import subprocess


def cell(eeprof, tdir, name, budget):
    p = subprocess.run([eeprof, "budget", "%s/%s.h5" % (tdir, name), "--val",
                        "%s/%s.val.h5" % (tdir, name), "--budget", budget, "--json"],
                       capture_output=True, text=True)
    if p.returncode == 3 and "none fits" in p.stderr:
        return "none fits"
    if p.returncode:
        raise SystemExit("budget_table.py: eeprof budget failed: " + p.stderr.strip())
    t = json.loads(p.stdout)["test"]
    return "%.2f (%.2fM)" % (100 * t["accuracy"], t["macs_mean"] / 1e6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("eeprof")
    ap.add_argument("trace_dir")
    ap.add_argument("names", nargs="+")
    ap.add_argument("--budgets", default="3M,4M,5M,6M")
    a = ap.parse_args()
    budgets = a.budgets.split(",")
    print("| model | %s |" % " | ".join("within %s MACs" % b for b in budgets))
    print("|---|%s" % ("--:|" * len(budgets)))
    for n in a.names:
        print("| %s | %s |" % (n, " | ".join(cell(a.eeprof, a.trace_dir, n, b) for b in budgets)))
    print("\n(test accuracy, %%, and test MACs per sample; thresholds chosen on validation; "
          "`python3 tools/budget_table.py %s %s %s`)" % (a.eeprof, a.trace_dir, " ".join(a.names)))


if __name__ == "__main__":
    main()
