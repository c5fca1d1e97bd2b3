/**
 * The narrow kernel boundary of the engine: typed arrays and flat numbers only. Two
 * implementations: native C++ (native/kernels.cc) and pure TypeScript (ts.ts), which is
 * the reference in tests and the fallback when the addon is not built.
 */
export interface ConvGeom {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly oc: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly dil: number;
  readonly groups: number;
  readonly oh: number;
  readonly ow: number;
}

export interface PoolGeom {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly oh: number;
  readonly ow: number;
}

export interface Kernels {
  readonly name: "native" | "ts";
  /** C[m×n] = alpha·op(A)·op(B) + beta·C, row-major, packed. */
  gemm(
    ta: boolean,
    tb: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    c: Float32Array,
  ): void;
  /** `reluIn`: the input is read through a ReLU (fused); dx is then masked by x > 0. */
  /** `bias` (optional) is added per output channel: batch norm folded in for inference. */
  convForward(
    g: ConvGeom,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    reluIn: boolean,
    bias?: Float32Array | null,
  ): void;
  /** Writes dx (when given) and adds into dw. */
  convBackward(
    g: ConvGeom,
    x: Float32Array,
    w: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array,
    reluIn: boolean,
  ): void;
  /** y[r] = (accumulate ? y[r] : 0) + scales[r]·x[r], rows = scales.length (drop-path sums). */
  rowScaleAdd(x: Float32Array, scales: Float32Array, y: Float32Array, accumulate: boolean): void;
  poolForward(max: boolean, g: PoolGeom, x: Float32Array, y: Float32Array): void;
  /** Writes dx. */
  poolBackward(max: boolean, g: PoolGeom, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  bnForwardTrain(
    n: number,
    c: number,
    hw: number,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    y: Float32Array,
    mean: Float32Array,
    invstd: Float32Array,
  ): void;
  bnForwardEval(
    n: number,
    c: number,
    hw: number,
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    eps: number,
    y: Float32Array,
  ): void;
  /** Writes dx, adds into dgamma and dbeta. */
  bnBackward(
    n: number,
    c: number,
    hw: number,
    x: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    invstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  /** count rows of len values: dst[dstOffset + r·dstStride ..] = src[srcOffset + r·srcStride ..]. */
  stridedCopy(
    count: number,
    len: number,
    src: Float32Array,
    srcOffset: number,
    srcStride: number,
    dst: Float32Array,
    dstOffset: number,
    dstStride: number,
  ): void;
  /** y = x[:, :, 1:, 1:] over `planes` planes of h×w. */
  shiftForward(planes: number, h: number, w: number, x: Float32Array, y: Float32Array): void;
  /** dx = gradient of shiftForward (zeros in row 0 and column 0). */
  shiftBackward(planes: number, h: number, w: number, dy: Float32Array, dx: Float32Array): void;
  reluForward(x: Float32Array, y: Float32Array): void;
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** y += a·x */
  axpy(a: number, x: Float32Array, y: Float32Array): void;
  /** y = a·x */
  scale(a: number, x: Float32Array, y: Float32Array): void;
}
