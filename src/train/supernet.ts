/**
 * The weight-sharing supernet: one set of weights, stored as the edge-variant hypernetwork's
 * units hold them, that every configuration of the edge-complete space uses. A 3×3 kernel is
 * the centre of its unit's 25 taps, dil_conv runs the same depthwise and pointwise arrays as
 * sep_conv with the second stage bypassed, FactorizedReduce, the stem, the cells'
 * preprocessing and the classifier have one set each; no weights are shared between slots.
 * This is exactly the hypernetwork's programming plan read backwards, so one programming of
 * the chip serves every configuration.
 *
 * Training samples one configuration per batch (single path): a reference architecture with
 * probability `referenceShare` (≤ 0.25), otherwise the edge-complete or the genotype view with
 * equal probability, uniformly within the view. The batch runs on the configuration's own
 * network holding the shared weights, and its gradients flow back into them. Every pooling
 * op is followed by a statistics-only batch norm (as in DARTS's search cell): without it the
 * max-pooled features' mean (about 1.5σ for a max of 9) shifts with the configuration, and
 * single-path training diverges (measured: loss 2.3 → 3.0 within an epoch mixing sep_conv
 * and max_pool; mixing convolutions, skips or average pools alone trains).
 */
import { join } from "node:path";
import { makeBatch, NO_AUGMENT } from "../data/augment.js";
import { type Split, take } from "../data/cifar10.js";
import { Arena, withArena } from "../engine/arena.js";
import { Model } from "../engine/model.js";
import {
  applyRecords,
  type decodeSafetensors,
  modelRecords,
  saveModel,
  type TensorRecord,
} from "../engine/safetensors.js";
import { Tensor } from "../engine/tensor.js";
import { compileConfiguration, UNIVERSAL_KERNEL } from "../hyper/compiler.js";
import { type HyperHardware, hyperHardware } from "../hyper/hardware.js";
import { fullNetwork } from "../hyper/network.js";
import { buildNetwork } from "../ir/network.js";
import {
  type Architecture,
  architectureFromConfiguration,
  resolveArchitecture,
} from "../space/architecture.js";
import { genotypeToConfiguration } from "../space/genotype.js";
import { sampleConfiguration, sampleGenotype } from "../space/sample.js";
import type { Rng } from "../util/rng.js";
import { deriveSeed } from "../util/seed.js";
import { evaluate } from "./evaluate.js";
import {
  type EpochLog,
  runTraining,
  type TrainData,
  TrainError,
  type TrainEvents,
  type TrainRecipe,
  type TrainSubject,
} from "./trainer.js";

/** The architectures a share of the batches goes to, and against which accuracy is logged. */
export const REFERENCE_ARCHITECTURES = ["DARTS_V1", "DARTS_V2", "PDARTS"] as const;
export const MAX_REFERENCE_SHARE = 0.25;

/** One tensor of an architecture's network and the shared tensor it is (or is the centre of). */
interface Binding {
  /** The parameter (node) the local tensor belongs to. */
  readonly param: string;
  readonly local: Tensor;
  readonly shared: Tensor;
  /** A k×k depthwise kernel held in the centre of the shared 5×5 one. */
  readonly centre: number | null;
}

/** An architecture's own network, holding the shared weights. */
export interface BoundModel {
  readonly arch: Architecture;
  readonly model: Model;
  readonly bindings: readonly Binding[];
}

const SKIPPED_ROLES = new Set(["running_mean", "running_var", "num_batches_tracked"]);

export class Supernet {
  readonly hardware: HyperHardware;
  /** Every shared tensor under the hypernetwork's names (the auxiliary head's too, if trained with one). */
  readonly store: Model;

  constructor(
    readonly channels: number,
    readonly layers: number,
    readonly auxiliary: boolean,
    seed: number,
  ) {
    this.hardware = hyperHardware({ channels, layers, variant: "edge" });
    this.store = new Model(fullNetwork(this.hardware, { auxiliary }), seed);
  }

