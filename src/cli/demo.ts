/** `memhyper demo`: the whole story on an embedded default. */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { datasetPresent, loadSplit, resolveDataDir, take } from "../data/cifar10.js";
import { Model } from "../engine/model.js";
import { loadModelWeights } from "../engine/safetensors.js";
import {
  type Hardware,
  hardwareOf,
  loadPreset,
  mergeConfig,
  parseHardwareConfig,
  platformOf,
} from "../hw/config.js";
import { costNetwork } from "../hw/cost.js";
import { compareDeployments } from "../hyper/cost.js";
import { VARIANTS } from "../hyper/hardware.js";
import { countMacs, countParams } from "../ir/count.js";
import { buildNetwork } from "../ir/network.js";
import { resolveArchitecture } from "../space/architecture.js";
import { edgeCompleteViewCount, genotypeViewCount } from "../space/count.js";
import { hardwareAccuracy } from "../xbar/accuracy.js";
import { addHardwareOptions, type HardwareOptions, hardwareFromOptions } from "./common.js";
import { comparisonTable, PUBLISHED_RATIOS } from "./hyper.js";
import { fmtInt, makeOut, parseIntOption, table } from "./output.js";

const MODELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "models");
const DEMO_PRESETS = ["fp32", "int8", "rram"] as const;
/** Test images of the noisy (rram) column. */
const DEMO_NOISY_IMAGES = 200;
/** The demo calibrates activations and ADC ranges on fewer training images than the presets, to stay short. */
const DEMO_CALIBRATION_IMAGES = 128;

/** Shipped weights of a reference network at C=16, L=8, if committed. */
function shippedWeights(dir: string, name: string): string | null {
  const f = join(dir, `${name.toLowerCase()}-c16-l8.safetensors`);
  return existsSync(f) ? f : null;
}

export const DEMO_ARCHITECTURES = ["DARTS_V1", "DARTS_V2", "PDARTS"] as const;
const DEMO_SIZES = [
  [16, 8],
  [36, 20],
] as const;

/** Headline cost of one network on one hardware. */
function headlineOn(net: ReturnType<typeof buildNetwork>, hardware: Hardware) {
  const cost = costNetwork(net, hardware);
  return {
    preset: hardware.config.name,
    platform: cost.platform,
    areaMm2: cost.areaMm2,
    energyUj: cost.energyUj,
    latencyUs: cost.latencyUs,
    powerMw: cost.powerMw,
    arrays: cost.arrays,
  };
}

