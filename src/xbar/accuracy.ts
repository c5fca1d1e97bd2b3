/**
 * Accuracy of a trained network on simulated hardware: calibration on training images,
 * then per trial a fresh programming of the devices (a new seed) and top-1 on the test
 * images. The fp32 preset runs the float network itself.
 */
import { makeBatch, NO_AUGMENT } from "../data/augment.js";
import type { Split } from "../data/cifar10.js";
import type { Model } from "../engine/model.js";
import { Tensor } from "../engine/tensor.js";
import type { HardwareConfig } from "../hw/config.js";
import { evaluate } from "../train/evaluate.js";
import { Rng } from "../util/rng.js";
import { CrossbarSimulator } from "./simulator.js";

export interface HardwareAccuracy {
  /** Mean top-1 over trials. */
  readonly accuracy: number;
  /** Standard deviation over trials (population). */
  readonly std: number;
  readonly perTrial: readonly number[];
  readonly trials: number;
  readonly images: number;
}

/** `count` training images drawn with the calibration seed (no augmentation). */
export function calibrationImages(train: Split, cfg: HardwareConfig): Tensor {
  const count = Math.min(cfg.calibration.images, train.count);
  const order = new Rng(cfg.calibration.seed).shuffle(Array.from({ length: train.count }, (_, i) => i));
  const x = new Float32Array(count * 3072);
  makeBatch(train, order.slice(0, count), NO_AUGMENT, null, x, new Int32Array(count));
  return new Tensor([count, 3, 32, 32], x);
}

export function hardwareAccuracy(
  model: Model,
  cfg: HardwareConfig,
  data: { test: Split; train: Split | null },
  opts: {
    trials: number;
    seed: number;
    /**
     * Builds the calibrated simulator from the calibration images; by default the model's
     * own, on individual deployment. The hypernetwork runs its own network on its own arrays.
     */
    simulator?: (calibration: Tensor) => CrossbarSimulator;
    onTrial?: (trial: number, accuracy: number) => void;
    /** Called when calibration and programming are done, before the test images run. */
    onSetup?: () => void;
  },
): HardwareAccuracy {
  const perTrial: number[] = [];
  if (!cfg.quantize) {
    opts.onSetup?.();
    const acc = evaluate(model, data.test).accuracy;
    for (let t = 0; t < opts.trials; t++) perTrial.push(acc);
  } else {
    if (!data.train) throw new Error("a quantized preset needs the training images for calibration");
    const calib = calibrationImages(data.train, cfg);
    const sim = opts.simulator?.(calib) ?? new CrossbarSimulator(model, cfg).calibrate(calib);
    const exec = sim.executor();
    for (let t = 0; t < opts.trials; t++) {
      sim.program(opts.seed, t, calib);
      if (t === 0) opts.onSetup?.();
      const acc = trialCorrect(sim, data.test, 0, exec) / data.test.count;
      perTrial.push(acc);
      opts.onTrial?.(t, acc);
    }
  }
  return accuracySummary(perTrial, data.test.count);
}

/** Mean and (population) standard deviation over trials. */
export function accuracySummary(perTrial: number[], images: number): HardwareAccuracy {
  const mean = perTrial.reduce((a, b) => a + b, 0) / perTrial.length;
  const std = Math.sqrt(perTrial.reduce((a, b) => a + (b - mean) ** 2, 0) / perTrial.length);
  return { accuracy: mean, std, perTrial, trials: perTrial.length, images };
}

/**
 * Correct top-1 answers of the programmed simulator on `test`, whose first image is test image
 * `offset` (its read noise is that image's). Batches of 250 from `offset`: a range of the test
 * set that starts at a multiple of 250 computes exactly what the whole run computes there.
 */
export function trialCorrect(
  sim: CrossbarSimulator,
  test: Split,
  offset: number,
  exec: ReturnType<CrossbarSimulator["executor"]> = sim.executor(),
): number {
  return evaluate(sim.model, test, EVAL_BATCH, undefined, (x, at) => {
    sim.imageOffset = offset + at;
    return sim.model.forward(x, { training: false, executor: exec }).logits;
  }).correct;
}

/** Images per evaluation batch (work split across a queue starts at its multiples). */
export const EVAL_BATCH = 250;
