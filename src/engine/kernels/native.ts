/** The native addon (native/*.cc), declared as a typed interface. Null when not built. */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ConvGeom, Kernels, PoolGeom } from "./types.js";

interface NativeAddon {
  setThreads(n: number): number;
  info(): { threads: number; blas: boolean };
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
  convForward(...args: (number | boolean | Float32Array | null)[]): void;
  convBackward(...args: (number | boolean | Float32Array | null)[]): void;
  rowScaleAdd(x: Float32Array, scales: Float32Array, y: Float32Array, accumulate: boolean): void;
  poolForward(max: boolean, ...args: (number | Float32Array)[]): void;
  poolBackward(max: boolean, ...args: (number | Float32Array)[]): void;
  bnForwardTrain(...args: (number | Float32Array)[]): void;
  bnForwardEval(...args: (number | Float32Array)[]): void;
  bnBackward(...args: (number | Float32Array)[]): void;
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
  shiftForward(planes: number, h: number, w: number, x: Float32Array, y: Float32Array): void;
  shiftBackward(planes: number, h: number, w: number, dy: Float32Array, dx: Float32Array): void;
  reluForward(x: Float32Array, y: Float32Array): void;
  reluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  axpy(a: number, x: Float32Array, y: Float32Array): void;
  scale(a: number, x: Float32Array, y: Float32Array): void;
}

const ADDON_PATH = fileURLToPath(new URL("../../../build/Release/memhyper_native.node", import.meta.url));

function loadAddon(): NativeAddon | null {
  if (!existsSync(ADDON_PATH)) return null;
  return createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
}

const geom = (g: ConvGeom): number[] => [
  g.n,
  g.c,
  g.h,
  g.w,
  g.oc,
  g.k,
  g.stride,
  g.pad,
  g.dil,
  g.groups,
  g.oh,
  g.ow,
];
const pgeom = (g: PoolGeom): number[] => [g.n, g.c, g.h, g.w, g.k, g.stride, g.pad, g.oh, g.ow];

export function loadNativeKernels():
  | (Kernels & { info(): { threads: number; blas: boolean }; setThreads(n: number): number })
  | null {
  const a = loadAddon();
  if (!a) return null;
  return {
    name: "native",
    info: () => a.info(),
    setThreads: (n) => a.setThreads(n),
    gemm: (ta, tb, m, n, k, alpha, x, y, beta, c) => a.gemm(ta, tb, m, n, k, alpha, x, y, beta, c),
    convForward: (g, x, w, y, reluIn, bias) => a.convForward(...geom(g), x, w, y, reluIn, bias ?? null),
    convBackward: (g, x, w, dy, dx, dw, reluIn) => a.convBackward(...geom(g), x, w, dy, dx, dw, reluIn),
    rowScaleAdd: (x, scales, y, acc) => a.rowScaleAdd(x, scales, y, acc),
    poolForward: (max, g, x, y) => a.poolForward(max, ...pgeom(g), x, y),
    poolBackward: (max, g, x, dy, dx) => a.poolBackward(max, ...pgeom(g), x, dy, dx),
    bnForwardTrain: (n, c, hw, x, gamma, beta, eps, y, mean, invstd) =>
      a.bnForwardTrain(n, c, hw, x, gamma, beta, eps, y, mean, invstd),
    bnForwardEval: (n, c, hw, x, gamma, beta, mean, variance, eps, y) =>
      a.bnForwardEval(n, c, hw, x, gamma, beta, mean, variance, eps, y),
    bnBackward: (n, c, hw, x, gamma, mean, invstd, dy, dx, dgamma, dbeta) =>
      a.bnBackward(n, c, hw, x, gamma, mean, invstd, dy, dx, dgamma, dbeta),
    stridedCopy: (count, len, src, so, ss, dst, doff, ds) =>
      a.stridedCopy(count, len, src, so, ss, dst, doff, ds),
    shiftForward: (planes, h, w, x, y) => a.shiftForward(planes, h, w, x, y),
    shiftBackward: (planes, h, w, dy, dx) => a.shiftBackward(planes, h, w, dy, dx),
    reluForward: (x, y) => a.reluForward(x, y),
    reluBackward: (x, dy, dx) => a.reluBackward(x, dy, dx),
    axpy: (al, x, y) => a.axpy(al, x, y),
    scale: (al, x, y) => a.scale(al, x, y),
  };
}
