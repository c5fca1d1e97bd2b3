// Kendall's tau between the supernet's accuracy and the standalone accuracy of architectures
// trained under models/runs/rank/<code> (bench/train/rank-fidelity.sh): both on the 10,000
// test images in float, the supernet's batch norm recalibrated on the first 2,000 training
// images. Writes models/runs/rank/fidelity.json and prints the table.
// Usage: node bench/train/rank-fidelity.mjs --weights SUPERNET_WEIGHTS CODE...
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ options: { weights: { type: "string" }, data: { type: "string" } }, allowPositionals: true });
const { loadSplit, resolveDataDir, take } = await import("../../dist/data/cifar10.js");
const { readWeightFile } = await import("../../dist/engine/safetensors.js");
const { Supernet, supernetAccuracy } = await import("../../dist/train/supernet.js");
const { resolveArchitecture } = await import("../../dist/space/architecture.js");
const { kendallTau } = await import("../../dist/util/stats.js");

const dir = resolveDataDir(values.data);
const train = loadSplit(dir, "train");
const test = loadSplit(dir, "test");
const net = new Supernet(16, 8, false, 0);
net.restore(readWeightFile(values.weights), values.weights);
const rows = positionals.map((code) => {
  const logs = readFileSync(`models/runs/rank/${code}/log.jsonl`, "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const standalone = logs.at(-1).evalAccuracy;
  const supernet = supernetAccuracy(net, resolveArchitecture(code), take(train, 2000), test);
  console.log(`${code}: standalone ${(100 * standalone).toFixed(2)} % (${logs.length} epochs), supernet ${(100 * supernet).toFixed(2)} %`);
  return { code, epochs: logs.length, standalone, supernet };
});
const r = kendallTau(rows.map((x) => x.standalone), rows.map((x) => x.supernet));
console.log(`Kendall's tau ${r.tau.toFixed(3)}, p = ${r.p.toPrecision(3)} over ${r.n} architectures (target tau >= 0.4)`);
writeFileSync("models/runs/rank/fidelity.json", `${JSON.stringify({ weights: values.weights, rows, ...r }, null, 2)}\n`);
