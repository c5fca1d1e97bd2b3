/**
 * Hardware designs of the IR's operations on the digital periphery platform, chosen by a table
 * from node kind to design (the parallel analog platform has its own table in
 * analog-designs.ts). Each design says, for one image, how many arrays and converters it
 * occupies, what its components spend, and how long it takes.
 *
 * Crossbar ops (dense and 1×1 conv, stem, classifier, depthwise, dilated, FactorizedReduce's
 * convs) sit where the mapper (mapping.ts) places them, a differential pair of devices per
 * weight slice; a dilated kernel uses the undilated array (only the input address generator
 * changes). Inputs are applied in the mapper's DAC phases (bit-serial 1-bit DACs, or
 * multi-bit DACs); each ADC converts `columnsPerAdc` columns in turn. BN is folded into the
 * preceding convolution's weights and an output bias add. Pools, node sums, ReLU and global
 * pooling are digital periphery; concat, skip and FactorizedReduce's shift are wiring.
 */
import type { ConvNode, IrNode, LinearNode, Network, Shape } from "../ir/graph.js";
import { nodeInputs } from "../ir/graph.js";
import * as c from "./components.js";
import {
  columnsPerReadout,
  columnsPerWeight,
  type HardwareConfig,
  platformOf,
  weightCopiesOf,
} from "./config.js";
import {
  countPlacement,
  dacPhases,
  type PlacementCounts,
  placeWeights,
  readsOf,
  shapeOfNode,
  signedInput,
  type WeightShape,
} from "./mapping.js";
import { type ComponentOverrides, componentValues, peripheryComponents } from "./periphery.js";
import type { Tech } from "./tech.js";

/**
 * Component kinds of the breakdown. The last five are the parallel analog platform's: analog
 * neurons (TIAs, summing amplifiers, integrators), other analog units (ReLU clamps,
 * winner-take-all max pools), analog line buffers (sample-and-hold cells), stage wires, and
 * the neurons' gain and offset trims with their registers.
 */
export const COMPONENT_KINDS = [
  "array",
  "dac",
  "adc",
  "sampleHold",
  "shiftAdd",
  "mux",
  "digital",
  "buffer",
  "routing",
  "amplifier",
  "analogUnit",
  "analogStorage",
  "wire",
  "trim",
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];
export type ByComponent = Record<ComponentKind, number>;

export function zeroByComponent(): ByComponent {
  return {
    array: 0,
    dac: 0,
    adc: 0,
    sampleHold: 0,
    shiftAdd: 0,
    mux: 0,
    digital: 0,
    buffer: 0,
    routing: 0,
    amplifier: 0,
    analogUnit: 0,
    analogStorage: 0,
    wire: 0,
    trim: 0,
  };
}

/** a + b, component by component. */
export function addComponents(a: ByComponent, b: ByComponent): ByComponent {
  const sum = zeroByComponent();
  for (const k of COMPONENT_KINDS) sum[k] = a[k] + b[k];
  return sum;
}

export function totalOf(b: ByComponent): number {
  let s = 0;
  for (const k of COMPONENT_KINDS) s += b[k];
  return s;
}

export interface LayerCost {
  readonly node: number;
  readonly kind: IrNode["kind"];
  readonly scope: string;
  /** Op family for the breakdown: stem, preprocess, sep_conv_3x3, …, node_sum, classifier. */
  readonly op: string;
  readonly arrays: number;
  /** Cells holding weights / cells of the arrays. */
  readonly usedCells: number;
  /** Devices programmed: every device of the rows and columns the placement uses. */
  readonly devices: number;
  readonly adcs: number;
  readonly dacs: number;
  /** ADC conversions for one image. */
  readonly conversions: number;
  readonly energyPj: ByComponent;
  readonly areaUm2: ByComponent;
  readonly latencyNs: number;
  /** Bits kept in buffers (for leakage). */
  readonly bufferBits: number;
  /** Parallel analog platform: static power of the node's circuits (mW), spent for the image's latency. */
  readonly staticMw: ByComponent;
  /** Parallel analog platform: cell reads of one image, each lasting one cycle. */
  readonly cellReads: number;
  /** Parallel analog platform: settling time of the stage the node ends (ns; 0 if none). */
  readonly settleNs: number;
  /** Parallel analog platform: cycles from the node's first input to its first output. */
  readonly fillCycles: number;
  /** Analog neurons (TIAs, summing amplifiers, integrators). */
  readonly amplifiers: number;
  /** The line buffer the node's window reads (priced apart: units may share it); null if none. */
  readonly lineBuffer: LineBuffer | null;
  /** Signals entering the node's periphery (ADC or neuron inputs): the lanes a pool's MUX switches. */
  readonly peripheryLanes: number;
}

