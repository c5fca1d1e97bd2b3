/** `memhyper search`: hardware-aware architecture search on the supernet's shared weights. */
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import { loadSplit, resolveDataDir } from "../data/cifar10.js";
import { contentHash, datasetFiles } from "../queue/tasks.js";
import { type Candidate, evolve } from "../search/evolution.js";
import { architectureScorer, COST_UNITS, parseObjective, type ScoreSetup } from "../search/objectives.js";
import { paretoFront } from "../search/pareto.js";
import { type PlotPoint, paretoSvg } from "../search/plot.js";
import type { Configuration } from "../space/cell.js";
import { formatGenotype } from "../space/format.js";
import { configurationToGenotype } from "../space/genotype.js";
import { REFERENCE_ARCHITECTURES, referenceArchitectures } from "../train/supernet.js";
import { writeFileAtomic } from "../util/atomic.js";
import { addHardwareOptions, addSizeOptions, type HardwareOptions, hardwareFromOptions } from "./common.js";
import { makeOut, parseIntOption, table } from "./output.js";
import { addRedisOption, onQueue } from "./queue.js";
import { addRecalibrateOption, SUPERNET_RECIPE } from "./supernet.js";

interface SearchOptions extends HardwareOptions {
  redis?: string;
  objective: string;
  budget: number;
  population: number;
  seed: number;
  weights: string;
  data?: string;
  validation: number;
  scoreImages?: number;
  recalibrate: number;
  channels: number;
  layers: number;
  json?: boolean;
  svg?: string;
}

/** The genotype an edge-complete configuration denotes, when every node has two inputs. */
function genotypeOf(c: Configuration): string | null {
  try {
    return formatGenotype(configurationToGenotype(c));
  } catch {
    return null;
  }
}

