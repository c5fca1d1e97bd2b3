/**
 * Differentiable ops on tensors. Each computes its forward with the active kernels and,
 * when a tape is recording, pushes its backward step. Shapes are NCHW.
 */
import type { Rng } from "../util/rng.js";
import { alloc } from "./arena.js";
import { type ConvGeom, kernels, type PoolGeom } from "./kernels/index.js";
import { accumulate, adopt, gradTarget, keepGrad, type Tape, weightGradBuffer } from "./tape.js";
import { Tensor } from "./tensor.js";

export interface ConvAttrs {
  readonly stride: number;
  readonly pad: number;
  readonly dilation: number;
  readonly groups: number;
}

const wantsGrad = (tape: Tape | null, ...ts: Tensor[]): tape is Tape =>
  tape !== null && ts.some((t) => t.requiresGrad);

export function convGeom(x: { readonly shape: readonly number[] }, w: Tensor, a: ConvAttrs): ConvGeom {
  const [n, c, h, wd] = x.shape as [number, number, number, number];
  const [oc, cg, k] = w.shape as [number, number, number, number];
  if (cg * a.groups !== c)
    throw new Error(`conv2d: input has ${c} channels, weight expects ${cg * a.groups}`);
  const span = a.dilation * (k - 1) + 1;
  const oh = Math.floor((h + 2 * a.pad - span) / a.stride) + 1;
  const ow = Math.floor((wd + 2 * a.pad - span) / a.stride) + 1;
  return { n, c, h, w: wd, oc, k, stride: a.stride, pad: a.pad, dil: a.dilation, groups: a.groups, oh, ow };
}

/**
 * Convolution; with `reluIn` it computes conv(relu(x)) without materialising relu(x).
 * Inference only: `bias` (batch norm folded in) per output channel, and `add` (shaped as the
 * output) added to it, a node's sum with the bits of a separate `add`.
 */
export function conv2d(
  tape: Tape | null,
  x: Tensor,
  w: Tensor,
  a: ConvAttrs,
  out?: Float32Array,
  reluIn = false,
  bias: Float32Array | null = null,
  add: Float32Array | null = null,
): Tensor {
  const g = convGeom(x, w, a);
  const y = new Tensor([g.n, g.oc, g.oh, g.ow], out ?? alloc(g.n * g.oc * g.oh * g.ow));
  if (add && add.length !== y.size)
    throw new Error(`conv2d: the added term has ${add.length} values, not ${y.size}`);
  kernels().convForward(g, x.data, w.data, y.data, reluIn, bias, add);
  if ((bias || add) && wantsGrad(tape, x, w))
    throw new Error("conv2d: a folded bias or fused sum is for inference only");
  if (wantsGrad(tape, x, w)) {
    tape.record(y, (dy) => {
      const dx = x.requiresGrad ? gradTarget(x) : null;
      const dw = weightGradBuffer(w);
      kernels().convBackward(g, x.data, w.data, dy, dx?.buf ?? null, dw, reluIn, dx?.add);
      accumulate(w, dw);
      if (dx) keepGrad(x, dx);
    });
  }
  return y;
}

/**
 * Inference: a pointwise convolution (1×1, stride 1, no padding, one group) of the channel
 * concatenation of `parts`, without materialising it; the bits of concat then conv2d (whose
 * options it takes).
 */
export function conv2dConcat(
  parts: readonly Tensor[],
  w: Tensor,
  a: ConvAttrs,
  opts: { out?: Float32Array; reluIn: boolean; bias: Float32Array | null; add: Float32Array | null },
): Tensor {
  const [n, , h, wd] = parts[0]!.shape as [number, number, number, number];
  const c = parts.reduce((sum, p) => sum + p.shape[1]!, 0);
  const g = convGeom({ shape: [n, c, h, wd] }, w, a);
  if (g.k !== 1 || g.stride !== 1 || g.pad !== 0 || g.groups !== 1)
    throw new Error("conv2dConcat: only a pointwise convolution reads a concatenation in place");
  const y = new Tensor([g.n, g.oc, g.oh, g.ow], opts.out ?? alloc(g.n * g.oc * g.oh * g.ow));
  kernels().convForwardConcat(
    g,
    parts.map((p) => p.data),
    w.data,
    y.data,
    opts.reluIn,
    opts.bias,
    opts.add,
  );
  return y;
}

