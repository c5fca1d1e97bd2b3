/**
 * The hypernetwork's cost ratios to individual deployment over random configurations of the
 * space: each configuration compiled onto the hypernetwork and costed on its configured path
 * (`hyperCost`), against the same configuration's own network (the whole-space evaluator,
 * tested equal to costing its IR). The hardware's area is costed once.
 */
import type { Hardware } from "../hw/config.js";
import { SpaceCostModel } from "../hw/space-cost.js";
import { sampleSequence } from "../hw/sweep.js";
import { architectureFromConfiguration } from "../space/architecture.js";
import type { SpaceView } from "../space/sample.js";
import { quantile, type Summary, summarise } from "../util/stats.js";
import { compileConfiguration } from "./compiler.js";
import { hardwareCost, hyperCost } from "./cost.js";
import type { HyperSpec } from "./hardware.js";

export const RATIO_METRICS = ["areaRatio", "powerRatio", "latencyRatio", "energyRatio"] as const;
export type RatioMetric = (typeof RATIO_METRICS)[number];

export const RATIO_LABELS: Record<RatioMetric, string> = {
  areaRatio: "area × (hypernetwork / individual)",
  powerRatio: "power ×",
  latencyRatio: "latency ×",
  energyRatio: "energy ×",
};

export interface RatioSweep {
  readonly samples: number;
  readonly seed: number;
  readonly view: SpaceView;
  readonly spec: HyperSpec;
  readonly metrics: Record<RatioMetric, Summary & { readonly p99: number }>;
  readonly values: Record<RatioMetric, number[]>;
}

export function hyperSweep(
  spec: HyperSpec,
  n: number,
  seed: number,
  view: SpaceView,
  hw: Hardware,
  onSample?: (i: number) => void,
): RatioSweep {
  return ratioSweepResult(spec, n, seed, view, ratioValues(spec, 0, n, seed, view, hw, onSample));
}

/** The ratios of samples from … to − 1 of the seed's sequence (the same whoever computes which part). */
export function ratioValues(
  spec: HyperSpec,
  from: number,
  to: number,
  seed: number,
  view: SpaceView,
  hw: Hardware,
  onSample?: (i: number) => void,
): Record<RatioMetric, number[]> {
  if (spec.variant === "node" && view === "edge")
    throw new Error(
      "the node variant holds the genotype view only (two inputs per node): use --view genotype, or --variant edge for the edge-complete view",
    );
  const individual = new SpaceCostModel(spec.channels, spec.layers, hw);
  const values = Object.fromEntries(RATIO_METRICS.map((m) => [m, [] as number[]])) as Record<
    RatioMetric,
    number[]
  >;
  let hardware: ReturnType<typeof hardwareCost> | null = null;
  for (const [i, config] of sampleSequence(seed, view, to)) {
    if (i < from) continue;
    const c = compileConfiguration(spec, architectureFromConfiguration(config));
    hardware ??= hardwareCost(c.hardware, hw);
    const h = hyperCost(c, hw, hardware);
    const own = individual.evaluate(config);
    values.areaRatio.push(h.areaMm2 / own.areaMm2);
    values.powerRatio.push(h.powerMw / own.powerMw);
    values.latencyRatio.push(h.latencyUs / own.latencyUs);
    values.energyRatio.push(h.energyUj / own.energyUj);
    onSample?.(i);
  }
  return values;
}

/** The summary of a ratio sweep's values (local, or merged from a queue's jobs). */
export function ratioSweepResult(
  spec: HyperSpec,
  n: number,
  seed: number,
  view: SpaceView,
  values: Record<RatioMetric, number[]>,
): RatioSweep {
  const metrics = Object.fromEntries(
    RATIO_METRICS.map((m) => [
      m,
      {
        ...summarise(values[m]),
        p99: quantile(
          [...values[m]].sort((a, b) => a - b),
          0.99,
        ),
      },
    ]),
  ) as RatioSweep["metrics"];
  return { samples: n, seed, view, spec, metrics, values };
}
