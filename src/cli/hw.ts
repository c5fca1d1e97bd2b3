/** `memhyper hw report` and `memhyper hw sweep`: the cost model. */
import type { Command } from "commander";
import { costNetwork } from "../hw/cost.js";
import {
  histogramSvg,
  SWEEP_LABELS,
  SWEEP_METRICS,
  type SweepMetric,
  sweep,
  sweepResult,
} from "../hw/sweep.js";
import { buildNetwork } from "../ir/network.js";
import { concatValues } from "../queue/tasks.js";
import { resolveArchitecture } from "../space/architecture.js";
import { writeFileAtomic } from "../util/atomic.js";
import {
  addHardwareOptions,
  addNetSourceOptions,
  type HardwareOptions,
  hardwareFromOptions,
  type NetSourceOptions,
  resolveNetSource,
} from "./common.js";
import { makeOut, parseIntOption, table, UsageError } from "./output.js";
import { addRedisOption, chunks, onQueue, SWEEP_CHUNK } from "./queue.js";

const f = (x: number, d = 3) => (Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(d));

export function registerHw(program: Command): void {
  const hw = program
    .command("hw")
    .description("hardware cost of crossbar deployments: area, energy, latency, power");
  addHardwareOptions(
    addNetSourceOptions(
      hw
        .command("report")
        .description(
          "cost of an individual deployment (hardware built for one architecture or network file)",
        ),
    ),
  )
    .option("--per-layer", "include every layer", false)
    .action((o: NetSourceOptions & HardwareOptions & { perLayer: boolean }) => {
      const out = makeOut(!!o.json);
      const source = resolveNetSource(o);
      const hardware = hardwareFromOptions(o);
      const file = hardware.techFile;
      const r = costNetwork(source.network, hardware, { perLayer: o.perLayer });
      out.result(
        {
          ...source.describe,
          preset: hardware.config.name,
          tech: file.name,
          hardware: hardware.config,
          ...r,
        },
        () => {
          const size = source.file ? "" : ` C=${o.channels} L=${o.layers}`;
          out.line(
            `${source.label}${size}: ${hardware.config.name} (${r.platform}) on ${file.name} (${file.node.value} nm)`,
          );
          if (r.analog)
            out.line(
              `cycle ${f(r.analog.cycleNs)} ns (slowest stage), ${r.analog.streamCycles} stream + ${r.analog.fillCycles} fill cycles, ${r.analog.amplifiers} analog neurons, ${r.adcs} ADCs, ${r.dacs} DACs`,
            );
          out.line(
            table(
              [
                "area mm²",
                "energy µJ/img",
                "latency µs/img",
                "throughput img/s",
                "power mW",
                "TOPS",
                "TOPS/W",
                "arrays",
                "utilisation",
              ],
              [
                [
                  f(r.areaMm2),
                  f(r.energyUj),
                  f(r.latencyUs),
                  f(r.throughputImgPerSec),
                  f(r.powerMw),
                  f(r.tops),
                  f(r.topsPerWatt),
                  r.arrays,
                  `${(100 * r.utilisation).toFixed(1)}%`,
                ],
              ],
            ),
          );
          const b = r.breakdown;
          out.line(
            table(
              ["component", "energy µJ", "area mm²"],
              Object.keys(b.energyUjByComponent).map((k) => [
                k,
                f(b.energyUjByComponent[k as keyof typeof b.energyUjByComponent]),
                f(b.areaMm2ByComponent[k as keyof typeof b.areaMm2ByComponent]),
              ]),
            ),
          );
          out.line(
            table(
              ["op", "energy µJ", "area mm²", "arrays"],
              Object.keys(b.energyUjByOp).map((k) => [
                k,
                f(b.energyUjByOp[k]!),
                f(b.areaMm2ByOp[k] ?? 0),
                b.arraysByOp[k] ?? 0,
              ]),
            ),
          );
          out.line(
            `programming all ${r.programming.cells} devices: ${f(r.programming.energyUj)} µJ, ${f(r.programming.timeUs)} µs`,
          );
          if (r.layers)
            out.line(
              table(
                ["layer", "kind", "arrays", "utilisation", "energy pJ", "latency ns"],
                r.layers
                  .filter((l) => l.arrays || l.latencyNs)
                  .map((l) => [
                    l.scope,
                    l.kind,
                    l.arrays,
                    l.arrays
                      ? `${((100 * l.usedCells) / (l.arrays * hardware.config.tile ** 2)).toFixed(1)}%`
                      : "",
                    f(Object.values(l.energyPj).reduce((a, v) => a + v, 0)),
                    f(l.latencyNs),
                  ]),
              ),
            );
        },
      );
    });

  addRedisOption(addHardwareOptions(hw.command("sweep")))
    .description("cost distribution over random architectures of the space")
    .requiredOption("--samples <n>", "number of architectures", parseIntOption("samples", 1, 10_000_000))
    .requiredOption("--seed <n>", "seed", parseIntOption("seed", 0, 2 ** 32 - 1))
    .option("--channels <C>", "initial channels", parseIntOption("channels", 2, 4096), 16)
    .option("--layers <L>", "cells", parseIntOption("layers", 3, 1000), 8)
    .option("--view <view>", "edge | genotype", "edge")
    .option("--svg <file>", "write histograms as SVG")
    .option("--json", "print one JSON object")
    .action(
      async (
        o: HardwareOptions & {
          samples: number;
          seed: number;
          channels: number;
          layers: number;
          view: string;
          svg?: string;
          json?: boolean;
          redis?: string;
        },
      ) => {
        if (o.view !== "edge" && o.view !== "genotype")
          throw new UsageError(`--view must be 'edge' or 'genotype', got '${o.view}'`);
        const out = makeOut(!!o.json);
        const hardware = hardwareFromOptions(o);
        const file = hardware.techFile;
        const t0 = performance.now();
        const view = o.view;
        const r = o.redis
          ? sweepResult(
              o.samples,
              o.seed,
              view,
              concatValues(
                SWEEP_METRICS,
                await onQueue<Record<SweepMetric, number[]>>(
                  o.redis,
                  chunks(o.samples, SWEEP_CHUNK).map(([from, to]) => ({
                    kind: "hw-sweep" as const,
                    from,
                    to,
                    seed: o.seed,
                    view,
                    channels: o.channels,
                    layers: o.layers,
                    config: hardware.config,
                  })),
                  !!o.json,
                ),
              ),
            )
          : sweep(o.samples, o.seed, view, o.channels, o.layers, hardware);
        const seconds = (performance.now() - t0) / 1000;
        if (o.svg) {
          const marks = ["DARTS_V1", "DARTS_V2", "PDARTS"].map((g) => {
            const c = costNetwork(
              buildNetwork(resolveArchitecture(g), { channels: o.channels, layers: o.layers }),
              hardware,
            );
            return {
              label: g,
              values: {
                areaMm2: c.areaMm2,
                energyUj: c.energyUj,
                latencyUs: c.latencyUs,
                powerMw: c.powerMw,
              },
            };
          });
          writeFileAtomic(
            o.svg,
            histogramSvg(
              r.values,
              SWEEP_LABELS,
              `${o.samples} random ${o.view}-view architectures, C=${o.channels} L=${o.layers}, ${hardware.config.name} on ${file.name}`,
              marks,
            ),
          );
        }
        out.result(
          {
            samples: r.samples,
            seed: r.seed,
            view: r.view,
            channels: o.channels,
            cells: o.layers,
            preset: hardware.config.name,
            tech: file.name,
            hardware: hardware.config,
            seconds,
            metrics: r.metrics,
          },
          () => {
            out.line(
              `${r.samples} ${r.view}-view architectures, C=${o.channels} L=${o.layers}, ${hardware.config.name} on ${file.name}, ${seconds.toFixed(1)} s`,
            );
            out.line(
              table(
                ["metric", "min", "p10", "median", "p90", "max"],
                SWEEP_METRICS.map((m) => [
                  m,
                  f(r.metrics[m].min),
                  f(r.metrics[m].p10),
                  f(r.metrics[m].median),
                  f(r.metrics[m].p90),
                  f(r.metrics[m].max),
                ]),
              ),
            );
            if (o.svg) out.line(`histograms written to ${o.svg}`);
          },
        );
      },
    );
}
