/**
 * The DARTS evaluation training recipe with epoch checkpoints that resume bit-exactly:
 * every random stream (shuffle, augmentation, drop-path) is derived from (seed, epoch),
 * and the checkpoint holds weights, BN statistics and momentum buffers.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { makeBatch } from "../data/augment.js";
import { type Split, slice, take } from "../data/cifar10.js";
import { Arena, withArena } from "../engine/arena.js";
import { Model } from "../engine/model.js";
import * as ops from "../engine/ops.js";
import { clipGradNorm, cosineLr, Sgd } from "../engine/optim.js";
import {
  applyRecords,
  decodeSafetensors,
  encodeSafetensors,
  modelRecords,
  saveModel,
  type TensorRecord,
} from "../engine/safetensors.js";
import { Tape } from "../engine/tape.js";
import { Tensor } from "../engine/tensor.js";
import { buildNetwork } from "../ir/network.js";
import type { Architecture } from "../space/architecture.js";
import { writeFileAtomic } from "../util/atomic.js";
import { Rng } from "../util/rng.js";
import { deriveSeed } from "../util/seed.js";
import { argmaxRows, evaluate } from "./evaluate.js";

export interface TrainRecipe {
  readonly channels: number;
  readonly layers: number;
  readonly epochs: number;
  readonly batch: number;
  readonly seed: number;
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly gradClip: number;
  readonly auxWeight: number;
  readonly dropPath: number;
  readonly cutout: number;
  /** Hold out the last N training images as a validation split (0: evaluate on the test set). */
  readonly validation: number;
  /** Train on the first N training images only (0: all). */
  readonly trainLimit: number;
  /** Evaluate every N epochs (and always after the last). */
  readonly evalEvery: number;
}

/** The DARTS evaluation recipe (REFERENCE.md), at C=16, 8 cells. */
export const DARTS_RECIPE: TrainRecipe = {
  channels: 16,
  layers: 8,
  epochs: 600,
  batch: 96,
  seed: 0,
  lr: 0.025,
  momentum: 0.9,
  weightDecay: 3e-4,
  nesterov: false,
  gradClip: 5,
  auxWeight: 0.4,
  dropPath: 0.2,
  cutout: 16,
  validation: 0,
  trainLimit: 0,
  evalEvery: 1,
};

export interface EpochLog {
  epoch: number;
  lr: number;
  dropPath: number;
  loss: number;
  trainAccuracy: number;
  evalAccuracy: number | null;
  evalSplit: "test" | "validation";
  imgPerSec: number;
  seconds: number;
}

export interface TrainEvents {
  onBatch?(
    epoch: number,
    done: number,
    total: number,
    loss: number,
    accuracy: number,
    imgPerSec: number,
  ): void;
  onEpoch?(log: EpochLog): void;
}

const CHECKPOINT = "checkpoint.safetensors";
const LOG = "log.jsonl";

export class TrainError extends Error {
  override name = "TrainError";
}

export interface TrainData {
  readonly train: Split;
  readonly test: Split;
}

/** What fine-tuning adds to a training run. */
export interface FineTuning {
  /** Loads the starting weights (not called when resuming from a checkpoint). */
  readonly init: (model: Model) => void;
  /** Puts hardware weights in place for one step; returns the function that restores the float ones. */
  readonly perturb: (model: Model, rng: Rng) => () => void;
  /** Batch norm normalises with its running statistics, as deployed (`ForwardOptions.frozenBatchNorm`). */
  readonly frozenBatchNorm: boolean;
  /** Identifies the starting weights and the hardware, so that --resume refuses another run's checkpoint. */
  readonly identity: string;
}

/**
 * What a training run trains: the parameters SGD updates and checkpoints, and, per batch, the
 * model to run forward and backward (the same model for standalone training; a sampled
 * architecture's model holding shared weights for the supernet).
 */
