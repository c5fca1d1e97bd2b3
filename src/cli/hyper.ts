/** `memhyper hyper …`: the all-inclusive hypernetwork — configure, compare, verify, reconfigure, evaluate. */

import { readFileSync } from "node:fs";
import { SingleBar } from "cli-progress";
import { type Command, Option } from "commander";
import { decodeSafetensors } from "../engine/safetensors.js";
import { platformOf } from "../hw/config.js";
import { histogramSvg } from "../hw/sweep.js";
import { type CompiledConfiguration, compileConfiguration, formatListing } from "../hyper/compiler.js";
import { compareDeployments, type HyperComparison } from "../hyper/cost.js";
import { type Deployment, INDIVIDUAL } from "../hyper/deployment.js";
import { type HyperSpec, VARIANTS } from "../hyper/hardware.js";
import { type AblationRow, ablation, baselineSettings, LEVERS } from "../hyper/levers.js";
import { reconfigure } from "../hyper/reconfigure.js";
import {
  hyperSweep,
  RATIO_LABELS,
  RATIO_METRICS,
  type RatioMetric,
  ratioSweepResult,
} from "../hyper/sweep.js";
import { checkEquivalence, type EquivalenceCase, welchTest } from "../hyper/verify.js";
import { concatValues } from "../queue/tasks.js";
import {
  type Architecture,
  architectureFromConfiguration,
  architectureFromGenotype,
  resolveArchitecture,
} from "../space/architecture.js";
import { CATALOGUE } from "../space/catalogue.js";
import type { SpaceView } from "../space/sample.js";
import { sampleConfiguration, sampleGenotype } from "../space/sample.js";
import { writeFileAtomic } from "../util/atomic.js";
import { Rng } from "../util/rng.js";
import { simulationPath } from "../xbar/collapse.js";
import { devicesAreIdeal } from "../xbar/program.js";
import { addHardwareOptions, type HardwareOptions, hardwareFromOptions } from "./common.js";
import { addEvalOptions, deployedAccuracy, type EvalOptions, evalConfig, evalData, runEval } from "./eval.js";
import { makeOut, parseIntOption, table, UsageError } from "./output.js";
import { chunks, onQueue, SWEEP_CHUNK } from "./queue.js";

interface HyperOptions {
  channels: number;
  layers: number;
  variant: HyperSpec["variant"];
  json?: boolean;
}

/** The published ratios of the hypernetwork to individual deployment (ARCHITECTURE.md §1). */
export const PUBLISHED_RATIOS = {
  source: "Memristive all-inclusive hypernetwork, Neural Networks 2024 (abstract)",
  power: "≈ 1 (nearly the same)",
  latency: "1.22–1.25",
  area: "1.5",
} as const;

function addHyperOptions(cmd: Command): Command {
  return cmd
    .option("--channels <C>", "initial channels C", parseIntOption("channels", 2, 4096), 16)
    .option("--layers <L>", "number of cells L", parseIntOption("layers", 3, 1000), 8)
    .addOption(
      new Option("--variant <v>", "edge: a slot per edge; node: two slots per node")
        .choices(VARIANTS)
        .default("edge"),
    )
    .option("--json", "print one JSON object");
}

const spec = (o: HyperOptions): HyperSpec => ({ channels: o.channels, layers: o.layers, variant: o.variant });

/** The JSON form of a compiled configuration. */
export function configurationJson(c: CompiledConfiguration) {
  return {
    code: c.code,
    architecture: c.label,
    ...c.hardware.spec,
    switches: c.switches,
    slots: c.settings.map((s) => ({
      slot: s.slot.path,
      node: s.slot.node,
      op: s.op,
      source: s.source,
      unit: s.unit,
      stride: s.stride,
      universal: s.universal,
      pool: s.pool,
      weights: s.weights,
    })),
    plan: c.plan,
  };
}

const r3 = (x: number) => x.toFixed(3);

export function comparisonTable(rows: readonly HyperComparison[]): string {
  return table(
    [
      "architecture",
      "area mm² ind → hyper",
      "power mW",
      "latency µs",
      "energy µJ",
      "area ×",
      "power ×",
      "latency ×",
      "energy ×",
      "throughput ×",
    ],
    rows.map((r) => [
      r.genotype,
      `${r.individual.areaMm2.toFixed(2)} → ${r.hyper.areaMm2.toFixed(2)}`,
      `${r.individual.powerMw.toFixed(1)} → ${r.hyper.powerMw.toFixed(1)}`,
      `${r.individual.latencyUs.toFixed(1)} → ${r.hyper.latencyUs.toFixed(1)}`,
      `${r.individual.energyUj.toFixed(2)} → ${r.hyper.energyUj.toFixed(2)}`,
      r3(r.areaRatio),
      r3(r.powerRatio),
      r3(r.latencyRatio),
      r3(r.energyRatio),
      r3(r.throughputRatio),
    ]),
  );
}