export interface BatchNormState {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
}

export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;

/**
 * Eval-mode batch norm folded into the preceding convolution: w' = w·s, bias = β − μ·s,
 * s = γ/√(σ²+ε). The folded weights come from the active arena (inference folds every
 * step, so they must not land on fresh pages each time).
 */
export function foldBatchNorm(w: Tensor, bn: BatchNormState): { weight: Tensor; bias: Float32Array } {
  const oc = w.shape[0]!;
  const scales = new Float64Array(oc);
  const bias = new Float32Array(oc);
  for (let o = 0; o < oc; o++) {
    const s = bn.weight.data[o]! / Math.sqrt(bn.runningVar[o]! + BN_EPS);
    scales[o] = s;
    bias[o] = bn.bias.data[o]! - bn.runningMean[o]! * s;
  }
  const weight = new Tensor(w.shape, alloc(w.size));
  kernels().scaleRows(scales, w.data, weight.data);
  return { weight, bias };
}

/**
 * Batch norm: batch statistics and a running-stat update in training, running stats in eval
 * (differentiable too: fine-tuning with frozen statistics).
 */
export function batchNorm(
  tape: Tape | null,
  x: Tensor,
  bn: BatchNormState,
  training: boolean,
  out?: Float32Array,
  momentum = BN_MOMENTUM,
): Tensor {
  const [n, c] = x.shape as [number, number];
  const hw = x.size / (n * c);
  const y = new Tensor(x.shape, out ?? alloc(x.size));
  const k = kernels();
  // The batch's statistics in training; in eval the running ones, turned into invstd only
  // when a tape needs them (fine-tuning with frozen statistics), not on the inference path.
  let mean = bn.runningMean;
  let invstd: Float32Array | null = null;
  if (!training) {
    k.bnForwardEval(
      n,
      c,
      hw,
      x.data,
      bn.weight.data,
      bn.bias.data,
      bn.runningMean,
      bn.runningVar,
      BN_EPS,
      y.data,
    );
  } else {
    mean = new Float32Array(c);
    invstd = new Float32Array(c);
    k.bnForwardTrain(n, c, hw, x.data, bn.weight.data, bn.bias.data, BN_EPS, y.data, mean, invstd);
    updateRunningStats(bn, mean, invstd, n * hw, momentum);
  }
  if (wantsGrad(tape, x, bn.weight, bn.bias)) {
    // With running statistics batch norm is a per-channel affine map y = (x − μ)·s + β,
    // s = γ/√(σ²+ε), whose statistics are constants of the backward.
    const inv = invstd ?? bn.runningVar.map((v) => 1 / Math.sqrt(v + BN_EPS));
    tape.record(y, (dy) => {
      const dx = alloc(x.size);
      const dgamma = weightGradBuffer(bn.weight);
      const dbeta = weightGradBuffer(bn.bias);
      k.bnBackward(n, c, hw, x.data, bn.weight.data, mean, inv, dy, dx, dgamma, dbeta, !training);
      accumulate(bn.weight, dgamma);
      accumulate(bn.bias, dbeta);
      accumulate(x, dx);
    });
  }
  return y;
}

function updateRunningStats(
  bn: BatchNormState,
  mean: Float32Array,
  invstd: Float32Array,
  m: number,
  momentum: number,
): void {
  for (let ch = 0; ch < mean.length; ch++) {
    const biasedVar = 1 / (invstd[ch]! * invstd[ch]!) - BN_EPS;
    // PyTorch updates the running variance with the unbiased estimate.
    const unbiased = m > 1 ? (biasedVar * m) / (m - 1) : biasedVar;
    bn.runningMean[ch] = (1 - momentum) * bn.runningMean[ch]! + momentum * mean[ch]!;
    bn.runningVar[ch] = (1 - momentum) * bn.runningVar[ch]! + momentum * unbiased;
  }
}

export function relu(tape: Tape | null, x: Tensor, out?: Float32Array): Tensor {
  const y = new Tensor(x.shape, out ?? alloc(x.size));
  kernels().reluForward(x.data, y.data);
  if (wantsGrad(tape, x)) {
    tape.record(y, (dy) => {
      const dx = alloc(x.size);
      kernels().reluBackward(x.data, dy, dx);
      accumulate(x, dx);
    });
  }
  return y;
}

