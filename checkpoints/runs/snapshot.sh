#!/bin/sh
# snapshot.sh [NAME...] - copy the live runs' last completed epoch ($LIVE/NAME: run.json,
# state.pt, log.txt; default every run under $LIVE, /tmp/eeprof-runs) into
# checkpoints/runs/NAME/ so that committing them lets a later session resume (plan.sh).
# state.pt is replaced atomically by train.py, so the copy is always one whole epoch's.
set -eu
cd "$(dirname "$0")/../.."
LIVE=${LIVE:-/tmp/eeprof-runs}
[ $# -gt 0 ] || set -- $(ls "$LIVE")
for name; do
	live=$LIVE/$name
	[ -e "$live/state.pt" ] || continue
	mkdir -p "checkpoints/runs/$name"
	cp "$live/run.json" "$live/state.pt" "$live/log.txt" "checkpoints/runs/$name/"
	/usr/bin/python3 -c "
import sys, torch
s = torch.load(sys.argv[1], weights_only=False)
print('snapshot: %s after epoch %d of %s, %.0f s' % (sys.argv[2], s['epoch'], sys.argv[3], s['seconds']))
" "checkpoints/runs/$name/state.pt" "$name" "$(grep -o '"epochs": [0-9]*' "$live/run.json" | cut -d' ' -f2)"
done
