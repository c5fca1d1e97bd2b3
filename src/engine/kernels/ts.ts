/**
 * Pure TypeScript kernels: the living definition of every op (clear loops, float64
 * accumulation), the reference the native kernels are tested against, and the fallback.
 */

import { fillNormals } from "../../util/normals.js";
import type { ConvGeom, Kernels, PoolGeom } from "./types.js";
import { xbarForwardTs } from "./xbar-ts.js";

const gemm: Kernels["gemm"] = (ta, tb, m, n, k, alpha, a, b, beta, c) => {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s += (ta ? a[p * m + i]! : a[i * k + p]!) * (tb ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * c[i * n + j]!);
    }
  }
};

/** Calls fn(n, oc, oh, ow, ci, kh, kw, xIndex | -1) for every tap of a (grouped) convolution. */
function forEachTap(g: ConvGeom, fn: (yi: number, wi: number, xi: number) => void): void {
  const cg = g.c / g.groups;
  const og = g.oc / g.groups;
  for (let n = 0; n < g.n; n++) {
    for (let o = 0; o < g.oc; o++) {
      const group = Math.floor(o / og);
      for (let oh = 0; oh < g.oh; oh++) {
        for (let ow = 0; ow < g.ow; ow++) {
          const yi = ((n * g.oc + o) * g.oh + oh) * g.ow + ow;
          for (let ci = 0; ci < cg; ci++) {
            const c = group * cg + ci;
            for (let kh = 0; kh < g.k; kh++) {
              const ih = oh * g.stride - g.pad + kh * g.dil;
              if (ih < 0 || ih >= g.h) continue;
              for (let kw = 0; kw < g.k; kw++) {
                const iw = ow * g.stride - g.pad + kw * g.dil;
                if (iw < 0 || iw >= g.w) continue;
                fn(yi, ((o * cg + ci) * g.k + kh) * g.k + kw, ((n * g.c + c) * g.h + ih) * g.w + iw);
              }
            }
          }
        }
      }
    }
  }
}

const relu = (x: Float32Array): Float32Array => x.map((v) => (v > 0 ? v : 0));

const convForward: Kernels["convForward"] = (g, x, w, y, reluIn, bias, add) => {
  if (reluIn) x = relu(x);
  const acc = new Float64Array(y.length);
  if (bias) for (let i = 0; i < acc.length; i++) acc[i] = bias[Math.floor(i / (g.oh * g.ow)) % g.oc]!;
  forEachTap(g, (yi, wi, xi) => {
    acc[yi]! += w[wi]! * x[xi]!;
  });
  y.set(acc);
  // y holds the convolution rounded to float32; each sum is rounded once as it is stored.
  if (add) for (let i = 0; i < y.length; i++) y[i]! += add[i]!;
};

const stridedCopy: Kernels["stridedCopy"] = (
  count,
  len,
  src,
  srcOffset,
  srcStride,
  dst,
  dstOffset,
  dstStride,
) => {
  for (let r = 0; r < count; r++)
    dst.set(
      src.subarray(srcOffset + r * srcStride, srcOffset + r * srcStride + len),
      dstOffset + r * dstStride,
    );
};

/** The concatenation, then the convolution. */
const convForwardConcat: Kernels["convForwardConcat"] = (g, parts, w, y, reluIn, bias, add) => {
  const image = g.c * g.h * g.w;
  const x = new Float32Array(g.n * image);
  let offset = 0;
  for (const part of parts) {
    const len = part.length / g.n;
    stridedCopy(g.n, len, part, 0, len, x, offset, image);
    offset += len;
  }
  convForward(g, x, w, y, reluIn, bias, add);
};

/** Writes `grad` into dx, or adds it (rounded to float32 first, as a kernel's own output). */
function putGrad(dx: Float32Array, grad: ArrayLike<number>, accumulate: boolean): void {
  if (!accumulate) dx.set(grad);
  else for (let i = 0; i < dx.length; i++) dx[i]! += Math.fround(grad[i]!);
}

