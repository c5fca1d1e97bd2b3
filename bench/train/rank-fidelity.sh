#!/usr/bin/env bash
# Rank fidelity of the weight-sharing supernet: 8 genotypes drawn with seed 7 from the genotype
# view, each trained standalone for 20 epochs with the shipped recipe (C=16, 8 cells, batch 96,
# seed 1, cosine over the 20 epochs) into models/runs/rank/<code> (resumable, console output in
# models/runs/rank/<code>.log); then bench/train/rank-fidelity.mjs scores the same genotypes on
# the supernet's shared weights and prints Kendall's tau with its p-value.
# Usage: bench/train/rank-fidelity.sh SUPERNET_WEIGHTS [count (8)] [seed (7)]
set -euo pipefail
cd "$(dirname "$0")/../.."
weights=${1:?usage: bench/train/rank-fidelity.sh SUPERNET_WEIGHTS [count] [seed]}
count=${2:-8}
seed=${3:-7}
mkdir -p models/runs/rank
codes=$(node bin/memhyper.js space sample --view genotype --seed "$seed" --count "$count" --json |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).samples.map(x=>x.code).join(" ")))')
for code in $codes; do
  out=models/runs/rank/$code
  [ -s "$out/model.safetensors" ] && continue
  nice -n 10 node bin/memhyper.js train --genotype "$code" --channels 16 --layers 8 --epochs 20 --batch 96 \
    --seed 1 --eval-every 5 --out "$out" --resume >> "$out.log" 2>&1
done
node bench/train/rank-fidelity.mjs --weights "$weights" $codes
