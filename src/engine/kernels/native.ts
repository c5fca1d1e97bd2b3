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
  info(): NativeInfo;
  cpuLevels(): string[];
  convForward(...args: (number | boolean | Float32Array | null)[]): void;
  convForwardConcat(...args: (number | boolean | Float32Array | readonly Float32Array[] | null)[]): void;
  convForwardQuantized(...args: (number | boolean | Float32Array | Float64Array | null)[]): void;
  convBackward(...args: (number | boolean | Float32Array | null)[]): void;
  poolForward(max: boolean, ...args: (number | Float32Array)[]): void;
  poolBackward(max: boolean, ...args: (number | boolean | Float32Array)[]): void;
}

/** The build, and the instruction-set level it was compiled for ("portable", "x86-64-v3", "x86-64-v4"). */
export interface NativeInfo {
  readonly threads: number;
  readonly blas: boolean;
  readonly isa: string;
}

const BUILD_DIR = new URL("../../../build/Release/", import.meta.url);
const PORTABLE = fileURLToPath(new URL("memhyper_native.node", BUILD_DIR));
/** Builds for higher x86-64 levels, best first (binding.gyp builds them on x86-64). */
const LEVEL_BUILDS: readonly (readonly [string, string])[] = [
  ["x86-64-v4", "memhyper_native_v4.node"],
  ["x86-64-v3", "memhyper_native_v3.node"],
];

function loadAddon(path: string): NativeAddon | null {
  if (!existsSync(path)) return null;
  return createRequire(import.meta.url)(path) as NativeAddon;
}

/** The best build this CPU runs: the portable one tells which x86-64 levels the CPU supports. */
function bestBuild(): string {
  const portable = loadAddon(PORTABLE);
  if (!portable) return PORTABLE;
  const levels = new Set(portable.cpuLevels());
  for (const [level, file] of LEVEL_BUILDS) {
    const path = fileURLToPath(new URL(file, BUILD_DIR));
    if (levels.has(level) && existsSync(path)) return path;
  }
  return PORTABLE;
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

/** The addon's kernels (the best build for this CPU); `path` names another build (an A/B of two builds in one process). */
export function loadNativeKernels(
  path = bestBuild(),
): (Kernels & { info(): NativeInfo; setThreads(n: number): number }) | null {
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
