#!/usr/bin/env bash
# Ships a finished training run as a network's reference weights: evaluates the run's
# model.safetensors in fp32 and int8 on all 10,000 test images, then writes
# <dest>/<name>.safetensors and <dest>/<name>.json (the run's card plus name, weights,
# paramsNote, int8Accuracy and evaluatedWith), each through a temporary file and a rename.
# The card's "notes" (hardware, sessions, how the run went) stay for a person to write.
# Usage: bench/train/ship.sh RUN_DIR NAME [DEST]
#   e.g. bench/train/ship.sh models/runs/pdarts-c16-l8-e100 pdarts-c16-l8
# MEMHYPER_SHIP_LIMIT=N evaluates the first N test images only (a quick check of the script).
set -euo pipefail
cd "$(dirname "$0")/../.."
run=${1:?usage: bench/train/ship.sh RUN_DIR NAME [DEST]}
name=${2:?usage: bench/train/ship.sh RUN_DIR NAME [DEST]}
dest=${3:-models}
for f in "$run/model.json" "$run/model.safetensors"; do
  [ -s "$f" ] || { echo "ship: $f is missing: the run has not finished (model.json is written at its end)" >&2; exit 1; }
done
genotype=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).genotype)' "$run/model.json")
limit=()
[ -n "${MEMHYPER_SHIP_LIMIT:-}" ] && limit=(--limit "$MEMHYPER_SHIP_LIMIT")
eval_json() {
  node bin/memhyper.js eval --genotype "$genotype" --weights "$run/model.safetensors" --preset "$1" "${limit[@]}" --json
}
fp32=$(eval_json fp32)
int8=$(eval_json int8)
mkdir -p "$dest"
cp "$run/model.safetensors" "$dest/$name.safetensors.tmp"
node - "$run/model.json" "$dest/$name.json" "$dest/$name.safetensors" "$fp32" "$int8" "$genotype" <<'JS'
const fs = require("node:fs");
const [card, out, weights, fp32, int8, genotype] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(card, "utf8"));
const [f, q] = [JSON.parse(fp32), JSON.parse(int8)];
const images = `${f.images.toLocaleString("en-US")} test images`;
const shipped = {
  name: out.replace(/^.*\//, "").replace(/\.json$/, ""),
  weights,
  ...c,
  accuracy: f.accuracy,
  paramsNote:
    "params excludes the auxiliary head; its tensors are kept in the file under auxiliary_head.* and ignored by inference",
  int8Accuracy: q.accuracy,
  evaluatedWith: `memhyper eval --genotype ${genotype} --weights ${weights} (fp32 ${f.accuracy}, int8 ${q.accuracy}, ${images})`,
};
fs.writeFileSync(`${out}.tmp`, `${JSON.stringify(shipped, null, 2)}\n`);
JS
mv "$dest/$name.safetensors.tmp" "$dest/$name.safetensors"
mv "$dest/$name.json.tmp" "$dest/$name.json"
echo "shipped $dest/$name.safetensors: fp32 $(node -e 'console.log(JSON.parse(process.argv[1]).accuracy)' "$fp32"), int8 $(node -e 'console.log(JSON.parse(process.argv[1]).accuracy)' "$int8")"