  /**
   * The architecture's own network with the shared weights copied in (statistics: its own).
   * `foldBatchNorm: false` for deployment: batch norms stay per-channel scales and offsets
   * after conversion, so the arrays hold the shared weights themselves.
   */
  bind(arch: Architecture, foldBatchNorm = true): BoundModel {
    const plan = compileConfiguration(this.hardware.spec, arch).plan;
    const net = buildNetwork(arch, {
      channels: this.channels,
      layers: this.layers,
      auxiliary: this.auxiliary,
      poolBatchNorm: true,
    });
    const model = new Model(net, 0, { foldBatchNorm });
    const target = new Map<string, { prefix: string; embed: boolean }>();
    for (const step of plan) target.set(step.source, { prefix: step.target, embed: step.embed });
    const bindings: Binding[] = [];
    for (const p of net.params) {
      if (SKIPPED_ROLES.has(p.role)) continue;
      const cut = p.name.lastIndexOf(".");
      const prefix = p.name.slice(0, cut);
      const suffix = p.name.slice(cut + 1);
      // A pooling op's batch norm keeps only statistics (per configuration): nothing to share.
      if (prefix.endsWith(".pool_bn")) continue;
      const t = target.get(prefix);
      const sharedName = t ? `${t.prefix}.${suffix}` : p.name; // the auxiliary head keeps its names
      const local = model.tensor(p.name);
      const shared = this.store.tensor(sharedName);
      const centre = t?.embed && suffix === "weight" ? p.shape[2]! : null;
      if (centre === null && shared.size !== local.size)
        throw new Error(`internal: ${p.name} (${local.shape}) does not fit ${sharedName} (${shared.shape})`);
      bindings.push({ param: prefix, local, shared, centre });
    }
    for (const b of bindings) copyIn(b);
    return { arch, model, bindings };
  }

  /**
   * Per output channel, the largest |w| of the shared 5×5 kernel that a bound k×k kernel is
   * the centre of: quantized against it, the centre taps get the 5×5's own integers, so every
   * configuration reads the same programmed devices.
   */
  weightRanges(bound: BoundModel): Map<string, Float32Array> {
    const ranges = new Map<string, Float32Array>();
    for (const b of bound.bindings) {
      if (b.centre === null) continue;
      const channels = b.shared.shape[0]!;
      const per = b.shared.size / channels;
      const r = new Float32Array(channels);
      for (let c = 0; c < channels; c++)
        for (let i = 0; i < per; i++) r[c] = Math.max(r[c]!, Math.abs(b.shared.data[c * per + i]!));
      ranges.set(b.param, r);
    }
    return ranges;
  }

  /** Adds a bound model's gradients into the shared tensors. */
  collectGradients(bound: BoundModel): void {
    for (const b of bound.bindings) {
      const g = b.local.grad;
      if (!g) continue;
      b.shared.grad ??= new Float32Array(b.shared.size);
      if (b.centre === null) {
        const dst = b.shared.grad;
        for (let i = 0; i < g.length; i++) dst[i]! += g[i]!;
      } else forCentre(b, (local, shared) => (b.shared.grad![shared]! += g[local]!));
    }
  }

  /** The shared parameters SGD updates (a batch's gradients reach only those its architecture uses). */
  parameters(): { name: string; tensor: Tensor }[] {
    return this.store.parameters();
  }

  records(): Map<string, TensorRecord> {
    return modelRecords(this.store);
  }

  restore(file: ReturnType<typeof decodeSafetensors>, origin: string): void {
    applyRecords(this.store, file, origin);
  }
}

/** Visits the centre k×k taps of every channel's 5×5 shared kernel: (local index, shared index). */
function forCentre(b: Binding, visit: (local: number, shared: number) => void): void {
  const k = b.centre!;
  const K = UNIVERSAL_KERNEL;
  const off = (K - k) / 2;
  const channels = b.local.shape[0]!;
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) visit((c * k + i) * k + j, (c * K + i + off) * K + j + off);
}

function copyIn(b: Binding): void {
  if (b.centre === null) b.local.data.set(b.shared.data);
  else forCentre(b, (local, shared) => (b.local.data[local] = b.shared.data[shared]!));
}

/** One batch's architecture: a reference, or a uniform draw from the edge-complete or the genotype view. */
export function sampleArchitecture(
  rng: Rng,
  referenceShare: number,
  references: readonly Architecture[],
  view: SamplingView = "both",
): Architecture {
  if (rng.uniform() < referenceShare) return references[rng.int(references.length)]!;
  const edge = view === "both" ? rng.uniform() < 0.5 : view === "edge";
  const config = edge ? sampleConfiguration(rng) : genotypeToConfiguration(sampleGenotype(rng));
  return architectureFromConfiguration(config);
}

export const SAMPLING_VIEWS = ["both", "genotype", "edge"] as const;
export type SamplingView = (typeof SAMPLING_VIEWS)[number];

