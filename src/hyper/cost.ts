/**
 * What the hypernetwork costs, and its ratios to individual deployment. Area is the whole
 * hardware (every unit of every slot, every MUX); energy, latency and power are those of the
 * configured path: only powered units spend dynamic energy (power gating: idle units neither
 * switch nor leak), every activation crosses its MUXes (their energy and delay are on the
 * path), and activations travel across the larger chip.
 */
import type { Hardware } from "../hw/config.js";
import {
  type CostReport,
  costNetwork,
  inferenceNodes,
  movedElements,
  routedBitsPerValue,
  routingEnergyPj,
} from "../hw/cost.js";
import { buildNetwork } from "../ir/network.js";
import type { Architecture } from "../space/architecture.js";
import { type CompiledConfiguration, compileConfiguration } from "./compiler.js";
import type { HyperHardware, HyperSpec } from "./hardware.js";
import { configuredNetwork, fullNetwork } from "./network.js";

export interface HeadlineCost {
  readonly areaMm2: number;
  readonly energyUj: number;
  readonly latencyUs: number;
  readonly powerMw: number;
  readonly arrays: number;
}

export interface HyperComparison {
  readonly genotype: string;
  readonly code: string | null;
  readonly individual: HeadlineCost;
  readonly hyper: HeadlineCost & { readonly activeArrays: number };
  readonly areaRatio: number;
  readonly powerRatio: number;
  readonly latencyRatio: number;
  readonly energyRatio: number;
}

const headlineOf = (r: CostReport): HeadlineCost => ({
  areaMm2: r.areaMm2,
  energyUj: r.energyUj,
  latencyUs: r.latencyUs,
  powerMw: r.powerMw,
  arrays: r.arrays,
});

/** The area side of a hypernetwork: costed once per hardware (it does not depend on the configuration). */
export function hardwareCost(h: HyperHardware, hw: Hardware): CostReport {
  return costNetwork(fullNetwork(h), hw);
}

export function hyperCost(
  c: CompiledConfiguration,
  hw: Hardware,
  hardware: CostReport = hardwareCost(c.hardware, hw),
): HeadlineCost & { readonly activeArrays: number } {
  const net = configuredNetwork(c);
  const active = costNetwork(net, hw);
  const movedBits = movedElements(inferenceNodes(net)) * routedBitsPerValue(hw.config, hw.config.inputBits);
  const routingPj = routingEnergyPj(movedBits, hardware.areaMm2 * 1e6, hw.tech);
  const energyUj = active.energyUj - active.breakdown.energyUjByComponent.routing + routingPj / 1e6;
  return {
    areaMm2: hardware.areaMm2,
    energyUj,
    latencyUs: active.latencyUs,
    powerMw: (energyUj * 1e6) / (active.latencyUs * 1e3) + active.leakageMw,
    arrays: hardware.arrays,
    activeArrays: active.arrays,
  };
}

/** Individual deployment against the hypernetwork for each architecture. */
export function compareDeployments(
  spec: HyperSpec,
  archs: readonly Architecture[],
  hw: Hardware,
): HyperComparison[] {
  let hardware: CostReport | null = null;
  return archs.map((arch) => {
    const c = compileConfiguration(spec, arch);
    hardware ??= hardwareCost(c.hardware, hw);
    const individual = headlineOf(
      costNetwork(buildNetwork(arch, { channels: spec.channels, layers: spec.layers }), hw),
    );
    const hyper = hyperCost(c, hw, hardware);
    return {
      genotype: arch.label,
      code: c.code,
      individual,
      hyper,
      areaRatio: hyper.areaMm2 / individual.areaMm2,
      powerRatio: hyper.powerMw / individual.powerMw,
      latencyRatio: hyper.latencyUs / individual.latencyUs,
      energyRatio: hyper.energyUj / individual.energyUj,
    };
  });
}
