/** Accuracy evaluation shared by `eval`, `hyper eval`, `hyper stats` and `supernet eval`: options, deployments, local or queued runs, one JSON schema. */
import { type Command, Option } from "commander";
import { loadSplit, resolveDataDir, type Split, take } from "../data/cifar10.js";
import { describeConfig, type HardwareConfig, PRESETS, resolveHardwareConfig } from "../hw/config.js";
import {
  type Deployed,
  type Deployment,
  deploy,
  deployNetworkFile,
  INDIVIDUAL,
} from "../hyper/deployment.js";
import type { LoadedNet } from "../net/load.js";
import { contentHash, datasetFiles } from "../queue/tasks.js";
import type { Architecture } from "../space/architecture.js";
import { accuracySummary, EVAL_BATCH, type HardwareAccuracy, hardwareAccuracy } from "../xbar/accuracy.js";
import { simulationPath } from "../xbar/collapse.js";
import type { NetOptions } from "./common.js";
import { makeOut, parseIntOption, UsageError } from "./output.js";
import { addRedisOption, chunks, onQueue } from "./queue.js";

export interface EvalOptions extends NetOptions {
  redis?: string;
  weights: string;
  data?: string;
  limit?: number;
  preset: string;
  config?: string;
  trials: number;
  seed: number;
  exact?: boolean;
}

export function addEvalOptions(cmd: Command): Command {
  return addRedisOption(cmd)
    .requiredOption(
      "--weights <file>",
      "safetensors weights (reference names; for --net: <layer>.weight, ...) or, for --net, an ONNX model's initialisers",
    )
    .option("--data <dir>", "CIFAR-10 binary directory")
    .option("--limit <n>", "first N test images (file order)", parseIntOption("limit", 1, 10000))
    .addOption(
      new Option("--preset <p>", "hardware preset (presets/<p>.json)").choices(PRESETS).default("fp32"),
    )
    .option("--config <file>", "JSON file overriding preset fields (its 'base' names the preset)")
    .option("--trials <k>", "trials: each programs the devices afresh", parseIntOption("trials", 1, 1000), 1)
    .option("--seed <n>", "seed of the device programming", parseIntOption("seed", 0, 2 ** 32 - 1), 0)
    .option(
      "--exact",
      "simulate every DAC phase and device column (noisy presets run the fast path by default)",
    );
}

/** The configuration of an eval: preset, override file, and --exact. */
export function evalConfig(o: EvalOptions): HardwareConfig {
  const cfg = resolveHardwareConfig(o.preset, o.config);
  return o.exact ? { ...cfg, simulator: { path: "exact" } } : cfg;
}

/**
 * The test images to score (the first --limit in file order) and, for a quantized preset or
 * the supernet's recalibration, the training images.
 */
export function evalData(
  o: EvalOptions,
  cfg: HardwareConfig,
  deployment: Deployment,
): { test: Split; train: Split | null } {
  const dir = resolveDataDir(o.data);
  const test = loadSplit(dir, "test");
  const needsTrain = cfg.quantize || deployment.kind === "supernet";
  return { test: o.limit ? take(test, o.limit) : test, train: needsTrain ? loadSplit(dir, "train") : null };
}

/** What an eval scores: a DARTS-space architecture or a plain network file. */
export type EvalSubject = Architecture | LoadedNet;
const isNetFile = (s: EvalSubject): s is LoadedNet => "network" in s;

export async function runEval(
  o: EvalOptions,
  subject: EvalSubject,
  deployment: Deployment = INDIVIDUAL,
): Promise<void> {
  const out = makeOut(!!o.json);
  const cfg = evalConfig(o);
  const data = evalData(o, cfg, deployment);
  const started = Date.now();
  const r = await deployedAccuracy(o, subject, cfg, data, deployment, (t, acc) => {
    if (!o.json && o.trials > 1) out.line(`  trial ${t + 1}/${o.trials}: ${(100 * acc).toFixed(2)}%`);
  });
  const label = isNetFile(subject) ? subject.description.name : subject.label;
  const code = isNetFile(subject) ? null : subject.code;
  const result = {
    accuracy: r.accuracy,
    std: r.std,
    trials: r.trials,
    images: r.images,
    preset: cfg.name,
    path: simulationPath(cfg),
    perTrial: r.perTrial,
    seconds: (Date.now() - started) / 1000,
    ...(deployment.kind === "hypernetwork"
      ? { hypernetwork: { variant: deployment.spec.variant, code } }
      : {}),
    ...(deployment.kind === "supernet"
      ? { supernet: { code, recalibrationImages: Math.min(deployment.recalibrate, data.train!.count) } }
      : {}),
    config: {
      ...cfg,
      ...(isNetFile(subject)
        ? { net: subject.file }
        : { genotype: label, code, channels: o.channels, layers: o.layers }),
      weights: o.weights,
      seed: o.seed,
    },
  };
  out.result(result, () => {
    const through =
      deployment.kind === "hypernetwork"
        ? ` through the ${deployment.spec.variant}-variant hypernetwork`
        : deployment.kind === "supernet"
          ? ` on the supernet's shared weights (batch norm recalibrated on ${result.supernet?.recalibrationImages} training images)`
          : "";
    out.line(
      `${label}${through} on ${cfg.name}: accuracy ${(100 * r.accuracy).toFixed(4)}% ± ${(100 * r.std).toFixed(4)} on ${r.images} test images (${r.trials} trial${r.trials > 1 ? "s" : ""}, ${result.seconds.toFixed(1)} s)`,
    );
    out.line(`preset ${cfg.name}: ${cfg.description}`);
    if (cfg.quantize) out.line(describeConfig(cfg));
  });
}

/**
 * Accuracy of trained weights on the hardware of a deployment, here or (with --redis, on a
 * quantized preset) on the queue's workers.
 */
export async function deployedAccuracy(
  o: EvalOptions,
  subject: EvalSubject,
  cfg: HardwareConfig,
  data: { test: Split; train: Split | null },
  deployment: Deployment,
  onTrial: (trial: number, accuracy: number) => void,
): Promise<HardwareAccuracy> {
  if (o.redis && isNetFile(subject))
    throw new UsageError("--redis runs DARTS-space architectures (--genotype); run a --net file here");
  if (o.redis && cfg.quantize) return queuedAccuracy(o, cfg, data.test.count, deployment);
  const deployed: Deployed = isNetFile(subject)
    ? deployNetworkFile(subject, o.weights)
    : deploy(deployment, {
        arch: subject,
        channels: o.channels,
        layers: o.layers,
        weights: o.weights,
        train: () => data.train!,
      });
  return hardwareAccuracy(deployed.float, cfg, data, {
    trials: o.trials,
    seed: o.seed,
    simulator: (calib) => deployed.simulator(cfg, calib),
    onTrial,
  });
}

/** The trials of `eval` as jobs of one trial and one range of EVAL_BATCH test images each. */
async function queuedAccuracy(
  o: EvalOptions,
  cfg: HardwareConfig,
  images: number,
  deployment: Deployment,
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
    deployment,
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