export function registerSearch(program: Command): void {
  addRecalibrateOption(
    addRedisOption(
      addHardwareOptions(
        addSizeOptions(
          program
            .command("search")
            .description(
              "evolutionary search (NSGA-II) over the edge-complete space: accuracy on the supernet's shared weights against a hypernetwork cost; prints the Pareto front",
            ),
        ),
      ),
    ),
  )
    .option(
      "--objective <list>",
      "accuracy and one cost: accuracy,latency | accuracy,energy | accuracy,area",
      "accuracy,latency",
    )
    .requiredOption("--weights <file>", "the supernet's shared weights (memhyper supernet train)")
    .option("--budget <n>", "distinct architectures to evaluate", parseIntOption("budget", 1, 1_000_000), 100)
    .option("--population <n>", "population size", parseIntOption("population", 2, 10_000), 16)
    .option("--seed <n>", "seed of the search", parseIntOption("seed", 0, 2 ** 32 - 1), 0)
    .option("--data <dir>", "CIFAR-10 binary directory")
    .option(
      "--validation <n>",
      "the last N training images, held out when the supernet was trained, score accuracy (never the test set)",
      parseIntOption("validation", 1, 49_999),
      SUPERNET_RECIPE.validation,
    )
    .option(
      "--score-images <n>",
      "score on the first N validation images only (faster)",
      parseIntOption("score-images", 1, 49_999),
    )
    .option("--svg <file>", "write the plot of the front with DARTS_V1, DARTS_V2 and PDARTS marked")
    .action(async (o: SearchOptions) => {
      const out = makeOut(!!o.json);
      const objective = parseObjective(o.objective);
      const hw = hardwareFromOptions(o);
      const setup: ScoreSetup = {
        weights: o.weights,
        channels: o.channels,
        layers: o.layers,
        validation: o.validation,
        scoreImages: o.scoreImages ?? null,
        recalibrate: o.recalibrate,
        objective,
      };
      const dataDir = resolveDataDir(o.data);
      const scorer = architectureScorer(setup, hw, loadSplit(dataDir, "train"));
      const { field, unit } = COST_UNITS[objective];
      const onQueueScores = async (codes: readonly string[]) => {
        const common = {
          kind: "search" as const,
          setup,
          weightsSha256: contentHash([o.weights]),
          datasetSha256: contentHash(datasetFiles(dataDir)),
          config: hw.config,
        };
        return onQueue<{ accuracy: number; cost: number }>(
          o.redis!,
          codes.map((code) => ({ ...common, code })),
          true, // the search's own bar shows progress
        );
      };

      const started = Date.now();
      const bar =
        process.stderr.isTTY && !o.json
          ? new SingleBar({
              format:
                "search |{bar}| {value}/{total} architectures, {rate} evaluations/s, ETA {eta_formatted}",
            })
          : null;
      bar?.start(o.budget, 0, { rate: "0.00" });
      const evaluated = await evolve(
        async (batch) => {
          const scores = o.redis
            ? await onQueueScores(batch.map((b) => b.code))
            : batch.map((b) => scorer.score(b.configuration));
          return scores.map((x) => [-x.accuracy, x.cost]);
        },
        { budget: o.budget, population: o.population, seed: o.seed },
        (n) => bar?.update(n, { rate: (n / ((Date.now() - started) / 1000)).toFixed(2) }),
      );
      bar?.stop();
      const seconds = (Date.now() - started) / 1000;
      // Objectives are (−accuracy, cost).
      const scoreOf = (c: Candidate) => ({ accuracy: -c.objectives[0]!, cost: c.objectives[1]! });
      const row = (c: Candidate) => ({
        code: c.code,
        genotype: genotypeOf(c.configuration),
        accuracy: scoreOf(c).accuracy,
        [field]: scoreOf(c).cost,
      });
      const front = paretoFront(evaluated.map((c) => c.objectives))
        .map((i) => row(evaluated[i]!))
        .sort((a, b) => (a[field] as number) - (b[field] as number));
      const references = referenceArchitectures().map((arch, i) => {
        const s = scorer.score(arch.configuration!);
        return { name: REFERENCE_ARCHITECTURES[i]!, code: arch.code, accuracy: s.accuracy, [field]: s.cost };
      });
      const result = {
        objective: ["accuracy", objective],
        preset: hw.config.name,
        channels: o.channels,
        layers: o.layers,
        budget: o.budget,
        population: o.population,
        seed: o.seed,
        weights: o.weights,
        validationImages: scorer.validationImages,
        recalibrationImages: scorer.recalibrationImages,
        evaluations: evaluated.length,
        evaluationsPerSecond: evaluated.length / seconds,
        front,
        references,
        seconds,
      };
      if (o.svg) {
        const points: PlotPoint[] = [
          ...evaluated.map((c) => ({ ...scoreOf(c), kind: "evaluated" as const })),
          ...front.map((f) => ({ accuracy: f.accuracy, cost: f[field] as number, kind: "front" as const })),
          ...references.map((r) => ({
            accuracy: r.accuracy,
            cost: r[field] as number,
            kind: "reference" as const,
            label: r.name,
          })),
        ];
        writeFileAtomic(
          o.svg,
          await paretoSvg(
            points,
            `hypernetwork ${objective} (${unit}, ${hw.config.name})`,
            `memhyper search: ${evaluated.length} architectures, seed ${o.seed}`,
          ),
        );
      }
      out.result(result, () => {
        out.line(
          `searched ${evaluated.length} architectures in ${seconds.toFixed(1)} s (${result.evaluationsPerSecond.toFixed(2)}/s): accuracy on ${scorer.validationImages} validation images, ${objective} on the ${hw.config.name} hypernetwork`,
        );
        const fmt = (a: number, cost: number) => [(100 * a).toFixed(2), cost.toPrecision(4)];
        out.line(
          table(
            ["", "code", `accuracy %`, `${objective} ${unit}`],
            [
              ...front.map((f) => ["front", f.code, ...fmt(f.accuracy, f[field] as number)]),
              ...references.map((r) => [r.name, r.code ?? "", ...fmt(r.accuracy, r[field] as number)]),
            ],
          ),
        );
        if (o.svg) out.line(`plot: ${o.svg}`);
      });
    });
}