const convBackward: Kernels["convBackward"] = (g, x, w, dy, dx, dw, reluIn, accumulate = false) => {
  const mask = reluIn ? x : null;
  if (reluIn) x = relu(x);
  const dwAcc = new Float64Array(dw.length);
  const dxAcc = dx ? new Float64Array(dx.length) : null;
  forEachTap(g, (yi, wi, xi) => {
    dwAcc[wi]! += dy[yi]! * x[xi]!;
    if (dxAcc) dxAcc[xi]! += dy[yi]! * w[wi]!;
  });
  for (let i = 0; i < dw.length; i++) dw[i]! += dwAcc[i]!;
  if (dx && dxAcc) {
    if (mask) for (let i = 0; i < dxAcc.length; i++) if (!(mask[i]! > 0)) dxAcc[i] = 0;
    putGrad(dx, dxAcc, accumulate);
  }
};

/** Calls fn(yIndex, window) with the in-bounds input indices of each pooling window. */
function forEachWindow(g: PoolGeom, fn: (yi: number, window: number[]) => void): void {
  for (let p = 0; p < g.n * g.c; p++) {
    for (let a = 0; a < g.oh; a++) {
      for (let b = 0; b < g.ow; b++) {
        const window: number[] = [];
        for (
          let ih = Math.max(a * g.stride - g.pad, 0);
          ih < Math.min(a * g.stride - g.pad + g.k, g.h);
          ih++
        ) {
          for (
            let iw = Math.max(b * g.stride - g.pad, 0);
            iw < Math.min(b * g.stride - g.pad + g.k, g.w);
            iw++
          ) {
            window.push((p * g.h + ih) * g.w + iw);
          }
        }
        fn((p * g.oh + a) * g.ow + b, window);
      }
    }
  }
}

/** The first maximum in scan order (PyTorch's choice for ties). */
function argmax(x: Float32Array, window: number[]): number {
  let best = window[0]!;
  for (const i of window) if (x[i]! > x[best]!) best = i;
  return best;
}

const poolForward: Kernels["poolForward"] = (max, g, x, y) => {
  forEachWindow(g, (yi, win) => {
    // count_include_pad=False: average over the in-bounds elements only.
    y[yi] = max ? x[argmax(x, win)]! : win.reduce((s, i) => s + x[i]!, 0) / win.length;
  });
};

const poolBackward: Kernels["poolBackward"] = (max, g, x, dy, dx, accumulate = false) => {
  const acc = new Float64Array(dx.length);
  forEachWindow(g, (yi, win) => {
    if (max) acc[argmax(x, win)]! += dy[yi]!;
    else for (const i of win) acc[i]! += dy[yi]! / win.length;
  });
  putGrad(dx, acc, accumulate);
};

function channelStats(
  n: number,
  c: number,
  hw: number,
  x: Float32Array,
  ch: number,
): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) s += x[(i * c + ch) * hw + j]!;
  const mean = s / (n * hw);
  let v = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < hw; j++) v += (x[(i * c + ch) * hw + j]! - mean) ** 2;
  return { mean, variance: v / (n * hw) };
}

const bnForwardTrain: Kernels["bnForwardTrain"] = (n, c, hw, x, gamma, beta, eps, y, mean, invstd) => {
  for (let ch = 0; ch < c; ch++) {
    const st = channelStats(n, c, hw, x, ch);
    mean[ch] = st.mean;
    invstd[ch] = 1 / Math.sqrt(st.variance + eps);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) {
        const k = (i * c + ch) * hw + j;
        y[k] = ((x[k]! - st.mean) / Math.sqrt(st.variance + eps)) * gamma[ch]! + beta[ch]!;
      }
    }
  }
};

const bnForwardEval: Kernels["bnForwardEval"] = (n, c, hw, x, gamma, beta, mean, variance, eps, y) => {
  for (let i = 0; i < n * c; i++) {
    const ch = i % c;
    for (let j = 0; j < hw; j++)
      y[i * hw + j] =
        ((x[i * hw + j]! - mean[ch]!) / Math.sqrt(variance[ch]! + eps)) * gamma[ch]! + beta[ch]!;
  }
};

const bnBackward: Kernels["bnBackward"] = (
  n,
  c,
  hw,
  x,
  gamma,
  mean,
  invstd,
  dy,
  dx,
  dgamma,
  dbeta,
  fixedStats,
) => {
  const m = n * hw;
  for (let ch = 0; ch < c; ch++) {
    let sdy = 0;
    let sdyxhat = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) {
        const k = (i * c + ch) * hw + j;
        sdy += dy[k]!;
        sdyxhat += dy[k]! * (x[k]! - mean[ch]!) * invstd[ch]!;
      }
    }
    dgamma[ch]! += sdyxhat;
    dbeta[ch]! += sdy;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < hw; j++) {
        const k = (i * c + ch) * hw + j;
        const xhat = (x[k]! - mean[ch]!) * invstd[ch]!;
        dx[k] = fixedStats
          ? gamma[ch]! * invstd[ch]! * dy[k]!
          : (gamma[ch]! * invstd[ch]! * (m * dy[k]! - sdy - xhat * sdyxhat)) / m;
      }
    }
  }
};

