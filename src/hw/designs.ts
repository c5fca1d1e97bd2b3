/**
 * Hardware designs of the IR's operations, chosen by a table from node kind to design
 * (the hypernetwork overrides entries). Each design says, for one image, how many arrays
 * and converters it occupies, what its components spend, and how long it takes.
 *
 * Crossbar ops (dense and 1×1 conv, stem, classifier, depthwise, dilated, FactorizedReduce's
 * convs) map im2col rows × output columns, a differential pair of devices per weight slice;
 * depthwise kernels are packed block-diagonally; a dilated kernel uses the undilated array
 * (only the input address generator changes). Inputs are applied bit-serially by 1-bit DACs;
 * each ADC converts `columnsPerAdc` columns in turn. BN is folded into the preceding
 * convolution's weights and an output bias add. Pools, node sums, ReLU and global pooling
 * are digital periphery; concat, skip and FactorizedReduce's shift are wiring.
 */
import { type IrNode, type Network, nodeInputs, type Shape } from "../ir/graph.js";
import * as c from "./components.js";
import { columnsPerReadout, columnsPerWeight, type Deployment } from "./deployment.js";
import type { Tech } from "./tech.js";

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
] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];
export type ByComponent = Record<ComponentKind, number>;

export function zeroByComponent(): ByComponent {
  return { array: 0, dac: 0, adc: 0, sampleHold: 0, shiftAdd: 0, mux: 0, digital: 0, buffer: 0, routing: 0 };
}

export function totalOf(b: ByComponent): number {
  return b.array + b.dac + b.adc + b.sampleHold + b.shiftAdd + b.mux + b.digital + b.buffer + b.routing;
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
  readonly adcs: number;
  readonly dacs: number;
  /** ADC conversions for one image. */
  readonly conversions: number;
  readonly energyPj: ByComponent;
  readonly areaUm2: ByComponent;
  readonly latencyNs: number;
  /** Bits kept in buffers (for leakage). */
  readonly bufferBits: number;
}

export interface DesignContext {
  readonly tech: Tech;
  readonly dep: Deployment;
  readonly net: Network;
  /** Activation bits moved between units. */
  readonly activationBits: number;
}

type Design = (node: IrNode, ctx: DesignContext) => Partial<LayerCost>;

const ACC_BITS = 16; // partial sums of 8-bit × 8-bit products over ≤ 2^8 rows fit 16 bits (+ guard)
const ADDRESS_BITS = 16; // line-buffer address arithmetic
const INPUT_ACTIVITY = 0.5; // assumption: half the input bits are 1 in bit-serial operation

const elements = (s: Shape): number => s.c * s.h * s.w;

/** How one weight matrix sits on T×T arrays. */
export interface ArrayMapping {
  readonly arrays: number;
  readonly usedCells: number;
  /** Row tiles whose partial sums are added digitally. */
  readonly rowTiles: number;
  /** Columns read (= ADC conversions) per input bit. */
  readonly columnsRead: number;
  /** DAC-driven rows per input bit. */
  readonly rowsDriven: number;
}

/** A dense rows × outC matrix (im2col rows, output columns), cpw physical columns per weight. */
export function denseMapping(rows: number, outC: number, cpw: number, T: number): ArrayMapping {
  const rowTiles = Math.ceil(rows / T);
  const colTiles = Math.ceil((outC * cpw) / T);
  return {
    arrays: rowTiles * colTiles,
    usedCells: rows * outC * cpw,
    rowTiles,
    columnsRead: rowTiles * outC * cpw,
    rowsDriven: rows * colTiles,
  };
}

/**
 * Depthwise k×k kernels packed block-diagonally: ⌊T/k²⌋ channels per array (and ⌊T/cpw⌋ by
 * columns). With row gating only `driven` of the k² rows of a channel hold weights and see
 * inputs (a 3×3 kernel in the hypernetwork's 25-tap array).
 */
export function depthwiseMapping(
  channels: number,
  taps: number,
  cpw: number,
  T: number,
  where: string,
  driven = taps,
): ArrayMapping {
  const perArray = Math.min(Math.floor(T / taps), Math.floor(T / cpw));
  if (perArray < 1) throw new Error(`${where}: a ${taps}-tap depthwise kernel does not fit a ${T}×${T} tile`);
  return {
    arrays: Math.ceil(channels / perArray),
    usedCells: channels * driven * cpw,
    rowTiles: 1,
    columnsRead: channels * cpw,
    rowsDriven: channels * driven,
  };
}

