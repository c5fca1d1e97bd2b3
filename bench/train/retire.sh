#!/usr/bin/env bash
# Keeps a network's shipped weights under a new name before newer ones take theirs
# (bench/train/ship.sh): git-moves models/NAME.safetensors and its card to NAME-SUFFIX, sets
# the card's name and weights, and points every record measured on those weights at the new
# path: the accuracy results (bench/accuracy/results), the fine-tuned cards (models/finetuned)
# and the fine-tuning runs (models/runs/finetune). Each rewritten file goes through a temporary
# file and a rename. The README's prose stays for a person to update.
# Usage: bench/train/retire.sh NAME SUFFIX
#   e.g. bench/train/retire.sh darts_v2-c16-l8 e50
# Only quoted paths, `"models/NAME.safetensors"`, are rewritten, so other networks' stay. Run it
# before shipping the new weights: records measured on those name the same path again.
set -euo pipefail
cd "$(dirname "$0")/../.."
usage="usage: bench/train/retire.sh NAME SUFFIX"
name=${1:?$usage}
suffix=${2:?$usage}
old="models/$name.safetensors"
new="models/$name-$suffix.safetensors"
for f in "$old" "models/$name.json"; do
  [ -s "$f" ] || { echo "retire: $f is missing: nothing to keep" >&2; exit 1; }
done
for f in "$new" "models/$name-$suffix.json"; do
  [ -e "$f" ] && { echo "retire: $f exists already: choose another SUFFIX" >&2; exit 1; }
done
git mv "$old" "$new"
git mv "models/$name.json" "models/$name-$suffix.json"
files=$(grep -rlF "\"$old\"" bench/accuracy/results models/finetuned models/runs/finetune "models/$name-$suffix.json" || true)
node - "$old" "$new" "$name-$suffix" "models/$name-$suffix.json" $files <<'JS'
const fs = require("node:fs");
const [from, to, cardName, card, ...files] = process.argv.slice(2);
const write = (f, text) => {
  fs.writeFileSync(`${f}.tmp`, text);
  fs.renameSync(`${f}.tmp`, f);
};
for (const f of files) write(f, fs.readFileSync(f, "utf8").replaceAll(JSON.stringify(from), JSON.stringify(to)));
const c = JSON.parse(fs.readFileSync(card, "utf8"));
if (c.name !== cardName) write(card, `${JSON.stringify({ ...c, name: cardName }, null, 2)}\n`);
console.log(`retire: ${files.length} record(s) now name ${to}`);
JS
