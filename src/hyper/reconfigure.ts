/**
 * Switching the hypernetwork from one architecture to another: the switches whose setting
 * changes, and the arrays to reprogram (write-verify energy and time from the cost model).
 * Arrays of units that become idle are left as they are (power-gated, never read); arrays
 * whose weights are unchanged are not rewritten. Individual deployment instead needs new
 * hardware for the new architecture, programmed in full.
 */

import * as c from "../hw/components.js";
import type { Hardware } from "../hw/config.js";
import { costNetwork } from "../hw/cost.js";
import type { LayerCost } from "../hw/designs.js";
import { buildNetwork } from "../ir/network.js";
import type { Architecture } from "../space/architecture.js";
import type { CompiledConfiguration } from "./compiler.js";
import { configuredNetwork } from "./network.js";

export interface SwitchChange {
  readonly name: string;
  readonly from: string | number | null;
  readonly to: string | number | null;
}

export interface Reconfiguration {
  readonly from: string;
  readonly to: string;
  readonly switchChanges: readonly SwitchChange[];
  /** Weight layers of the target whose arrays are written, by hypernetwork parameter. */
  readonly rewrittenLayers: readonly string[];
  readonly arraysRewritten: number;
  readonly arraysTotal: number;
  readonly cellsWritten: number;
  readonly writeEnergyUj: number;
  readonly writeTimeUs: number;
  readonly individual: {
    readonly newHardwareAreaMm2: number;
    readonly arrays: number;
    readonly cellsWritten: number;
    readonly writeEnergyUj: number;
    readonly writeTimeUs: number;
  };
}

/**
 * `sameWeights(fromParam, toParam)` says whether the individual weights programmed from the
 * source architecture's `fromParam` equal the target's `toParam` (default: never, as two
 * separately trained networks share no weights).
 */
export function reconfigure(
  from: CompiledConfiguration,
  to: CompiledConfiguration,
  toArch: Architecture,
  hw: Hardware,
  sameWeights: (fromParam: string, toParam: string) => boolean = () => false,
): Reconfiguration {
  const before = new Map(from.switches.map((s) => [s.name, s.value]));
  const after = new Map(to.switches.map((s) => [s.name, s.value]));
  const switchChanges: SwitchChange[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(name) ?? null;
    const b = after.get(name) ?? null;
    if (a !== b) switchChanges.push({ name, from: a, to: b });
  }
  const held = new Map(from.plan.map((s) => [s.target, s.source]));
  const net = configuredNetwork(to);
  const cost = costNetwork(net, hw, { perLayer: true });
  // Weight layers' costs by parameter prefix (batch norms are folded into them).
  const byParam = new Map<string, LayerCost>();
  for (const l of cost.layers!) {
    const n = net.nodes[l.node]!;
    if (n.kind === "conv" || n.kind === "linear") byParam.set(n.param, l);
  }
  const rewrittenLayers: string[] = [];
  let arrays = 0;
  let cells = 0;
  for (const step of to.plan) {
    const prev = held.get(step.target);
    if (prev !== undefined && sameWeights(prev, step.source)) continue;
    const layer = byParam.get(step.target);
    if (!layer) continue; // a batch norm: folded into its convolution's arrays and bias
    rewrittenLayers.push(step.target);
    arrays += layer.arrays;
    cells += layer.usedCells;
  }
  const ind = costNetwork(buildNetwork(toArch, to.hardware.spec), hw);
  const rowsTimeUs = (hw.config.tile * c.programRowNs(hw.tech)) / 1000; // arrays in parallel, row by row
  return {
    from: from.label,
    to: to.label,
    switchChanges,
    rewrittenLayers,
    arraysRewritten: arrays,
    arraysTotal: cost.arrays,
    cellsWritten: cells,
    writeEnergyUj: (cells * c.programEnergyPj(hw.tech, hw.config.conductance)) / 1e6,
    writeTimeUs: arrays ? rowsTimeUs : 0,
    individual: {
      newHardwareAreaMm2: ind.areaMm2,
      arrays: ind.arrays,
      cellsWritten: ind.programming.cells,
      writeEnergyUj: ind.programming.energyUj,
      writeTimeUs: ind.programming.timeUs,
    },
  };
}