/** A line buffer: the rows of an activation a windowed unit reads, with what it costs. */
export interface LineBuffer {
  /** What it buffers: the activation's producer (layout.lineBuffers per-source) or the reading unit (per-unit). */
  readonly key: number;
  readonly energyPj: ByComponent;
  readonly areaUm2: ByComponent;
  readonly staticMw: ByComponent;
  readonly bufferBits: number;
  /** Signals it drives into its unit each cycle (a pool of line buffers switches them). */
  readonly lanes: number;
}

/** Nodes a shared line buffer looks through: a ReLU or an on/off switch passes the same values on. */
function passesValues(n: IrNode): boolean {
  return n.kind === "relu" || (n.kind === "route" && n.switches === 1);
}

/** The key of the line buffer `node` reads (see LineBuffer.key). */
export function lineBufferKey(node: IrNode, ctx: DesignContext): number {
  if (ctx.hw.layout.lineBuffers === "per-unit") return node.id;
  let id = nodeInputs(node)[0]!;
  for (let n = ctx.net.nodes[id]!; passesValues(n); n = ctx.net.nodes[id]!) id = nodeInputs(n)[0]!;
  return id;
}

/** A digital line buffer of `bits` SRAM bits read by `node`, driving `lanes` signals into it. */
function digitalLineBuffer(node: IrNode, ctx: DesignContext, bits: number, lanes: number): LineBuffer {
  const areaUm2 = zeroByComponent();
  areaUm2.buffer = bits * ctx.tech.buffer.areaPerBit;
  return { key: lineBufferKey(node, ctx), energyPj: ZERO, areaUm2, staticMw: ZERO, bufferBits: bits, lanes };
}

export interface DesignContext {
  readonly tech: Tech;
  /** The configuration as the arrays see it (config.arrayConfig). */
  readonly hw: HardwareConfig;
  readonly net: Network;
  /** Activation bits moved between units. */
  readonly activationBits: number;
  /** ReLUs fused into the convolution that reads them (that convolution's input is unsigned). */
  readonly fused: ReadonlySet<number>;
  /** How a unit reaches pooled periphery (the hypernetwork's), if it does. */
  readonly pooled?: (node: IrNode) => PoolAccess | undefined;
  /** Lanes of each digital pooling unit (the hypernetwork's `poolingLanes`); absent: one per channel. */
  readonly poolingLanes?: number;
}

/** A unit's way to a pooled periphery: MUX stages in series, and passes when the pool is oversubscribed. */
export interface PoolAccess {
  readonly muxStages: number;
  /** ⌈active units / pool size⌉: 1 when every active unit has its own pool entry. */
  readonly passes: number;
}

const NO_POOL: PoolAccess = { muxStages: 0, passes: 1 };

export function poolAccess(node: IrNode, ctx: DesignContext): PoolAccess {
  return ctx.pooled?.(node) ?? NO_POOL;
}

/** A placement's physical arrays: the columns they are built with and the ADCs reading them. */
export interface PhysicalArrays extends PlacementCounts {
  /** Physical columns of all arrays (T each, or only the used ones of fitted arrays). */
  readonly columns: number;
  /** ADCs of all arrays, each reading `columnsPerAdc` readouts of its own array. */
  readonly adcs: number;
  /** Weight columns read per DAC phase, over all arrays and their row groups (`adc.rowsPerRead`). */
  readonly columnReads: number;
  /** Row groups of the array read in the most groups: reads one after another per phase. */
  readonly readsPerPhase: number;
}

