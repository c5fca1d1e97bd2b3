/** SGD with momentum, weight decay and optional Nesterov (PyTorch semantics); cosine schedule; global-norm clipping. */
import { kernels } from "./kernels/index.js";
import type { Tensor } from "./tensor.js";

export interface SgdOptions {
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
}

export class Sgd {
  /** Momentum buffers, by parameter name (checkpointed). */
  readonly momentum = new Map<string, Float32Array>();

  constructor(
    readonly params: readonly { name: string; tensor: Tensor }[],
    readonly opts: SgdOptions,
  ) {}

  step(lr: number): void {
    const { momentum: mu, weightDecay: wd, nesterov } = this.opts;
    for (const { name, tensor: p } of this.params) {
      const g = p.grad;
      if (!g) continue;
      let buf = this.momentum.get(name);
      const first = !buf;
      if (!buf) {
        buf = new Float32Array(p.size);
        this.momentum.set(name, buf);
      }
      kernels().sgdStep(p.data, g, buf, lr, mu, wd, nesterov, first);
    }
  }

  zeroGrad(): void {
    for (const { tensor } of this.params) tensor.grad = null;
  }
}

/** CosineAnnealingLR with eta_min 0, stepped per epoch: lr(e) = lr0·(1 + cos(π·e/E))/2. */
export function cosineLr(lr0: number, epoch: number, epochs: number): number {
  return (lr0 * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2;
}

/** clip_grad_norm_: scales all gradients so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: readonly { tensor: Tensor }[], maxNorm: number): number {
  let sq = 0;
  for (const { tensor } of params) if (tensor.grad) for (const v of tensor.grad) sq += v * v;
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1)
    for (const { tensor } of params)
      if (tensor.grad) for (let i = 0; i < tensor.grad.length; i++) tensor.grad[i]! *= coef;
  return norm;
}
