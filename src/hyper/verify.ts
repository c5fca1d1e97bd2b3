/**
 * Functional equivalence of the hypernetwork and individual deployment: for each
 * architecture, seeded random weights and BN statistics are deployed (calibrated once) on
 * both hardware, and a few random images run through each on its own network and array
 * layout. With ideal devices and lossless converters the logits must be bit-identical; with
 * a lossy ADC the two layouts legitimately differ (different partial-sum ranges per array),
 * and that difference is reported. Under device noise, per-trial errors are compared.
 */
import jstat from "jstat";
import { Model } from "../engine/model.js";
import { Tensor } from "../engine/tensor.js";
import { type HardwareConfig, loadPreset, mergeConfig, parseHardwareConfig } from "../hw/config.js";
import { buildNetwork } from "../ir/network.js";
import type { Architecture } from "../space/architecture.js";
import { Rng } from "../util/rng.js";
import { deriveSeed } from "../util/seed.js";
import { CrossbarSimulator } from "../xbar/simulator.js";
import { compileConfiguration } from "./compiler.js";
import { hyperSimulator } from "./deploy.js";
import type { HyperSpec } from "./hardware.js";

/** Random BN statistics and affine parameters, so that folding is exercised (seeded). */
export function randomizeBatchNorm(model: Model, seed: number): void {
  const rng = new Rng(seed);
  for (const [name, t] of model.tensors) {
    if (name.endsWith("running_mean")) for (let i = 0; i < t.size; i++) t.data[i] = 0.1 * rng.normal();
    if (name.endsWith("running_var")) for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + rng.uniform();
    if (
      t.shape.length === 1 &&
      (name.endsWith(".weight") || name.endsWith(".bias")) &&
      !name.startsWith("classifier")
    )
      for (let i = 0; i < t.size; i++)
        t.data[i] = name.endsWith(".weight") ? 0.5 + rng.uniform() : 0.1 * rng.normal();
  }
}

export interface EquivalenceCase {
  readonly label: string;
  readonly code: string | null;
  /** Ideal devices, lossless ADC, both on crossbar tiles: logits bit-identical. */
  readonly identical: boolean;
  /** Largest |Δ| between the float networks' logits (different kernel shapes, so only close). */
  readonly floatMaxAbsDiff: number;
  /** With an 8-bit calibrated ADC per array: largest |Δ logit| and top-1 agreement. */
  readonly lossyAdc: { readonly maxAbsDiff: number; readonly top1Agreement: number };
}

export interface EquivalenceOptions {
  readonly seed: number;
  readonly images: number;
  readonly imageSize: number;
}

export const LOSSLESS: HardwareConfig = loadPreset("int8");
export const LOSSY_ADC: HardwareConfig = parseHardwareConfig(
  mergeConfig(LOSSLESS, { adc: { bits: 8, range: "calibrated" } }),
);

/** Seeded random images, N(0, 1) like normalised CIFAR-10. */
export function randomImages(n: number, size: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(
    [n, 3, size, size],
    Float32Array.from({ length: n * 3 * size * size }, () => rng.normal()),
  );
}

/** A model of `arch` with seeded random weights and BN statistics. */
export function randomModel(spec: HyperSpec, arch: Architecture, seed: number, imageSize: number): Model {
  const net = buildNetwork(arch, { channels: spec.channels, layers: spec.layers, imageSize });
  const model = new Model(net, seed);
  randomizeBatchNorm(model, deriveSeed(seed, 1));
  return model;
}

