/**
 * Where a training or inference step of the engine spends its time, per kernel
 * (development aid: `npx tsx bench/profile.ts [training|inference] [C] [L] [batch] [genotype]`).
 */
import { makeStep } from "../src/bench/engine.js";
import { kernels, setBackend } from "../src/engine/kernels/index.js";
import type { ConvGeom, Kernels } from "../src/engine/kernels/types.js";

const [mode = "training", c = "16", l = "8", b = "64", genotype = "DARTS_V2"] = process.argv.slice(2);
const inner = kernels();
const times = new Map<string, number>();
const wrapped = { ...inner } as Record<string, unknown>;
for (const [key, fn] of Object.entries(inner)) {
  if (typeof fn !== "function") continue;
  wrapped[key] = (...args: unknown[]) => {
    const g = args[0] as ConvGeom;
    const tag = key.startsWith("conv")
      ? `${key}.${g.groups > 1 ? `depthwise${g.stride > 1 ? "/s2" : ""}` : g.k === 1 ? "1x1" : "kxk"}`
      : key;
    const t = performance.now();
    const r = (fn as (...a: unknown[]) => unknown)(...args);
    times.set(tag, (times.get(tag) ?? 0) + performance.now() - t);
    return r;
  };
}
setBackend(wrapped as unknown as Kernels);
const w = {
  key: "training",
  genotype,
  channels: Number(c),
  layers: Number(l),
  batch: Number(b),
  mode,
  target: 1,
} as const;
const step = makeStep({ ...w, mode: mode as "training" | "inference" });
step(); // warm-up: first-touch allocations
times.clear();
const steps = 5;
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const ms = (performance.now() - t0) / steps;
const perStep = (v: number) => (v / steps).toFixed(1);
const total = [...times.values()].reduce((a, v) => a + v, 0);
console.log(
  `${mode}: ${((1000 * w.batch) / ms).toFixed(1)} img/s, ${ms.toFixed(0)} ms/step, kernels ${perStep(total)} ms/step`,
);
for (const [k, v] of [...times].sort((a, b) => b[1] - a[1]))
  console.log(`  ${k.padEnd(24)} ${perStep(v)} ms`);
