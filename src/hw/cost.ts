/**
 * The cost of an individual deployment (hardware built for one architecture): area,
 * energy and latency of one image, throughput, power, arrays and utilisation, broken
 * down by component kind and by op kind, on either platform of the hardware configuration.
 */
import { countMacs } from "../ir/count.js";
import type { IrNode, Network } from "../ir/graph.js";
import { fusedRelus, nodeInputs } from "../ir/graph.js";
import { ANALOG_DESIGNS } from "./analog-designs.js";
import * as c from "./components.js";
import { arrayConfig, type Hardware, type HardwareConfig, platformOf } from "./config.js";
import {
  addComponents,
  type ByComponent,
  COMPONENT_KINDS,
  type ComponentKind,
  costNode,
  DESIGNS,
  type DesignContext,
  type DesignTable,
  type LayerCost,
  type LineBuffer,
  type PoolAccess,
  totalOf,
  zeroByComponent,
} from "./designs.js";
import type { Tech } from "./tech.js";

export interface CostReport {
  readonly platform: ReturnType<typeof platformOf>;
  readonly areaMm2: number;
  readonly energyUj: number;
  readonly latencyUs: number;
  /** Images per second with every layer on its own hardware, pipelined. */
  readonly throughputImgPerSec: number;
  /** Operations of one image, 2 per multiply-accumulate (conv and linear layers). */
  readonly opsPerImage: number;
  /** Operations per second with images pipelined (10¹² ops/s). */
  readonly tops: number;
  /** Operations per joule of inference energy (10¹² ops/J). */
  readonly topsPerWatt: number;
  readonly powerMw: number;
  readonly leakageMw: number;
  readonly arrays: number;
  readonly utilisation: number;
  readonly adcs: number;
  readonly dacs: number;
  readonly conversionsPerImage: number;
  /** Parallel analog platform: the cycle (slowest stage's settling), analog neurons, cycles per image. */
  readonly analog?: {
    readonly cycleNs: number;
    readonly amplifiers: number;
    readonly streamCycles: number;
    readonly fillCycles: number;
  };
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
  /** Design table (default: the platform's). */
  readonly designs?: DesignTable;
  /** Periphery pooled between units (the hypernetwork's): the pool each node draws from. */
  readonly pools?: PeripheryPools;
  /** Lanes of each digital pooling unit (the hypernetwork's); absent: one per channel. */
  readonly poolingLanes?: number;
  /**
   * How units take turns on an oversubscribed pool (digital periphery platform): "passes",
   * every layer of the job ⌈active / size⌉ times; "scheduled", each layer on one entry of its
   * band when one is free (absent: "passes").
   */
  readonly poolSchedule?: "passes" | "scheduled";
}

/**
 * A pool of periphery (ADC banks, neurons, pooling units) shared by `candidates` units of
 * one kind, `size` of them at a time, behind a banded concentrator: entry e is a MUX over
 * units e … e + candidates − size (in the units' order), which routes any `size` active units
 * (Hall's condition holds on the band). More active units than `size` take turns: in
 * ⌈active / size⌉ passes of every layer, or by a static schedule (`hypernetwork.poolSchedule`).
 */
export interface PeripheryPool {
  readonly key: string;
  readonly size: number;
  readonly candidates: number;
}
/** A unit's place in its pool: the pool, and the unit's position among its candidates. */
export interface PoolSeat extends PeripheryPool {
  readonly rank: number;
}
export type PeripheryPools = (node: IrNode) => PoolSeat | undefined;

/** Components a pool shares: converters, sample-and-holds, shift-adds, column MUXes, digital units, neurons, analog units, trims. */
const POOLED_COMPONENTS: readonly ComponentKind[] = [
  "adc",
  "sampleHold",
  "shiftAdd",
  "mux",
  "digital",
  "amplifier",
  "analogUnit",
  "trim",
];

/** A unit's own line buffer (digital SRAM or sample-and-hold cells), pooled with its unit. */
const BUFFER_COMPONENTS: readonly ComponentKind[] = ["buffer", "analogStorage"];

/** MUX stages between a unit and its pool. */
export function concentratorStages(p: PeripheryPool): number {
  return p.size < p.candidates ? c.muxShape(p.candidates - p.size + 1).stages : 0;
}