export function checkEquivalence(
  spec: HyperSpec,
  arch: Architecture,
  o: EquivalenceOptions & { readonly lossy?: boolean },
): EquivalenceCase {
  const compiled = compileConfiguration(spec, arch);
  const model = randomModel(spec, arch, o.seed, o.imageSize);
  const x = randomImages(o.images, o.imageSize, deriveSeed(o.seed, 2));
  const run = (cfg: HardwareConfig) => {
    const ind = new CrossbarSimulator(model, cfg).calibrate(x);
    const hyp = hyperSimulator(compiled, ind, cfg);
    const logits = (s: CrossbarSimulator) => {
      s.program(o.seed, 0, x, true);
      s.imageOffset = 0;
      return s.model.forward(x, { training: false, executor: s.executor() }).logits.data;
    };
    return { ind: logits(ind), hyp: logits(hyp), hyperModel: hyp.model };
  };
  const exact = run(LOSSLESS);
  const lossy = o.lossy === false ? exact : run(LOSSY_ADC);
  const floatInd = model.forward(x, { training: false }).logits.data;
  const floatHyp = exact.hyperModel.forward(x, { training: false }).logits.data;
  return {
    label: arch.label,
    code: compiled.code,
    identical: bitIdentical(exact.ind, exact.hyp),
    floatMaxAbsDiff: maxAbsDiff(floatInd, floatHyp),
    lossyAdc: {
      maxAbsDiff: maxAbsDiff(lossy.ind, lossy.hyp),
      top1Agreement: top1Agreement(lossy.ind, lossy.hyp, model.net.classes),
    },
  };
}

export function bitIdentical(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ia = new Int32Array(a.buffer, a.byteOffset, a.length);
  const ib = new Int32Array(b.buffer, b.byteOffset, b.length);
  return ia.every((v, i) => v === ib[i]);
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function argmax(a: Float32Array, from: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[from + j]! > a[from + best]!) best = j;
  return best;
}

export function top1Agreement(a: Float32Array, b: Float32Array, classes: number): number {
  const n = a.length / classes;
  let same = 0;
  for (let i = 0; i < n; i++) if (argmax(a, i * classes, classes) === argmax(b, i * classes, classes)) same++;
  return same / n;
}

export interface NoisyComparison {
  /** Per trial: RMS deviation of the noisy logits from the ideal int8 logits. */
  readonly individual: readonly number[];
  readonly hyper: readonly number[];
  /** Welch's t statistic of the two samples (|t| below ~3: indistinguishable). */
  readonly t: number;
}

/**
 * Under device noise the same weights sit on different devices: each trial programs fresh
 * devices on both hardware, and the per-trial errors must come from the same distribution.
 */
export function compareUnderNoise(
  spec: HyperSpec,
  arch: Architecture,
  cfg: HardwareConfig,
  trials: number,
  o: EquivalenceOptions,
): NoisyComparison {
  const compiled = compileConfiguration(spec, arch);
  const model = randomModel(spec, arch, o.seed, o.imageSize);
  const x = randomImages(o.images, o.imageSize, deriveSeed(o.seed, 2));
  const ideal = new CrossbarSimulator(model, LOSSLESS).calibrate(x);
  ideal.program(o.seed, 0, null);
  const reference = model.forward(x, { training: false, executor: ideal.executor() }).logits.data;
  const ind = new CrossbarSimulator(model, cfg);
  ind.load(ideal.layers);
  const hyp = hyperSimulator(compiled, ind, cfg);
  const errors = (s: CrossbarSimulator) =>
    Array.from({ length: trials }, (_, t) => {
      s.program(o.seed, t, x);
      s.imageOffset = 0;
      const y = s.model.forward(x, { training: false, executor: s.executor() }).logits.data;
      let e = 0;
      for (let i = 0; i < y.length; i++) e += (y[i]! - reference[i]!) ** 2;
      return Math.sqrt(e / y.length);
    });
  const a = errors(ind);
  const b = errors(hyp);
  return { individual: a, hyper: b, t: welchTest(a, b).t };
}

/** Welch's two-sample t-test: statistic, Welch–Satterthwaite degrees of freedom, two-sided p. */
export function welchTest(a: readonly number[], b: readonly number[]): { t: number; df: number; p: number } {
  const stats = (v: readonly number[]) => {
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    return { m, se2: v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1) / v.length, n: v.length };
  };
  const p = stats(a);
  const q = stats(b);
  const se2 = p.se2 + q.se2;
  if (se2 === 0)
    return p.m === q.m
      ? { t: 0, df: p.n + q.n - 2, p: 1 }
      : { t: Number.POSITIVE_INFINITY, df: p.n + q.n - 2, p: 0 };
  const t = (p.m - q.m) / Math.sqrt(se2);
  const df = se2 ** 2 / (p.se2 ** 2 / (p.n - 1) + q.se2 ** 2 / (q.n - 1));
  return { t, df, p: Math.min(1, 2 * (1 - jstat.jStat.studentt.cdf(Math.abs(t), df))) };
}
