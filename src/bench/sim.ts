/**
 * `memhyper bench sim`: the crossbar simulator's cost against the float network on the same
 * test images, measured in the same run: the int8 preset (target ≤ 2× fp32) and bit-serial
 * 8-bit inputs with weights in one differential pair and an 8-bit ADC per tile (bench/
 * bitserial.json, target ≤ 12×), with the pair's currents subtracted in analog before one
 * bipolar conversion and with digital subtraction (two conversions per pair), and the noisy
 * `rram` and `pcm` presets on the fast path (target ≤ 5×) and on the exact path. Calibration
 * and programming are timed apart from inference, and fp32 is timed warm.
 */
import { fileURLToPath } from "node:url";
import type { Split } from "../data/cifar10.js";
import { Model } from "../engine/model.js";
import { resolveHardwareConfig } from "../hw/config.js";
import { buildNetwork } from "../ir/network.js";
import { resolveArchitecture } from "../space/architecture.js";
import { hardwareAccuracy } from "../xbar/accuracy.js";

export const BITSERIAL_CONFIG = fileURLToPath(new URL("../../bench/bitserial.json", import.meta.url));

export interface SimBenchRow {
  readonly config: string;
  /** Seconds of inference over the test images (calibration and programming excluded). */
  readonly seconds: number;
  readonly setupSeconds: number;
  readonly ratio: number;
  readonly target: number | null;
  readonly met: boolean | null;
  readonly accuracy: number;
}

export function benchSim(
  data: { test: Split; train: Split },
  genotype: string,
  weights: ((m: Model) => void) | null,
  log: (s: string) => void,
): { genotype: string; images: number; rows: SimBenchRow[] } {
  const bitSerial = resolveHardwareConfig("int8", BITSERIAL_CONFIG);
  const model = new Model(buildNetwork(resolveArchitecture(genotype), { channels: 16, layers: 8 }), 1);
  weights?.(model);
  const exact = (preset: string) => {
    const cfg = resolveHardwareConfig(preset);
    return { ...cfg, simulator: { path: "exact" as const } };
  };
  const runs = [
    { name: "fp32", cfg: resolveHardwareConfig("fp32"), target: null },
    { name: "int8", cfg: resolveHardwareConfig("int8"), target: 2 },
    {
      name: "bit-serial 8-bit, 1 pair subtracted in analog, 8-bit bipolar ADC",
      cfg: { ...bitSerial, adc: { ...bitSerial.adc, pairSubtraction: "analog" as const } },
      target: 12,
    },
    {
      name: "bit-serial 8-bit, 1 pair subtracted digitally, two 8-bit conversions",
      cfg: bitSerial,
      target: 12,
    },
    { name: "rram, fast path", cfg: resolveHardwareConfig("rram"), target: 5 },
    { name: "rram, exact path", cfg: exact("rram"), target: null },
    { name: "pcm, fast path", cfg: resolveHardwareConfig("pcm"), target: 5 },
    { name: "pcm, exact path", cfg: exact("pcm"), target: null },
  ];
  // The first pass over the images compiles and allocates what later passes reuse (a cold
  // fp32 pass measured 1.5x a warm one), and a cold baseline would flatter every ratio: fp32
  // runs once untimed first.
  hardwareAccuracy(model, runs[0]!.cfg, { test: data.test, train: null }, { trials: 1, seed: 0 });
  const rows: SimBenchRow[] = [];
  let base = 0;
  let first = true;
  for (const r of runs) {
    log(`timing ${r.name} on ${data.test.count} images…`);
    const started = performance.now();
    let setup = 0;
    const res = hardwareAccuracy(model, r.cfg, data, {
      trials: 1,
      seed: 0,
      onSetup: () => {
        setup = (performance.now() - started) / 1000;
      },
    });
    const seconds = (performance.now() - started) / 1000 - setup;
    if (first) base = seconds;
    first = false;
    const ratio = seconds / base;
    rows.push({
      config: r.name,
      seconds,
      setupSeconds: setup,
      ratio,
      target: r.target,
      met: r.target === null ? null : ratio <= r.target,
      accuracy: res.accuracy,
    });
  }
  return { genotype, images: data.test.count, rows };
}