/**
 * Placements by everything they depend on: a network repeats few layer shapes, and the
 * explorer and the sweeps cost the same shapes over and over.
 */
const placements = new Map<string, PhysicalArrays>();
const PLACEMENT_CACHE_SIZE = 4096;

/** The mapper's placement of a weight layer, its counts and the arrays it is built on. */
export function placementOf(node: ConvNode | LinearNode, hw: HardwareConfig): PhysicalArrays {
  const shape = shapeOfNode(node);
  const cpw = columnsPerWeight(hw);
  const key = [
    shape.rows,
    shape.outputs,
    shape.kernelTaps,
    shape.depthwise,
    shape.driven?.join(".") ?? "",
    hw.tile,
    cpw,
    weightCopiesOf(hw, shape.depthwise),
    hw.layout.arrayWidth,
    columnsPerReadout(hw),
    hw.adc.columnsPerAdc,
    hw.adc.rowsPerRead,
  ].join("|");
  const known = placements.get(key);
  if (known) return known;
  const physical = physicalArrays(node, shape, cpw, hw);
  if (placements.size >= PLACEMENT_CACHE_SIZE) placements.clear();
  placements.set(key, physical);
  return physical;
}

function physicalArrays(
  node: ConvNode | LinearNode,
  shape: WeightShape,
  cpw: number,
  hw: HardwareConfig,
): PhysicalArrays {
  const placed = placeWeights(shape, hw.tile, cpw, node.scope.path, weightCopiesOf(hw, shape.depthwise));
  // A fitted array is only as wide as the weight columns placed on it.
  const fitted = hw.layout.arrayWidth === "fitted";
  const cpr = columnsPerReadout(hw);
  let columns = 0;
  let adcs = 0;
  let columnReads = 0;
  let readsPerPhase = 0;
  for (const a of placed) {
    const cols = fitted ? a.outputs.length * cpw : hw.tile;
    columns += cols;
    adcs += Math.ceil(cols / cpr / hw.adc.columnsPerAdc);
    const reads = readsOf(a, hw.adc.rowsPerRead);
    columnReads += reads * a.outputs.length * cpw;
    readsPerPhase = Math.max(readsPerPhase, reads);
  }
  return { ...countPlacement(placed, shape, cpw), columns, adcs, columnReads, readsPerPhase };
}

/** DAC phases of one output position of a weight layer (the simulator runs the same phases). */
export function phasesOf(node: ConvNode | LinearNode, ctx: DesignContext): number {
  const d = ctx.hw.dac;
  const signed = signedInput(node, ctx.fused);
  const key = `${d.mode}|${ctx.hw.inputBits}|${signed}|${d.signedInputs}`;
  let n = phaseCounts.get(key);
  if (n === undefined) {
    n = dacPhases(d.mode, ctx.hw.inputBits, signed, d.signedInputs).planeWeight.length;
    phaseCounts.set(key, n);
  }
  return n;
}
const phaseCounts = new Map<string, number>();

export type Design = (node: IrNode, ctx: DesignContext) => Partial<LayerCost>;
export type DesignTable = Record<IrNode["kind"], Design>;

const ACC_BITS = 16; // partial sums of 8-bit × 8-bit products over ≤ 2^8 rows fit 16 bits (+ guard)
/** A lossless converter (adc.bits null, the integer reference) is priced as a 16-bit SAR ADC. */
const LOSSLESS_ADC_BITS = 16;
const ADDRESS_BITS = 16; // line-buffer address arithmetic
/** Assumption: half the input bits are 1 in bit-serial operation (and the mean analog drive is half scale). */
export const INPUT_ACTIVITY = 0.5;

export const elements = (s: Shape): number => s.c * s.h * s.w;

