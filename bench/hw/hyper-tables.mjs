// The tables of docs/hypernetwork.md: the hypernetwork against individual deployment (both
// variants, both sizes, both platforms), the ablation of its design levers, and the sweep's
// distribution over the edge-complete view. Every figure comes from the CLI's JSON.
// Usage: node bench/hw/hyper-tables.mjs [--sweep-samples N]   (after `npm ci`; prints markdown)
import { execFileSync } from "node:child_process";
import { range } from "./format.mjs";

const samplesAt = process.argv.indexOf("--sweep-samples");
const samples = samplesAt > 0 ? process.argv[samplesAt + 1] : "1000";
const cli = (...args) =>
  JSON.parse(
    execFileSync("node", ["bin/memhyper.js", ...args, "--json"], { encoding: "utf8", maxBuffer: 1 << 28 }),
  );

const SIZES = [
  ["16", "8"],
  ["36", "20"],
];
const PLATFORMS = [
  ["default", "digital periphery", "digital"],
  ["analog-chain", "parallel analog", "analog"],
];
const ratios = (rows, key, d) =>
  range(
    rows.map((r) => r[key]),
    d,
  );

console.log(
  "| variant | C | L | platform | DARTS_V1 area × | DARTS_V2 area × | PDARTS area × | power × | latency × |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const variant of ["edge", "node"])
  for (const [p, platform] of PLATFORMS)
    for (const [C, L] of SIZES) {
      const { rows } = cli(
        "hyper",
        "compare",
        "--variant",
        variant,
        "--channels",
        C,
        "--layers",
        L,
        "--preset",
        p,
      );
      const area = rows.map((r) => r.areaRatio.toFixed(2));
      console.log(
        `| ${variant} | ${C} | ${L} | ${platform} | ${area.join(" | ")} | ${ratios(rows, "powerRatio", 3)} | ${ratios(rows, "latencyRatio", 3)} |`,
      );
    }

console.log("\n| levers | platform | C, L | individual mm² | hyper mm² | area × | power × | latency × |");
console.log("|---|---|---|---|---|---|---|---|");
for (const [p, , short] of PLATFORMS)
  for (const [C, L] of SIZES) {
    const { ablation } = cli("hyper", "compare", "--ablation", "--channels", C, "--layers", L, "--preset", p);
    for (const a of ablation) {
      const ind = range(
        a.rows.map((r) => r.individual.areaMm2),
        2,
      );
      console.log(
        `| ${a.label.replace("all levers", "all")} | ${short} | ${C}, ${L} | ${ind} | ${a.rows[0].hyper.areaMm2.toFixed(2)} | ${ratios(a.rows, "areaRatio", 2)} | ${ratios(a.rows, "powerRatio", 3)} | ${ratios(a.rows, "latencyRatio", 3)} |`,
      );
    }
  }

console.log("\n| platform | area × | power × | latency × | energy × |");
console.log("|---|---|---|---|---|");
for (const [p, platform] of PLATFORMS) {
  const t0 = Date.now();
  const { metrics } = cli("hyper", "sweep", "--samples", samples, "--seed", "1", "--preset", p);
  const q = (m, d) => ["min", "median", "p99", "max"].map((k) => metrics[m][k].toFixed(d)).join(" / ");
  console.log(
    `| ${platform} (\`${p}\`) | ${q("areaRatio", 2)} | ${q("powerRatio", 2)} | ${q("latencyRatio", 3)} | ${q("energyRatio", 2)} |`,
  );
  console.error(`sweep ${p}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
