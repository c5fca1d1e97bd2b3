#!/usr/bin/env bash
# The 100-epoch retraining of issue 4: PDARTS, then DARTS_V2 and DARTS_V1, all with the
# shipped recipe (C=16, 8 cells, batch 96, seed 1) and twice its epochs, each into
# models/runs/<name>-e100. Every run checkpoints per epoch and resumes, so rerunning this
# script after an interruption picks up where it stopped; a finished run (model.json
# present) is skipped. Run nothing else on the machine meanwhile.
# PDARTS trains on every core. The other two then train at once, one core each: results do
# not depend on the thread count (fixed work partition), and two one-thread runs measured
# 142 img/s together against 125–131 for one run on both cores (each run's data loading
# then has a core of its own too). Their console output goes to models/runs/<name>-e100.log.
# Usage: bench/train/e100.sh [train flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
run() {
  local genotype=$1 cpus=$2
  shift 2
  local out
  out=models/runs/$(echo "$genotype" | tr 'A-Z' 'a-z')-c16-l8-e100
  [ -s "$out/model.json" ] && return 0
  taskset -c "$cpus" node bin/memhyper.js train --genotype "$genotype" --channels 16 --layers 8 --epochs 100 \
    --batch 96 --seed 1 --eval-every 10 --out "$out" --resume "$@"
}
cores=$(nproc)
run PDARTS "0-$((cores - 1))" "$@"
if [ "$cores" -lt 2 ]; then
  run DARTS_V2 0 "$@"
  run DARTS_V1 0 "$@"
  exit 0
fi
run DARTS_V2 0 "$@" > models/runs/darts_v2-c16-l8-e100.log 2>&1 &
v2=$!
run DARTS_V1 1 "$@" > models/runs/darts_v1-c16-l8-e100.log 2>&1 &
v1=$!
failed=0
wait "$v2" || failed=1
wait "$v1" || failed=1
exit "$failed"