export function referenceArchitectures(): Architecture[] {
  return REFERENCE_ARCHITECTURES.map((name) => resolveArchitecture(name));
}

/**
 * Batch-norm statistics of one configuration, recalibrated on `images` (unaugmented) as the
 * average of their batches' means and unbiased variances (PyTorch's cumulative average).
 * Batches of 100 keep a batch's activations in cache: on 2,000 images 2× faster than batches
 * of 500, the statistics within 0.05 % of theirs.
 */
export const RECALIBRATION_BATCH = 100;
export function recalibrate(model: Model, images: Split, batch = RECALIBRATION_BATCH): void {
  for (const p of model.net.params) {
    if (p.role === "running_mean") model.tensor(p.name).data.fill(0);
    if (p.role === "running_var") model.tensor(p.name).data.fill(1);
  }
  const x = new Float32Array(batch * 3072);
  const labels = new Int32Array(batch);
  const arena = new Arena();
  let k = 0;
  for (let at = 0; at < images.count; at += batch, k++) {
    const n = Math.min(batch, images.count - at);
    if (n < 2) break; // batch statistics need two images
    makeBatch(
      images,
      Array.from({ length: n }, (_, i) => at + i),
      NO_AUGMENT,
      null,
      x,
      labels,
    );
    // Activations come from one arena, reused batch after batch (fresh buffers page-fault).
    withArena(arena, () =>
      model.forward(new Tensor([n, 3, 32, 32], x.subarray(0, n * 3072)), {
        training: true,
        bnMomentum: 1 / (k + 1),
      }),
    );
    arena.reset();
  }
}

/** Accuracy of an architecture on the shared weights, its statistics recalibrated first. */
export function supernetAccuracy(
  net: Supernet,
  arch: Architecture,
  recalibration: Split,
  split: Split,
): number {
  const bound = net.bind(arch);
  recalibrate(bound.model, recalibration);
  return evaluate(bound.model, split).accuracy;
}

export interface SupernetOptions {
  /** Share of batches that train one of the reference architectures (≤ 0.25). */
  readonly referenceShare: number;
  /** Training images that recalibrate a configuration's batch-norm statistics before it is evaluated. */
  readonly recalibrationImages: number;
  /** Views the non-reference batches come from (absent: both, half each). */
  readonly view?: SamplingView;
}

/**
 * Trains the supernet with `runTraining` (checkpoints, log, bit-exact resume); the logged
 * accuracy is the mean over the reference architectures, each recalibrated on the first
 * training images. Writes the shared weights to `outDir/model.safetensors`.
 */
export function trainSupernet(
  recipe: TrainRecipe,
  options: SupernetOptions,
  data: TrainData,
  outDir: string,
  resume: boolean,
  events: TrainEvents = {},
): { supernet: Supernet; logs: EpochLog[] } {
  if (!(options.referenceShare >= 0 && options.referenceShare <= MAX_REFERENCE_SHARE))
    throw new TrainError(
      `--reference-share must be between 0 and ${MAX_REFERENCE_SHARE} (the reference architectures may take at most a quarter of the batches), got ${options.referenceShare}`,
    );
  const net = new Supernet(
    recipe.channels,
    recipe.layers,
    recipe.auxWeight > 0,
    deriveSeed(recipe.seed, 0x1417),
  );
  const references = referenceArchitectures();
  const recalibration = take(data.train, options.recalibrationImages);
  const subject: TrainSubject = {
    identity: JSON.stringify({ supernet: "edge", ...recipe, evalEvery: undefined, ...options }),
    parameters: net.parameters(),
    auxWeight: recipe.auxWeight,
    records: () => net.records(),
    restore: (file, origin) => net.restore(file, origin),
    batch: (rng) => {
      const bound = net.bind(sampleArchitecture(rng, options.referenceShare, references, options.view));
      return { model: bound.model, frozenBatchNorm: false, done: () => net.collectGradients(bound) };
    },
    evaluate: (split) => {
      const accuracies = references.map((a) => supernetAccuracy(net, a, recalibration, split));
      return accuracies.reduce((s, a) => s + a, 0) / accuracies.length;
    },
  };
  const logs = runTraining(subject, recipe, data, outDir, resume, events);
  saveModel(net.store, join(outDir, "model.safetensors"), { format: "memhyper-supernet" });
  return { supernet: net, logs };
}
