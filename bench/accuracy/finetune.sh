#!/usr/bin/env bash
# Hardware-aware fine-tuning of one shipped network for each device family, then its
# accuracy table on the fine-tuned weights.
# Usage: bench/accuracy/finetune.sh GENOTYPE WEIGHTS NAME [finetune flags]
# For rram and pcm: memhyper finetune (defaults: 10 epochs, lr 0.005) into
# models/runs/finetune/NAME-<family> (resumes an interrupted run), the result copied to
# models/finetuned/NAME/<family>.safetensors with its card <family>.json. pcm's weights also
# serve analog-chain: same devices, so the same measured noise and the same training.
# Then bench/accuracy/table.sh on models/finetuned/NAME into
# bench/accuracy/results/NAME-finetuned.
set -euo pipefail
cd "$(dirname "$0")/../.."
genotype=$1 weights=$2 name=$3
shift 3
mkdir -p "models/finetuned/$name"
for family in rram pcm; do
  dest=models/finetuned/$name/$family
  [ -s "$dest.json" ] && continue
  run=models/runs/finetune/$name-$family
  node bin/memhyper.js finetune --genotype "$genotype" --channels 16 --layers 8 --weights "$weights" \
    --preset "$family" --out "$run" --resume "$@"
  cp "$run/model.safetensors" "$dest.safetensors.tmp" && mv "$dest.safetensors.tmp" "$dest.safetensors"
  cp "$run/model.json" "$dest.json.tmp" && mv "$dest.json.tmp" "$dest.json"
done
bench/accuracy/table.sh "$genotype" "models/finetuned/$name" "bench/accuracy/results/$name-finetuned"
