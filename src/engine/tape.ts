/**
 * Reverse-mode autodiff: ops push a backward step while a tape is recording; `backward`
 * runs them in reverse. Intermediate gradients are released as soon as they are used: a
 * step's incoming gradient goes back to the arena after the step, unless the step handed
 * that very buffer on to an input (`adopt`), and a gradient summed into one already there
 * goes back at once.
 */
import { alloc, release } from "./arena.js";
import { kernels } from "./kernels/index.js";
import { Tensor } from "./tensor.js";

export class Tape {
  private readonly steps: { out: Tensor; run: (grad: Float32Array) => void }[] = [];

  record(out: Tensor, run: (grad: Float32Array) => void): void {
    out.requiresGrad = true;
    this.steps.push({ out, run });
  }

  /** Seeds d(loss)/d(loss) = 1 for a scalar loss and propagates to every tensor that requires grad. */
  backward(loss: Tensor): void {
    if (loss.size !== 1) throw new Error("backward() needs a scalar loss");
    loss.grad = new Float32Array([1]);
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const { out, run } = this.steps[i]!;
      const g = out.grad;
      if (!g) continue;
      out.grad = null; // intermediate: no longer needed once passed on
      stepGrad = g;
      passedOn = false;
      run(g);
      if (!passedOn) release(g);
    }
    stepGrad = null;
    this.steps.length = 0;
  }
}

// The incoming gradient of the step running now, and whether it became an input's gradient.
let stepGrad: Float32Array | null = null;
let passedOn = false;

/** Makes `g` t's gradient, which the tape then keeps until t's own backward step. */
export function adopt(t: Tensor, g: Float32Array): void {
  t.grad = g;
  if (g === stepGrad) passedOn = true;
}

/**
 * Adds `g` into t.grad; takes ownership of `g` when t has no gradient yet, else hands `g`
 * back to the arena: callers pass a buffer of their own that they no longer read.
 */
export function accumulate(t: Tensor, g: Float32Array): void {
  if (!t.requiresGrad) return;
  if (t.grad === null) adopt(t, g);
  else {
    kernels().axpy(1, g, t.grad);
    release(g);
  }
}

/**
 * Where a backward step puts input t's gradient, for kernels that can add as they write:
 * into t's gradient when it has one (`add`: the kernel adds to it, saving the separate
 * addition's pass and a buffer), else into a fresh buffer, which `keepGrad` hands to t.
 */
export function gradTarget(t: Tensor): { buf: Float32Array; add: boolean } {
  return t.grad ? { buf: t.grad, add: true } : { buf: alloc(t.size), add: false };
}

/** Completes `gradTarget`: a fresh buffer becomes t's gradient. */
export function keepGrad(t: Tensor, target: { buf: Float32Array; add: boolean }): void {
  if (!target.add) adopt(t, target.buf);
}

// Weights' gradient buffers, reused from step to step.
const weightGrads = new WeakMap<Tensor, Float32Array>();

/**
 * A zeroed buffer for weight w's gradient, for kernels that add into it, reused from step to
 * step: a fresh typed array of this size lands on new pages every step, and first touches of
 * new memory cost more than the work (the auxiliary head's 2×2 convolution: its kernel
 * gradient took 0.3 ms into a warm buffer, 2.6–9.6 ms into a fresh one). The previous step's
 * gradient, if anyone still holds it, is overwritten. A weight that has a gradient already
 * this step (used twice) gets a fresh buffer, which `accumulate` then adds.
 */
export function weightGradBuffer(w: Tensor): Float32Array {
  if (w.grad) return new Float32Array(w.size);
  const buf = weightGrads.get(w);
  if (buf) return buf.fill(0);
  const fresh = new Float32Array(w.size);
  weightGrads.set(w, fresh);
  return fresh;
}

/** Whether a backward step should compute the gradient for this input. */
export function needsGrad(t: Tensor): boolean {
  return t.requiresGrad;
}

export function zerosLike(t: Tensor): Tensor {
  return Tensor.zeros(t.shape);
}
