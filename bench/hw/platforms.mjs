// The individual-deployment tables of docs/hardware.md: DARTS_V1, DARTS_V2 and PDARTS at
// C=16 L=8 and C=36 L=20 on both platforms (the default digital periphery and the parallel
// analog platform), with where their area, energy and time go.
// Usage: node bench/hw/platforms.mjs   (after `npm ci`; prints markdown)
import { execFileSync } from "node:child_process";

const run = (args) =>
  JSON.parse(execFileSync("node", ["bin/memhyper.js", ...args, "--json"], { encoding: "utf8" }));
const nets = ["DARTS_V1", "DARTS_V2", "PDARTS"];
const sizes = [
  [16, 8],
  [36, 20],
];
const presets = ["default", "analog-chain"];
const pct = (part, whole) => `${((100 * part) / whole).toFixed(0)} %`;
const top = (by, total, n = 3) =>
  Object.entries(by)
    .filter(([k, v]) => v > 0 && k !== "routing")
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${k} ${pct(v, total)}`)
    .join(", ");
const f = (x, d = 3) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(d));

console.log(
  "| genotype | C | cells | platform | area mm² | energy µJ/img | latency µs/img | img/s | power mW | arrays | ADCs | analog neurons |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
const rows = [];
for (const g of nets)
  for (const [c, l] of sizes)
    for (const p of presets) {
      const r = run([
        "hw",
        "report",
        "--genotype",
        g,
        "--channels",
        String(c),
        "--layers",
        String(l),
        "--preset",
        p,
      ]);
      rows.push({ g, c, l, p, r });
      console.log(
        `| ${g} | ${c} | ${l} | ${r.platform} (\`${p}\`) | ${f(r.areaMm2)} | ${f(r.energyUj)} | ${f(r.latencyUs)} | ${f(r.throughputImgPerSec)} | ${f(r.powerMw)} | ${r.arrays} | ${r.adcs} | ${r.analog ? r.analog.amplifiers : 0} |`,
      );
    }
console.log("\n| genotype | C | cells | platform | area goes to | energy goes to | time |");
console.log("|---|---|---|---|---|---|---|");
for (const { g, c, l, p, r } of rows) {
  const b = r.breakdown;
  const time = r.analog
    ? `${r.analog.streamCycles} stream + ${r.analog.fillCycles} fill cycles of ${r.analog.cycleNs.toFixed(2)} ns`
    : "bit-serial layers one after another, 84 % ADC conversion";
  console.log(
    `| ${g} | ${c} | ${l} | ${p} | ${top(b.areaMm2ByComponent, r.areaMm2)}; routing ${pct(b.areaMm2ByComponent.routing, r.areaMm2)} | ${top(b.energyUjByComponent, r.energyUj)} | ${time} |`,
  );
}
