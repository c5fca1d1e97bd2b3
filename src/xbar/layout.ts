/**
 * A weight layer as the crossbar sees it; the mapper (src/hw/mapping.ts) cuts it into arrays.
 *
 * The logical matrix of a layer has one row per im2col input, r = (c·k + kh)·k + kw, and
 * one column per output channel. Dense convolutions, 1×1 convolutions, the stem and the
 * classifier fill it; a depthwise convolution is block-diagonal (channel o only reads rows
 * o·k² … o·k² + k² − 1). Dilation and stride change which inputs reach a row (the address
 * generator), never the array.
 */
import type { ConvGeom } from "../engine/kernels/types.js";
import { type ArrayPlacement, placeWeights, readGroups, type WeightShape } from "../hw/mapping.js";
import { roundHalfAway } from "./quantize.js";

/** A layer's convolution geometry for one image (the kernels' ConvGeom without the batch). */
export type LayerGeometry = Omit<ConvGeom, "n">;

export interface LogicalLayer {
  /** IR node id and a readable name (its parameter prefix). */
  readonly id: number;
  readonly name: string;
  readonly geom: LayerGeometry;
  readonly depthwise: boolean;
  /** Depthwise taps (of k×k) that hold weights and are driven; absent: all (row gating otherwise). */
  readonly taps?: readonly number[];
  /** Integer weights in the engine's layout [oc, c/groups, k, k]. */
  readonly q: Int32Array;
  readonly weightBits: number;
  /** Per output channel: w ≈ q·wScale. */
  readonly wScale: Float32Array;
  /** Digital bias per output channel (batch norm folded in), or null. */
  readonly bias: Float32Array | null;
  /**
   * Input quantization: scale (a float32 value), signedness, and whether a ReLU is fused in
   * front. Rule: code = clamp(roundHalfAway(fround(x / inScale))), the float32 quotient.
   */
  readonly inScale: number;
  readonly inSigned: boolean;
  readonly reluIn: boolean;
  readonly inputBits: number;
  /** Largest |output| of the float layer on the calibration images (the analog chain's TIA range). */
  readonly outRange?: number;
}

/** Rows of the logical matrix. */
export function logicalRows(l: LogicalLayer): number {
  return l.geom.c * l.geom.k * l.geom.k;
}

/** The integer weight at logical row r, output o (0 off the diagonal blocks of a depthwise layer). */
export function logicalWeight(l: LogicalLayer, r: number, o: number): number {
  const kk = l.geom.k * l.geom.k;
  if (l.depthwise) return holdsWeight(l, r, o) ? l.q[o * kk + (r % kk)]! : 0;
  return l.q[o * logicalRows(l) + r]!;
}

/** Whether a weight can sit at logical row r, output o (not off the diagonal blocks of a depthwise layer). */
export function holdsWeight(l: LogicalLayer, r: number, o: number): boolean {
  return !l.depthwise || Math.floor(r / (l.geom.k * l.geom.k)) === o;
}

/** The weight shape of a deployed layer, for the mapper. */
export function shapeOfLayer(l: LogicalLayer): WeightShape {
  const kk = l.geom.k * l.geom.k;
  return {
    rows: logicalRows(l),
    outputs: l.geom.oc,
    kernelTaps: kk,
    depthwise: l.depthwise,
    ...(l.taps ? { driven: l.taps } : {}),
  };
}

/**
 * Individual deployment: the layer on arrays of its own, as the mapper places it, one entry
 * per read (an array read in row groups is simulated group by group, each group converted).
 */
export function individualLayout(
  l: LogicalLayer,
  tile: number,
  columnsPerWeight: number,
  rowsPerRead: number | null = null,
  copies = 1,
): ArrayPlacement[] {
  return readGroups(placeWeights(shapeOfLayer(l), tile, columnsPerWeight, l.name, copies), rowsPerRead);
}

/** Input codes a layer's DAC accepts: unsigned 0 … 2^b − 1 after a ReLU, else ±(2^(b−1) − 1). */
export function codeRange(l: LogicalLayer): { codeMin: number; codeMax: number } {
  const hi = l.inSigned ? 2 ** (l.inputBits - 1) - 1 : 2 ** l.inputBits - 1;
  return { codeMin: l.inSigned ? -hi : 0, codeMax: hi };
}

/** Quantize a float input tensor the way the crossbar's DAC sees it (for the integer reference). */
export function inputCodes(l: LogicalLayer, x: Float32Array): Int32Array {
  const { codeMin: lo, codeMax: hi } = codeRange(l);
  return Int32Array.from(x, (v) => {
    const t = l.reluIn && v < 0 ? 0 : v;
    return Math.min(hi, Math.max(lo, roundHalfAway(Math.fround(t / l.inScale))));
  });
}
