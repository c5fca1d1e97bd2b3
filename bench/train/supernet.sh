#!/usr/bin/env bash
# The weight-sharing supernet of the hypernetwork issue: C=16, 8 cells, batch 96, seed 1,
# 200 epochs, 5,000 training images held out for search, 20 % of batches on the reference
# architectures, into models/runs/supernet-c16-l8 (console output in
# models/runs/supernet-c16-l8.log). It checkpoints every epoch and resumes, so rerunning this
# script after an interruption picks up where it stopped; a finished run (model.json present)
# is skipped. It runs at low priority on every core: other work on the machine slows it, not
# the other way round (results do not depend on the thread count or the timing).
# Usage: bench/train/supernet.sh [supernet train flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=models/runs/supernet-c16-l8
[ -s "$out/model.json" ] && exit 0
mkdir -p models/runs
nice -n 10 node bin/memhyper.js supernet train --channels 16 --layers 8 --epochs 200 --batch 96 --seed 1 \
  --validation 5000 --eval-every 10 --reference-share 0.2 --recalibrate 2000 --out "$out" --resume "$@" \
  >> "$out.log" 2>&1
