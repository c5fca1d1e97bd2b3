/**
 * What the hypernetwork costs, and its ratios to individual deployment. Area is the whole
 * hardware (every unit of every slot, every MUX); energy, latency and power are those of the
 * configured path: only powered units spend dynamic energy (power gating: idle units neither
 * switch nor leak), every activation crosses its MUXes (their energy and delay are on the
 * path), and activations travel across the larger chip.
 */
import type { Hardware } from "../hw/config.js";
import {
  type CostOptions,
  type CostReport,
  costNetwork,
  inferenceNodes,
  movedElements,
  type PeripheryPools,
  type PoolSeat,
  routedBitsPerValue,
  routingEnergyPj,
} from "../hw/cost.js";
import type { ByComponent } from "../hw/designs.js";
import type { IrNode, Network } from "../ir/graph.js";
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
  /** Images per second with the layers pipelined over images (the busiest stage or pool entry). */
  readonly throughputImgPerSec: number;
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
  readonly throughputRatio: number;
  /** Area by component on each side (mm²): where the hypernetwork's extra area goes. */
  readonly areaMm2ByComponent: { readonly individual: ByComponent; readonly hyper: ByComponent };
}

const headlineOf = (r: CostReport): HeadlineCost => ({
  areaMm2: r.areaMm2,
  energyUj: r.energyUj,
  latencyUs: r.latencyUs,
  powerMw: r.powerMw,
  arrays: r.arrays,
  throughputImgPerSec: r.throughputImgPerSec,
});

/** The area side of a hypernetwork: costed once per hardware (it does not depend on the configuration). */
export function hardwareCost(h: HyperHardware, hw: Hardware): CostReport {
  return costNetwork(fullNetwork(h), hw, poolOptions(h, hw));
}

const SLOT_PATH = /^cells\.(\d+)\.slots\.(\d+)$/;
const EDGE_PATH = /^cells\.(\d+)\._ops\.(\d+)$/;
const POOLED_KINDS = new Set<IrNode["kind"]>(["conv", "maxpool", "avgpool"]);

/**
 * Which pool a unit's layer draws from: units of one cell doing the same job (the same layer of
 * the same unit kind, with the same output shape: the periphery sits on the output side, so a
 * strided unit and an unstrided one share it) share one; null for everything else.
 */
function poolMember(node: IrNode): PoolMember | null {
  let m = members.get(node);
  if (m === undefined) {
    m = poolJob(node, SLOT_PATH);
    members.set(node, m);
  }
  return m;
}
/** A pooled layer's job, and its unit: the slot (hypernetwork) or edge (individual deployment) within its cell. */
type PoolMember = { key: string; cell: number; unit: number };
const members = new WeakMap<IrNode, PoolMember | null>();

/** The job of a layer of the units whose scope paths `path` matches (cell, unit). */
function poolJob(node: IrNode, path: RegExp): PoolMember | null {
  const m = path.exec(node.scope.path);
  if (!m || node.scope.part !== "op" || !POOLED_KINDS.has(node.kind)) return null;
  const role = node.kind === "conv" ? node.param.slice(node.scope.path.length + 1) : node.kind;
  const s = node.shape;
  return { key: `${m[1]}|${role}|${s.c}x${s.h}x${s.w}`, cell: Number(m[1]), unit: Number(m[2]) };
}

/**
 * Every unit's seat: each job's units in order (the concentrator's band order) on a pool of
 * `size(key, candidates)` entries.
 */
function seatPools(
  jobs: ReadonlyMap<string, Job>,
  size: (job: Job) => number,
  member: (node: IrNode) => PoolMember | null,
): PeripheryPools {
  const seats = new Map<string, PoolSeat>();
  for (const [key, job] of jobs) {
    const order = [...job.units].sort((a, b) => a - b);
    const pool = { key, size: size(job), candidates: order.length };
    order.forEach((unit, rank) => {
      seats.set(`${key}#${unit}`, { ...pool, rank });
    });
  }
  return (node) => {
    const m = member(node);
    return m ? seats.get(`${m.key}#${m.unit}`) : undefined;
  };
}

/** A job's cell and the units that do it. */
type Job = { cell: number; units: Set<number> };

/** The jobs among `nodes`, by key. */
function jobsOf(nodes: readonly IrNode[], member: (node: IrNode) => PoolMember | null): Map<string, Job> {
  const jobs = new Map<string, Job>();
  for (const n of nodes) {
    const m = member(n);
    if (!m) continue;
    const job = jobs.get(m.key) ?? { cell: m.cell, units: new Set<number>() };
    jobs.set(m.key, job);
    job.units.add(m.unit);
  }
  return jobs;
}

/**
 * The hypernetwork's periphery pools (hypernetwork.periphery "pooled"): for each job of each
 * cell, as many entries as the configurations with `poolInputsPerNode` active inputs per node
 * can use at once (2: every genotype runs without waiting).
 */
