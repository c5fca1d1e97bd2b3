// Supernet training throughput against standalone training (`memhyper train`), measured in
// this run at the same batch: PDARTS standalone, then supernet epochs sampling the genotype
// view and the edge-complete view (no reference share, so every batch is a sampled one),
// alternated for R rounds; the median of each mode's img/s and their ratios. Training time
// only (the loop's own img/s; no evaluation). Needs the built CLI (npm ci) and CIFAR-10.
// Usage: node bench/train/supernet-throughput.mjs [--batches N (default 20)] [--rounds R (default 3)] [--data DIR]
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { batches: { type: "string", default: "20" }, rounds: { type: "string", default: "3" }, data: { type: "string" } },
});
const { loadSplit, resolveDataDir } = await import("../../dist/data/cifar10.js");
const { DARTS_RECIPE, trainModel } = await import("../../dist/train/trainer.js");
const { trainSupernet } = await import("../../dist/train/supernet.js");
const { resolveArchitecture } = await import("../../dist/space/architecture.js");
const { nativeKernels } = await import("../../dist/engine/kernels/index.js");

const batch = 96;
const dir = resolveDataDir(values.data);
const data = { train: loadSplit(dir, "train"), test: loadSplit(dir, "test") };
const recipe = { ...DARTS_RECIPE, channels: 16, layers: 8, epochs: 1, batch, seed: 1, trainLimit: batch * Number(values.batches), validation: 0 };
class Stop extends Error {}
/** img/s of one epoch's training batches, stopped before its evaluation. */
function measure(run) {
  let ips = 0;
  const events = {
    onBatch(_epoch, seen, total, _loss, _acc, rate) {
      ips = rate;
      if (seen >= total) throw new Stop();
    },
  };
  try {
    run(events, mkdtempSync(join(tmpdir(), "mh-bench-")));
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return ips;
}
const modes = {
  standalone: (ev, out) => trainModel(resolveArchitecture("PDARTS"), recipe, data, out, false, ev),
  genotype: (ev, out) => trainSupernet(recipe, { referenceShare: 0, recalibrationImages: 2000, view: "genotype" }, data, out, false, ev),
  edge: (ev, out) => trainSupernet(recipe, { referenceShare: 0, recalibrationImages: 2000, view: "edge" }, data, out, false, ev),
};
const rates = { standalone: [], genotype: [], edge: [] };
for (let r = 0; r < Number(values.rounds); r++)
  for (const [name, run] of Object.entries(modes)) {
    rates[name].push(measure(run));
    console.log(`round ${r + 1} ${name}: ${rates[name].at(-1).toFixed(1)} img/s`);
  }
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const s = median(rates.standalone);
console.log(`kernels ${JSON.stringify(nativeKernels()?.info() ?? "typescript")}, C=16 L=8, batch ${batch}, ${values.batches} batches per epoch, median of ${values.rounds} rounds`);
console.log(`standalone PDARTS ${s.toFixed(1)} img/s; supernet genotype view ${median(rates.genotype).toFixed(1)} img/s (×${(median(rates.genotype) / s).toFixed(2)}, target ≥ 0.8); edge-complete view ${median(rates.edge).toFixed(1)} img/s (×${(median(rates.edge) / s).toFixed(2)})`);
