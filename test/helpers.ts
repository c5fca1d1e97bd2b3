/** Test helpers: seeded tensors, finite-difference gradient checks, closeness. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RECORD_BYTES, TEST_FILE, TRAIN_FILES } from "../src/data/cifar10.js";
import { type Kernels, kernels, setBackend } from "../src/engine/kernels/index.js";
import { Tape } from "../src/engine/tape.js";
import { Tensor } from "../src/engine/tensor.js";
import type { IrBuilder } from "../src/ir/builder.js";
import type { Network } from "../src/ir/graph.js";
import { Rng } from "../src/util/rng.js";

export function randomTensor(shape: number[], rng: Rng, requiresGrad = false, scale = 1): Tensor {
  const t = Tensor.zeros(shape, requiresGrad);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * scale;
  return t;
}

export function withKernels<T>(k: Kernels, fn: () => T): T {
  const prev = kernels();
  setBackend(k);
  try {
    return fn();
  } finally {
    setBackend(prev);
  }
}

/** Max |a−b| / (atol + rtol·|b|) ≤ 1. */
export function assertClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rtol: number,
  atol: number,
  what: string,
): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - b[i]!);
    if (!(err <= atol + rtol * Math.abs(b[i]!))) {
      assert.fail(`${what}: element ${i}: ${a[i]} vs ${b[i]} (|Δ| = ${err})`);
    }
  }
}

/**
 * Checks the tape's gradients of L = Σ f(inputs)·r (r a fixed random projection) against
 * central finite differences computed in float64 from float32 forwards.
 */
export function gradCheck(
  f: (tape: Tape | null, inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  rng: Rng,
  opts: { eps?: number; rtol?: number; atol?: number; samples?: number } = {},
): void {
  const eps = opts.eps ?? 1e-2;
  const out0 = f(null, inputs);
  const r = Float64Array.from({ length: out0.size }, () => rng.normal());
  const lossOf = (y: Tensor): number => y.data.reduce((s, v, i) => s + v * r[i]!, 0);
  for (const t of inputs) t.grad = null;
  const tape = new Tape();
  const y = f(tape, inputs);
  // Seed with r: backward of L = Σ y·r.
  const seed = new Tensor([1], new Float32Array([0]));
  tape.record(seed, () => {
    y.grad = Float32Array.from(r);
  });
  tape.backward(seed);
  inputs.forEach((t, which) => {
    if (!t.requiresGrad) return;
    const analytic = t.grad ?? new Float32Array(t.size);
    const picks = Math.min(opts.samples ?? 24, t.size);
    for (let s = 0; s < picks; s++) {
      const i = picks === t.size ? s : rng.int(t.size);
      const orig = t.data[i]!;
      t.data[i] = orig + eps;
      const lp = lossOf(f(null, inputs));
      t.data[i] = orig - eps;
      const lm = lossOf(f(null, inputs));
      t.data[i] = orig;
      const numeric = (lp - lm) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]!);
      const tol = (opts.atol ?? 2e-2) + (opts.rtol ?? 2e-2) * Math.abs(numeric);
      if (!(err <= tol))
        assert.fail(`input ${which} element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`);
    }
  });
}

/**
 * Options of a test in the slow tier: skipped by `npm test` (with a notice naming the tier),
 * run by `npm run test:slow`, which CI runs too. For exhaustive checks whose fast
 * representative stays in `npm test`.
 */
export const SLOW_TIER = {
  skip: process.env.MEMHYPER_SLOW === "1" ? false : "slow tier: runs with npm run test:slow (and in CI)",
} as const;

/**
 * The native kernels, or null where the addon is not built (the native suites then skip).
 * With MEMHYPER_REQUIRE_NATIVE=1 (CI) a missing addon fails loudly instead.
 */
export function requiredNative<T>(native: T | null): T | null {
  if (!native && process.env.MEMHYPER_REQUIRE_NATIVE === "1")
    throw new Error(
      "MEMHYPER_REQUIRE_NATIVE=1 but the native addon is not built: run `npm ci` (node-gyp, g++) and look at its build log",
    );
  return native;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Runs the CLI from the sources as a user would: exit code, stdout, stderr. */
export function runCli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/run.ts", ...args], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A network of the nodes an IrBuilder holds, from `input` to `logits` (hand-built test cases). */
export function builtNetwork(b: IrBuilder, input: number, logits: number, channels = 0): Network {
  return {
    channels,
    layers: 0,
    classes: 0,
    nodes: b.nodes,
    params: b.params,
    input,
    logits,
    auxLogits: null,
    reductions: [],
    cellOutputs: [],
  };
}

/** A tiny dataset in the official layout: class k images are bright in channel k % 3, with noise. */
export function writeSyntheticCifar(dir: string, perFile: number, seed: number): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  for (const name of [...TRAIN_FILES, TEST_FILE]) {
    const buf = Buffer.alloc(perFile * RECORD_BYTES);
    for (let i = 0; i < perFile; i++) {
      const label = rng.int(10);
      buf[i * RECORD_BYTES] = label;
      for (let p = 0; p < 3072; p++) {
        const channel = Math.floor(p / 1024);
        const base = channel === label % 3 ? 40 + 20 * label : 100;
        buf[i * RECORD_BYTES + 1 + p] = Math.max(0, Math.min(255, base + Math.round(rng.normal() * 10)));
      }
    }
    writeFileSync(join(dir, name), buf);
  }
}