export const tsKernels: Kernels = {
  name: "ts",
  gemm,
  xbarForward: xbarForwardTs,
  fillNormals,
  convForwardQuantized(g, x, w, y, input, bias, outScale) {
    const codes = x.map((v) => {
      const t = Math.fround((input.reluIn && v < 0 ? 0 : v) / input.scale);
      const r = t < 0 ? -Math.floor(-t + 0.5) : Math.floor(t + 0.5);
      return Math.min(input.hi, Math.max(input.lo, r));
    });
    convForward(g, codes, w, y, false, null);
    const per = g.oh * g.ow;
    for (let i = 0; i < y.length; i++) {
      const c = Math.floor(i / per) % g.oc;
      y[i] = y[i]! * outScale[c]! + (bias ? bias[c]! : 0);
    }
  },

  convForward,
  convForwardConcat,
  convBackward,
  poolForward,
  poolBackward,
  bnForwardTrain,
  bnForwardEval,
  bnBackward,
  rowScaleAdd(x, scales, y, accumulate) {
    const per = x.length / scales.length;
    for (let i = 0; i < x.length; i++) y[i] = (accumulate ? y[i]! : 0) + scales[Math.floor(i / per)]! * x[i]!;
  },
  sum2(rows, x0, s0, x1, s1, y) {
    const per = x0.length / rows;
    for (let i = 0; i < x0.length; i++) {
      const r = Math.floor(i / per);
      y[i] = Math.fround((s0 ? s0[r]! : 1) * x0[i]!) + (s1 ? s1[r]! : 1) * x1[i]!;
    }
  },
  stridedCopy,
  globalAvgPool(x, y) {
    const hw = x.length / y.length;
    for (let p = 0; p < y.length; p++) {
      let s = 0;
      for (let j = 0; j < hw; j++) s += x[p * hw + j]!;
      y[p] = s / hw;
    }
  },
  shiftForward(planes, h, w, x, y) {
    for (let p = 0; p < planes; p++)
      for (let i = 1; i < h; i++)
        for (let j = 1; j < w; j++) y[(p * (h - 1) + i - 1) * (w - 1) + j - 1] = x[(p * h + i) * w + j]!;
  },
  shiftBackward(planes, h, w, dy, dx) {
    for (let p = 0; p < planes; p++)
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++)
          dx[(p * h + i) * w + j] = i > 0 && j > 0 ? dy[(p * (h - 1) + i - 1) * (w - 1) + j - 1]! : 0;
  },
  reluForward(x, y) {
    for (let i = 0; i < x.length; i++) y[i] = x[i]! > 0 ? x[i]! : 0;
  },
  reluBackward(x, dy, dx) {
    for (let i = 0; i < x.length; i++) dx[i] = x[i]! > 0 ? dy[i]! : 0;
  },
  maxValue(x, abs, start) {
    let m = start;
    for (let i = 0; i < x.length; i++) m = Math.max(m, abs ? Math.abs(x[i]!) : x[i]!);
    return m;
  },
  axpy(a, x, y) {
    for (let i = 0; i < x.length; i++) y[i]! += a * x[i]!;
  },
  sgdStep(w, g, buf, lr, mu, wd, nesterov, first) {
    for (let i = 0; i < w.length; i++) {
      const d = g[i]! + wd * w[i]!;
      // PyTorch initialises the buffer with the first gradient.
      const b = first ? d : mu * buf[i]! + d;
      buf[i] = b;
      w[i] = w[i]! - lr * (nesterov ? d + mu * b : b);
    }
  },
  scaleRows(scales, x, y) {
    const m = x.length / scales.length;
    for (let r = 0; r < scales.length; r++) {
      const s = scales[r]!;
      for (let i = r * m; i < (r + 1) * m; i++) y[i] = s * x[i]!;
    }
  },
};
