// The pool-size trade of docs/hypernetwork.md: the edge hypernetwork on the digital periphery
// platform with at most N entries per pool (hypernetwork.poolEntries, scheduled turns), against
// individual deployment as priced by default (a periphery per unit) and against individual
// deployment sharing its own periphery the same way (same N, scheduled turns).
// Usage: node bench/hw/pool-trade.mjs   (after `npm ci` or `npm run build`; prints markdown)
import {
  buildNetwork,
  compareDeployments,
  costNetwork,
  hardwareOf,
  individualPools,
  loadPreset,
  resolveArchitecture,
} from "../../dist/index.js";
import { range } from "./format.mjs";

const NAMES = ["DARTS_V1", "DARTS_V2", "PDARTS"];

console.log(
  "| C, L | entries | hyper mm² | area × | latency × | throughput × | power × | individual sharing mm² | its latency × | area × against it |",
);
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const [channels, layers] of [
  [16, 8],
  [36, 20],
])
  for (const entries of [null, 4, 3, 2]) {
    const base = loadPreset("default");
    const hw = hardwareOf({ ...base, hypernetwork: { ...base.hypernetwork, poolEntries: entries } });
    const archs = NAMES.map((n) => resolveArchitecture(n));
    const rows = compareDeployments({ channels, layers, variant: "edge" }, archs, hw);
    const shared = archs.map((a) => {
      const net = buildNetwork(a, { channels, layers });
      return costNetwork(net, hw, { pools: individualPools(net, entries ?? 8), poolSchedule: "scheduled" });
    });
    const sharing = shared.map((r) => r.areaMm2);
    const sharingLatency = shared.map((r, i) => r.latencyUs / rows[i].individual.latencyUs);
    console.log(
      `| ${channels}, ${layers} | ${entries ?? "8 (demand)"} | ${rows[0].hyper.areaMm2.toFixed(2)} | ${range(
        rows.map((r) => r.areaRatio),
        2,
      )} | ${range(
        rows.map((r) => r.latencyRatio),
        3,
      )} | ${range(
        rows.map((r) => r.throughputRatio),
        2,
      )} | ${range(
        rows.map((r) => r.powerRatio),
        3,
      )} | ${range(sharing, 2)} | ${range(sharingLatency, 3)} | ${range(
        sharing.map((s, i) => rows[i].hyper.areaMm2 / s),
        2,
      )} |`,
    );
  }