function crossbar(node: IrNode, ctx: DesignContext): Partial<LayerCost> {
  const { tech: t, dep: d } = ctx;
  const T = d.tile;
  const cpw = columnsPerWeight(d);
  const inShape = ctx.net.nodes[nodeInputs(node)[0]!]!.shape;
  let outC: number;
  let positions: number;
  let map: ArrayMapping;
  let lineBufferBits: number;
  if (node.kind === "conv") {
    outC = node.outC;
    positions = node.shape.h * node.shape.w;
    lineBufferBits = node.k * inShape.w * inShape.c * ctx.activationBits;
    if (node.groups > 1 && node.groups === node.inC && node.outC === node.inC) {
      map = depthwiseMapping(node.inC, node.k * node.k, cpw, T, node.scope.path, node.taps?.length);
    } else if (node.groups === 1) {
      map = denseMapping(node.inC * node.k * node.k, outC, cpw, T);
    } else {
      throw new Error(
        `${node.scope.path}: grouped convolutions other than depthwise have no crossbar design`,
      );
    }
  } else if (node.kind === "linear") {
    outC = node.outF;
    positions = 1;
    lineBufferBits = node.inF * ctx.activationBits;
    map = denseMapping(node.inF, outC, cpw, T);
  } else {
    throw new Error(`internal: no crossbar design for ${node.kind}`);
  }
  const { arrays, usedCells, rowTiles, columnsRead: convPerCycle, rowsDriven } = map;
  const cycles = positions * d.inputBits;
  // With analog pair subtraction two physical columns make one ADC input.
  const cpr = columnsPerReadout(d);
  const conversions = (cycles * convPerCycle) / cpr;
  const adcsPerArray = Math.ceil(T / cpr / d.columnsPerAdc);
  const energyPj = zeroByComponent();
  energyPj.array = cycles * INPUT_ACTIVITY * usedCells * c.cellReadEnergyPj(t);
  energyPj.dac = cycles * rowsDriven * c.dacEnergyPj(t);
  energyPj.adc = conversions * c.adcEnergyPj(t, d.adcBits);
  energyPj.sampleHold = conversions * t.sampleHold.energy;
  energyPj.shiftAdd = conversions * t.digital.shiftAddEnergy;
  energyPj.mux = conversions * t.switches.muxEnergy;
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
  areaUm2.array = arrays * c.arrayAreaUm2(t, T);
  areaUm2.dac = arrays * T * t.dac.area;
  areaUm2.adc = arrays * adcsPerArray * c.adcAreaUm2(t, d.adcBits);
  areaUm2.sampleHold = (arrays * T * t.sampleHold.area) / cpr;
  areaUm2.shiftAdd = arrays * adcsPerArray * t.digital.shiftAddArea;
  areaUm2.mux = (arrays * T * t.switches.muxArea) / cpr;
  areaUm2.digital = (outC * ACC_BITS + (dilated ? ADDRESS_BITS : 0)) * t.digital.addAreaPerBit;
  areaUm2.buffer = lineBufferBits * t.buffer.areaPerBit;
  const perBitNs = c.arrayReadNs(t) + d.columnsPerAdc * c.adcConversionNs(t, d.adcBits);
  const latencyNs = positions * (d.inputBits * perBitNs + c.cycleNs(t));
  return {
    arrays,
    usedCells,
    adcs: arrays * adcsPerArray,
    dacs: arrays * T,
    conversions,
    energyPj,
    areaUm2,
    latencyNs,
    bufferBits: lineBufferBits,
  };
}

/** Digital units with one lane per channel: `opsPerOutput` operations of `bits` for each output value. */
function digitalUnit(
  node: IrNode,
  ctx: DesignContext,
  opsPerOutput: number,
  opEnergyPj: number,
  unitAreaUm2: number,
  lineRows: number,
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
  const areaUm2 = zeroByComponent();
  areaUm2.digital = node.shape.c * unitAreaUm2;
  areaUm2.buffer = bufferBits * t.buffer.areaPerBit;
  // One lane per channel processes one output position per clock cycle.
  return { energyPj, areaUm2, latencyNs: node.shape.h * node.shape.w * c.cycleNs(t), bufferBits };
}

const wiring: Design = () => ({});

export const DESIGNS: Record<IrNode["kind"], Design> = {
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
    );
  },
  avgpool: (node, ctx) => {
    if (node.kind !== "avgpool") return {};
    const b = ctx.activationBits + 4;
    const n = node.k * node.k - 1; // adder tree, then a multiply by the border-dependent 1/count
    const energy = n * c.addEnergyPj(ctx.tech, b) + ctx.tech.digital.multiplyEnergy8;
    const area = (n * b + 8 * b) * ctx.tech.digital.addAreaPerBit;
    const r = digitalUnit(node, ctx, 1, energy, area, node.k);
    return r;
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

export function costNode(
  node: IrNode,
  ctx: DesignContext,
  designs: Record<IrNode["kind"], Design> = DESIGNS,
): LayerCost {
  const r = designs[node.kind](node, ctx);
  return {
    node: node.id,
    kind: node.kind,
    scope: node.scope.path,
    op: opLabel(node),
    arrays: r.arrays ?? 0,
    usedCells: r.usedCells ?? 0,
    adcs: r.adcs ?? 0,
    dacs: r.dacs ?? 0,
    conversions: r.conversions ?? 0,
    energyPj: r.energyPj ?? ZERO,
    areaUm2: r.areaUm2 ?? ZERO,
    latencyNs: r.latencyNs ?? 0,
    bufferBits: r.bufferBits ?? 0,
  };
}

export function opLabel(node: IrNode): string {
  if (node.scope.op) return node.scope.op;
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
