/** `memhyper train` and `memhyper eval`. */
import { join } from "node:path";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { Option } from "commander";
import { loadSplit, resolveDataDir } from "../data/cifar10.js";
import { nativeKernels } from "../engine/kernels/index.js";
import { Model } from "../engine/model.js";
import { loadModelWeights } from "../engine/safetensors.js";
import { arrayConfig, PRESETS, resolveHardwareConfig } from "../hw/config.js";
import { countParams } from "../ir/count.js";
import { buildNetwork } from "../ir/network.js";
import type { Architecture } from "../space/architecture.js";
import { resolveArchitecture } from "../space/architecture.js";
import { formatGenotype } from "../space/format.js";
import {
  codeErrorRms,
  crossbarWeights,
  measureWeightNoise,
  perturbWeights,
} from "../train/hardware-aware.js";
import {
  DARTS_RECIPE,
  type EpochLog,
  type FineTuning,
  type TrainData,
  type TrainEvents,
  type TrainRecipe,
  trainModel,
} from "../train/trainer.js";
import { writeFileAtomic } from "../util/atomic.js";
import {
  addNetOptions,
  addNetSourceOptions,
  type NetOptions,
  type NetSourceOptions,
  resolveNetSource,
} from "./common.js";
import { addEvalOptions, type EvalOptions, runEval } from "./eval.js";
import { makeOut, parseIntOption, UsageError } from "./output.js";

export const parseFloatOption =
  (name: string, min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max)
      throw new UsageError(`--${name} must be a number from ${min} to ${max}, got '${v}'`);
    return n;
  };

/** The recipe flags of `train`, `finetune` and `supernet train`, with their defaults. */
export function addRecipeOptions(cmd: Command, r: TrainRecipe): Command {
  return cmd
    .requiredOption("--out <dir>", "output directory (checkpoint, log.jsonl, model.safetensors, model.json)")
    .option("--epochs <n>", "epochs", parseIntOption("epochs", 1, 100000), r.epochs)
    .option("--batch <n>", "batch size", parseIntOption("batch", 2, 4096), r.batch)
    .option("--seed <n>", "seed", parseIntOption("seed", 0, 2 ** 32 - 1), r.seed)
    .option("--lr <x>", "initial learning rate (cosine to 0)", parseFloatOption("lr", 0, 10), r.lr)
    .option("--momentum <x>", "SGD momentum", parseFloatOption("momentum", 0, 1), r.momentum)
    .option("--weight-decay <x>", "weight decay", parseFloatOption("weight-decay", 0, 1), r.weightDecay)
    .option("--nesterov", "Nesterov momentum", false)
    .option(
      "--grad-clip <x>",
      "gradient clipping by global norm (0 = off)",
      parseFloatOption("grad-clip", 0, 1e9),
      r.gradClip,
    )
    .option(
      "--aux-weight <x>",
      "auxiliary head loss weight (0 = no head)",
      parseFloatOption("aux-weight", 0, 10),
      r.auxWeight,
    )
    .option(
      "--drop-path <x>",
      "final drop-path probability (ramped linearly)",
      parseFloatOption("drop-path", 0, 0.9),
      r.dropPath,
    )
    .option("--cutout <n>", "cutout square side (0 = off)", parseIntOption("cutout", 0, 32), r.cutout)
    .option(
      "--validation <n>",
      "hold out the last N training images for validation",
      parseIntOption("validation", 0, 49999),
      r.validation,
    )
    .option(
      "--train-limit <n>",
      "train on the first N training images only",
      parseIntOption("train-limit", 0, 50000),
      0,
    )
    .option(
      "--eval-every <n>",
      "evaluate every N epochs",
      parseIntOption("eval-every", 1, 100000),
      r.evalEvery,
    )
    .option(
      "--data <dir>",
      "CIFAR-10 binary directory (default $MEMHYPER_DATA or ../shared/datasets/cifar-10-batches-bin)",
    )
    .option("--resume", "continue the run in --out from its last checkpoint", false);
}

export function recipeOf(o: NetOptions & Record<string, unknown>): TrainRecipe {
  return {
    channels: o.channels,
    layers: o.layers,
    epochs: o.epochs as number,
    batch: o.batch as number,
    seed: o.seed as number,
    lr: o.lr as number,
    momentum: o.momentum as number,
    weightDecay: o.weightDecay as number,
    nesterov: !!o.nesterov,
    gradClip: o.gradClip as number,
    auxWeight: o.auxWeight as number,
    dropPath: o.dropPath as number,
    cutout: o.cutout as number,
    validation: o.validation as number,
    trainLimit: o.trainLimit as number,
    evalEvery: o.evalEvery as number,
  };
}