/** What each present node of a pool sees: its MUX stages and its passes over the pool. */
function poolAccessOf(
  nodes: readonly IrNode[],
  pools: PeripheryPools,
  scheduled: boolean,
): (node: IrNode) => PoolAccess | undefined {
  // Scheduled turns cost waiting, not passes (scheduledPath).
  const active = new Map<string, number>();
  if (!scheduled)
    for (const n of nodes) {
      const p = pools(n);
      if (p) active.set(p.key, (active.get(p.key) ?? 0) + 1);
    }
  return (node) => {
    const p = pools(node);
    if (!p) return undefined;
    const passes = scheduled ? 1 : Math.ceil(active.get(p.key)! / p.size);
    return { muxStages: concentratorStages(p), passes };
  };
}

/**
 * Latency of one image when pooled layers take turns by a static list schedule (the
 * configuration is static, so the schedule is computed once with it): in topological order,
 * each layer starts when its inputs are complete (as `criticalPath`) and, if pooled, one
 * entry of its band is free for its whole run; it takes the entry whose free gap starts
 * earliest. Any schedule found this way can run, so the latency is an upper bound of the
 * best one. Also the busiest entry's time per image, which bounds pipelined throughput.
 */
export function scheduledPath(
  nodes: readonly IrNode[],
  layers: readonly LayerCost[],
  output: number,
  pools: PeripheryPools,
): { latencyNs: number; busiestEntryNs: number } {
  const finish = new Float64Array(nodes.length === 0 ? 0 : nodes[nodes.length - 1]!.id + 1);
  const entries = new Map<string, PoolEntry[]>();
  const own = ownEntries(nodes, pools);
  let busiestEntryNs = 0;
  layers.forEach((l, i) => {
    let ready = 0;
    for (const j of nodeInputs(nodes[i]!)) ready = Math.max(ready, finish[j]!);
    const seat = pools(nodes[i]!);
    if (!seat) {
      finish[l.node] = ready + l.latencyNs;
      return;
    }
    let pool = entries.get(seat.key);
    if (!pool) {
      pool = Array.from({ length: seat.size }, () => ({ runs: [], busyNs: 0 }));
      entries.set(seat.key, pool);
    }
    const mine = own.get(seat.key)?.get(seat.rank);
    const first = mine ?? Math.max(0, seat.rank - (seat.candidates - seat.size));
    const last = mine ?? Math.min(seat.size - 1, seat.rank);
    let start = Number.POSITIVE_INFINITY;
    let entry = first;
    for (let e = first; e <= last; e++) {
      const s = earliestGap(pool[e]!.runs, ready, l.latencyNs);
      // Ties go to the entry with the least work per image (pipelined throughput).
      if (s < start || (s === start && pool[e]!.busyNs < pool[entry]!.busyNs)) {
        start = s;
        entry = e;
      }
    }
    const at = pool[entry]!;
    at.runs.push([start, start + l.latencyNs]);
    at.runs.sort((a, b) => a[0] - b[0]);
    at.busyNs += l.latencyNs;
    busiestEntryNs = Math.max(busiestEntryNs, at.busyNs);
    finish[l.node] = start + l.latencyNs;
  });
  return { latencyNs: finish[output]!, busiestEntryNs };
}

/**
 * Pools with no more active units than entries: each unit gets an entry of its own (nothing
 * waits), by the greedy matching on the band (units by rank, each on the lowest entry left
 * that its band reaches), which succeeds whenever any matching does.
 */
function ownEntries(nodes: readonly IrNode[], pools: PeripheryPools): Map<string, Map<number, number>> {
  const seats = new Map<string, PoolSeat[]>();
  for (const n of nodes) {
    const seat = pools(n);
    if (!seat) continue;
    const list = seats.get(seat.key) ?? [];
    seats.set(seat.key, list);
    list.push(seat);
  }
  const own = new Map<string, Map<number, number>>();
  for (const [key, list] of seats) {
    if (list.length > list[0]!.size) continue;
    const byRank = new Map<number, number>();
    let next = 0;
    for (const seat of [...list].sort((a, b) => a.rank - b.rank)) {
      const entry = Math.max(next, seat.rank - (seat.candidates - seat.size));
      byRank.set(seat.rank, entry);
      next = entry + 1;
    }
    own.set(key, byRank);
  }
  return own;
}