export function pool2d(
  tape: Tape | null,
  kind: "max" | "avg",
  x: Tensor,
  k: number,
  stride: number,
  pad: number,
  out?: Float32Array,
): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
  const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
  const g: PoolGeom = { n, c, h, w, k, stride, pad, oh, ow };
  const y = new Tensor([n, c, oh, ow], out ?? alloc(n * c * oh * ow));
  kernels().poolForward(kind === "max", g, x.data, y.data);
  if (wantsGrad(tape, x)) {
    tape.record(y, (dy) => {
      const dx = gradTarget(x);
      kernels().poolBackward(kind === "max", g, x.data, dy, dx.buf, dx.add);
      keepGrad(x, dx);
    });
  }
  return y;
}

/**
 * Sum of same-shaped tensors; `scales[i]` (one factor per sample, or null for 1) weights
 * input i, which is how drop-path is applied without materialising the dropped tensors.
 */
export function add(
  tape: Tape | null,
  xs: readonly Tensor[],
  out?: Float32Array,
  scales?: readonly (Float32Array | null)[],
): Tensor {
  const first = xs[0]!;
  const y = new Tensor(first.shape, out ?? alloc(first.size));
  const k = kernels();
  if (xs.length === 2)
    k.sum2(first.shape[0]!, first.data, scales?.[0] ?? null, xs[1]!.data, scales?.[1] ?? null, y.data);
  else
    xs.forEach((x, i) => {
      const s = scales?.[i] ?? null;
      if (s) k.rowScaleAdd(x.data, s, y.data, i > 0);
      else if (i === 0) y.data.set(x.data);
      else k.axpy(1, x.data, y.data);
    });
  if (wantsGrad(tape, ...xs)) {
    tape.record(y, (dy) => {
      xs.forEach((x, i) => {
        if (!x.requiresGrad) return;
        const s = scales?.[i] ?? null;
        if (x.grad) {
          // Straight into the gradient already there: no temporary, one pass.
          if (s) k.rowScaleAdd(dy, s, x.grad, true);
          else k.axpy(1, dy, x.grad);
        } else if (s) {
          const dx = alloc(x.size);
          k.rowScaleAdd(dy, s, dx, false);
          adopt(x, dx);
        } else adopt(x, i === xs.length - 1 ? dy : copyOf(dy));
      });
    });
  }
  return y;
}

/** DARTS drop-path factors: per sample 0 with probability p, else 1/(1−p). */
export function dropPathScales(n: number, p: number, rng: Rng): Float32Array {
  const keep = 1 - p;
  return Float32Array.from({ length: n }, () => (rng.uniform() < keep ? 1 / keep : 0));
}

/** DARTS drop-path on one tensor: each sample is zeroed with probability p, else scaled by 1/(1−p). */
export function dropPath(tape: Tape | null, x: Tensor, p: number, rng: Rng): Tensor {
  if (p <= 0) return x;
  const mask = dropPathScales(x.shape[0]!, p, rng);
  const y = new Tensor(x.shape, alloc(x.size));
  kernels().rowScaleAdd(x.data, mask, y.data, false);
  if (wantsGrad(tape, x)) {
    tape.record(y, (dy) => {
      const dx = alloc(x.size);
      kernels().rowScaleAdd(dy, mask, dx, false);
      accumulate(x, dx);
    });
  }
  return y;
}

/** Concatenation along channels. */
export function concat(tape: Tape | null, xs: readonly Tensor[], out?: Float32Array): Tensor {
  const [n, , h, w] = xs[0]!.shape as [number, number, number, number];
  const cs = xs.map((x) => x.shape[1]!);
  const ctot = cs.reduce((a, b) => a + b, 0);
  const hw = h * w;
  const offsets = cs.map((_, j) => cs.slice(0, j).reduce((a, b) => a + b, 0) * hw);
  const y = new Tensor([n, ctot, h, w], out ?? alloc(n * ctot * hw));
  const k = kernels();
  xs.forEach((x, j) => {
    k.stridedCopy(n, cs[j]! * hw, x.data, 0, cs[j]! * hw, y.data, offsets[j]!, ctot * hw);
  });
  if (wantsGrad(tape, ...xs)) {
    tape.record(y, (dy) => {
      xs.forEach((x, j) => {
        if (!x.requiresGrad) return;
        const dx = alloc(x.size);
        k.stridedCopy(n, cs[j]! * hw, dy, offsets[j]!, ctot * hw, dx, 0, cs[j]! * hw);
        accumulate(x, dx);
      });
    });
  }
  return y;
}

