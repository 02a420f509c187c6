#!/bin/sh
# demo.sh EEPROF [OUTDIR] - the main job on the bundled sample checkpoints (make demo):
# what each sample is and costs (eeprof info), then one report of all of them over
# the full Fashion-MNIST test set, with thresholds chosen on the validation split
# (eeprof report): report.md, report.json, CSVs and plots in OUTDIR.
set -eu
eeprof=$1
out=${2:-build/demo-report}
threads=$(nproc 2>/dev/null || echo 1)
set -- checkpoints/samples/*.h5
[ -e "$1" ] || { echo "demo: no samples in checkpoints/samples" >&2; exit 3; }
for ckpt in "$@"; do
	echo "== $ckpt"
	"$eeprof" info "$ckpt"
	echo
done
echo "== eeprof report $* --data fashion-mnist:test --val fashion-mnist:val -o $out"
start=$(date +%s)
"$eeprof" report "$@" --data fashion-mnist:test --val fashion-mnist:val \
	--threads "$threads" -o "$out"
echo "report written in $(( $(date +%s) - start )) s:"
ls "$out"
echo
sed -n '1,/^## /p' "$out/report.md" | head -40