/** A pool entry's runs in one image (sorted by start) and their total time. */
interface PoolEntry {
  readonly runs: [number, number][];
  busyNs: number;
}

/** The earliest start ≥ `ready` of a run of `duration` between sorted busy intervals. */
function earliestGap(busy: readonly [number, number][], ready: number, duration: number): number {
  let start = ready;
  for (const [a, b] of busy) {
    if (start + duration <= a) break;
    if (b > start) start = b;
  }
  return start;
}

/**
 * Pooled periphery's area and static power: a pool of `size` entries, each as large as its
 * largest member's periphery, plus its concentrator's switches, spread over the members present.
 */
function poolPeriphery(
  layers: readonly LayerCost[],
  nodes: readonly IrNode[],
  pools: PeripheryPools,
  ctx: DesignContext,
): LayerCost[] {
  const groups = new Map<string, { pool: PeripheryPool; members: number[] }>();
  nodes.forEach((n, i) => {
    const p = pools(n);
    if (!p) return;
    const g = groups.get(p.key) ?? { pool: p, members: [] };
    g.members.push(i);
    groups.set(p.key, g);
  });
  // A line buffer read by one unit only belongs to that unit and joins its pool.
  const readers = new Map<number, number>();
  for (const l of layers)
    if (l.lineBuffer) readers.set(l.lineBuffer.key, (readers.get(l.lineBuffer.key) ?? 0) + 1);
  const ownBuffer = (l: LayerCost): boolean => l.lineBuffer !== null && readers.get(l.lineBuffer.key) === 1;
  const out = [...layers];
  const analog = ctx.hw.analogChain.enabled;
  const t = ctx.tech;
  const switchArea = analog ? t.analog.switch.area : t.switches.muxArea;
  for (const { pool, members } of groups.values()) {
    const factor = zeroByComponent();
    const pooledShare = (kinds: readonly ComponentKind[], who: readonly number[]): number => {
      const entries = Math.min(pool.size, who.length);
      for (const k of kinds) {
        let sum = 0;
        let most = 0;
        for (const i of who) {
          sum += layers[i]!.areaUm2[k];
          most = Math.max(most, layers[i]!.areaUm2[k]);
        }
        factor[k] = sum > 0 ? (entries * most) / sum : 1;
      }
      return who.length ? entries / who.length : 0;
    };
    const share = pooledShare(POOLED_COMPONENTS, members);
    const buffered = members.filter((i) => ownBuffer(layers[i]!));
    const bufferShare = pooledShare(BUFFER_COMPONENTS, buffered);
    const fanIn = pool.candidates - pool.size + 1;
    const switchesPerLane = fanIn > 1 ? c.muxShape(fanIn).switches : 0;
    for (const i of members) {
      const l = layers[i]!;
      const areaUm2 = { ...l.areaUm2 };
      const staticMw = { ...l.staticMw };
      const own = ownBuffer(l);
      for (const k of own ? [...POOLED_COMPONENTS, ...BUFFER_COMPONENTS] : POOLED_COMPONENTS) {
        areaUm2[k] *= factor[k];
        staticMw[k] *= factor[k];
      }
      const bufferLanes = own ? bufferShare * l.lineBuffer!.lanes : 0;
      const switches = (share * l.peripheryLanes + bufferLanes) * switchesPerLane;
      areaUm2.mux += switches * switchArea;
      if (analog) staticMw.mux += c.switchLeakageMw(t, switches);
      out[i] = { ...l, areaUm2, staticMw };
    }
  }
  return out;
}

/** The design table of a configuration's platform. */
export function designsFor(cfg: HardwareConfig): DesignTable {
  return platformOf(cfg) === "parallel-analog" ? ANALOG_DESIGNS : DESIGNS;
}

/** What the designs see: the configuration as the arrays run it, the technology, the network. */
export function designContext(net: Network, hw: Hardware, activationBits?: number): DesignContext {
  return {
    tech: hw.tech,
    hw: arrayConfig(hw.config),
    net,
    activationBits: activationBits ?? hw.config.inputBits,
    fused: fusedRelus(net, (n) => n.scope.part !== "aux"),
  };
}

