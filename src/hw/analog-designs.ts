/**
 * Hardware designs of the IR's operations on the parallel analog platform (the reference
 * paper's): analog signals flow from layer to layer with no conversion in between.
 *
 * - Only the image passes DACs: it stays digital in a line buffer, and a multi-bit DAC per
 *   driven row of the first layer's arrays applies its codes.
 * - Every weight layer's arrays sit where the mapper places them; a pair's currents are
 *   subtracted in analog and the row tiles' currents summed on one wire (Kirchhoff) into a
 *   TIA per output and slice; a summing amplifier weights the slices. ReLU is a clamp at the
 *   amplifier's output, max pooling a winner-take-all circuit, average pooling and node sums
 *   summing amplifiers, global pooling an integrator per channel. One ADC bank converts the
 *   logits.
 * - Output positions stream through the chain. A layer whose window spans earlier rows holds
 *   them in analog line buffers (sample-and-hold cells). Every stage settles through its
 *   amplifier, its series switches and its wire; the slowest stage sets the cycle (the
 *   network-level part is in cost.ts). `spatialParallelism` copies of every layer's arrays and
 *   neurons compute that many positions side by side.
 *
 * Static power (amplifier bias, leakage) is spent for the whole latency of an image; cell
 * reads last one cycle. Both are settled in cost.ts once the cycle and the latency are known.
 */
import type { ConvNode, IrNode, Network } from "../ir/graph.js";
import { nodeInputs } from "../ir/graph.js";
import * as c from "./components.js";
import { slicesPerWeight } from "./config.js";
import {
  addComponents,
  type DesignContext,
  type DesignTable,
  elements,
  INPUT_ACTIVITY,
  type LayerCost,
  lineBufferKey,
  placementOf,
  poolAccess,
  wiring,
  zeroByComponent,
} from "./designs.js";

/** Kinds that pass analog values on without a stage of their own (a switch or a wire at most). */
const PASS_THROUGH = new Set<IrNode["kind"]>(["route", "concat", "shift", "relu", "bn"]);

/** Image positions per output position: the stream's rate at a node of this shape. */
function imagePositions(net: Network): number {
  const s = net.nodes[net.input]!.shape;
  return s.h * s.w;
}

/** Cycles between two values of a map of `positions` per image position (1 at the image's resolution). */
function cyclesPerPosition(ctx: DesignContext, positions: number): number {
  return imagePositions(ctx.net) / positions / ctx.hw.analogChain.spatialParallelism;
}

/** MUX stages (route nodes) on the wiring between the previous stage and `node`, on the longest input. */
export function routeStagesInto(node: IrNode, net: Network): number {
  let most = 0;
  for (const i of nodeInputs(node)) {
    const n = net.nodes[i]!;
    if (!PASS_THROUGH.has(n.kind)) continue;
    most = Math.max(most, (n.kind === "route" ? n.stages : 0) + routeStagesInto(n, net));
  }
  return most;
}

/**
 * Settling time of the stage that ends at `node`, over `wireUm` of wire; a unit on pooled
 * neurons adds its pool's MUX stages and settles once per pass.
 */
function settle(node: IrNode, ctx: DesignContext, wireUm: number): number {
  const t = ctx.tech;
  const a = ctx.hw.analogChain;
  const pool = poolAccess(node, ctx);
  const switches = t.analog.switch.perStage + routeStagesInto(node, ctx.net) + pool.muxStages;
  return pool.passes * c.stageSettleNs(t, a.amplifierBandwidth, a.stageWireLength + wireUm, switches);
}

/** Charging the pool MUX's switches that `values` signals cross. */
function poolSwitching(node: IrNode, ctx: DesignContext, values: number): Partial<LayerCost> {
  const energyPj = zeroByComponent();
  energyPj.mux =
    values * poolAccess(node, ctx).muxStages * c.chargeEnergyPj(ctx.tech, ctx.tech.analog.switch.capacitance);
  return { energyPj };
}

/** A k×k window: its dilation, padding and, when row-gated, the taps it drives. */
export interface Window {
  readonly k: number;
  readonly dilation: number;
  readonly pad: number;
  readonly taps?: readonly number[];
}

/** Rows of the driven taps, as offsets within the k×k window. */
export function tapSpan(w: Pick<Window, "k" | "taps">): { lo: number; hi: number } {
  if (!w.taps) return { lo: 0, hi: w.k - 1 };
  const rows = w.taps.map((t) => Math.floor(t / w.k));
  return { lo: Math.min(...rows), hi: Math.max(...rows) };
}

