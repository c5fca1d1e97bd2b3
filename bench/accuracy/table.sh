#!/usr/bin/env bash
# The README's accuracy-on-hardware table for one shipped network: rram, pcm at 1 hour and
# 1 year, and analog-chain on the first 2,000 test images, 5 fresh programmings each.
# Usage: bench/accuracy/table.sh GENOTYPE WEIGHTS OUTDIR [--data DIR]
# WEIGHTS is one safetensors file for every column, or a directory of fine-tuned weights per
# device family (bench/accuracy/finetune.sh): rram.safetensors for the rram column,
# pcm.safetensors for pcm, pcm-1year and analog-chain (the same devices and measured noise).
# Writes OUTDIR/<preset>.json (memhyper eval --json, written whole or not at all) and skips
# presets already done, so an interrupted run continues; prints one markdown row at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
genotype=$1 weights=$2 out=$3
shift 3
mkdir -p "$out"
for preset in rram pcm pcm-1year analog-chain; do
  [ -s "$out/$preset.json" ] && continue
  if [ "$preset" = pcm-1year ]; then which=(--config bench/accuracy/pcm-1year.json); else which=(--preset "$preset"); fi
  file=$weights
  if [ -d "$weights" ]; then
    if [ "$preset" = rram ]; then file=$weights/rram.safetensors; else file=$weights/pcm.safetensors; fi
  fi
  start=$(date +%s)
  node bin/memhyper.js eval --genotype "$genotype" --channels 16 --layers 8 --weights "$file" "${which[@]}" \
    --trials 5 --limit 2000 --json "$@" > "$out/$preset.json.tmp"
  mv "$out/$preset.json.tmp" "$out/$preset.json"
  echo "$preset: $(( $(date +%s) - start )) s" >&2
done
node -e '
const fs = require("fs");
const cells = ["rram", "pcm", "pcm-1year", "analog-chain"].map((p) => {
  const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${p}.json`, "utf8"));
  return `${(100 * r.accuracy).toFixed(2)} ± ${(100 * r.std).toFixed(2)} %`;
});
console.log(`| ${process.argv[2]} | ${cells.join(" | ")} |`);
' "$out" "$genotype"