export function peripheryPools(h: HyperHardware, hw: Hardware): PeripheryPools | undefined {
  // A hardware's pools depend on its spec only: found once per spec and configuration.
  const bySpec = poolsByHardware.get(hw) ?? new Map<string, PeripheryPools | undefined>();
  poolsByHardware.set(hw, bySpec);
  const key = `${h.spec.channels}|${h.spec.layers}|${h.spec.variant}`;
  if (!bySpec.has(key)) bySpec.set(key, findPeripheryPools(h, hw));
  return bySpec.get(key);
}
const poolsByHardware = new WeakMap<Hardware, Map<string, PeripheryPools | undefined>>();

function findPeripheryPools(h: HyperHardware, hw: Hardware): PeripheryPools | undefined {
  const { periphery, poolInputsPerNode, poolEntries } = hw.config.hypernetwork;
  if (periphery !== "pooled") return undefined;
  // The demand: up to poolInputsPerNode units per intermediate node active at once.
  const demand = ({ cell, units }: Job): number => {
    const perNode = new Map<number, number>();
    for (const slot of units) {
      const node = h.cells[cell]!.slots[slot]!.node;
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    let size = 0;
    for (const n of perNode.values()) size += Math.min(poolInputsPerNode, n);
    return Math.min(size, poolEntries ?? size);
  };
  return seatPools(jobsOf(fullNetwork(h).nodes, poolMember), demand, poolMember);
}

/**
 * Individual deployment sharing its own periphery as the hypernetwork does (for comparison,
 * not its default): per cell and job (the same layer of the same op with the same output
 * shape) a pool of at most `entries` entries over the network's own units, in edge order.
 */
export function individualPools(net: Network, entries: number): PeripheryPools {
  const member = (node: IrNode) => poolJob(node, EDGE_PATH);
  return seatPools(jobsOf(net.nodes, member), ({ units }) => Math.min(entries, units.size), member);
}

/** How the hypernetwork's periphery is shared: its pools and its pooling units' lanes. */
function poolOptions(h: HyperHardware, hw: Hardware): CostOptions {
  const pools = peripheryPools(h, hw);
  const { poolingLanes: lanes, poolSchedule } = hw.config.hypernetwork;
  return {
    ...(pools ? { pools, poolSchedule } : {}),
    ...(lanes !== null ? { poolingLanes: lanes } : {}),
  };
}

/** The configured hypernetwork's cost with its breakdown: area of the whole hardware, energy of the configured path. */
export interface HyperReport extends HeadlineCost {
  readonly activeArrays: number;
  readonly breakdown: CostReport["breakdown"];
}

export function hyperCost(
  c: CompiledConfiguration,
  hw: Hardware,
  hardware: CostReport = hardwareCost(c.hardware, hw),
): HyperReport {
  const net = configuredNetwork(c);
  const active = costNetwork(net, hw, poolOptions(c.hardware, hw));
  const movedBits = movedElements(inferenceNodes(net)) * routedBitsPerValue(hw.config, hw.config.inputBits);
  const routingUj = routingEnergyPj(movedBits, hardware.areaMm2 * 1e6, hw.tech) / 1e6;
  const { energyUjByComponent, energyUjByOp } = active.breakdown;
  const energyUj = active.energyUj - energyUjByComponent.routing + routingUj;
  return {
    areaMm2: hardware.areaMm2,
    energyUj,
    latencyUs: active.latencyUs,
    powerMw: (energyUj * 1e6) / (active.latencyUs * 1e3) + active.leakageMw,
    arrays: hardware.arrays,
    activeArrays: active.arrays,
    throughputImgPerSec: active.throughputImgPerSec,
    breakdown: {
      // Activations travel across the whole (larger) chip.
      energyUjByComponent: { ...energyUjByComponent, routing: routingUj },
      energyUjByOp: { ...energyUjByOp, routing: routingUj },
      areaMm2ByComponent: hardware.breakdown.areaMm2ByComponent,
      areaMm2ByOp: hardware.breakdown.areaMm2ByOp,
      arraysByOp: hardware.breakdown.arraysByOp,
    },
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
    const own = costNetwork(buildNetwork(arch, { channels: spec.channels, layers: spec.layers }), hw);
    const individual = headlineOf(own);
    const { breakdown, ...hyper } = hyperCost(c, hw, hardware);
    return {
      genotype: arch.label,
      code: c.code,
      individual,
      hyper,
      areaRatio: hyper.areaMm2 / individual.areaMm2,
      powerRatio: hyper.powerMw / individual.powerMw,
      latencyRatio: hyper.latencyUs / individual.latencyUs,
      energyRatio: hyper.energyUj / individual.energyUj,
      throughputRatio: hyper.throughputImgPerSec / individual.throughputImgPerSec,
      areaMm2ByComponent: {
        individual: own.breakdown.areaMm2ByComponent,
        hyper: breakdown.areaMm2ByComponent,
      },
    };
  });
}