/**
 * Input positions that must arrive before a window yields its first output: the rows and
 * columns its lowest driven tap reaches past the output's position (a row-gated 3×3 kernel in
 * a 5×5 unit reaches as far as a 3×3 one).
 */
export function windowLead(w: Window, inWidth: number): number {
  const halo = Math.max(0, tapSpan(w).hi * w.dilation - w.pad);
  return halo * inWidth + halo + 1;
}

/** Cycles from a windowed stage's first input to its first output: the lead at its input's rate, plus its own cycle. */
function fill(node: IrNode, ctx: DesignContext, w: Window): number {
  const inShape = ctx.net.nodes[nodeInputs(node)[0]!]!.shape;
  return Math.ceil(windowLead(w, inShape.w) * cyclesPerPosition(ctx, inShape.h * inShape.w)) + 1;
}

/**
 * Sample-and-hold cells of a window's line buffer: the rows its driven taps span, of every
 * input channel (a 1×1 window streams straight through); their writes and leakage.
 */
function lineBuffer(node: IrNode, ctx: DesignContext, w: Window, lanes: number): Partial<LayerCost> {
  const t = ctx.tech;
  const inShape = ctx.net.nodes[nodeInputs(node)[0]!]!.shape;
  const { lo, hi } = tapSpan(w);
  const cells = w.k > 1 ? ((hi - lo) * w.dilation + 1) * inShape.w * inShape.c : 0;
  if (cells === 0) return {};
  const energyPj = zeroByComponent();
  const areaUm2 = zeroByComponent();
  const staticMw = zeroByComponent();
  energyPj.analogStorage = elements(inShape) * c.chargeEnergyPj(t, t.analog.hold.capacitance);
  areaUm2.analogStorage = cells * t.analog.hold.area;
  staticMw.analogStorage = cells * t.analog.hold.leakage * 1e-15 * t.analog.supply * 1e3;
  return { lineBuffer: { key: lineBufferKey(node, ctx), energyPj, areaUm2, staticMw, bufferBits: 0, lanes } };
}

/** Adds b into a (energies, areas and static powers by component). */
function merge(a: Partial<LayerCost>, b: Partial<LayerCost>): Partial<LayerCost> {
  const out = { ...a, ...b };
  for (const key of ["energyPj", "areaUm2", "staticMw"] as const) {
    const x = a[key];
    const y = b[key];
    if (x && y) out[key] = addComponents(x, y);
  }
  return out;
}

/** The stage switches and wire that every value of `node`'s output crosses, and their leakage. */
function stageWiring(node: IrNode, ctx: DesignContext, lanes: number, wireUm: number): Partial<LayerCost> {
  const t = ctx.tech;
  const { switch: sw, wire } = t.analog;
  const values = elements(node.shape);
  const length = ctx.hw.analogChain.stageWireLength + wireUm;
  const energyPj = zeroByComponent();
  energyPj.mux = values * sw.perStage * c.chargeEnergyPj(t, sw.capacitance);
  energyPj.wire = values * c.chargeEnergyPj(t, wire.capacitance * length);
  const areaUm2 = zeroByComponent();
  areaUm2.mux = lanes * sw.perStage * sw.area;
  const staticMw = zeroByComponent();
  staticMw.mux = c.switchLeakageMw(t, lanes * sw.perStage);
  return { energyPj, areaUm2, staticMw };
}

/** `count` analog neurons: area and bias power. */
function neurons(ctx: DesignContext, count: number): Partial<LayerCost> {
  const t = ctx.tech;
  const areaUm2 = zeroByComponent();
  areaUm2.amplifier = count * t.analog.amplifier.area;
  const staticMw = zeroByComponent();
  staticMw.amplifier = count * c.amplifierPowerMw(t, ctx.hw.analogChain.amplifierBandwidth);
  return { areaUm2, staticMw, amplifiers: count };
}

/**
 * A weight layer's per-column gain and offset trims: the output of an array column is the
 * integer product times its channel's weight scale (per-channel quantization), batch norm
 * folded in, plus the bias; all are known only once weights are programmed (and change with
 * the configuration on shared weights), so every neuron's gain is a bank of switched feedback
 * resistors and its offset a current DAC, both set from registers of `trimBits` each.
 */