/** Loads CIFAR-10 and runs `train` with a progress bar (or a line every 30 s); returns its logs. */
export function withTrainingProgress(
  o: Record<string, unknown>,
  recipe: TrainRecipe,
  train: (data: TrainData, events: TrainEvents) => EpochLog[],
): EpochLog[] {
  const dir = resolveDataDir(o.data as string | undefined);
  const data = { train: loadSplit(dir, "train"), test: loadSplit(dir, "test") };
  if (nativeKernels()?.info().blas === false)
    process.stderr.write(
      "memhyper: warning: the native kernels were built without OpenBLAS, so training runs several times slower; install it (apt-get install libopenblas-dev) and rebuild the kernels (npm run install)\n",
    );
  const tty = process.stderr.isTTY && !o.json;
  const bar = tty
    ? new SingleBar({
        format: "epoch {epoch} |{bar}| {value}/{total} loss {loss} acc {acc} {ips} img/s ETA {eta_formatted}",
      })
    : null;
  let lastLine = 0;
  const events: TrainEvents = {
    onBatch(epoch, done, total, loss, acc, ips) {
      const payload = {
        epoch: epoch + 1,
        loss: loss.toFixed(3),
        acc: (100 * acc).toFixed(1),
        ips: ips.toFixed(0),
      };
      if (bar) {
        if (done <= recipe.batch) bar.start(total, 0, payload);
        bar.update(done, payload);
      } else if (Date.now() - lastLine > 30000) {
        lastLine = Date.now();
        process.stderr.write(
          `epoch ${epoch + 1}/${recipe.epochs} ${done}/${total} loss ${payload.loss} acc ${payload.acc}% ${payload.ips} img/s\n`,
        );
      }
    },
    onEpoch(log) {
      bar?.stop();
      const ev = log.evalAccuracy === null ? "" : ` ${log.evalSplit} ${(100 * log.evalAccuracy).toFixed(2)}%`;
      process.stderr.write(
        `epoch ${log.epoch + 1}/${recipe.epochs} lr ${log.lr.toFixed(5)} loss ${log.loss.toFixed(4)} train ${(100 * log.trainAccuracy).toFixed(2)}%${ev} ${log.imgPerSec.toFixed(0)} img/s ${log.seconds.toFixed(0)} s\n`,
      );
    },
  };
  return train(data, events);
}

/** Trains one architecture with a progress bar, then writes the model card. */
function runTraining(
  o: NetOptions & Record<string, unknown>,
  arch: Architecture,
  recipe: TrainRecipe,
  fineTuning: FineTuning | null,
  cardExtra: Record<string, unknown>,
): void {
  const out = makeOut(!!o.json);
  const outDir = o.out as string;
  const started = Date.now();
  const logs = withTrainingProgress(
    o,
    recipe,
    (data, events) => trainModel(arch, recipe, data, outDir, !!o.resume, events, fineTuning).logs,
  );
  const final = logs[logs.length - 1]!;
  const card = {
    genotype: arch.label,
    genotypeString: arch.genotype ? formatGenotype(arch.genotype) : null,
    code: arch.code,
    params: countParams(buildNetwork(arch, { channels: recipe.channels, layers: recipe.layers })),
    recipe,
    epochs: recipe.epochs,
    seed: recipe.seed,
    wallTimeSeconds: logs.reduce((a, l) => a + l.seconds, 0),
    accuracy: final.evalAccuracy,
    accuracySplit: final.evalSplit,
    ...cardExtra,
  };
  writeFileAtomic(join(outDir, "model.json"), `${JSON.stringify(card, null, 2)}\n`);
  out.result({ ...card, out: outDir, sessionSeconds: (Date.now() - started) / 1000 }, () => {
    out.line(
      `${fineTuning ? "fine-tuned" : "trained"} ${arch.label}: ${final.evalSplit} accuracy (float) ${(100 * (final.evalAccuracy ?? 0)).toFixed(2)}%; weights in ${join(outDir, "model.safetensors")}`,
    );
  });
}