/** Nodes of one inference (the auxiliary head is training only). */
export function inferenceNodes(net: Network): IrNode[] {
  return net.nodes.filter((n) => n.scope.part !== "aux");
}

export function costNetwork(net: Network, hw: Hardware, opts: CostOptions = {}): CostReport {
  const { tech } = hw;
  const cfg = hw.config;
  const nodes = inferenceNodes(net);
  const plain = designContext(net, hw, opts.activationBits);
  // The parallel analog platform streams: a stage holds its pool entry every cycle, so its
  // units can only take turns within the cycle (passes).
  const scheduled = opts.poolSchedule === "scheduled" && platformOf(cfg) === "digital-periphery";
  const ctx = {
    ...plain,
    ...(opts.pools ? { pooled: poolAccessOf(nodes, opts.pools, scheduled) } : {}),
    ...(opts.poolingLanes ? { poolingLanes: opts.poolingLanes } : {}),
  };
  const designs = opts.designs ?? designsFor(cfg);
  let layers = chargeLineBuffers(nodes.map((n) => costNode(n, ctx, designs)));
  if (opts.pools) layers = poolPeriphery(layers, nodes, opts.pools, ctx);
  const analog = platformOf(cfg) === "parallel-analog";

  let latencyNs: number;
  let slowestNs = 0;
  let analogSummary: CostReport["analog"];
  if (analog) {
    const a = analogTiming(
      layers.reduce((m, l) => Math.max(m, l.settleNs), 0),
      criticalPath(nodes, layers, net.logits, (l) => l.fillCycles),
      net,
      cfg,
      tech,
    );
    latencyNs = a.latencyNs;
    slowestNs = a.streamNs;
    layers = layers.map((l) => settleAnalogLayer(l, a.cycleNs, latencyNs, cfg, tech));
    analogSummary = {
      cycleNs: a.cycleNs,
      amplifiers: layers.reduce((s, l) => s + l.amplifiers, 0),
      streamCycles: a.streamCycles,
      fillCycles: a.fillCycles,
    };
  } else {
    for (const l of layers) slowestNs = Math.max(slowestNs, l.latencyNs);
    if (opts.pools && scheduled) {
      const s = scheduledPath(nodes, layers, net.logits, opts.pools);
      latencyNs = s.latencyNs;
      slowestNs = Math.max(slowestNs, s.busiestEntryNs);
    } else latencyNs = criticalPath(nodes, layers, net.logits, (l) => l.latencyNs);
  }

  const energy = zeroByComponent();
  const area = zeroByComponent();
  const energyByOp: Record<string, number> = {};
  const areaByOp: Record<string, number> = {};
  const arraysByOp: Record<string, number> = {};
  let arrays = 0;
  let usedCells = 0;
  let adcs = 0;
  let dacs = 0;
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
    dacs += l.dacs;
    conversions += l.conversions;
    bufferBits += l.bufferBits;
  }
  addRouting(energy, area, movedElements(nodes) * routedBitsPerValue(ctx.hw, ctx.activationBits), tech);
  energyByOp.routing = energy.routing;
  areaByOp.routing = area.routing;

  const cellsProgrammed = usedCells;
  const maxRows = cfg.tile; // arrays are programmed in parallel, row by row
  const head = headline(energy, area, latencyNs, bufferBits, tech);
  const throughputImgPerSec = 1e9 / slowestNs;
  const opsPerImage = 2 * countMacs(net);
  const report: CostReport = {
    platform: platformOf(cfg),
    ...head,
    throughputImgPerSec,
    opsPerImage,
    tops: (opsPerImage * throughputImgPerSec) / 1e12,
    topsPerWatt: opsPerImage / (head.energyUj * 1e6),
    arrays,
    utilisation: arrays ? usedCells / (arrays * cfg.tile * cfg.tile) : 0,
    adcs,
    dacs,
    conversionsPerImage: conversions,
    ...(analogSummary ? { analog: analogSummary } : {}),
    programming: {
      cells: cellsProgrammed,
      energyUj: (cellsProgrammed * c.programEnergyPj(tech, cfg.conductance)) / 1e6,
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

/**
 * Timing of one image on the parallel analog platform: the cycle is the slowest stage's
 * settling; the image streams in at `spatialParallelism` positions per cycle, and its last
 * logits come out after the fill of the critical path.
 */
export function analogTiming(
  slowestSettleNs: number,
  fillCycles: number,
  net: Network,
  cfg: HardwareConfig,
  tech: Tech,
): { cycleNs: number; streamCycles: number; fillCycles: number; streamNs: number; latencyNs: number } {
  const s = net.nodes[net.input]!.shape;
  const streamCycles = Math.ceil((s.h * s.w) / cfg.analogChain.spatialParallelism);
  // A network with no analog stage still takes one digital clock per cycle.
  const cycleNs = Math.max(slowestSettleNs, c.cycleNs(tech));
  return {
    cycleNs,
    streamCycles,
    fillCycles,
    streamNs: streamCycles * cycleNs,
    latencyNs: (streamCycles + fillCycles) * cycleNs,
  };
}

/**
 * Adds the parallel analog platform's energy that waits for the cycle and the latency: cell
 * reads lasting one cycle, static power spent for the whole latency.
 */
export function addAnalogEnergy(
  energy: ByComponent,
  cellReads: number,
  staticMw: ByComponent,
  cycleNs: number,
  latencyNs: number,
  cfg: HardwareConfig,
  tech: Tech,
): void {
  energy.array += cellReads * c.cellReadEnergyPj(tech, cfg.conductance, cycleNs);
  for (const k of COMPONENT_KINDS) energy[k] += staticMw[k] * latencyNs;
}

/** A layer's costs once the cycle and the latency are known. */
function settleAnalogLayer(
  l: LayerCost,
  cycleNs: number,
  latencyNs: number,
  cfg: HardwareConfig,
  tech: Tech,
): LayerCost {
  const energyPj = { ...l.energyPj };
  addAnalogEnergy(energyPj, l.cellReads, l.staticMw, cycleNs, latencyNs, cfg, tech);
  return { ...l, energyPj, latencyNs: l.fillCycles * cycleNs };
}

/**
 * Line buffers charged once per key (per source: the tallest of the units sharing it covers
 * the others), each added into the layer that owns it; the other readers' buffers are dropped.
 */
export function chargeLineBuffers(layers: readonly LayerCost[]): LayerCost[] {
  const owner = new Map<number, number>();
  layers.forEach((l, i) => {
    if (!l.lineBuffer) return;
    const o = owner.get(l.lineBuffer.key);
    if (o === undefined || lineBufferArea(l.lineBuffer) > lineBufferArea(layers[o]!.lineBuffer!))
      owner.set(l.lineBuffer.key, i);
  });
  const out = [...layers];
  for (const i of owner.values()) {
    const l = layers[i]!;
    const b = l.lineBuffer!;
    out[i] = {
      ...l,
      energyPj: addComponents(l.energyPj, b.energyPj),
      areaUm2: addComponents(l.areaUm2, b.areaUm2),
      staticMw: addComponents(l.staticMw, b.staticMw),
      bufferBits: l.bufferBits + b.bufferBits,
    };
  }
  return out;
}

export function lineBufferArea(b: LineBuffer): number {
  return totalOf(b.areaUm2);
}

/** Bits each moved activation value carries through global routing: none on the parallel analog platform (its stage wires are priced per stage). */
export function routedBitsPerValue(cfg: HardwareConfig, activationBits: number): number {
  return cfg.analogChain.enabled ? 0 : activationBits;
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
 * When the logits are ready, along the longest path through the graph (branches run in
 * parallel; work whose result is never used does not delay them), in the unit of `delay`.
 */
export function criticalPath(
  nodes: readonly IrNode[],
  layers: readonly LayerCost[],
  output: number,
  delay: (l: LayerCost) => number,
): number {
  const finish = new Float64Array(nodes.length === 0 ? 0 : nodes[nodes.length - 1]!.id + 1);
  layers.forEach((l, i) => {
    let start = 0;
    for (const j of nodeInputs(nodes[i]!)) start = Math.max(start, finish[j]!);
    finish[l.node] = start + delay(l);
  });
  return finish[output]!;
}

function mapValues<K extends string>(o: Record<K, number>, f: (v: number) => number): Record<K, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v as number)])) as Record<K, number>;
}