function crossbar(node: IrNode, ctx: DesignContext): Partial<LayerCost> {
  if (node.kind !== "conv" && node.kind !== "linear")
    throw new Error(`internal: no crossbar design for ${node.kind}`);
  const { tech: t, hw: d } = ctx;
  const T = d.tile;
  const inShape = ctx.net.nodes[nodeInputs(node)[0]!]!.shape;
  const outC = node.kind === "conv" ? node.outC : node.outF;
  const positions = node.kind === "conv" ? node.shape.h * node.shape.w : 1;
  const lineBufferBits =
    node.kind === "conv"
      ? node.k * inShape.w * inShape.c * ctx.activationBits
      : node.inF * ctx.activationBits;
  const { arrays, usedCells, devices, rowTiles, rowsDriven, columns, adcs, columnReads, readsPerPhase } =
    placementOf(node, d);
  const cycles = positions * phasesOf(node, ctx);
  // With analog pair subtraction two physical columns make one ADC input.
  const cpr = columnsPerReadout(d);
  const conversions = (cycles * columnReads) / cpr;
  const adcBits = d.adc.bits ?? LOSSLESS_ADC_BITS;
  const multiBit = d.dac.mode === "multi-bit";
  const pool = poolAccess(node, ctx);
  const energyPj = zeroByComponent();
  energyPj.array = cycles * INPUT_ACTIVITY * usedCells * c.cellReadEnergyPj(t, d.conductance);
  energyPj.dac = cycles * rowsDriven * (multiBit ? c.multiBitDacEnergyPj(t, d.inputBits) : c.dacEnergyPj(t));
  energyPj.adc = conversions * c.adcEnergyPj(t, adcBits);
  energyPj.sampleHold = conversions * t.sampleHold.energy;
  energyPj.shiftAdd = conversions * t.digital.shiftAddEnergy;
  energyPj.mux = conversions * (1 + pool.muxStages) * t.switches.muxEnergy;
  // Partial sums of row tiles, then the folded-BN bias, per output value.
  energyPj.digital = positions * outC * rowTiles * c.addEnergyPj(t, ACC_BITS);
  // A dilated kernel runs on the undilated array; its input address generator computes
  // k row addresses per output position with a stride of the dilation.
  const dilated = node.kind === "conv" && node.dilation > 1;
  if (dilated) energyPj.digital += positions * node.k * c.addEnergyPj(t, ADDRESS_BITS);
  energyPj.buffer =
    elements(inShape) * ctx.activationBits * t.buffer.readEnergyPerBit +
    positions * outC * ctx.activationBits * t.buffer.writeEnergyPerBit;
  const areaUm2 = zeroByComponent();
  areaUm2.array = (columns / T) * c.arrayAreaUm2(t, T);
  areaUm2.dac = arrays * T * (multiBit ? c.multiBitDacAreaUm2(t, d.inputBits) : t.dac.area);
  areaUm2.adc = adcs * c.adcAreaUm2(t, adcBits);
  areaUm2.sampleHold = (columns * t.sampleHold.area) / cpr;
  areaUm2.shiftAdd = adcs * t.digital.shiftAddArea;
  areaUm2.mux = (columns * t.switches.muxArea) / cpr;
  areaUm2.digital = (outC * ACC_BITS + (dilated ? ADDRESS_BITS : 0)) * t.digital.addAreaPerBit;
  // A pooled ADC bank's MUX stages sit between the columns and the sample-and-hold.
  const perPhaseNs =
    readsPerPhase *
    (c.arrayReadNs(t) +
      pool.muxStages * t.switches.muxDelay +
      d.adc.columnsPerAdc * c.adcConversionNs(t, adcBits));
  const latencyNs = pool.passes * positions * ((cycles / positions) * perPhaseNs + c.cycleNs(t));
  return {
    arrays,
    usedCells,
    devices,
    adcs,
    dacs: arrays * T,
    conversions,
    energyPj,
    areaUm2,
    latencyNs,
    // Row drivers take one bit per row and phase (bit-serial) or the whole code (multi-bit).
    lineBuffer: digitalLineBuffer(node, ctx, lineBufferBits, rowsDriven * (multiBit ? d.inputBits : 1)),
    peripheryLanes: columns / cpr,
  };
}

