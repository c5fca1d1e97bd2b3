#!/usr/bin/env bash
# The 100-epoch retraining of issue 4: PDARTS, then DARTS_V2, then DARTS_V1, all with the
# shipped recipe (C=16, 8 cells, batch 96, seed 1) and twice its epochs, each into
# models/runs/<name>-e100. Every run checkpoints per epoch and resumes, so rerunning this
# script after an interruption picks up where it stopped; a finished run (model.json
# present) is skipped. Run nothing else on the machine meanwhile.
# Usage: bench/train/e100.sh [train flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
for genotype in PDARTS DARTS_V2 DARTS_V1; do
  name=$(echo "$genotype" | tr 'A-Z' 'a-z')-c16-l8
  out=models/runs/$name-e100
  [ -s "$out/model.json" ] && continue
  node bin/memhyper.js train --genotype "$genotype" --channels 16 --layers 8 --epochs 100 \
    --batch 96 --seed 1 --eval-every 10 --out "$out" --resume "$@"
done