const span = (values: readonly number[], digits: number): string => {
  const lo = Math.min(...values).toFixed(digits);
  const hi = Math.max(...values).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};

/** One row per ablation step: the ranges of the ratios over the architectures, and the areas. */
export function ablationTable(rows: readonly AblationRow[]): string {
  return table(
    [
      "levers",
      ...LEVERS.map((l) => l.field),
      "individual mm²",
      "hyper mm²",
      "area ×",
      "power ×",
      "latency ×",
      "energy ×",
    ],
    rows.map((r) => [
      r.label,
      ...LEVERS.map((l) => r.settings[l.field]!),
      span(
        r.rows.map((x) => x.individual.areaMm2),
        2,
      ),
      r.rows[0]!.hyper.areaMm2.toFixed(2),
      span(
        r.rows.map((x) => x.areaRatio),
        2,
      ),
      span(
        r.rows.map((x) => x.powerRatio),
        3,
      ),
      span(
        r.rows.map((x) => x.latencyRatio),
        3,
      ),
      span(
        r.rows.map((x) => x.energyRatio),
        3,
      ),
    ]),
  );
}

export function registerHyper(program: Command): void {
  const hyper = program
    .command("hyper")
    .description(
      "the memristive all-inclusive hypernetwork: one hardware for every architecture of the space",
    );

  addHyperOptions(
    hyper
      .command("config <architecture>")
      .description("switch, MUX and gating settings and the programming plan of one architecture"),
  ).action((archSpec: string, o: HyperOptions) => {
    const out = makeOut(!!o.json);
    const c = compileConfiguration(spec(o), resolveArchitecture(archSpec));
    out.result(configurationJson(c), () => out.line(formatListing(c)));
  });

  addHardwareOptions(
    addHyperOptions(
      hyper
        .command("compare")
        .description("hypernetwork cost against individual deployment, per architecture"),
    ),
  )
    .option("--genotypes <list>", "comma-separated catalogue names or codes", "DARTS_V1,DARTS_V2,PDARTS")
    .option(
      "--arch <spec>",
      "an architecture (name, Genotype(...) string, 21-hex-digit code or file); repeatable, replaces --genotypes",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--ablation", "one row per design lever: all on, each switched off, none")
    .action(
      (o: HyperOptions & HardwareOptions & { genotypes: string; arch?: string[]; ablation?: boolean }) => {
        const out = makeOut(!!o.json);
        const hardware = hardwareFromOptions(o);
        const file = hardware.techFile;
        const archs = (o.arch ?? o.genotypes.split(",")).map((g) => resolveArchitecture(g));
        const title = `hypernetwork (${o.variant} variant) against individual deployment, C=${o.channels} L=${o.layers}, ${hardware.config.name} (${platformOf(hardware.config)}) on ${file.name}`;
        const common = {
          ...spec(o),
          preset: hardware.config.name,
          platform: platformOf(hardware.config),
          tech: file.name,
          hardware: hardware.config,
          baseline: baselineSettings(hardware.config),
          published: PUBLISHED_RATIOS,
        };
        const published = `published (${PUBLISHED_RATIOS.source}): power ${PUBLISHED_RATIOS.power}, latency ×${PUBLISHED_RATIOS.latency}, area ×${PUBLISHED_RATIOS.area}`;
        if (o.ablation) {
          const rows = ablation(spec(o), archs, hardware);
          out.result({ ...common, ablation: rows }, () => {
            out.line(`${title}: design levers (${archs.map((a) => a.label).join(", ")})`);
            out.line(ablationTable(rows));
            out.line(published);
          });
          return;
        }
        const rows = compareDeployments(spec(o), archs, hardware);
        out.result({ ...common, rows }, () => {
          out.line(title);
          out.line(comparisonTable(rows));
          out.line(common.baseline);
          out.line(published);
        });
      },
    );

  addHardwareOptions(
    addHyperOptions(
      hyper
        .command("sweep")
        .description(
          "distribution of the hypernetwork's cost ratios over random configurations of the space",
        ),
    ),
  )
    .requiredOption("--samples <n>", "configurations", parseIntOption("samples", 1, 1_000_000))
    .requiredOption("--seed <n>", "seed", parseIntOption("seed", 0, 2 ** 32 - 1))
    .addOption(
      new Option("--view <view>", "edge-complete or genotype view")
        .choices(["edge", "genotype"])
        .default("edge"),
    )
    .option("--svg <file>", "write histograms of the ratios as SVG")
    .option(
      "--redis <url>",
      "run the work on memhyper workers of this Redis queue (memhyper worker --redis URL); same result as locally",
    )
    .action(
      async (
        o: HyperOptions &
          HardwareOptions & { samples: number; seed: number; view: SpaceView; svg?: string; redis?: string },
      ) => {
        const out = makeOut(!!o.json);
        const hardware = hardwareFromOptions(o);
        const started = performance.now();
        let r: ReturnType<typeof hyperSweep>;
        if (o.redis) {
          const jobs = chunks(o.samples, SWEEP_CHUNK).map(([from, to]) => ({
            kind: "hyper-sweep" as const,
            from,
            to,
            seed: o.seed,
            view: o.view,
            spec: spec(o),
            config: hardware.config,
          }));
          const parts = await onQueue<Record<RatioMetric, number[]>>(o.redis, jobs, !!o.json);
          r = ratioSweepResult(spec(o), o.samples, o.seed, o.view, concatValues(RATIO_METRICS, parts));
        } else {
          const bar =
            process.stderr.isTTY && !o.json
              ? new SingleBar({ format: "sweep {bar} {value}/{total}", stream: process.stderr })
              : null;
          bar?.start(o.samples, 0);
          r = hyperSweep(spec(o), o.samples, o.seed, o.view, hardware, () => bar?.increment());
          bar?.stop();
        }
        const seconds = (performance.now() - started) / 1000;
        if (o.svg)
          writeFileAtomic(
            o.svg,
            histogramSvg(
              r.values,
              RATIO_LABELS,
              `${o.samples} random ${o.view}-view configurations on the ${o.variant} variant, C=${o.channels} L=${o.layers}, ${hardware.config.name}`,
            ),
          );
        out.result(
          {
            ...spec(o),
            samples: r.samples,
            seed: r.seed,
            view: r.view,
            preset: hardware.config.name,
            hardware: hardware.config,
            seconds,
            metrics: r.metrics,
            published: PUBLISHED_RATIOS,
          },
          () => {
            out.line(
              `${r.samples} random ${r.view}-view configurations on the ${o.variant}-variant hypernetwork, C=${o.channels} L=${o.layers}, ${hardware.config.name} (${seconds.toFixed(1)} s)`,
            );
            out.line(
              table(
                ["ratio", "min", "p10", "median", "p90", "p99", "max"],
                RATIO_METRICS.map((m) => {
                  const x = r.metrics[m];
                  return [m, x.min, x.p10, x.median, x.p90, x.p99, x.max].map((v) =>
                    typeof v === "number" ? v.toFixed(3) : v,
                  );
                }),
              ),
            );
            if (o.svg) out.line(`histograms written to ${o.svg}`);
          },
        );
      },
    );

  addHyperOptions(
    hyper
      .command("verify")
      .description(
        "hypernetwork ≡ individual deployment, bit for bit with ideal devices, on random architectures and the catalogue",
      ),
  )
    .option(
      "--samples <n>",
      "random architectures besides the catalogue",
      parseIntOption("samples", 0, 100000),
      20,
    )
    .option(
      "--seed <n>",
      "seed of architectures, weights and images",
      parseIntOption("seed", 0, 2 ** 32 - 1),
      0,
    )
    .option("--images <n>", "random input images per architecture", parseIntOption("images", 1, 1024), 2)
    .option("--image-size <s>", "input height and width", parseIntOption("image-size", 8, 256), 32)
    .action((o: HyperOptions & { samples: number; seed: number; images: number; imageSize: number }) => {
      const out = makeOut(!!o.json);
      const s = spec(o);
      const rng = new Rng(o.seed);
      const archs: Architecture[] = [];
      const skipped: { architecture: string; reason: string }[] = [];
      for (const entry of CATALOGUE) {
        const arch = resolveArchitecture(entry.name);
        try {
          compileConfiguration(s, arch);
          archs.push(arch);
        } catch (e) {
          skipped.push({ architecture: entry.name, reason: (e as Error).message });
        }
      }
      for (let i = 0; i < o.samples; i++)
        archs.push(
          o.variant === "edge"
            ? architectureFromConfiguration(sampleConfiguration(rng))
            : architectureFromGenotype(`random-${i}`, sampleGenotype(rng)),
        );
      const bar = o.json
        ? null
        : new SingleBar({ format: "verify {bar} {value}/{total} {label}", stream: process.stderr });
      bar?.start(archs.length, 0, { label: "" });
      const cases: EquivalenceCase[] = archs.map((a, i) => {
        const r = checkEquivalence(s, a, { seed: o.seed + i, images: o.images, imageSize: o.imageSize });
        bar?.increment({ label: a.label });
        return r;
      });
      bar?.stop();
      const mismatches = cases.filter((c) => !c.identical);
      const result = {
        checked: cases.length,
        mismatches: mismatches.length,
        ...s,
        images: o.images,
        imageSize: o.imageSize,
        seed: o.seed,
        skipped,
        lossyAdc: {
          note: "8-bit calibrated ADC per array: the layouts differ in partial-sum ranges, so small differences are legitimate",
          maxAbsDiff: Math.max(0, ...cases.map((c) => c.lossyAdc.maxAbsDiff)),
          minTop1Agreement: Math.min(1, ...cases.map((c) => c.lossyAdc.top1Agreement)),
        },
        floatMaxAbsDiff: Math.max(0, ...cases.map((c) => c.floatMaxAbsDiff)),
        cases,
      };
      out.result(result, () => {
        out.line(
          `${result.checked} architectures, ${result.mismatches} mismatches (ideal devices, lossless ADC: logits bit-identical on both layouts)`,
        );
        for (const m of mismatches) out.line(`  MISMATCH ${m.label} (${m.code})`);
        out.line(
          `lossy 8-bit ADC: largest |Δ logit| ${result.lossyAdc.maxAbsDiff.toPrecision(3)}, lowest top-1 agreement ${(100 * result.lossyAdc.minTop1Agreement).toFixed(1)}%`,
        );
        out.line(`float networks: largest |Δ logit| ${result.floatMaxAbsDiff.toPrecision(3)}`);
        for (const k of skipped) out.line(`  skipped ${k.architecture}: ${k.reason}`);
      });
      if (mismatches.length) process.exitCode = 1;
    });

  addHardwareOptions(
    addHyperOptions(
      hyper
        .command("reconfigure")
        .description(
          "switch changes, arrays rewritten, write energy and time from one architecture to another",
        ),
    ),
  )
    .requiredOption("--from <arch>", "architecture the hypernetwork holds")
    .requiredOption("--to <arch>", "architecture to switch to")
    .option("--from-weights <file>", "weights programmed now (arrays whose weights do not change are kept)")
    .option("--to-weights <file>", "weights to program")
    .option(
      "--shared",
      "the supernet's shared weights (memhyper supernet train): programmed once, nothing to rewrite",
    )
    .action(
      (
        o: HyperOptions &
          HardwareOptions & {
            from: string;
            to: string;
            fromWeights?: string;
            toWeights?: string;
            shared?: boolean;
          },
      ) => {
        const out = makeOut(!!o.json);
        if (!!o.fromWeights !== !!o.toWeights)
          throw new UsageError("give both --from-weights and --to-weights, or neither");
        if (o.shared && o.fromWeights)
          throw new UsageError(
            "--shared means one set of weights for both: drop --from-weights and --to-weights",
          );
        if (o.shared && o.variant !== "edge")
          throw new UsageError("the supernet's shared weights are the edge variant's: drop --variant node");
        const hardware = hardwareFromOptions(o);
        const toArch = resolveArchitecture(o.to);
        const from = compileConfiguration(spec(o), resolveArchitecture(o.from));
        const to = compileConfiguration(spec(o), toArch);
        const r = reconfigure(
          from,
          to,
          toArch,
          hardware,
          o.shared ? "shared" : sameWeightsOf(o.fromWeights, o.toWeights),
        );
        out.result({ ...spec(o), preset: hardware.config.name, hardware: hardware.config, ...r }, () => {
          out.line(
            `${r.from} → ${r.to} on the ${o.variant}-variant hypernetwork (C=${o.channels}, L=${o.layers})`,
          );
          out.line(
            table(
              ["", "hypernetwork", "individual deployment"],
              [
                ["hardware", "same chip", `new chip of ${r.individual.newHardwareAreaMm2.toFixed(2)} mm²`],
                ["weights", r.shared ? "shared (supernet)" : "the architecture's own", "its own"],
                ["switch settings changed", `${r.switchChanges.length} (${r.switchBits} bits)`, "–"],
                ["periphery registers set", r.registers.total, "–"],
                [
                  "configuration energy µJ / time µs",
                  `${r.configurationWriteEnergyUj.toPrecision(3)} / ${r.configurationWriteTimeUs.toPrecision(3)}`,
                  "–",
                ],
                ["arrays written", `${r.arraysRewritten} of ${r.arraysTotal} active`, r.individual.arrays],
                ["devices written", r.deviceWrites, r.individual.cellsWritten],
                ["device write energy µJ", r.writeEnergyUj.toFixed(3), r.individual.writeEnergyUj.toFixed(3)],
                ["device write time µs", r.writeTimeUs.toFixed(1), r.individual.writeTimeUs.toFixed(1)],
              ],
            ),
          );
        });
      },
    );

  addEvalOptions(
    addHyperOptions(
      hyper
        .command("eval")
        .description("CIFAR-10 accuracy through the configured hypernetwork, under any preset"),
    ).requiredOption("--genotype <arch>", "architecture whose weights are given"),
  ).action((o: HyperOptions & EvalOptions) =>
    runEval(o, resolveArchitecture(o.genotype), { kind: "hypernetwork", spec: spec(o) }),
  );

  addEvalOptions(
    addHyperOptions(
      hyper
        .command("stats")
        .description(
          "slow statistical check on trained weights: accuracy over noisy trials on individual deployment and on the hypernetwork, Welch's t-test",
        ),
    ).requiredOption("--genotype <arch>", "architecture whose weights are given"),
  ).action(async (o: HyperOptions & EvalOptions) => {
    const out = makeOut(!!o.json);
    const arch = resolveArchitecture(o.genotype);
    const c = compileConfiguration(spec(o), arch);
    const cfg = evalConfig(o);
    if (!cfg.quantize || devicesAreIdeal(cfg))
      throw new UsageError(
        `preset ${cfg.name} has no device noise, so every trial is the same: choose a noisy preset (rram, pcm, analog-chain), or use 'hyper verify' for exact equality`,
      );
    if (o.trials < 3) throw new UsageError(`--trials must be at least 3 for a t-test, got ${o.trials}`);
    const data = evalData(o, cfg, INDIVIDUAL);
    const started = Date.now();
    const run = (name: string, deployment: Deployment) =>
      deployedAccuracy(o, arch, cfg, data, deployment, (t, acc) => {
        if (!o.json) out.line(`  ${name} trial ${t + 1}/${o.trials}: ${(100 * acc).toFixed(2)}%`);
      });
    const individual = await run("individual", INDIVIDUAL);
    const hypernetwork = await run("hypernetwork", { kind: "hypernetwork", spec: spec(o) });
    const welch = welchTest(individual.perTrial, hypernetwork.perTrial);
    const summary = (r: typeof individual) => ({ accuracy: r.accuracy, std: r.std, perTrial: r.perTrial });
    const result = {
      genotype: arch.label,
      variant: o.variant,
      code: c.code,
      preset: cfg.name,
      path: simulationPath(cfg),
      images: individual.images,
      trials: o.trials,
      individual: summary(individual),
      hypernetwork: summary(hypernetwork),
      welch,
      indistinguishable: welch.p >= 0.05,
      seconds: (Date.now() - started) / 1000,
    };
    out.result(result, () => {
      const pct = (r: typeof individual) => `${(100 * r.accuracy).toFixed(2)}% ± ${(100 * r.std).toFixed(2)}`;
      out.line(
        `${arch.label} on ${cfg.name}, ${result.images} test images, ${o.trials} trials each: individual ${pct(individual)}, ${o.variant}-variant hypernetwork ${pct(hypernetwork)}`,
      );
      out.line(
        `Welch t = ${welch.t.toFixed(3)}, df = ${welch.df.toFixed(1)}, p = ${welch.p.toFixed(3)}: ${result.indistinguishable ? "statistically indistinguishable at the 5 % level" : "DIFFERENT at the 5 % level"}`,
      );
    });
  });
}

/** Compares the tensors of two weight files under each parameter prefix. */
function sameWeightsOf(fromFile?: string, toFile?: string): ((a: string, b: string) => boolean) | undefined {
  if (!fromFile || !toFile) return undefined;
  const a = decodeSafetensors(readFileSync(fromFile), fromFile).tensors;
  const b = decodeSafetensors(readFileSync(toFile), toFile).tensors;
  return (pa, pb) => {
    const names = [...a.keys()].filter((n) => n.startsWith(`${pa}.`));
    if (names.length === 0) return false;
    return names.every((n) => {
      const x = a.get(n)!;
      const y = b.get(pb + n.slice(pa.length));
      return (
        !!y && x.data.length === y.data.length && x.data.every((v: number | bigint, i) => v === y.data[i])
      );
    });
  };
}
