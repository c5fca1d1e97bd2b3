/**
 * What the search scores: an architecture's accuracy on the supernet's shared weights (float,
 * its batch norm recalibrated, on a validation split held out of the training set) and its
 * cost on the hypernetwork under a preset: the configured hypernetwork's latency or energy
 * per image, or the area the architecture alone would need (individual deployment; the
 * hypernetwork's own area is the same for every configuration).
 */
import { type Split, slice, take } from "../data/cifar10.js";
import { readWeightFile } from "../engine/safetensors.js";
import type { Hardware } from "../hw/config.js";
import { SpaceCostModel } from "../hw/space-cost.js";
import { compileConfiguration } from "../hyper/compiler.js";
import { hardwareCost, hyperCost } from "../hyper/cost.js";
import { type HyperSpec, hyperHardware } from "../hyper/hardware.js";
import { architectureFromConfiguration } from "../space/architecture.js";
import type { Configuration } from "../space/cell.js";
import { Supernet, supernetAccuracy } from "../train/supernet.js";
import { COST_OBJECTIVES, type CostObjective } from "./cost-units.js";

export { COST_OBJECTIVES, COST_UNITS, type CostObjective } from "./cost-units.js";

export class ObjectiveError extends Error {
  override name = "ObjectiveError";
}

/** "accuracy,latency" → "latency": accuracy and one cost, in either order. */
export function parseObjective(text: string): CostObjective {
  const parts = text.split(",").map((s) => s.trim());
  const costs = parts.filter((p) => p !== "accuracy");
  if (parts.length !== 2 || costs.length !== 1 || !COST_OBJECTIVES.includes(costs[0] as CostObjective))
    throw new ObjectiveError(
      `--objective must be accuracy and one of ${COST_OBJECTIVES.join(", ")} (e.g. accuracy,latency), got '${text}'`,
    );
  return costs[0] as CostObjective;
}

/** An architecture's cost on the hypernetwork under one preset. */
export class CostEvaluator {
  private readonly individual: SpaceCostModel;
  private readonly hardware;

  constructor(
    private readonly spec: HyperSpec,
    private readonly hw: Hardware,
    readonly objective: CostObjective,
  ) {
    this.individual = new SpaceCostModel(spec.channels, spec.layers, hw);
    this.hardware = hardwareCost(hyperHardware(spec), hw);
  }

  cost(config: Configuration): number {
    if (this.objective === "area") return this.individual.evaluate(config).areaMm2;
    const h = hyperCost(
      compileConfiguration(this.spec, architectureFromConfiguration(config)),
      this.hw,
      this.hardware,
    );
    return this.objective === "latency" ? h.latencyUs : h.energyUj;
  }
}

/** Accuracy of an architecture on the shared weights: batch norm recalibrated, then scored on `validation`. */
export function supernetScore(net: Supernet, recalibration: Split, validation: Split) {
  return (config: Configuration): number =>
    supernetAccuracy(net, architectureFromConfiguration(config), recalibration, validation);
}

/** Everything that fixes how an architecture is scored (the same on the enqueuing machine and a worker). */
export interface ScoreSetup {
  readonly weights: string;
  readonly channels: number;
  readonly layers: number;
  /** The last N training images, held out when the supernet was trained. */
  readonly validation: number;
  /** Score on the first N validation images only (null: all). */
  readonly scoreImages: number | null;
  /** First N training images that recalibrate batch norm. */
  readonly recalibrate: number;
  readonly objective: CostObjective;
}

export interface ArchitectureScorer {
  score(c: Configuration): { accuracy: number; cost: number };
  readonly validationImages: number;
  readonly recalibrationImages: number;
}

export function architectureScorer(s: ScoreSetup, hw: Hardware, train: Split): ArchitectureScorer {
  if (s.validation >= train.count)
    throw new ObjectiveError(
      `--validation ${s.validation} leaves no training images (the training set has ${train.count})`,
    );
  const net = new Supernet(s.channels, s.layers, false, 0);
  net.restore(readWeightFile(s.weights), s.weights);
  const held = slice(train, train.count - s.validation, train.count);
  const validation = s.scoreImages ? take(held, Math.min(s.scoreImages, held.count)) : held;
  const recalibration = take(train, Math.min(s.recalibrate, train.count - s.validation));
  const accuracy = supernetScore(net, recalibration, validation);
  const costs = new CostEvaluator(
    { channels: s.channels, layers: s.layers, variant: "edge" },
    hw,
    s.objective,
  );
  return {
    score: (c) => ({ accuracy: accuracy(c), cost: costs.cost(c) }),
    validationImages: validation.count,
    recalibrationImages: recalibration.count,
  };
}
