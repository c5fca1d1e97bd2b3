/** `memhyper supernet …`: the weight-sharing supernet on the edge-variant hypernetwork. */
import { join } from "node:path";
import { type Command, Option } from "commander";
import { hyperHardware } from "../hyper/hardware.js";
import { fullNetwork } from "../hyper/network.js";
import { countParams } from "../ir/count.js";
import { resolveArchitecture } from "../space/architecture.js";
import {
  MAX_REFERENCE_SHARE,
  REFERENCE_ARCHITECTURES,
  SAMPLING_VIEWS,
  type SamplingView,
  type SupernetOptions,
  trainSupernet,
} from "../train/supernet.js";
import { DARTS_RECIPE, type TrainRecipe } from "../train/trainer.js";
import { writeFileAtomic } from "../util/atomic.js";
import { addNetOptions, addSizeOptions, type NetOptions } from "./common.js";
import { addEvalOptions, type EvalOptions, runEval } from "./eval.js";
import { makeOut, parseIntOption } from "./output.js";
import { addRecipeOptions, parseFloatOption, recipeOf, withTrainingProgress } from "./train.js";

/** The supernet's defaults: the DARTS recipe for 200 epochs, 5,000 training images held out for search. */
export const SUPERNET_RECIPE: TrainRecipe = {
  ...DARTS_RECIPE,
  epochs: 200,
  seed: 1,
  validation: 5000,
  evalEvery: 10,
};

/** --recalibrate: the first N training images that recalibrate each architecture's batch norm (default 2,000). */
export function addRecalibrateOption(cmd: Command): Command {
  return cmd.option(
    "--recalibrate <n>",
    "first N training images that recalibrate each architecture's batch-norm statistics",
    parseIntOption("recalibrate", 2, 50000),
    2000,
  );
}

export function registerSupernet(program: Command): void {
  const supernet = program
    .command("supernet")
    .description("the weight-sharing supernet: one programming of the hypernetwork for every architecture");

  addRecalibrateOption(
    addRecipeOptions(
      addSizeOptions(
        supernet
          .command("train")
          .description(
            "train shared weights as the edge-variant hypernetwork holds them, one sampled configuration per batch (checkpoints every epoch)",
          ),
      ),
      SUPERNET_RECIPE,
    ),
  )
    .option(
      "--reference-share <x>",
      `share of batches for ${REFERENCE_ARCHITECTURES.join(", ")} (at most ${MAX_REFERENCE_SHARE})`,
      parseFloatOption("reference-share", 0, MAX_REFERENCE_SHARE),
      0.2,
    )
    .addOption(
      new Option("--view <v>", "views the other batches sample: both (half each), genotype or edge")
        .choices(SAMPLING_VIEWS)
        .default("both"),
    )
    .action((o: NetOptions & Record<string, unknown>) => {
      const out = makeOut(!!o.json);
      const recipe = recipeOf(o);
      const options: SupernetOptions = {
        referenceShare: o.referenceShare as number,
        recalibrationImages: o.recalibrate as number,
        // "both" stays implicit: a run's identity (checked on --resume) predates the option.
        ...(o.view !== "both" ? { view: o.view as SamplingView } : {}),
      };
      const outDir = o.out as string;
      const started = Date.now();
      const logs = withTrainingProgress(
        o,
        recipe,
        (data, events) => trainSupernet(recipe, options, data, outDir, !!o.resume, events).logs,
      );
      const final = logs[logs.length - 1]!;
      const shared = fullNetwork(
        hyperHardware({ channels: recipe.channels, layers: recipe.layers, variant: "edge" }),
      );
      const card = {
        supernet: "edge-variant hypernetwork, shared weights",
        params: countParams(shared),
        recipe,
        ...options,
        epochs: recipe.epochs,
        seed: recipe.seed,
        wallTimeSeconds: logs.reduce((a, l) => a + l.seconds, 0),
        referenceAccuracy: final.evalAccuracy,
        accuracySplit: final.evalSplit,
        trainedWith: "memhyper supernet train",
      };
      writeFileAtomic(join(outDir, "model.json"), `${JSON.stringify(card, null, 2)}\n`);
      out.result({ ...card, out: outDir, sessionSeconds: (Date.now() - started) / 1000 }, () => {
        out.line(
          `trained the supernet: mean ${final.evalSplit} accuracy of ${REFERENCE_ARCHITECTURES.join(", ")} (float, recalibrated) ${(100 * (final.evalAccuracy ?? 0)).toFixed(2)}%; weights in ${join(outDir, "model.safetensors")}`,
        );
      });
    });
  addRecalibrateOption(
    addEvalOptions(
      addNetOptions(
        supernet
          .command("eval")
          .description(
            "CIFAR-10 accuracy of one architecture on the supernet's shared weights (its batch norm recalibrated on training images), in float or on simulated crossbars",
          ),
      ),
    ),
  ).action((o: EvalOptions & { recalibrate: number }) =>
    runEval(o, resolveArchitecture(o.genotype), { kind: "supernet", recalibrate: o.recalibrate }),
  );
}