/** Fine-tuning defaults: a few epochs at a small learning rate, no auxiliary head or drop-path. */
const FINETUNE_RECIPE: TrainRecipe = {
  ...DARTS_RECIPE,
  epochs: 10,
  lr: 0.005,
  auxWeight: 0,
  dropPath: 0,
};

export function registerTrain(program: Command): void {
  addRecipeOptions(
    addNetOptions(
      program
        .command("train")
        .description("train a network on CIFAR-10 with the DARTS recipe (checkpoints every epoch)"),
    ),
    DARTS_RECIPE,
  ).action((o: NetOptions & Record<string, unknown>) =>
    runTraining(o, resolveArchitecture(o.genotype), recipeOf(o), null, { trainedWith: "memhyper train" }),
  );

  addRecipeOptions(
    addNetOptions(
      program
        .command("finetune")
        .description(
          "hardware-aware fine-tuning: train on with the preset's weight quantization and device noise in every forward pass (straight-through gradients)",
        ),
    ),
    FINETUNE_RECIPE,
  )
    .requiredOption("--weights <file>", "trained weights to start from (safetensors)")
    .addOption(
      new Option("--preset <p>", "hardware preset whose weights to train on")
        .choices(PRESETS.filter((p) => p !== "fp32"))
        .default("rram"),
    )
    .option("--config <file>", "JSON file overriding preset fields")
    .option(
      "--noise-scale <x>",
      "multiply the preset's measured weight noise (aihwkit often trains at 1–2×)",
      parseFloatOption("noise-scale", 0, 10),
      1,
    )
    .addOption(
      new Option(
        "--batch-norm <mode>",
        "batch statistics in training, or the running statistics frozen as the deployed network uses them",
      )
        .choices(["batch", "frozen"])
        .default("batch"),
    )
    .action((o: NetOptions & Record<string, unknown>) => {
      const arch = resolveArchitecture(o.genotype);
      const cfg = resolveHardwareConfig(o.preset as string, o.config as string | undefined);
      if (!cfg.quantize)
        throw new UsageError(`preset ${cfg.name} does not quantize: fine-tune for a hardware preset`);
      const noise = measureWeightNoise(arrayConfig(cfg));
      const scale = o.noiseScale as number;
      const weights = o.weights as string;
      const model = new Model(buildNetwork(arch, { channels: o.channels, layers: o.layers }), 0);
      loadModelWeights(model, weights); // fail now, not after the data loads
      // What the card and the resume check record of the noise (the samples themselves follow from the preset).
      const wMax = 2 ** (noise.weightBits - 1) - 1;
      const codes = [1, Math.min(16, wMax), wMax];
      const summary = {
        model: "per-code read-back errors",
        weightBits: noise.weightBits,
        sigma: noise.sigma,
        samplesPerCode: noise.samples,
        rmsAtCode: Object.fromEntries(codes.map((c) => [c, codeErrorRms(noise, c)])),
        scale,
        // Absent means batch statistics, so that runs started before the option still resume.
        ...(o.batchNorm === "frozen" ? { batchNorm: "frozen" } : {}),
      };
      process.stderr.write(
        `fine-tuning on ${cfg.name}: ${noise.weightBits}-bit weights, device errors measured per code (RMS ${codes.map((c) => `${summary.rmsAtCode[c]!.toFixed(2)} at code ${c}`).join(", ")}; ${(100 * noise.sigma).toFixed(2)} % of the largest weight over all codes alike) ×${scale}\n`,
      );
      const names = crossbarWeights(model);
      runTraining(
        o,
        arch,
        recipeOf(o),
        {
          init: (m) => loadModelWeights(m, weights),
          perturb: (m, rng) => perturbWeights(m, names, noise, scale, rng),
          frozenBatchNorm: o.batchNorm === "frozen",
          identity: JSON.stringify({ weights, preset: cfg.name, noise: summary }),
        },
        {
          fineTunedFrom: weights,
          preset: cfg.name,
          weightNoise: summary,
          trainedWith: "memhyper finetune",
        },
      );
    });

  addEvalOptions(
    addNetSourceOptions(
      program
        .command("eval")
        .description(
          "top-1 accuracy of trained weights on the CIFAR-10 test set, in float or on simulated crossbars",
        ),
    ),
  ).action((o: Omit<EvalOptions, "genotype"> & NetSourceOptions) => {
    const source = resolveNetSource(o);
    // A network file has no genotype; the queue, which needs one, refuses files.
    return runEval({ ...o, genotype: o.genotype ?? "" }, source.file ?? source.arch!);
  });
}
