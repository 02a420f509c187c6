#!/bin/sh
# plan.sh NAME... - issue 18's equal-effort retraining: trains the named runs one after the
# other with checkpoints/train.py, each continued from where it stopped.
#
#   checkpoints/runs/plan.sh sdresnet18-w7-fmnist scan18-w7-fmnist ...    (from the repo root)
#
# A run's live directory is $LIVE/NAME (default /tmp/eeprof-runs/NAME). If it does not exist
# but the repository holds a saved state (checkpoints/runs/NAME/state.pt, copied there by
# snapshot.sh), the saved state is copied to it first; a live state is resumed
# (train.py --resume), otherwise the run starts from scratch. A finished run exports
# checkpoints/runs/NAME/NAME.h5 (not into checkpoints/samples: a sample is replaced only by
# hand, once its family's run is complete). $OUT replaces checkpoints/runs for the exported
# files (plan.sh run from a frozen copy of the code writes them into the repository so).
# Runs at nice 19 with $THREADS torch threads
# (default 1: two runs share the two cores). The recipe, the same for every run (the
# family's published loss is the only difference), is in README.md next to this file.
set -eu
cd "$(dirname "$0")/../.."
LIVE=${LIVE:-/tmp/eeprof-runs}
THREADS=${THREADS:-1}
OUT=${OUT:-checkpoints/runs}
PY=/usr/bin/python3
COMMON="--epochs 12 --batch 128 --lr 0.1 --wd 5e-4 --augment"

model_args() {
	case $1 in
	emgnet20-w8-fmnist*) echo "--arch emgnet --model variant=cifar depth=20 width=8 --alpha 1e-3" ;;
	sdresnet18-w7-fmnist*) echo "--arch sdresnet --model block=basic width=7" ;;
	scan18-w7-fmnist*) echo "--arch scan --model block=basic width=7" ;;
	*) echo "plan.sh: error: unknown run $1" >&2; return 1 ;;
	esac
}

seed() {
	case $1 in
	*-s2) echo 2 ;;
	*) echo 1 ;;
	esac
}

for name; do
	margs=$(model_args "$name")
	live=$LIVE/$name
	saved=checkpoints/runs/$name
	mkdir -p "$saved"
	if [ ! -e "$live/state.pt" ] && [ -e "$saved/state.pt" ]; then
		mkdir -p "$live"
		cp "$saved/run.json" "$saved/state.pt" "$saved/log.txt" "$live/"
	fi
	echo "plan.sh: $name ($(date -u +%H:%M:%S) UTC)"
	if [ -e "$live/state.pt" ]; then
		nice -n 19 $PY checkpoints/train.py --resume "$live" --threads "$THREADS" --out "$OUT/$name"
	else
		# shellcheck disable=SC2086
		nice -n 19 $PY checkpoints/train.py --name "$name" $margs $COMMON --seed "$(seed "$name")" \
			--threads "$THREADS" --run-dir "$live" --out "$OUT/$name"
	fi
done
