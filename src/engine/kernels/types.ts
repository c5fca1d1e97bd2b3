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

/**
 * One layer mapped on crossbar arrays (built by src/xbar/program.ts). The layer's
 * logical matrix has rows r = (c·k + kh)·k + kw of the im2col input and output channels o.
 * Array a drives the rows `rows[rowOff[a] .. rowOff[a+1])` and reads `cols` physical columns;
 * column j of the layer's column list is logical output `colOut[j]`, weighted `colWeight[j]`
 * in the digital sum (±L^slice for the two devices of a differential pair). `g` holds each
 * column's conductances over the array's rows (column-major per array: j·nr + i), in level
 * units relative to Gmin; `readVar` the per-read variance of each device (level units²).
 */
export interface XbarLayer {
  readonly geom: ConvGeom;
  /**
   * Input quantization, applied as rows are gathered: code = clamp(roundHalfAway(x′ / inScale),
   * codeMin, codeMax) with x′ = max(x, 0) when `reluIn` (a ReLU fused in front of the layer).
   */
  readonly inScale: number;
  readonly reluIn: boolean;
  readonly codeMin: number;
  readonly codeMax: number;
  readonly arrays: number;
  readonly rowOff: Int32Array;
  readonly rows: Int32Array;
  readonly colOff: Int32Array;
  readonly colOut: Int32Array;
  readonly colWeight: Float32Array;
  /** Offset of array a's conductances in `g` (= Σ previous nr·ncols). */
  readonly gOff: Int32Array;
  readonly g: Float32Array;
  readonly readVar: Float32Array | null;
  /** ADC step per array in level units; 0 = lossless conversion. */
  readonly adcLsb: Float32Array;
  /** ADC codes: 0..2^bits − 1 (unipolar), −2^(bits−1)..2^(bits−1) − 1 (bipolar, analog pair subtraction). */
  readonly adcMin: number;
  readonly adcMax: number;
  /** Gmin / step: the current every device adds on a driven row (cancels in a lossless pair). */
  readonly g0: number;
  /**
   * DAC phases, three ints each: [sign, shift, mask]. The phase applies
   * v = sel(x)·((|x| >> shift) & mask), sel(x) = [x > 0] for sign 1, [x < 0] for sign −1,
   * sign(x) for sign 0, and weighs its result by planeWeight; sign 2 applies bit `shift` of
   * x's two's complement code, (x >> shift) & mask.
   */
  readonly planes: Int32Array;
  readonly planeWeight: Float32Array;
  /** y[n, o, p] = fround(acc·outScale[o] + outBias[o]) with acc summed in float64. */
  readonly outScale: Float64Array;
  readonly outBias: Float32Array | null;
  /** Seed of the read-noise draws; image `imageOffset + n` gets its own stream. */
  readonly seed: number;
  readonly imageOffset: number;
  /**
   * When set, the fast noisy path runs instead of the phases and columns: one product per
   * array on the collapsed matrices, and one Gaussian per output with the summed variance of
   * the read noise and the ADC's rounding (src/xbar/collapse.ts).
   */
  readonly collapsed?: CollapsedArrays | null;
}

/**
 * A layer's arrays collapsed for the fast noisy path. Every DAC phase and every column of a
 * weight adds into one output, so the noise-free sum is Σ_i code_i·Σ_j colWeight_j·g_ij (one
 * product per array), and the independent Gaussians of all reads add up to one Gaussian
 * whose variance is the sum of theirs.
 */
