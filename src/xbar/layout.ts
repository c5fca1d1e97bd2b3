/**
 * A weight layer as the crossbar sees it, and how its logical matrix is cut into arrays.
 *
 * The logical matrix of a layer has one row per im2col input, r = (c·k + kh)·k + kw, and
 * one column per output channel. Dense convolutions, 1×1 convolutions, the stem and the
 * classifier fill it; a depthwise convolution is block-diagonal (channel o only reads rows
 * o·k² … o·k² + k² − 1). Dilation and stride change which inputs reach a row (the address
 * generator), never the array.
 */
import type { ConvGeom } from "../engine/kernels/types.js";
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
  if (l.depthwise) return Math.floor(r / kk) === o ? l.q[o * kk + (r % kk)]! : 0;
  return l.q[o * logicalRows(l) + r]!;
}

/** One physical array: the logical rows it drives and the logical outputs it holds. */
export interface ArrayPlacement {
  readonly rows: Int32Array;
  readonly outputs: Int32Array;
}

const range = (from: number, to: number): Int32Array =>
  Int32Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Dense layers cut into row tiles of T rows × ⌊T / columnsPerWeight⌋ outputs; depthwise layers
 * packed block-diagonally, ⌊T/k²⌋ channels per array (fewer if their columns would not fit),
 * each channel driving only its `taps` rows when the layer is row-gated.
 */
export function individualLayout(l: LogicalLayer, tile: number, columnsPerWeight: number): ArrayPlacement[] {
  const outsPerArray = Math.floor(tile / columnsPerWeight);
  if (outsPerArray < 1)
    throw new Error(`a ${tile}-column tile cannot hold one weight of ${columnsPerWeight} columns`);
  const arrays: ArrayPlacement[] = [];
  const { oc, k } = l.geom;
  if (l.depthwise) {
    const kk = k * k;
    const per = Math.min(Math.floor(tile / kk), outsPerArray);
    if (per < 1) throw new Error(`a ${tile}-row tile cannot hold a ${k}×${k} depthwise kernel`);
    for (let c0 = 0; c0 < oc; c0 += per) {
      const c1 = Math.min(oc, c0 + per);
      const rows = l.taps
        ? Int32Array.from({ length: (c1 - c0) * l.taps.length }, (_, i) => {
            const t = l.taps!.length;
            return (c0 + Math.floor(i / t)) * kk + l.taps![i % t]!;
          })
        : range(c0 * kk, c1 * kk);
      arrays.push({ rows, outputs: range(c0, c1) });
    }
    return arrays;
  }
  const R = logicalRows(l);
  for (let r0 = 0; r0 < R; r0 += tile)
    for (let o0 = 0; o0 < oc; o0 += outsPerArray)
      arrays.push({
        rows: range(r0, Math.min(R, r0 + tile)),
        outputs: range(o0, Math.min(oc, o0 + outsPerArray)),
      });
  return arrays;
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