export interface TrainSubject {
  /** Identifies the run, so that --resume refuses another run's checkpoint. */
  readonly identity: string;
  /** The parameters SGD updates (momentum is checkpointed by their names). */
  readonly parameters: readonly { name: string; tensor: Tensor }[];
  /** Loss weight of the auxiliary head (0: none). */
  readonly auxWeight: number;
  /** Weights and statistics a checkpoint holds. */
  records(): Map<string, TensorRecord>;
  /** Puts a checkpoint's weights and statistics back (its optimizer tensors are not passed). */
  restore(file: ReturnType<typeof decodeSafetensors>, origin: string): void;
  /** Starting weights of a fresh run (not called when resuming). */
  init?(): void;
  /** The model of one batch, and what follows its backward pass (gradients into `parameters`, restoring weights). */
  batch(rng: Rng): { readonly model: Model; readonly frozenBatchNorm: boolean; readonly done: () => void };
  /** Accuracy on a split, after an epoch. */
  evaluate(split: Split): number;
}

/**
 * The training loop: epochs of shuffled, augmented batches under a cosine learning rate, an
 * atomic checkpoint and a log line after every epoch, and a bit-exact --resume (every random
 * stream is derived from the seed and the epoch).
 */
export function runTraining(
  subject: TrainSubject,
  recipe: TrainRecipe,
  data: TrainData,
  outDir: string,
  resume: boolean,
  events: TrainEvents = {},
): EpochLog[] {
  mkdirSync(outDir, { recursive: true });
  const sgd = new Sgd(subject.parameters, {
    momentum: recipe.momentum,
    weightDecay: recipe.weightDecay,
    nesterov: recipe.nesterov,
  });
  const { identity } = subject;
  let start = 0;
  let logs: EpochLog[] = [];
  const ckptPath = join(outDir, CHECKPOINT);
  if (resume && existsSync(ckptPath)) {
    const file = decodeSafetensors(readFileSync(ckptPath), ckptPath);
    if (file.metadata.identity !== identity) {
      throw new TrainError(
        `${ckptPath} was written by a different run (architecture or recipe differ); use another --out or the same flags`,
      );
    }
    const modelTensors = new Map([...file.tensors].filter(([k]) => !k.startsWith("optimizer.")));
    subject.restore({ tensors: modelTensors, metadata: file.metadata }, ckptPath);
    for (const [k, t] of file.tensors)
      if (k.startsWith("optimizer.momentum.")) sgd.momentum.set(k.slice(19), t.data as Float32Array);
    start = Number(file.metadata.epochsDone);
    logs = readLogs(join(outDir, LOG)).filter((l) => l.epoch < start);
  } else if (!resume && existsSync(ckptPath)) {
    throw new TrainError(`${ckptPath} exists: add --resume to continue that run, or choose an empty --out`);
  } else {
    subject.init?.();
  }
  writeFileAtomic(join(outDir, LOG), logs.map((l) => `${JSON.stringify(l)}\n`).join(""));

  const heldOut = recipe.validation;
  const all = recipe.trainLimit > 0 ? take(data.train, recipe.trainLimit) : data.train;
  if (heldOut >= all.count) throw new TrainError(`--validation ${heldOut} leaves no training images`);
  const trainSplit = slice(all, 0, all.count - heldOut);
  const evalSplit = heldOut > 0 ? slice(all, all.count - heldOut, all.count) : data.test;
  const arena = new Arena();
  const B = recipe.batch;
  const x = new Float32Array(B * 3072);
  const labels = new Int32Array(B);

  for (let epoch = start; epoch < recipe.epochs; epoch++) {
    const t0 = performance.now();
    const lr = cosineLr(recipe.lr, epoch, recipe.epochs);
    const dropProb = (recipe.dropPath * epoch) / recipe.epochs;
    const order = new Rng(deriveSeed(recipe.seed, 1, epoch)).shuffle(
      Array.from({ length: trainSplit.count }, (_, i) => i),
    );
    const augRng = new Rng(deriveSeed(recipe.seed, 2, epoch));
    const dropRng = new Rng(deriveSeed(recipe.seed, 3, epoch));
    const batchRng = new Rng(deriveSeed(recipe.seed, 4, epoch));
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let at = 0; at < order.length; at += B) {
      const n = Math.min(B, order.length - at);
      if (n < 2) break; // batch norm needs two samples
      makeBatch(
        trainSplit,
        order.slice(at, at + n),
        { crop: true, flip: true, cutout: recipe.cutout },
        augRng,
        x,
        labels,
      );
      const input = new Tensor([n, 3, 32, 32], x.subarray(0, n * 3072));
      const lab = labels.subarray(0, n);
      const step = subject.batch(batchRng);
      const { model } = step;
      withArena(arena, () => {
        const tape = new Tape();
        const out = model.forward(input, {
          training: true,
          tape,
          dropPathProb: dropProb,
          rng: dropRng,
          frozenBatchNorm: step.frozenBatchNorm,
        });
        const terms = [ops.crossEntropy(tape, out.logits, lab)];
        if (out.auxLogits) terms.push(ops.crossEntropy(tape, out.auxLogits, lab, subject.auxWeight));
        const mainLoss = terms[0]!.data[0]!;
        const loss = terms.length > 1 ? ops.add(tape, terms) : terms[0]!;
        tape.backward(loss);
        for (let i = 0; i < n; i++)
          if (argmaxRows(out.logits.data, model.net.classes, i) === lab[i]) correct++;
        lossSum += mainLoss * n;
      });
      arena.reset();
      step.done();
      if (recipe.gradClip > 0) clipGradNorm(sgd.params, recipe.gradClip);
      sgd.step(lr);
      sgd.zeroGrad();
      seen += n;
      events.onBatch?.(
        epoch,
        seen,
        order.length,
        lossSum / seen,
        correct / seen,
        seen / ((performance.now() - t0) / 1000),
      );
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const last = epoch === recipe.epochs - 1;
    const evalAccuracy = last || (epoch + 1) % recipe.evalEvery === 0 ? subject.evaluate(evalSplit) : null;
    const log: EpochLog = {
      epoch,
      lr,
      dropPath: dropProb,
      loss: lossSum / seen,
      trainAccuracy: correct / seen,
      evalAccuracy,
      evalSplit: heldOut > 0 ? "validation" : "test",
      imgPerSec: seen / trainSeconds,
      seconds: (performance.now() - t0) / 1000,
    };
    logs.push(log);
    saveCheckpoint(subject, sgd, ckptPath, identity, epoch + 1);
    appendFileSync(join(outDir, LOG), `${JSON.stringify(log)}\n`);
    events.onEpoch?.(log);
  }
  return logs;
}