function channelTrims(ctx: DesignContext, channels: number): Partial<LayerCost> {
  const t = ctx.tech;
  const bits = ctx.hw.analogChain.trimBits;
  const { trim, switch: sw, supply } = t.analog;
  const areaUm2 = zeroByComponent();
  areaUm2.trim =
    channels *
    (trim.gainBankArea + bits * sw.area + c.multiBitDacAreaUm2(t, bits) + 2 * bits * t.buffer.areaPerBit);
  const staticMw = zeroByComponent();
  staticMw.trim =
    channels *
    (trim.offsetReference * supply * 1e-3 +
      c.switchLeakageMw(t, bits) +
      2 * bits * t.buffer.leakagePerBit * 1e-3);
  return { areaUm2, staticMw };
}

function analogCrossbar(node: IrNode, ctx: DesignContext): Partial<LayerCost> {
  if (node.kind !== "conv" && node.kind !== "linear")
    throw new Error(`internal: no crossbar design for ${node.kind}`);
  const { tech: t, hw } = ctx;
  const P = hw.analogChain.spatialParallelism;
  const inNode = ctx.net.nodes[nodeInputs(node)[0]!]!;
  const outC = node.kind === "conv" ? node.outC : node.outF;
  const positions = node.kind === "conv" ? node.shape.h * node.shape.w : 1;
  const pc = placementOf(node, hw);
  const S = slicesPerWeight(hw);
  const side = c.arraySideUm(t, hw.tile);
  // One TIA per output and slice (row tiles summed on its input), a summing amplifier over the slices.
  let r = neurons(ctx, P * (outC * S + (S > 1 ? outC : 0)));
  r.areaUm2!.array = P * (pc.columns / hw.tile) * c.arrayAreaUm2(t, hw.tile);
  r = merge(r, stageWiring(node, ctx, P * outC, side));
  r = merge(r, poolSwitching(node, ctx, positions * outC * S));
  r = merge(r, channelTrims(ctx, P * outC));
  const conv = node as ConvNode;
  const window: Window | null =
    node.kind === "conv"
      ? { k: conv.k, dilation: conv.dilation, pad: conv.pad, ...(conv.taps ? { taps: conv.taps } : {}) }
      : null;
  let dacs = 0;
  let adcs = 0;
  let conversions = 0;
  if (inNode.kind === "input") {
    // The image stays digital in a line buffer of its window's rows; a multi-bit DAC per
    // driven row applies its codes, as in the simulator, whose first layer reads exact codes.
    dacs = P * pc.rowsDriven;
    const bits = hw.inputBits;
    const energyPj = zeroByComponent();
    energyPj.dac = positions * pc.rowsDriven * c.multiBitDacEnergyPj(t, bits);
    energyPj.buffer =
      elements(inNode.shape) * bits * t.buffer.writeEnergyPerBit +
      positions * pc.rowsDriven * bits * t.buffer.readEnergyPerBit;
    const areaUm2 = zeroByComponent();
    areaUm2.dac = dacs * c.multiBitDacAreaUm2(t, bits);
    const bufferBits = (window ? window.k : 1) * inNode.shape.w * inNode.shape.c * bits;
    const bufferArea = zeroByComponent();
    bufferArea.buffer = bufferBits * t.buffer.areaPerBit;
    const lb = {
      key: lineBufferKey(node, ctx),
      energyPj: zeroByComponent(),
      staticMw: zeroByComponent(),
      lanes: dacs * bits,
    };
    r = merge(r, { energyPj, lineBuffer: { ...lb, areaUm2: bufferArea, bufferBits } });
  } else if (window) r = merge(r, lineBuffer(node, ctx, window, P * pc.rowsDriven));
  if (node.kind === "linear") {
    // The ADC bank at the logits.
    const bits = hw.analogChain.finalAdcBits ?? 16;
    adcs = outC;
    conversions = outC;
    const energyPj = zeroByComponent();
    energyPj.adc = conversions * c.adcEnergyPj(t, bits);
    const areaUm2 = zeroByComponent();
    areaUm2.adc = adcs * c.adcAreaUm2(t, bits);
    r = merge(r, { energyPj, areaUm2 });
  }
  return {
    ...r,
    arrays: P * pc.arrays,
    usedCells: P * pc.usedCells,
    devices: P * pc.devices,
    dacs,
    adcs,
    conversions,
    cellReads: positions * INPUT_ACTIVITY * pc.usedCells,
    settleNs: settle(node, ctx, side),
    fillCycles: window ? fill(node, ctx, window) : 1,
    peripheryLanes: P * outC * S,
  };
}

