/** Accuracy evaluation shared by `memhyper eval` and `memhyper hyper eval`: options, run, one JSON schema. */
import { type Command, Option } from "commander";
import { loadSplit, resolveDataDir, type Split, take } from "../data/cifar10.js";
import { Model } from "../engine/model.js";
import { loadModelWeights } from "../engine/safetensors.js";
import type { Tensor } from "../engine/tensor.js";
import { describeConfig, type HardwareConfig, PRESETS, resolveHardwareConfig } from "../hw/config.js";
import { buildNetwork } from "../ir/network.js";
import { contentHash, datasetFiles } from "../queue/tasks.js";
import type { Architecture } from "../space/architecture.js";
import { accuracySummary, EVAL_BATCH, type HardwareAccuracy, hardwareAccuracy } from "../xbar/accuracy.js";
import type { CrossbarSimulator } from "../xbar/simulator.js";
import type { NetOptions } from "./common.js";
import { makeOut, parseIntOption } from "./output.js";
import { chunks, onQueue } from "./queue.js";

export interface EvalOptions extends NetOptions {
  redis?: string;
  weights: string;
  data?: string;
  limit?: number;
  preset: string;
  config?: string;
  trials: number;
  seed: number;
}

export function addEvalOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--weights <file>", "safetensors weights (reference names)")
    .option("--data <dir>", "CIFAR-10 binary directory")
    .option("--limit <n>", "first N test images (file order)", parseIntOption("limit", 1, 10000))
    .addOption(
      new Option("--preset <p>", "hardware preset (presets/<p>.json)").choices(PRESETS).default("fp32"),
    )
    .option("--config <file>", "JSON file overriding preset fields (its 'base' names the preset)")
    .option("--trials <k>", "trials: each programs the devices afresh", parseIntOption("trials", 1, 1000), 1)
    .option("--seed <n>", "seed of the device programming", parseIntOption("seed", 0, 2 ** 32 - 1), 0);
}

/** How the hypernetwork (or another deployment) stands in for the architecture's own. */
export interface EvalTarget {
  /** The float network to run for fp32 (default: the architecture's own). */
  floatModel?(model: Model): Model;
  /** The calibrated simulator (default: the architecture on individual deployment). */
  simulator?(model: Model, cfg: HardwareConfig, calibration: Tensor): CrossbarSimulator;
  /** Extra fields of the JSON result and the first line of the human output. */
  readonly describe: Record<string, unknown>;
  readonly title: string;
}

/** The test images to score (the first --limit in file order) and, for a quantized preset, the training images to calibrate on. */
export function evalData(o: EvalOptions, cfg: HardwareConfig): { test: Split; train: Split | null } {
  const dir = resolveDataDir(o.data);
  const test = loadSplit(dir, "test");
  return { test: o.limit ? take(test, o.limit) : test, train: cfg.quantize ? loadSplit(dir, "train") : null };
}

export async function runEval(o: EvalOptions, arch: Architecture, target?: EvalTarget): Promise<void> {
  const out = makeOut(!!o.json);
  const cfg = resolveHardwareConfig(o.preset, o.config);
  const model = new Model(buildNetwork(arch, { channels: o.channels, layers: o.layers }));
  loadModelWeights(model, o.weights);
  const { test: split, train } = evalData(o, cfg);
  const started = Date.now();
  const evaluated = !cfg.quantize && target?.floatModel ? target.floatModel(model) : model;
  const r =
    o.redis && cfg.quantize && !target
      ? await queuedAccuracy(o, cfg, split.count)
      : hardwareAccuracy(
          evaluated,
          cfg,
          { test: split, train },
          {
            trials: o.trials,
            seed: o.seed,
            ...(target?.simulator ? { simulator: (calib) => target.simulator!(model, cfg, calib) } : {}),
            onTrial: (t, acc) => {
              if (!o.json && o.trials > 1)
                out.line(`  trial ${t + 1}/${o.trials}: ${(100 * acc).toFixed(2)}%`);
            },
          },
        );
  const result = {
    accuracy: r.accuracy,
    std: r.std,
    trials: r.trials,
    images: r.images,
    preset: cfg.name,
    perTrial: r.perTrial,
    seconds: (Date.now() - started) / 1000,
    ...(target?.describe ?? {}),
    config: {
      ...cfg,
      genotype: arch.label,
      channels: o.channels,
      layers: o.layers,
      weights: o.weights,
      seed: o.seed,
    },
  };
  out.result(result, () => {
    out.line(
      `${arch.label}${target ? ` ${target.title}` : ""} on ${cfg.name}: accuracy ${(100 * r.accuracy).toFixed(4)}% ± ${(100 * r.std).toFixed(4)} on ${r.images} test images (${r.trials} trial${r.trials > 1 ? "s" : ""}, ${result.seconds.toFixed(1)} s)`,
    );
    out.line(`preset ${cfg.name}: ${cfg.description}`);
    if (cfg.quantize) out.line(describeConfig(cfg));
  });
}

/** The trials of `eval` as jobs of one trial and one range of EVAL_BATCH test images each. */
async function queuedAccuracy(
  o: EvalOptions,
  cfg: HardwareConfig,
  images: number,
): Promise<HardwareAccuracy> {
  const dir = resolveDataDir(o.data);
  const common = {
    kind: "eval" as const,
    seed: o.seed,
    arch: o.genotype,
    channels: o.channels,
    layers: o.layers,
    weights: o.weights,
    weightsSha256: contentHash([o.weights]),
    datasetSha256: contentHash(datasetFiles(dir)),
    limit: o.limit ?? null,
    config: cfg,
  };
  const ranges = chunks(images, EVAL_BATCH);
  const jobs = Array.from({ length: o.trials }, (_, trial) =>
    ranges.map(([from, to]) => ({ ...common, trial, from, to })),
  ).flat();
  const results = await onQueue<{ correct: number }>(o.redis!, jobs, !!o.json);
  const perTrial = Array.from({ length: o.trials }, (_, t) => {
    let correct = 0;
    for (let j = 0; j < ranges.length; j++) correct += results[t * ranges.length + j]!.correct;
    return correct / images;
  });
  return accuracySummary(perTrial, images);
}
