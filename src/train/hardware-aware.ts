/**
 * Hardware-aware fine-tuning (as aihwkit's noise-injection training): in every training
 * step the conv and linear weights are replaced by what the hardware would hold — quantized
 * symmetrically per output channel to the preset's weight bits, each code then read back
 * with an error drawn from what the preset's devices give for that very code — the forward
 * and backward passes run on them, and the gradient updates the clean float weights
 * (straight-through). Per-output-channel quantization and noise commute with the
 * per-channel scale of a folded batch norm, so perturbing the unfolded weights perturbs the
 * deployed ones alike.
 */
import type { Model } from "../engine/model.js";
import type { HardwareConfig } from "../hw/config.js";
import { Rng } from "../util/rng.js";
import type { LogicalLayer } from "../xbar/layout.js";
import { programLayer } from "../xbar/program.js";
import { quantizeWeights } from "../xbar/quantize.js";
import { individualMapping } from "../xbar/simulator.js";

export interface WeightNoise {
  readonly weightBits: number;
  /** Read-back errors (in weight codes) per code: code q's samples are `errors[(q + wMax)·samples + k]`. */
  readonly errors: Float32Array;
  readonly samples: number;
  /** RMS error over all codes alike, relative to a channel's largest |weight| (for reports). */
  readonly sigma: number;
}

/** Up to this many programmed weights in the probe (the sample count per code follows). */
const PROBE_WEIGHTS = 1 << 16;

/**
 * The device noise of a preset as weight-code errors. The error depends strongly on the code:
 * with bit slicing a small weight leaves its upper slice's devices at Gmin, a large one
 * programs them and carries their noise times the slice weight (PCM: 2.8 codes RMS at code
 * 1, 13 at code 127), so one σ for all weights is a poor model. A probe layer holding every
 * code `samples` times is programmed on the preset's devices (programming noise, drift with
 * its compensation, device-to-device variation, faults) and read back; one read-noise draw
 * adds to each sample. Measured, so it follows the device models rather than restating them.
 */
export function measureWeightNoise(cfg: HardwareConfig, seed = 0): WeightNoise {
  const wMax = 2 ** (cfg.weightBits - 1) - 1;
  const codes = 2 * wMax + 1;
  const rows = Math.max(8, 2 ** Math.floor(Math.log2(PROBE_WEIGHTS / codes)));
  // Column o holds code o − wMax on every row, so each code is programmed `rows` times.
  const q = Int32Array.from({ length: rows * codes }, (_, e) => Math.floor(e / rows) - wMax);
  const layer: LogicalLayer = {
    id: 0,
    name: "noise probe",
    geom: { c: rows, h: 1, w: 1, oc: codes, k: 1, stride: 1, pad: 0, dil: 1, groups: 1, oh: 1, ow: 1 },
    depthwise: false,
    q,
    weightBits: cfg.weightBits,
    wScale: new Float32Array(codes).fill(1),
    bias: null,
    inScale: 1,
    inSigned: false,
    reluIn: true,
    inputBits: cfg.inputBits,
  };
  const p = programLayer(layer, individualMapping(cfg).layout(layer), cfg, new Rng(seed + 1));
  const compensation = p.outScale[0]!; // wScale · inScale = 1, so this is the drift compensation
  const read = new Float64Array(rows * codes);
  const variance = new Float64Array(rows * codes);
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
  const readRng = new Rng(seed + 2);
  const errors = new Float32Array(rows * codes);
  let sum = 0;
  for (let e = 0; e < q.length; e++) {
    const err = read[e]! * compensation - q[e]!;
    const readSigma = Math.sqrt(variance[e]!) * compensation;
    errors[e] = err + (readSigma > 0 ? readSigma * readRng.normal() : 0);
    sum += err * err + readSigma * readSigma;
  }
  return { weightBits: cfg.weightBits, errors, samples: rows, sigma: Math.sqrt(sum / q.length) / wMax };
}

/** RMS read-back error of one code, in codes. */
export function codeErrorRms(noise: WeightNoise, code: number): number {
  const wMax = 2 ** (noise.weightBits - 1) - 1;
  const from = (code + wMax) * noise.samples;
  let sum = 0;
  for (let k = 0; k < noise.samples; k++) sum += noise.errors[from + k]! ** 2;
  return Math.sqrt(sum / noise.samples);
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
 * `weightBits`, then add to each code `scale` times an error drawn from that code's
 * measured samples. Returns the function that puts the float weights back (gradients
 * computed meanwhile belong to the float weights: straight-through).
 */
export function perturbWeights(
  model: Model,
  names: readonly string[],
  noise: WeightNoise,
  scale: number,
  rng: Rng,
): () => void {
  const wMax = 2 ** (noise.weightBits - 1) - 1;
  const { errors, samples } = noise;
  const saved: [Float32Array, Float32Array][] = [];
  for (const name of names) {
    const t = model.tensor(name);
    const oc = t.shape[0]!;
    const per = t.size / oc;
    const { q, scale: s } = quantizeWeights(t.data, oc, noise.weightBits);
    const original = t.data.slice();
    for (let o = 0; o < oc; o++) {
      const so = s[o]!;
      for (let i = o * per; i < (o + 1) * per; i++) {
        const code = q[i]!;
        const error = scale === 0 ? 0 : scale * errors[(code + wMax) * samples + rng.int(samples)]!;
        t.data[i] = (code + error) * so;
      }
    }
    saved.push([t.data, original]);
  }
  return () => {
    for (const [data, original] of saved) data.set(original);
  };
}
