/**
 * The mapper: where a weight layer sits on T×T arrays and how its inputs are applied. Computed
 * once per layer and read by both halves: the crossbar simulator programs and runs exactly
 * these arrays with these DAC phases, and the cost model prices them (arrays, cells, DAC
 * drives and ADC conversions are counted from the same placement, not from a second formula).
 *
 * The logical matrix of a layer has one row per im2col input, r = (c·k + kh)·k + kw, and one
 * column per output channel. Dense layers fill it; a depthwise layer is block-diagonal
 * (channel o reads rows o·k² … o·k² + k² − 1).
 */
import type { ConvNode, LinearNode } from "../ir/graph.js";
import type { HardwareConfig } from "./config.js";

/** What the placement needs to know of a weight layer. */
export interface WeightShape {
  /** Rows of the logical matrix (c·k·k). */
  readonly rows: number;
  readonly outputs: number;
  /** k·k (1 for a linear layer). */
  readonly kernelTaps: number;
  readonly depthwise: boolean;
  /** Depthwise taps that hold weights and are driven (row gating); absent: all. */
  readonly driven?: readonly number[];
}

/** One physical array: the logical rows it drives and the logical outputs it holds. */
export interface ArrayPlacement {
  readonly rows: Int32Array;
  readonly outputs: Int32Array;
}

const range = (from: number, to: number): Int32Array =>
  Int32Array.from({ length: to - from }, (_, i) => from + i);

/**
 * Dense layers cut into row tiles of T rows × ⌊T / columnsPerWeight⌋ outputs (a weight's slices
 * never straddle two arrays); depthwise layers packed block-diagonally, ⌊T/k²⌋ channels per
 * array (fewer if their columns would not fit), each channel driving only its `driven` rows
 * when the layer is row-gated. With `copies` > 1 (layout.weightCopies) every logical row sits
 * on that many physical rows of its array, so each column sums as many devices per weight.
 */
export function placeWeights(
  s: WeightShape,
  tile: number,
  columnsPerWeight: number,
  where = "layer",
  copies = 1,
): ArrayPlacement[] {
  const outsPerArray = Math.floor(tile / columnsPerWeight);
  if (outsPerArray < 1)
    throw new Error(`${where}: a ${tile}-column tile cannot hold one weight of ${columnsPerWeight} columns`);
  const rowsPerArray = Math.floor(tile / copies);
  const arrays: ArrayPlacement[] = [];
  if (s.depthwise) {
    const kk = s.kernelTaps;
    const per = Math.min(Math.floor(rowsPerArray / kk), outsPerArray);
    if (per < 1)
      throw new Error(
        `${where}: a ${kk}-tap depthwise kernel${copies > 1 ? ` in ${copies} copies` : ""} does not fit a ${tile}×${tile} tile`,
      );
    const taps = s.driven;
    for (let c0 = 0; c0 < s.outputs; c0 += per) {
      const c1 = Math.min(s.outputs, c0 + per);
      const rows = taps
        ? Int32Array.from(
            { length: (c1 - c0) * taps.length },
            (_, i) => (c0 + Math.floor(i / taps.length)) * kk + taps[i % taps.length]!,
          )
        : range(c0 * kk, c1 * kk);
      arrays.push({ rows: repeated(rows, copies), outputs: range(c0, c1) });
    }
    return arrays;
  }
  if (rowsPerArray < 1) throw new Error(`${where}: ${copies} copies of a row do not fit a ${tile}-row tile`);
  for (let r0 = 0; r0 < s.rows; r0 += rowsPerArray)
    for (let o0 = 0; o0 < s.outputs; o0 += outsPerArray)
      arrays.push({
        rows: repeated(range(r0, Math.min(s.rows, r0 + rowsPerArray)), copies),
        outputs: range(o0, Math.min(s.outputs, o0 + outsPerArray)),
      });
  return arrays;
}

/** Each row `copies` times in a row: redundant devices of one weight, driven by the same input. */
function repeated(rows: Int32Array, copies: number): Int32Array {
  if (copies === 1) return rows;
  return Int32Array.from({ length: rows.length * copies }, (_, i) => rows[Math.floor(i / copies)]!);
}

/** The weight shape of an IR weight layer (a linear layer is a 1×1 convolution). */
export function shapeOfNode(node: ConvNode | LinearNode): WeightShape {
  if (node.kind === "linear") return { rows: node.inF, outputs: node.outF, kernelTaps: 1, depthwise: false };
  const kk = node.k * node.k;
  if (node.groups === 1) return { rows: node.inC * kk, outputs: node.outC, kernelTaps: kk, depthwise: false };
  if (node.groups === node.inC && node.outC === node.inC)
    return {
      rows: node.inC * kk,
      outputs: node.outC,
      kernelTaps: kk,
      depthwise: true,
      ...(node.taps ? { driven: node.taps } : {}),
    };
  throw new Error(`${node.scope.path}: grouped convolutions other than depthwise have no crossbar design`);
}

