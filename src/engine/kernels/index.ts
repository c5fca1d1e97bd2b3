/** Chooses the kernel backend: native when built (unless MEMHYPER_BACKEND=ts), else TypeScript with a warning. */
import { loadNativeKernels } from "./native.js";
import { tsKernels } from "./ts.js";
import type { Kernels } from "./types.js";

export type { ConvGeom, Kernels, PoolGeom } from "./types.js";
export { tsKernels };

const native = loadNativeKernels();
let active: Kernels | null = null;

export function nativeKernels(): ReturnType<typeof loadNativeKernels> {
  return native;
}

export function kernels(): Kernels {
  if (active) return active;
  if (process.env.MEMHYPER_BACKEND === "ts") {
    active = tsKernels;
  } else if (native) {
    active = native;
  } else {
    process.stderr.write(
      "memhyper: warning: native kernels are not built (run `npm ci` with g++ and python3 available); using the slow TypeScript kernels\n",
    );
    active = tsKernels;
  }
  return active;
}

export function setBackend(k: Kernels): void {
  active = k;
}