/** Standalone training of one architecture (optionally fine-tuning on hardware weights). */
export function trainModel(
  arch: Architecture,
  recipe: TrainRecipe,
  data: TrainData,
  outDir: string,
  resume: boolean,
  events: TrainEvents = {},
  fineTuning: FineTuning | null = null,
): { model: Model; logs: EpochLog[] } {
  const net = buildNetwork(arch, {
    channels: recipe.channels,
    layers: recipe.layers,
    auxiliary: recipe.auxWeight > 0,
  });
  const model = new Model(net, deriveSeed(recipe.seed, 0x1417));
  const subject: TrainSubject = {
    identity: JSON.stringify({
      architecture: arch.code ?? arch.label,
      ...recipe,
      evalEvery: undefined,
      fineTuning: fineTuning?.identity,
    }),
    parameters: model.parameters(),
    auxWeight: recipe.auxWeight,
    records: () => modelRecords(model),
    restore: (file, origin) => applyRecords(model, file, origin),
    init: () => fineTuning?.init(model),
    batch: (rng) => ({
      model,
      frozenBatchNorm: fineTuning?.frozenBatchNorm ?? false,
      done: fineTuning?.perturb(model, rng) ?? (() => {}),
    }),
    evaluate: (split) => evaluate(model, split).accuracy,
  };
  const logs = runTraining(subject, recipe, data, outDir, resume, events);
  saveModel(model, join(outDir, "model.safetensors"), { format: "pt" });
  return { model, logs };
}

function saveCheckpoint(
  subject: TrainSubject,
  sgd: Sgd,
  path: string,
  identity: string,
  epochsDone: number,
): void {
  const records = subject.records();
  const all = new Map<string, TensorRecord>(records);
  for (const [name, buf] of sgd.momentum)
    all.set(`optimizer.momentum.${name}`, { dtype: "F32", shape: [buf.length], data: buf });
  writeFileAtomic(path, encodeSafetensors(all, { identity, epochsDone: String(epochsDone) }));
}

function readLogs(path: string): EpochLog[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as EpochLog);
}
