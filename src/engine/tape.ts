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

/** Whether a backward step should compute the gradient for this input. */
export function needsGrad(t: Tensor): boolean {
  return t.requiresGrad;
}

export function zerosLike(t: Tensor): Tensor {
  return Tensor.zeros(t.shape);
}
