/**
 * Hardware-aware fine-tuning (as aihwkit's noise-injection training): in every training
 * step the conv and linear weights are replaced by what the hardware would hold — quantized
 * symmetrically per output channel to the preset's weight bits, plus Gaussian noise of the
 * preset's devices — the forward and backward passes run on them, and the gradient updates
 * the clean float weights (straight-through). Per-output-channel quantization and noise
 * commute with the per-channel scale of a folded batch norm, so perturbing the unfolded
 * weights perturbs the deployed ones alike.
 */
import type { Model } from "../engine/model.js";
import { Rng } from "../util/rng.js";
import type { SimConfig } from "../xbar/config.js";
import type { LogicalLayer } from "../xbar/layout.js";
import { programLayer } from "../xbar/program.js";
import { quantizeWeights } from "../xbar/quantize.js";
import { individualMapping } from "../xbar/simulator.js";

export interface WeightNoise {
  readonly weightBits: number;
  /** σ of a deployed weight's error, relative to its channel's largest |weight|. */
  readonly sigma: number;
}

/**
 * The device noise of a preset as weight noise: a 128×64 layer of uniformly spread integer
 * weights is programmed on the preset's devices (programming noise, drift with its
 * compensation, device-to-device variation, faults) and read back; read noise adds its
 * per-read variance. Measured, so it follows the device models rather than restating them.
 */
export function measureWeightNoise(cfg: SimConfig, seed = 0): WeightNoise {
  const rows = 128;
  const outs = 64;
  const wMax = 2 ** (cfg.weightBits - 1) - 1;
  const rng = new Rng(seed);
  const q = Int32Array.from({ length: rows * outs }, () => rng.int(2 * wMax + 1) - wMax);
  const layer: LogicalLayer = {
    id: 0,
    name: "noise probe",
    geom: { c: rows, h: 1, w: 1, oc: outs, k: 1, stride: 1, pad: 0, dil: 1, groups: 1, oh: 1, ow: 1 },
    depthwise: false,
    q,
    weightBits: cfg.weightBits,
    wScale: new Float32Array(outs).fill(1),
    bias: null,
    inScale: 1,
    inSigned: false,
    reluIn: true,
    inputBits: cfg.inputBits,
  };
  const p = programLayer(layer, individualMapping(cfg).layout(layer), cfg, new Rng(seed + 1));
  const compensation = p.outScale[0]!; // wScale · inScale = 1, so this is the drift compensation
  const read = new Float64Array(rows * outs);
  const variance = new Float64Array(rows * outs);
  for (let a = 0; a < p.arrays; a++) {
    const r0 = p.rowOff[a]!;
    const nr = p.rowOff[a + 1]! - r0;
    for (let j = p.colOff[a]!; j < p.colOff[a + 1]!; j++) {
      const o = p.colOut[j]!;
      const cw = p.colWeight[j]!;
      const base = p.gOff[a]! + (j - p.colOff[a]!) * nr;
      for (let i = 0; i < nr; i++) {
        const e = o * rows + p.rows[r0 + i]!;
        read[e]! += cw * p.g[base + i]!;
        if (p.readVar) variance[e]! += cw * cw * p.readVar[base + i]!;
      }
    }
  }
  let sum = 0;
  for (let e = 0; e < q.length; e++)
    sum += (read[e]! * compensation - q[e]!) ** 2 + variance[e]! * compensation ** 2;
  return { weightBits: cfg.weightBits, sigma: Math.sqrt(sum / q.length) / wMax };
}

/** Names of the weights the crossbars hold (conv and linear weights). */
export function crossbarWeights(model: Model): string[] {
  const kinds = new Map(model.net.nodes.map((n) => [n.id, n.kind]));
  return model.net.params
    .filter((p) => p.role === "weight" && (kinds.get(p.node) === "conv" || kinds.get(p.node) === "linear"))
    .map((p) => p.name);
}

/**
 * Puts hardware weights in place of the float ones: per output channel, quantize to
 * `weightBits`, then add N(0, (σ·scale·max|w|)²). Returns the function that puts the float
 * weights back (gradients computed meanwhile belong to the float weights: straight-through).
 */
export function perturbWeights(
  model: Model,
  names: readonly string[],
  noise: WeightNoise,
  scale: number,
  rng: Rng,
): () => void {
  const saved: [Float32Array, Float32Array][] = [];
  for (const name of names) {
    const t = model.tensor(name);
    const oc = t.shape[0]!;
    const per = t.size / oc;
    const { q, scale: s } = quantizeWeights(t.data, oc, noise.weightBits);
    const wMax = 2 ** (noise.weightBits - 1) - 1;
    const original = t.data.slice();
    for (let o = 0; o < oc; o++) {
      const sigma = noise.sigma * scale * wMax * s[o]!;
      for (let i = o * per; i < (o + 1) * per; i++)
        t.data[i] = q[i]! * s[o]! + (sigma > 0 ? sigma * rng.normal() : 0);
    }
    saved.push([t.data, original]);
  }
  return () => {
    for (const [data, original] of saved) data.set(original);
  };
}