/** A per-channel analog unit over a window (pooling): its neurons or WTA, line buffer, stage and fill. */
function windowUnit(node: IrNode, ctx: DesignContext, unit: Partial<LayerCost>): Partial<LayerCost> {
  if (node.kind !== "maxpool" && node.kind !== "avgpool") return {};
  const lanes = ctx.hw.analogChain.spatialParallelism * node.shape.c;
  const window = { k: node.k, dilation: 1, pad: node.pad };
  // The unit's window lanes (peripheryLanes) are the buffer's outputs.
  let r = merge(unit, lineBuffer(node, ctx, window, 0));
  r = merge(r, stageWiring(node, ctx, lanes, 0));
  r = merge(r, poolSwitching(node, ctx, elements(node.shape) * node.k * node.k));
  return {
    ...r,
    settleNs: settle(node, ctx, 0),
    fillCycles: fill(node, ctx, window),
    peripheryLanes: lanes * node.k * node.k,
  };
}

export const ANALOG_DESIGNS: DesignTable = {
  input: wiring,
  conv: analogCrossbar,
  linear: analogCrossbar,
  bn: wiring, // folded into the weights; its bias is an offset current at the TIA
  relu: (node, ctx) => {
    const areaUm2 = zeroByComponent();
    areaUm2.analogUnit = ctx.hw.analogChain.spatialParallelism * node.shape.c * ctx.tech.analog.clamp.area;
    return { areaUm2 };
  },
  maxpool: (node, ctx) => {
    if (node.kind !== "maxpool") return {};
    const t = ctx.tech;
    const inputs = ctx.hw.analogChain.spatialParallelism * node.shape.c * node.k * node.k;
    const areaUm2 = zeroByComponent();
    areaUm2.analogUnit = inputs * t.analog.wta.areaPerInput;
    const staticMw = zeroByComponent();
    staticMw.analogUnit = inputs * t.analog.wta.biasCurrent * t.analog.supply * 1e-3;
    return windowUnit(node, ctx, { areaUm2, staticMw });
  },
  avgpool: (node, ctx) => {
    if (node.kind !== "avgpool") return {};
    // A summing amplifier per lane; k switched feedback taps set the border-dependent divisor.
    const lanes = ctx.hw.analogChain.spatialParallelism * node.shape.c;
    const r = neurons(ctx, lanes);
    r.areaUm2!.mux = lanes * node.k * ctx.tech.analog.switch.area;
    return windowUnit(node, ctx, r);
  },
  add: (node, ctx) => {
    if (node.kind !== "add" || node.inputs.length < 2) return {};
    // Node sums: the inputs' voltages summed by one amplifier per lane.
    const lanes = ctx.hw.analogChain.spatialParallelism * node.shape.c;
    const r = merge(neurons(ctx, lanes), stageWiring(node, ctx, lanes, 0));
    return { ...r, settleNs: settle(node, ctx, 0), fillCycles: 1 };
  },
  gap: (node, ctx) => {
    if (node.kind !== "gap") return {};
    // An integrator per channel accumulates every position of the map (all copies feed it).
    const inShape = ctx.net.nodes[node.input]!.shape;
    const positions = inShape.h * inShape.w;
    const r = merge(neurons(ctx, node.shape.c), stageWiring(node, ctx, node.shape.c, 0));
    return {
      ...r,
      settleNs: settle(node, ctx, 0),
      fillCycles: Math.ceil(positions * cyclesPerPosition(ctx, positions)) + 1,
    };
  },
  concat: wiring,
  shift: wiring,
  zeros: wiring,
  route: (node, ctx) => {
    if (node.kind !== "route") return {};
    // Analog MUX: pass gates per lane; their RC joins the next stage's settling (routeStagesInto).
    const t = ctx.tech;
    const lanes = ctx.hw.analogChain.spatialParallelism * node.shape.c;
    const energyPj = zeroByComponent();
    energyPj.mux = elements(node.shape) * node.stages * c.chargeEnergyPj(t, t.analog.switch.capacitance);
    const areaUm2 = zeroByComponent();
    areaUm2.mux = lanes * node.switches * t.analog.switch.area;
    const staticMw = zeroByComponent();
    staticMw.mux = c.switchLeakageMw(t, lanes * node.switches);
    return { energyPj, areaUm2, staticMw };
  },
};
