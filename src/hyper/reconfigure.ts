/**
 * Switching the hypernetwork from one architecture to another: the switches whose setting
 * changes, and the arrays to reprogram (write-verify energy and time from the cost model).
 * Arrays of units that become idle are left as they are (power-gated, never read); arrays
 * whose weights are unchanged are not rewritten. Individual deployment instead needs new
 * hardware for the new architecture, programmed in full.
 */

import * as c from "../hw/components.js";
import { type Hardware, platformOf } from "../hw/config.js";
import { costNetwork } from "../hw/cost.js";
import type { LayerCost } from "../hw/designs.js";
import type { Network } from "../ir/graph.js";
import { buildNetwork } from "../ir/network.js";
import type { Architecture } from "../space/architecture.js";
import type { CompiledConfiguration } from "./compiler.js";
import { configuredNetwork } from "./network.js";

export interface SwitchChange {
  readonly name: string;
  readonly from: string | number | null;
  readonly to: string | number | null;
}

/**
 * Periphery registers a configuration sets: `hypernetwork.registerBits` wide, but for the
 * per-channel ones on the parallel analog platform, its neurons' gain and offset trims
 * (`analogChain.trimBits`).
 */
export interface Registers {
  /** A weight layer's per-output-channel scale and offset (batch norm merged in), and a standalone batch norm's. */
  readonly perChannel: number;
  /** A weight layer's input (DAC) scale. */
  readonly perLayer: number;
  /** A calibrated ADC range per array. */
  readonly perArray: number;
  readonly total: number;
}

export interface Reconfiguration {
  readonly from: string;
  readonly to: string;
  /** Shared weights (one programming for every configuration): no array is written. */
  readonly shared: boolean;
  readonly switchChanges: readonly SwitchChange[];
  /** Configuration bits of the changed switches. */
  readonly switchBits: number;
  /** The target configuration's periphery registers, written in either case. */
  readonly registers: Registers;
  /** Switch bits and registers over the configuration bus: energy and time. */
  readonly configurationWriteEnergyUj: number;
  readonly configurationWriteTimeUs: number;
  /** Devices (cells) written. */
  readonly deviceWrites: number;
  /** Weight layers of the target whose arrays are written, by hypernetwork parameter. */
  readonly rewrittenLayers: readonly string[];
  readonly arraysRewritten: number;
  readonly arraysTotal: number;
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
 * Weights: "shared" (the supernet's: every array already holds what any configuration reads,
 * batch norms are registers), or `sameWeights(fromParam, toParam)`, whether the individual
 * weights programmed from the source architecture's `fromParam` equal the target's `toParam`
 * (default: never, as two separately trained networks share no weights).
 */
export function reconfigure(
  from: CompiledConfiguration,
  to: CompiledConfiguration,
  toArch: Architecture,
  hw: Hardware,
  weights: "shared" | ((fromParam: string, toParam: string) => boolean) = () => false,
): Reconfiguration {
  const shared = weights === "shared";
  const before = new Map(from.switches.map((s) => [s.name, s.value]));
  const after = new Map(to.switches.map((s) => [s.name, s]));
  const switchChanges: SwitchChange[] = [];
  let switchBits = 0;
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(name) ?? null;
    const b = after.get(name) ?? null;
    if (a !== (b?.value ?? null)) {
      switchChanges.push({ name, from: a, to: b?.value ?? null });
      switchBits += b?.bits ?? 0; // a switch of a unit that is gone keeps its bits (power-gated)
    }
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
    // Shared weights: every unit was programmed once, whether the source used it or not.
    if (shared || (prev !== undefined && weights(prev, step.source))) continue;
    const layer = byParam.get(step.target);
    if (!layer) continue; // a batch norm: folded into its convolution's arrays and bias
    rewrittenLayers.push(step.target);
    arrays += layer.arrays;
    cells += layer.usedCells;
  }
  const ind = costNetwork(buildNetwork(toArch, to.hardware.spec), hw);
  const rowsTimeUs = (hw.config.tile * c.programRowNs(hw.tech)) / 1000; // arrays in parallel, row by row
  const registers = configurationRegisters(
    buildNetwork(toArch, { ...to.hardware.spec, poolBatchNorm: shared }),
    hw.config.adc.bits !== null && hw.config.adc.range === "calibrated" ? cost.arrays : 0,
  );
  const { registerBits } = hw.config.hypernetwork;
  const channelBits =
    platformOf(hw.config) === "parallel-analog" ? hw.config.analogChain.trimBits : registerBits;
  const bits =
    switchBits +
    registers.perChannel * channelBits +
    (registers.perLayer + registers.perArray) * registerBits;
  return {
    from: from.label,
    to: to.label,
    shared,
    switchBits,
    registers,
    configurationWriteEnergyUj: (bits * hw.tech.buffer.writeEnergyPerBit) / 1e6,
    configurationWriteTimeUs:
      (Math.ceil(bits / hw.config.hypernetwork.configurationBusBits) * c.cycleNs(hw.tech)) / 1000,
    deviceWrites: cells,
    switchChanges,
    rewrittenLayers,
    arraysRewritten: arrays,
    arraysTotal: cost.arrays,
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

/**
 * The registers a network's configuration sets: per output channel of a weight layer its scale
 * and offset (a batch norm reading only that layer merges into them), per channel of any other
 * batch norm (after a pooling op or a concatenation) its own scale and offset, per weight layer
 * its input scale, and per array a calibrated ADC range.
 */
export function configurationRegisters(net: Network, arraysWithAdcRange: number): Registers {
  let perChannel = 0;
  let perLayer = 0;
  for (const n of net.nodes) {
    if (n.kind === "conv" || n.kind === "linear") {
      perChannel += 2 * (n.kind === "conv" ? n.outC : n.outF);
      perLayer++;
    }
    if (n.kind === "bn" && net.nodes[n.input]!.kind !== "conv") perChannel += 2 * n.shape.c;
  }
  return {
    perChannel,
    perLayer,
    perArray: arraysWithAdcRange,
    total: perChannel + perLayer + arraysWithAdcRange,
  };
}
