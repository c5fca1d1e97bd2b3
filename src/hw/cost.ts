/**
 * The cost of an individual deployment (hardware built for one architecture): area,
 * energy and latency of one image, throughput, power, arrays and utilisation, broken
 * down by component kind and by op kind.
 */
import type { IrNode, Network } from "../ir/graph.js";
import { nodeInputs } from "../ir/graph.js";
import * as c from "./components.js";
import type { Deployment } from "./deployment.js";
import {
  type ByComponent,
  COMPONENT_KINDS,
  type ComponentKind,
  costNode,
  type DESIGNS,
  type DesignContext,
  type LayerCost,
  totalOf,
  zeroByComponent,
} from "./designs.js";
import type { Tech } from "./tech.js";

export interface CostReport {
  readonly areaMm2: number;
  readonly energyUj: number;
  readonly latencyUs: number;
  /** Images per second with every layer on its own hardware, pipelined. */
  readonly throughputImgPerSec: number;
  readonly powerMw: number;
  readonly leakageMw: number;
  readonly arrays: number;
  readonly utilisation: number;
  readonly adcs: number;
  readonly conversionsPerImage: number;
  readonly programming: { readonly cells: number; readonly energyUj: number; readonly timeUs: number };
  readonly breakdown: {
    readonly energyUjByComponent: Record<ComponentKind, number>;
    readonly areaMm2ByComponent: Record<ComponentKind, number>;
    readonly energyUjByOp: Record<string, number>;
    readonly areaMm2ByOp: Record<string, number>;
    readonly arraysByOp: Record<string, number>;
  };
  readonly layers?: LayerCost[];
}

export interface CostOptions {
  readonly activationBits?: number;
  readonly perLayer?: boolean;
  readonly designs?: typeof DESIGNS;
}

export function costNetwork(net: Network, tech: Tech, dep: Deployment, opts: CostOptions = {}): CostReport {
  const ctx: DesignContext = { tech, dep, net, activationBits: opts.activationBits ?? dep.inputBits };
  const nodes = net.nodes.filter((n) => n.scope.part !== "aux");
  const layers = nodes.map((n) => costNode(n, ctx, opts.designs));

  const energy = zeroByComponent();
  const area = zeroByComponent();
  const energyByOp: Record<string, number> = {};
  const areaByOp: Record<string, number> = {};
  const arraysByOp: Record<string, number> = {};
  let arrays = 0;
  let usedCells = 0;
  let adcs = 0;
  let conversions = 0;
  let bufferBits = 0;
  for (const l of layers) {
    for (const k of COMPONENT_KINDS) {
      energy[k] += l.energyPj[k];
      area[k] += l.areaUm2[k];
    }
    const e = totalOf(l.energyPj);
    const a = totalOf(l.areaUm2);
    energyByOp[l.op] = (energyByOp[l.op] ?? 0) + e;
    areaByOp[l.op] = (areaByOp[l.op] ?? 0) + a;
    if (l.arrays) arraysByOp[l.op] = (arraysByOp[l.op] ?? 0) + l.arrays;
    arrays += l.arrays;
    usedCells += l.usedCells;
    adcs += l.adcs;
    conversions += l.conversions;
    bufferBits += l.bufferBits;
  }
  addRouting(energy, area, movedElements(nodes) * ctx.activationBits, tech);
  energyByOp.routing = energy.routing;
  areaByOp.routing = area.routing;

  const latencyNs = criticalPathNs(nodes, layers, net.logits);
  let slowest = 0;
  for (const l of layers) slowest = Math.max(slowest, l.latencyNs);
  const cellsProgrammed = usedCells;
  const maxRows = dep.tile; // arrays are programmed in parallel, row by row
  const report: CostReport = {
    ...headline(energy, area, latencyNs, bufferBits, tech),
    throughputImgPerSec: 1e9 / slowest,
    arrays,
    utilisation: arrays ? usedCells / (arrays * dep.tile * dep.tile) : 0,
    adcs,
    conversionsPerImage: conversions,
    programming: {
      cells: cellsProgrammed,
      energyUj: (cellsProgrammed * c.programEnergyPj(tech)) / 1e6,
      timeUs: (maxRows * c.programRowNs(tech)) / 1000,
    },
    breakdown: {
      energyUjByComponent: mapValues(energy, (v) => v / 1e6),
      areaMm2ByComponent: mapValues(area, (v) => v / 1e6),
      energyUjByOp: mapValues(energyByOp, (v) => v / 1e6),
      areaMm2ByOp: mapValues(areaByOp, (v) => v / 1e6),
      arraysByOp,
    },
  };
  return opts.perLayer ? { ...report, layers } : report;
}

/** Activation values every node hands on (constant zeros move nothing). */
export function movedElements(nodes: readonly IrNode[]): number {
  let n = 0;
  for (const node of nodes) if (node.kind !== "zeros") n += node.shape.c * node.shape.h * node.shape.w;
  return n;
}

/** Global routing: an area share of the tiles, and every activation bit moved about half the chip's side. */
export function addRouting(energy: ByComponent, area: ByComponent, movedBits: number, tech: Tech): void {
  area.routing = 0;
  area.routing = totalOf(area) * tech.routing.areaFactor;
  energy.routing = routingEnergyPj(movedBits, totalOf(area), tech);
}

/** Energy of moving activation bits about half the side of a chip of `areaUm2`. */
export function routingEnergyPj(movedBits: number, areaUm2: number, tech: Tech): number {
  return movedBits * tech.routing.energyPerBitMm * (Math.sqrt(areaUm2 / 1e6) / 2);
}

/** Area, energy, latency and power of one image (power = energy/latency + leakage; pJ/ns = mW). */
export function headline(
  energy: ByComponent,
  area: ByComponent,
  latencyNs: number,
  bufferBits: number,
  tech: Tech,
) {
  const energyPj = totalOf(energy);
  const leakageMw = (bufferBits * tech.buffer.leakagePerBit) / 1000;
  return {
    areaMm2: totalOf(area) / 1e6,
    energyUj: energyPj / 1e6,
    latencyUs: latencyNs / 1000,
    powerMw: energyPj / latencyNs + leakageMw,
    leakageMw,
  };
}

/**
 * Latency of one image: when the logits are ready, along the longest path through the
 * graph (branches run in parallel; work whose result is never used does not delay them).
 */
function criticalPathNs(nodes: readonly IrNode[], layers: readonly LayerCost[], output: number): number {
  const finish = new Float64Array(nodes.length === 0 ? 0 : nodes[nodes.length - 1]!.id + 1);
  layers.forEach((l, i) => {
    let start = 0;
    for (const j of nodeInputs(nodes[i]!)) start = Math.max(start, finish[j]!);
    finish[l.node] = start + l.latencyNs;
  });
  return finish[output]!;
}

function mapValues<K extends string>(o: Record<K, number>, f: (v: number) => number): Record<K, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as number)])) as Record<K, number>;
}
