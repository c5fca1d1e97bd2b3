// The side-by-side table of docs/validation.md: memhyper's cost of NeuroSim's VGG-8 under the
// configuration NeuroSim V1.4's release test states, against that test's published figures,
// with the ratio of each figure and of each component group NeuroSim reports.
// Usage: node bench/hw/validation.mjs [neurosim-v14-vgg8 | neurosim-v14-vgg8-read64]
//        (after `npm ci`; prints markdown)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const name = process.argv[2] ?? "neurosim-v14-vgg8";
const ref = JSON.parse(readFileSync(`validation/${name}.reference.json`, "utf8")).figures;
const r = JSON.parse(
  execFileSync(
    "node",
    [
      "bin/memhyper.js",
      "hw",
      "report",
      "--net",
      "nets/vgg8-cifar10.json",
      "--config",
      `validation/${name}.json`,
      "--json",
    ],
    { encoding: "utf8" },
  ),
);
const area = r.breakdown.areaMm2ByComponent;
const energy = r.breakdown.energyUjByComponent;
const f = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
const rows = [
  ["chip area (mm²)", ref.chipAreaUm2 / 1e6, r.areaMm2],
  [
    "energy per image (µJ), NeuroSim dynamic + leakage",
    (ref.dynamicEnergyPj + ref.leakageEnergyPj) / 1e6,
    r.energyUj,
  ],
  ["energy efficiency (TOPS/W)", ref.topsPerWatt, r.topsPerWatt],
  ["throughput (TOPS)", ref.tops, r.tops],
  ["throughput (images/s)", ref.fps, r.throughputImgPerSec],
  ["operations per image", ref.operationsPerImage, r.opsPerImage],
  ["area: arrays (mm²)", ref.arrayAreaUm2 / 1e6, area.array],
  ["area: ADCs (mm²)", ref.adcAreaUm2 / 1e6, area.adc],
  ["area: accumulation, shift-add (mm²)", ref.accumulationAreaUm2 / 1e6, area.shiftAdd],
  ["area: interconnect (mm²)", ref.interconnectAreaUm2 / 1e6, area.routing],
  [
    "area: other periphery (mm²)",
    ref.otherPeripheryAreaUm2 / 1e6,
    area.dac + area.sampleHold + area.mux + area.digital + area.buffer,
  ],
  ["energy: array + ADC (µJ)", ref.adcEnergyPj / 1e6, energy.array + energy.adc],
  ["energy: accumulation, shift-add (µJ)", ref.accumulationEnergyPj / 1e6, energy.shiftAdd],
];
console.log("| figure | NeuroSim V1.4 | memhyper | memhyper / NeuroSim |");
console.log("|---|---|---|---|");
for (const [name, theirs, ours] of rows)
  console.log(`| ${name} | ${f(theirs)} | ${f(ours)} | ${f(ours / theirs)} |`);
console.log(
  `\nmemhyper: ${r.arrays} arrays, ${r.adcs} ADCs, latency ${f(r.latencyUs)} µs per image end to end`,
);