/**
 * Digital units with `lanes` lanes (one per channel unless fewer are given; channels then take
 * turns): `opsPerOutput` operations of `bits` for each output value.
 */
function digitalUnit(
  node: IrNode,
  ctx: DesignContext,
  opsPerOutput: number,
  opEnergyPj: number,
  laneAreaUm2: number,
  lineRows: number,
  lanes = node.shape.c,
): Partial<LayerCost> {
  const { tech: t } = ctx;
  const out = elements(node.shape);
  const energyPj = zeroByComponent();
  energyPj.digital = out * opsPerOutput * opEnergyPj;
  const inShape = ctx.net.nodes[nodeInputs(node)[0]!]!.shape;
  energyPj.buffer =
    elements(inShape) * ctx.activationBits * t.buffer.readEnergyPerBit +
    out * ctx.activationBits * t.buffer.writeEnergyPerBit;
  const bufferBits = lineRows * inShape.w * inShape.c * ctx.activationBits;
  const width = Math.min(lanes, node.shape.c);
  const areaUm2 = zeroByComponent();
  areaUm2.digital = width * laneAreaUm2;
  // A pooled unit reads its window (lineRows² values per lane) through the pool's MUX stages.
  const pool = poolAccess(node, ctx);
  const windowBits = lineRows * lineRows * ctx.activationBits;
  energyPj.mux = out * windowBits * pool.muxStages * t.switches.muxEnergy;
  // Each lane processes one output value per clock cycle.
  const cycle = c.cycleNs(t) + pool.muxStages * t.switches.muxDelay;
  const turns = Math.ceil(node.shape.c / width);
  return {
    energyPj,
    areaUm2,
    latencyNs: pool.passes * node.shape.h * node.shape.w * turns * cycle,
    // The unit's window lanes (peripheryLanes) are the buffer's outputs.
    lineBuffer: bufferBits > 0 ? digitalLineBuffer(node, ctx, bufferBits, 0) : null,
    peripheryLanes: width * windowBits,
  };
}

/** Wiring, folded or constant nodes: nothing of their own. */
export const wiring: Design = () => ({});

export const DESIGNS: DesignTable = {
  input: wiring,
  conv: crossbar,
  linear: crossbar,
  bn: wiring, // folded into the preceding convolution (weights and a bias add counted there)
  relu: (node, ctx) => {
    // A clamp on the way into the next layer's DACs: energy per value, no latency of its own.
    const energyPj = zeroByComponent();
    energyPj.digital = elements(node.shape) * ctx.tech.digital.reluEnergy;
    return { energyPj };
  },
  maxpool: (node, ctx) => {
    if (node.kind !== "maxpool") return {};
    const b = ctx.activationBits;
    const n = node.k * node.k - 1; // comparator tree per output
    return digitalUnit(
      node,
      ctx,
      n,
      c.compareEnergyPj(ctx.tech, b),
      n * b * ctx.tech.digital.comparatorAreaPerBit,
      node.k,
      ctx.poolingLanes,
    );
  },
  avgpool: (node, ctx) => {
    if (node.kind !== "avgpool") return {};
    const b = ctx.activationBits + 4;
    const n = node.k * node.k - 1; // adder tree, then a multiply by the border-dependent 1/count
    const energy = n * c.addEnergyPj(ctx.tech, b) + ctx.tech.digital.multiplyEnergy8;
    const area = (n * b + 8 * b) * ctx.tech.digital.addAreaPerBit;
    return digitalUnit(node, ctx, 1, energy, area, node.k, ctx.poolingLanes);
  },
  add: (node, ctx) => {
    if (node.kind !== "add") return {};
    const b = ctx.activationBits + 2;
    const n = node.inputs.length - 1;
    if (n === 0) return {};
    return digitalUnit(node, ctx, n, c.addEnergyPj(ctx.tech, b), n * b * ctx.tech.digital.addAreaPerBit, 0);
  },
  gap: (node, ctx) => {
    if (node.kind !== "gap") return {};
    const inShape = ctx.net.nodes[node.input]!.shape;
    const hw = inShape.h * inShape.w;
    const b = ctx.activationBits + Math.ceil(Math.log2(hw));
    const energyPj = zeroByComponent();
    energyPj.digital =
      node.shape.c * ((hw - 1) * c.addEnergyPj(ctx.tech, b) + ctx.tech.digital.multiplyEnergy8);
    const areaUm2 = zeroByComponent();
    areaUm2.digital = node.shape.c * b * ctx.tech.digital.addAreaPerBit;
    return { energyPj, areaUm2, latencyNs: hw * c.cycleNs(ctx.tech) };
  },
  concat: wiring,
  shift: wiring,
  zeros: wiring,
  route: (node, ctx) => {
    if (node.kind !== "route") return {};
    // Every activation bit passes `stages` pass gates in series; one beat per output position.
    const t = ctx.tech;
    const bits = elements(node.shape) * ctx.activationBits;
    const energyPj = zeroByComponent();
    energyPj.mux = bits * node.stages * t.switches.muxEnergy;
    const areaUm2 = zeroByComponent();
    areaUm2.mux = node.shape.c * ctx.activationBits * node.switches * t.switches.muxArea;
    return { energyPj, areaUm2, latencyNs: node.shape.h * node.shape.w * node.stages * t.switches.muxDelay };
  },
};