export interface CollapsedArrays {
  /** Array a computes logical outputs outputs[outOff[a] .. outOff[a+1]). */
  readonly outOff: Int32Array;
  readonly outputs: Int32Array;
  /** Offset of array a's matrices in `weight` and `variance` (Σ previous outputs·rows). */
  readonly wOff: Int32Array;
  /** Σ_j colWeight_j·g_ij over output o's columns j: row-major [outputs × rows] per array. */
  readonly weight: Float32Array;
  /** Σ_j colWeight_j²·readVar_ij, same layout; null without read noise. */
  readonly variance: Float32Array | null;
  /** Per (array, output), in `outputs` order: adcLsb_a²·Σ_j colWeight_j² / 12 (0: lossless). */
  readonly rounding: Float32Array;
  /** Per input code c (index c − codeMin): Σ_phases planeWeight²·(phase value of c)². */
  readonly codeVariance: Float32Array;
  /** Per input code: bit `phase` set when that phase applies a nonzero value. */
  readonly codePhases: Int32Array;
  /** planeWeight² of every phase. */
  readonly phaseVariance: Float32Array;
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
  /**
   * `reluIn`: the input is read through a ReLU (fused); dx is then masked by x > 0. `bias`
   * (optional) is added per output channel: batch norm folded in for inference. `add`
   * (optional, shaped as y): y = conv + add, rounded as the convolution and then the sum
   * (a node's sum, fused into the convolution that computes one of its terms).
   */
  convForward(
    g: ConvGeom,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    reluIn: boolean,
    bias?: Float32Array | null,
    add?: Float32Array | null,
  ): void;
  /**
   * convForward of a pointwise convolution (1×1, stride 1, no padding, one group) whose input
   * is the channel concatenation of `parts` (each NCHW, same N, H, W), read in place instead
   * of from a concatenated copy; the same bits.
   */
  convForwardConcat(
    g: ConvGeom,
    parts: readonly Float32Array[],
    w: Float32Array,
    y: Float32Array,
    reluIn: boolean,
    bias: Float32Array | null,
    add?: Float32Array | null,
  ): void;
  /** Writes dx (when given; with `accumulate`, adds into the gradient dx holds) and adds into dw. */
  convBackward(
    g: ConvGeom,
    x: Float32Array,
    w: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    dw: Float32Array,
    reluIn: boolean,
    accumulate?: boolean,
  ): void;
  /** y[r] = (accumulate ? y[r] : 0) + scales[r]·x[r], rows = scales.length (drop-path sums). */
  rowScaleAdd(x: Float32Array, scales: Float32Array, y: Float32Array, accumulate: boolean): void;
  /**
   * y = s0[r]·x0 + s1[r]·x1 over `rows` equal rows, a null scale meaning 1 (a two-input node
   * sum, drop-path factors included, in one pass).
   */
  sum2(
    rows: number,
    x0: Float32Array,
    s0: Float32Array | null,
    x1: Float32Array,
    s1: Float32Array | null,
    y: Float32Array,
  ): void;
  poolForward(max: boolean, g: PoolGeom, x: Float32Array, y: Float32Array): void;
  /** Writes dx, or with `accumulate` adds into the gradient it holds. */
  poolBackward(
    max: boolean,
    g: PoolGeom,
    x: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    accumulate?: boolean,
  ): void;
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
  /**
   * Writes dx, adds into dgamma and dbeta. fixedStats: mean and invstd are constants (running
   * statistics), so dx = γ·invstd·dy; otherwise they are the batch's and dx carries their terms.
   */
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
    fixedStats: boolean,
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
  /** y[p] = the mean of plane p of x (x.length / y.length values each), summed in double. */
  globalAvgPool(x: Float32Array, y: Float32Array): void;
  /** y = x[:, :, 1:, 1:] over `planes` planes of h×w. */
  shiftForward(planes: number, h: number, w: number, x: Float32Array, y: Float32Array): void;
  /** dx = gradient of shiftForward (zeros in row 0 and column 0). */
  shiftBackward(planes: number, h: number, w: number, dy: Float32Array, dx: Float32Array): void;
  reluForward(x: Float32Array, y: Float32Array): void;
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** y += a·x */
  axpy(a: number, x: Float32Array, y: Float32Array): void;
  /**
   * One SGD step on one parameter w with gradient g and momentum buffer buf, in double:
   * d = g + wd·w; b = d on the first step, else mu·buf + d; buf = b; w −= lr·(nesterov ? d + mu·b : b).
   */
  sgdStep(
    w: Float32Array,
    g: Float32Array,
    buf: Float32Array,
    lr: number,
    mu: number,
    wd: number,
    nesterov: boolean,
    first: boolean,
  ): void;
  /** max(start, max x), or of |x| when `abs` (calibration ranges). */
  maxValue(x: Float32Array, abs: boolean, start: number): number;
  /**
   * y[r·m + i] = scales[r]·x[r·m + i] over scales.length equal rows, in double and rounded
   * once (batch norm folded into a convolution's weights, one scale per output channel).
   */
  scaleRows(scales: Float64Array, x: Float32Array, y: Float32Array): void;
  /**
   * Crossbar forward of one layer on float activations x (NCHW, quantized on the way in):
   * writes y [n, oc, oh, ow]; when `colMax` is given, also raises colMax[a] to the largest
   * value any column of array a presented to its ADC (for ADC range calibration).
   */
  xbarForward(layer: XbarLayer, x: Float32Array, y: Float32Array, colMax: Float32Array | null): void;
  /** The first out.length read-noise normals of stream `seed` (src/util/normals.ts). */
  fillNormals(seed: number, out: Float32Array): void;
  /**
   * A quantized layer as an exact integer convolution: the input is read as codes (see
   * XbarLayer: inScale, reluIn, codeMin..codeMax), convolved with integer weights held as
   * float32 (exact while partial sums stay below 2^24), and each output becomes
   * fround(acc·outScale[o] + bias[o]) computed in float64.
   */
  convForwardQuantized(
    g: ConvGeom,
    x: Float32Array,
    w: Float32Array,
    y: Float32Array,
    input: { readonly scale: number; readonly reluIn: boolean; readonly lo: number; readonly hi: number },
    bias: Float32Array | null,
    outScale: Float64Array,
  ): void;
}
