/** The native addon (native/*.cc), declared as a typed interface. Null when not built. */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ConvGeom, Kernels, PoolGeom } from "./types.js";

/** Calls whose arguments cross the boundary as the Kernels interface declares them. */
const SAME_AS_KERNELS = [
  "gemm",
  "rowScaleAdd",
  "sum2",
  "bnForwardTrain",
  "bnForwardEval",
  "bnBackward",
  "stridedCopy",
  "globalAvgPool",
  "shiftForward",
  "shiftBackward",
  "reluForward",
  "reluBackward",
  "axpy",
  "sgdStep",
  "scaleRows",
  "xbarForward",
  "fillNormals",
  "maxValue",
] as const;
type SameAsKernels = (typeof SAME_AS_KERNELS)[number];

/** The addon's exports; geometry objects are flattened to numbers for the convolution and pooling calls. */
interface NativeAddon extends Pick<Kernels, SameAsKernels> {
  setThreads(n: number): number;
  info(): { threads: number; blas: boolean };
  convForward(...args: (number | boolean | Float32Array | null)[]): void;
  convForwardConcat(...args: (number | boolean | Float32Array | readonly Float32Array[] | null)[]): void;
  convForwardQuantized(...args: (number | boolean | Float32Array | Float64Array | null)[]): void;
  convBackward(...args: (number | boolean | Float32Array | null)[]): void;
  poolForward(max: boolean, ...args: (number | Float32Array)[]): void;
  poolBackward(max: boolean, ...args: (number | boolean | Float32Array)[]): void;
}

const ADDON_PATH = fileURLToPath(new URL("../../../build/Release/memhyper_native.node", import.meta.url));

function loadAddon(path: string): NativeAddon | null {
  if (!existsSync(path)) return null;
  return createRequire(import.meta.url)(path) as NativeAddon;
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

/** The addon's kernels; `path` names another build (an A/B of two builds in one process). */
export function loadNativeKernels(
  path = ADDON_PATH,
): (Kernels & { info(): { threads: number; blas: boolean }; setThreads(n: number): number }) | null {
  const a = loadAddon(path);
  if (!a) return null;
  const same = Object.fromEntries(SAME_AS_KERNELS.map((k) => [k, a[k].bind(a)])) as Pick<
    Kernels,
    SameAsKernels
  >;
  return {
    name: "native",
    info: () => a.info(),
    setThreads: (n) => a.setThreads(n),
    ...same,
    convForward: (g, x, w, y, reluIn, bias, add) =>
      a.convForward(...geom(g), x, w, y, reluIn, bias ?? null, add ?? null),
    convForwardConcat: (g, parts, w, y, reluIn, bias, add) =>
      a.convForwardConcat(...geom(g), parts, w, y, reluIn, bias, add ?? null),
    convForwardQuantized: (g, x, w, y, q, bias, outScale) =>
      a.convForwardQuantized(...geom(g), x, w, y, q.scale, q.reluIn, q.lo, q.hi, bias, outScale),
    convBackward: (g, x, w, dy, dx, dw, reluIn, accumulate = false) =>
      a.convBackward(...geom(g), x, w, dy, dx, dw, reluIn, accumulate),
    poolForward: (max, g, x, y) => a.poolForward(max, ...pgeom(g), x, y),
    poolBackward: (max, g, x, dy, dx, accumulate = false) =>
      a.poolBackward(max, ...pgeom(g), x, dy, dx, accumulate),
  };
}
