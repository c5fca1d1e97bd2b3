#!/usr/bin/env bash
# The README's accuracy-on-hardware table for one shipped network: rram, rram-robust (its
# hardware levers), pcm at 1 hour and 1 year, and analog-chain on all 10,000 test images,
# 5 fresh programmings each (extra flags go to memhyper eval, e.g. --limit 2000 for a
# quicker, coarser table).
# Usage: bench/accuracy/table.sh GENOTYPE WEIGHTS OUTDIR [--data DIR]
# WEIGHTS is one safetensors file for every column, or a directory of fine-tuned weights per
# device family (bench/accuracy/finetune.sh): rram.safetensors for the rram and rram-robust
# columns, pcm.safetensors for pcm, pcm-1year and analog-chain (the same devices and
# measured noise).
# Writes OUTDIR/<preset>.json (memhyper eval --json, written whole or not at all) and skips
# presets already done, so an interrupted run continues; prints one markdown row once every
# column is there. PRESETS="rram pcm" runs only those columns.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Runs for hours beside other work: OpenMP threads that sleep soon leave the cores to it
# (docs/engine.md#sharing-the-machine).
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
genotype=$1 weights=$2 out=$3
shift 3
mkdir -p "$out"
columns=(rram rram-robust pcm pcm-1year analog-chain)
for preset in ${PRESETS:-${columns[*]}}; do
  [ -s "$out/$preset.json" ] && continue
  if [ "$preset" = pcm-1year ]; then which=(--config bench/accuracy/pcm-1year.json); else which=(--preset "$preset"); fi
  file=$weights
  if [ -d "$weights" ]; then
    case $preset in rram*) file=$weights/rram.safetensors ;; *) file=$weights/pcm.safetensors ;; esac
  fi
  start=$(date +%s)
  node bin/memhyper.js eval --genotype "$genotype" --channels 16 --layers 8 --weights "$file" "${which[@]}" \
    --trials 5 --json "$@" > "$out/$preset.json.tmp"
  mv "$out/$preset.json.tmp" "$out/$preset.json"
  echo "$preset: $(( $(date +%s) - start )) s" >&2
done
for preset in "${columns[@]}"; do [ -s "$out/$preset.json" ] || exit 0; done
node -e '
const fs = require("fs");
const cells = process.argv.slice(3).map((p) => {
  const r = JSON.parse(fs.readFileSync(`${process.argv[1]}/${p}.json`, "utf8"));
  return `${(100 * r.accuracy).toFixed(2)} ± ${(100 * r.std).toFixed(2)} %`;
});
console.log(`| ${process.argv[2]} | ${cells.join(" | ")} |`);
' "$out" "$genotype" "${columns[@]}"