export function registerDemo(program: Command): void {
  addHardwareOptions(program.command("demo"))
    .description("the search space, and DARTS_V1, DARTS_V2, PDARTS with their crossbar hardware cost")
    .option("--json", "print one JSON object")
    .option("--data <dir>", "CIFAR-10 binary directory (for the accuracy part)")
    .option("--models <dir>", "directory of the shipped weights", MODELS_DIR)
    .option("--limit <n>", "test images for the accuracy part", parseIntOption("limit", 1, 10000), 1000)
    .action((opts: HardwareOptions & { json?: boolean; data?: string; models: string; limit: number }) => {
      const out = makeOut(!!opts.json);
      const hardware = hardwareFromOptions(opts);
      const file = hardware.techFile;
      // The parallel analog platform beside the priced hardware (unless that is already it).
      const analog =
        platformOf(hardware.config) === "parallel-analog" ? null : hardwareOf(loadPreset("analog-chain"));
      const space = {
        genotypeView: genotypeViewCount().toString(),
        edgeCompleteView: edgeCompleteViewCount().toString(),
      };
      const networks = DEMO_ARCHITECTURES.flatMap((name) =>
        DEMO_SIZES.map(([channels, layers]) => {
          const arch = resolveArchitecture(name);
          const net = buildNetwork(arch, { channels, layers });
          return {
            genotype: name,
            code: arch.code,
            channels,
            layers,
            params: countParams(net),
            macs: countMacs(net),
            hardware: headlineOn(net, hardware),
            ...(analog ? { parallelAnalog: headlineOn(net, analog) } : {}),
          };
        }),
      );
      const hypernetwork = VARIANTS.flatMap((variant) =>
        DEMO_SIZES.map(([channels, layers]) => ({
          variant,
          channels,
          layers,
          rows: compareDeployments(
            { channels, layers, variant },
            DEMO_ARCHITECTURES.map((n) => resolveArchitecture(n)),
            hardware,
          ),
        })),
      );
      const accuracy = demoAccuracy(opts, (line) => out.line(line));
      const result = {
        space,
        preset: hardware.config.name,
        tech: file.name,
        hardware: hardware.config,
        networks,
        hypernetwork,
        published: PUBLISHED_RATIOS,
        accuracy,
      };
      out.result(result, () => {
        out.line("memhyper — DARTS search space on memristive crossbars\n");
        out.line(`genotype view:      ${fmtInt(BigInt(space.genotypeView))} architectures`);
        out.line(
          `edge-complete view: ${fmtInt(BigInt(space.edgeCompleteView))} architectures (8^28, the hypernetwork's)\n`,
        );
        out.line(
          table(
            ["genotype", "code", "C", "cells", "params", "MACs"],
            networks.map((n) => [
              n.genotype,
              n.code ?? "",
              n.channels,
              n.layers,
              fmtInt(n.params),
              fmtInt(n.macs),
            ]),
          ),
        );
        const platforms = [hardware, ...(analog ? [analog] : [])];
        out.line(`\nIndividual deployment on ${file.name}, per platform ('memhyper hw report --preset P'):`);
        for (const h of platforms) out.line(`  ${h.config.name}: ${h.config.description}`);
        out.line(
          table(
            [
              "genotype",
              "C",
              "cells",
              "preset",
              "area mm²",
              "energy µJ/img",
              "latency µs",
              "power mW",
              "arrays",
            ],
            networks.flatMap((n) =>
              [n.hardware, ...("parallelAnalog" in n && n.parallelAnalog ? [n.parallelAnalog] : [])].map(
                (c) => [
                  n.genotype,
                  n.channels,
                  n.layers,
                  c.preset,
                  c.areaMm2.toFixed(2),
                  c.energyUj.toFixed(1),
                  c.latencyUs.toFixed(1),
                  c.powerMw.toFixed(2),
                  c.arrays,
                ],
              ),
            ),
          ),
        );
        for (const h of hypernetwork) {
          out.line(
            `\nAll-inclusive hypernetwork, ${h.variant} variant, C=${h.channels} L=${h.layers}, against individual deployment:`,
          );
          out.line(comparisonTable(h.rows));
        }
        out.line(
          `published (${PUBLISHED_RATIOS.source}): power ${PUBLISHED_RATIOS.power}, latency ×${PUBLISHED_RATIOS.latency}, area ×${PUBLISHED_RATIOS.area}; docs/hypernetwork.md explains the differences.`,
        );
        out.line(
          `\nAccuracy on CIFAR-10 (shipped weights, C=16 L=8; first ${opts.limit} test images, rram on the first ${Math.min(opts.limit, DEMO_NOISY_IMAGES)}; calibration on ${DEMO_CALIBRATION_IMAGES} training images):`,
        );
        if ("note" in accuracy) out.line(`  ${accuracy.note}`);
        else
          out.line(
            table(
              ["genotype", ...DEMO_PRESETS],
              accuracy.rows.map((r) => [
                r.genotype,
                ...DEMO_PRESETS.map((p) => (r[p] === null ? "no weights" : `${(100 * r[p]!).toFixed(2)}%`)),
              ]),
            ),
          );
        out.line(
          "A configured hypernetwork computes bit for bit what individual deployment computes ('memhyper hyper verify').",
        );
      });
    });
}

type AccuracyRow = { genotype: string } & Record<(typeof DEMO_PRESETS)[number], number | null>;

/** fp32, int8 and rram accuracy of the shipped networks on the first test images, or why not. */
function demoAccuracy(
  opts: { data?: string; models: string; limit: number },
  progress: (line: string) => void,
):
  | { note: string }
  | { images: number; noisyImages: number; calibrationImages: number; rows: AccuracyRow[] } {
  const dir = resolveDataDir(opts.data);
  if (!datasetPresent(dir))
    return {
      note: `CIFAR-10 not found at ${dir}: point --data (or MEMHYPER_DATA) at cifar-10-batches-bin, or run 'memhyper data fetch'; accuracy skipped.`,
    };
  const withWeights = DEMO_ARCHITECTURES.filter((n) => shippedWeights(opts.models, n));
  if (withWeights.length === 0)
    return {
      note: `no shipped weights in ${opts.models} (models/<name>-c16-l8.safetensors, trained by 'memhyper train'); accuracy skipped.`,
    };
  const test = take(loadSplit(dir, "test"), opts.limit);
  const train = loadSplit(dir, "train");
  const rows = DEMO_ARCHITECTURES.map((name) => {
    const row: AccuracyRow = { genotype: name, fp32: null, int8: null, rram: null };
    const weights = shippedWeights(opts.models, name);
    if (!weights) return row;
    const model = new Model(buildNetwork(resolveArchitecture(name), { channels: 16, layers: 8 }));
    loadModelWeights(model, weights);
    for (const preset of DEMO_PRESETS) {
      const cfg = parseHardwareConfig(
        mergeConfig(loadPreset(preset), { calibration: { images: DEMO_CALIBRATION_IMAGES } }),
      );
      // Noisy devices cost many times an ideal image (a normal draw per read): the demo scores fewer.
      const images = preset === "rram" ? take(test, Math.min(test.count, DEMO_NOISY_IMAGES)) : test;
      row[preset] = hardwareAccuracy(model, cfg, { test: images, train }, { trials: 1, seed: 0 }).accuracy;
      progress(`  ${name} ${preset}: ${(100 * row[preset]!).toFixed(2)}%`);
    }
    return row;
  });
  return {
    images: test.count,
    noisyImages: Math.min(test.count, DEMO_NOISY_IMAGES),
    calibrationImages: DEMO_CALIBRATION_IMAGES,
    rows,
  };
}
