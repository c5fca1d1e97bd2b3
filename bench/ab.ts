/**
 * In-process A/B of two builds of the native addon on one benchmark workload: rounds
 * alternate A then B on the same network and input, and the median of the rounds' time
 * ratios is printed with its quartiles (development aid; pause anything else running).
 *   cp build/Release/memhyper_native.node /tmp/a.node   # then change, rebuild, and:
 *   npx tsx bench/ab.ts /tmp/a.node build/Release/memhyper_native.node [rounds] [workload] [seconds]
 * workload: training (default), inference or inferenceLarge, as in `memhyper bench engine`.
 */
import { resolve } from "node:path";
import { makeStep, measureWorkload, WORKLOADS } from "../src/bench/engine.js";
import { setBackend } from "../src/engine/kernels/index.js";
import { loadNativeKernels } from "../src/engine/kernels/native.js";
import { quantile } from "../src/util/stats.js";

const [a, b, rounds = "10", key = "training", seconds = "3"] = process.argv.slice(2);
if (!a || !b) {
  console.error("usage: npx tsx bench/ab.ts BUILD_A.node BUILD_B.node [rounds] [workload] [seconds]");
  process.exit(2);
}
const builds = [a, b].map((path) => {
  const k = loadNativeKernels(resolve(path));
  if (!k) {
    console.error(
      `ab: no addon at ${path}: build it with 'npm run install' and copy build/Release/memhyper_native.node`,
    );
    process.exit(2);
  }
  return k;
});
const workload = WORKLOADS.find((w) => w.key === key);
if (!workload) {
  console.error(`ab: unknown workload '${key}': use one of ${WORKLOADS.map((w) => w.key).join(", ")}`);
  process.exit(2);
}
const step = makeStep(workload);
const msPerStep = (): number =>
  (1000 * workload.batch) / measureWorkload(workload, Number(seconds), step).imgPerSec;
const ratios: number[] = [];
for (let r = 0; r < Number(rounds); r++) {
  setBackend(builds[0]);
  const ta = msPerStep();
  setBackend(builds[1]);
  const tb = msPerStep();
  ratios.push(ta / tb);
  console.log(
    `round ${r + 1}: A ${ta.toFixed(1)} ms, B ${tb.toFixed(1)} ms a step, B ${(ta / tb).toFixed(3)}×`,
  );
}
ratios.sort((x, y) => x - y);
const q = (p: number) => quantile(ratios, p).toFixed(3);
console.log(`B against A: median ${q(0.5)}×, quartiles ${q(0.25)}–${q(0.75)}`);