/**
 * The reads of a placement when only `rowsPerRead` rows are driven at once: each array's rows
 * in consecutive groups, each group read and converted on its own (its partial sums added
 * digitally). null: one read of every row.
 */
export function readGroups(p: readonly ArrayPlacement[], rowsPerRead: number | null): ArrayPlacement[] {
  if (rowsPerRead === null) return [...p];
  return p.flatMap((a) =>
    Array.from({ length: readsOf(a, rowsPerRead) }, (_, g) => ({
      rows: a.rows.subarray(g * rowsPerRead, (g + 1) * rowsPerRead),
      outputs: a.outputs,
    })),
  );
}

/** Reads of one array per DAC phase: its row groups of `rowsPerRead` (null: one read). */
export function readsOf(a: ArrayPlacement, rowsPerRead: number | null): number {
  return rowsPerRead === null ? 1 : Math.ceil(a.rows.length / rowsPerRead);
}

/** Counts of a placement that the cost model prices. */
export interface PlacementCounts {
  readonly arrays: number;
  /** Devices holding weights (both of every pair, every slice). */
  readonly usedCells: number;
  /** Devices of the rows and columns each array uses (a block-diagonal array's zeros included): what is programmed. */
  readonly devices: number;
  /** Physical weight columns of all arrays (read once per DAC phase). */
  readonly weightColumns: number;
  /** Rows driven per DAC phase, over all arrays. */
  readonly rowsDriven: number;
  /** Arrays whose partial sums make one output (row tiles). */
  readonly rowTiles: number;
}

export function countPlacement(
  p: readonly ArrayPlacement[],
  s: WeightShape,
  columnsPerWeight: number,
): PlacementCounts {
  let usedCells = 0;
  let devices = 0;
  let weightColumns = 0;
  let rowsDriven = 0;
  const perOutput = new Int32Array(s.outputs);
  for (const a of p) {
    // A depthwise row belongs to one output; a dense row to every output of its array.
    usedCells += (s.depthwise ? a.rows.length : a.rows.length * a.outputs.length) * columnsPerWeight;
    devices += a.rows.length * a.outputs.length * columnsPerWeight;
    weightColumns += a.outputs.length * columnsPerWeight;
    rowsDriven += a.rows.length;
    for (const o of a.outputs) perOutput[o]!++;
  }
  let rowTiles = 0;
  for (const n of perOutput) rowTiles = Math.max(rowTiles, n);
  return { arrays: p.length, usedCells, devices, weightColumns, rowsDriven, rowTiles };
}

/**
 * DAC phases for a layer's inputs, [kind, shift, mask] each with its digital weight. Kind 1:
 * the positive part, −1: the magnitudes of the negative part, 0: the signed value in one phase,
 * 2: bit `shift` of the two's complement code. Unsigned inputs (after a ReLU): one pass.
 * Signed inputs (the stem's image, the classifier's pooled features, a depthwise output
 * feeding a 1×1): two phases (positive, then negative, subtracted digitally), or in bit-serial
 * two's complement the code's bits with the top one weighted −2^(bits−1).
 */
export function dacPhases(
  mode: HardwareConfig["dac"]["mode"],
  inputBits: number,
  signed: boolean,
  signedInputs: HardwareConfig["dac"]["signedInputs"] = "two-phase",
): { planes: Int32Array; planeWeight: Float32Array } {
  const phases: [number, number, number, number][] = [];
  if (signed && mode === "bit-serial" && signedInputs === "twos-complement") {
    for (let b = 0; b < inputBits; b++) phases.push([2, b, 1, b === inputBits - 1 ? -(2 ** b) : 2 ** b]);
  } else {
    const magBits = signed ? inputBits - 1 : inputBits;
    const all = 2 ** magBits - 1;
    for (const sign of signed ? [1, -1] : [1]) {
      if (mode === "multi-bit") phases.push([sign, 0, all, sign]);
      else for (let b = 0; b < magBits; b++) phases.push([sign, b, 1, sign * 2 ** b]);
    }
  }
  return {
    planes: Int32Array.from(phases.flatMap((p) => p.slice(0, 3))),
    planeWeight: Float32Array.from(phases, (p) => p[3]),
  };
}

/**
 * Whether a weight layer's input is signed: unless a ReLU whose only reader is this
 * convolution feeds it (the engine then fuses the ReLU into the convolution's input).
 */
export function signedInput(node: ConvNode | LinearNode, fused: ReadonlySet<number>): boolean {
  return !(node.kind === "conv" && fused.has(node.input));
}