/** x[:, :, 1:, 1:] (FactorizedReduce's second branch). */
export function shift(tape: Tape | null, x: Tensor, out?: Float32Array): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const y = new Tensor([n, c, h - 1, w - 1], out ?? alloc(n * c * (h - 1) * (w - 1)));
  kernels().shiftForward(n * c, h, w, x.data, y.data);
  if (wantsGrad(tape, x)) {
    tape.record(y, (dy) => {
      const dx = alloc(x.size);
      kernels().shiftBackward(n * c, h, w, dy, dx);
      accumulate(x, dx);
    });
  }
  return y;
}

/** Global average pooling → [N, C]. */
export function globalAvgPool(tape: Tape | null, x: Tensor): Tensor {
  const [n, c] = x.shape as [number, number];
  const hw = x.size / (n * c);
  const y = new Tensor([n, c], new Float32Array(n * c));
  kernels().globalAvgPool(x.data, y.data);
  if (wantsGrad(tape, x)) {
    tape.record(y, (dy) => {
      const dx = alloc(x.size);
      for (let p = 0; p < n * c; p++) dx.fill(dy[p]! / hw, p * hw, (p + 1) * hw);
      accumulate(x, dx);
    });
  }
  return y;
}

/** y = x·Wᵀ + b for x [N, F] (any trailing dims flattened), W [O, F]. */
export function linear(tape: Tape | null, x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const n = x.shape[0]!;
  const f = x.size / n;
  const o = w.shape[0]!;
  if (w.shape[1] !== f) throw new Error(`linear: input has ${f} features, weight expects ${w.shape[1]}`);
  const y = new Tensor([n, o], new Float32Array(n * o));
  if (b) for (let i = 0; i < n; i++) y.data.set(b.data, i * o);
  kernels().gemm(false, true, n, o, f, 1, x.data, w.data, 1, y.data);
  if (wantsGrad(tape, x, w, ...(b ? [b] : []))) {
    tape.record(y, (dy) => {
      const dw = weightGradBuffer(w);
      kernels().gemm(true, false, o, f, n, 1, dy, x.data, 0, dw);
      accumulate(w, dw);
      if (b) {
        const db = weightGradBuffer(b);
        for (let i = 0; i < n; i++) for (let j = 0; j < o; j++) db[j]! += dy[i * o + j]!;
        accumulate(b, db);
      }
      if (x.requiresGrad) {
        const dx = alloc(x.size);
        kernels().gemm(false, false, n, f, o, 1, dy, w.data, 0, dx);
        accumulate(x, dx);
      }
    });
  }
  return y;
}

/** Mean softmax cross-entropy of logits [N, K] against integer labels; a scalar times `weight`. */
export function crossEntropy(
  tape: Tape | null,
  logits: Tensor,
  labels: ArrayLike<number>,
  weight = 1,
): Tensor {
  const [n, k] = logits.shape as [number, number];
  const probs = new Float64Array(n * k);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < k; j++) max = Math.max(max, logits.data[i * k + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(logits.data[i * k + j]! - max);
    for (let j = 0; j < k; j++) probs[i * k + j] = Math.exp(logits.data[i * k + j]! - max) / s;
    const label = labels[i]!;
    if (!(label >= 0 && label < k)) throw new Error(`crossEntropy: label ${label} out of range 0..${k - 1}`);
    loss -= Math.log(Math.max(probs[i * k + label]!, 1e-30));
  }
  const y = new Tensor([1], new Float32Array([(weight * loss) / n]));
  if (wantsGrad(tape, logits)) {
    tape.record(y, (dy) => {
      const dx = new Float32Array(logits.size);
      const s = (dy[0]! * weight) / n;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < k; j++) dx[i * k + j] = s * (probs[i * k + j]! - (j === labels[i] ? 1 : 0));
      }
      accumulate(logits, dx);
    });
  }
  return y;
}

function copyOf(a: Float32Array): Float32Array {
  const b = alloc(a.length);
  b.set(a);
  return b;
}