const ZERO: ByComponent = Object.freeze(zeroByComponent());

export function costNode(node: IrNode, ctx: DesignContext, designs: DesignTable = DESIGNS): LayerCost {
  const r = withRegisteredComponents(designs[node.kind](node, ctx), ctx);
  return {
    node: node.id,
    kind: node.kind,
    scope: node.scope.path,
    op: opLabel(node),
    arrays: r.arrays ?? 0,
    usedCells: r.usedCells ?? 0,
    devices: r.devices ?? 0,
    adcs: r.adcs ?? 0,
    dacs: r.dacs ?? 0,
    conversions: r.conversions ?? 0,
    energyPj: r.energyPj ?? ZERO,
    areaUm2: r.areaUm2 ?? ZERO,
    latencyNs: r.latencyNs ?? 0,
    bufferBits: r.bufferBits ?? 0,
    staticMw: r.staticMw ?? ZERO,
    cellReads: r.cellReads ?? 0,
    settleNs: r.settleNs ?? 0,
    fillCycles: r.fillCycles ?? 0,
    amplifiers: r.amplifiers ?? 0,
    lineBuffer: r.lineBuffer ?? null,
    peripheryLanes: r.peripheryLanes ?? 0,
  };
}

/** Adds the registered periphery components (src/hw/periphery.ts) at their sites of a weight layer. */
function withRegisteredComponents(r: Partial<LayerCost>, ctx: DesignContext): Partial<LayerCost> {
  const components = peripheryComponents();
  if (components.length === 0 || !r.arrays) return r;
  const platform = platformOf(ctx.hw);
  const energyPj = { ...(r.energyPj ?? ZERO) };
  const areaUm2 = { ...(r.areaUm2 ?? ZERO) };
  for (const entry of components) {
    if (!entry.platforms.includes(platform)) continue;
    const per = entry.cost(componentValues(entry, ctx.tech.components as ComponentOverrides | undefined));
    const instances = entry.site === "adc" ? (r.adcs ?? 0) : r.arrays;
    areaUm2[entry.kind] += instances * per.areaUm2;
    energyPj[entry.kind] += (r.conversions ?? 0) * per.energyPj;
  }
  return { ...r, energyPj, areaUm2 };
}

export function opLabel(node: IrNode): string {
  if (node.scope.op) return node.scope.op;
  if (node.scope.part === "layer") return node.kind;
  if (node.kind === "add") return "node_sum";
  switch (node.scope.part) {
    case "stem":
      return "stem";
    case "preprocess":
      return "preprocess";
    case "head":
      return "classifier";
    case "aux":
      return "auxiliary";
    default:
      return node.kind === "concat" ? "concat" : node.scope.part;
  }
}
