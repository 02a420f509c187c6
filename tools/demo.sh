#!/bin/sh
# demo.sh EEPROF - the main job on the bundled sample checkpoints (make demo):
# describe each sample and evaluate it on the full Fashion-MNIST test set.
set -eu
eeprof=$1
threads=$(nproc 2>/dev/null || echo 1)
for ckpt in checkpoints/samples/*.h5; do
	[ -e "$ckpt" ] || { echo "demo: no samples in checkpoints/samples" >&2; exit 3; }
	echo "== $ckpt"
	"$eeprof" info "$ckpt"
	echo
	"$eeprof" eval "$ckpt" --data fashion-mnist:test --threads "$threads"
	echo
done
