/**
 * The hypernetwork's cost ratios to individual deployment over random configurations of the
 * space: each configuration compiled onto the hypernetwork and costed on its configured path
 * (`hyperCost`), against the same configuration's own network (the whole-space evaluator,
 * tested equal to costing its IR). The hardware's area is costed once.
 */
import type { Hardware } from "../hw/config.js";
import { SpaceCostModel } from "../hw/space-cost.js";
import { architectureFromConfiguration } from "../space/architecture.js";
import { genotypeToConfiguration } from "../space/genotype.js";
import { type SpaceView, sampleConfiguration, sampleGenotype } from "../space/sample.js";
import { Rng } from "../util/rng.js";
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
  if (spec.variant === "node" && view === "edge")
    throw new Error(
      "the node variant holds the genotype view only (two inputs per node): use --view genotype, or --variant edge for the edge-complete view",
    );
  const rng = new Rng(seed);
  const individual = new SpaceCostModel(spec.channels, spec.layers, hw);
  const values = Object.fromEntries(RATIO_METRICS.map((m) => [m, [] as number[]])) as Record<
    RatioMetric,
    number[]
  >;
  let hardware: ReturnType<typeof hardwareCost> | null = null;
  for (let i = 0; i < n; i++) {
    const config =
      view === "genotype" ? genotypeToConfiguration(sampleGenotype(rng)) : sampleConfiguration(rng);
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
