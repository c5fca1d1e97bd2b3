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
      const acc = evaluate(sim.model, data.test, 250, undefined, (x, offset) => {
        sim.imageOffset = offset;
        return sim.model.forward(x, { training: false, executor: exec }).logits;
      }).accuracy;
      perTrial.push(acc);
      opts.onTrial?.(t, acc);
    }
  }
  const mean = perTrial.reduce((a, b) => a + b, 0) / perTrial.length;
  const std = Math.sqrt(perTrial.reduce((a, b) => a + (b - mean) ** 2, 0) / perTrial.length);
  return { accuracy: mean, std, perTrial, trials: opts.trials, images: data.test.count };
}
