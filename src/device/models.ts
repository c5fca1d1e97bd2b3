/**
 * Memristive device models for inference, each a set of separately switchable stages:
 * programming (target → programmed conductance), drift (conductance at time t), read
 * noise (one read), and the model-independent device-to-device variation and stuck-at
 * faults. Conductances are in µS; every random draw comes from the caller's seeded Rng.
 */
import type { Rng } from "../util/rng.js";

export interface Programmed {
  /** Conductance right after programming (µS). */
  readonly g: Float32Array;
  /** Per-device drift exponents (PCM), or null for devices without power-law drift. */
  readonly nu: Float32Array | null;
}

export interface DeviceModel {
  readonly name: string;
  /** Maximum conductance the weights are mapped to (µS). */
  readonly gMax: number;
  program(target: Float32Array, rng: Rng): Programmed;
  /** Conductance `t` seconds after programming. */
  drift(p: Programmed, target: Float32Array, tSeconds: number, rng: Rng): Float32Array;
  /** One noisy read of conductances `g` at time t (returns a new array). */
  read(g: Float32Array, target: Float32Array, tSeconds: number, rng: Rng): Float32Array;
  /** σ (µS) of one read of a device at conductance g (programmed for `target`), t s after programming. */
  readSigma(g: number, target: number, tSeconds: number): number;
}

/** Ideal devices: programmed exactly, no drift, noiseless reads. */
export class IdealDevice implements DeviceModel {
  readonly name = "ideal";
  constructor(readonly gMax: number) {}
  program(target: Float32Array, _rng?: Rng): Programmed {
    return { g: target.slice(), nu: null };
  }
  drift(p: Programmed, _target?: Float32Array, _t?: number, _rng?: Rng): Float32Array {
    return p.g.slice();
  }
  read(g: Float32Array, _target?: Float32Array, _t?: number, _rng?: Rng): Float32Array {
    return g.slice();
  }
  readSigma(): number {
    return 0;
  }
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/**
 * PCM after aihwkit's PCMLikeNoiseModel (Nandakumar et al., calibrated on 1M IBM PCM
 * devices): programming σ = 0.26348 + 1.9650·x − 1.1731·x² µS (x = g/gMax, gMax = 25 µS);
 * drift g(t) = g₀·(t/t₀)^−ν, ν ~ N(μν, σν) with μν = −0.0155·ln x + 0.0244 in [0.049, 0.1],
 * σν = −0.0125·ln x − 0.0059 in [0.008, 0.045], t₀ = 20 s; read noise relative
 * σ = min(0.0088/x^0.65, 0.2)·√ln((t + t_r)/(2·t_r)), t_r = 250 ns.
 */
export class PcmDevice implements DeviceModel {
  readonly name = "pcm";
  readonly t0 = 20;
  readonly tRead = 250e-9;
  constructor(
    readonly gMax = 25,
    readonly stages = { programming: true, drift: true, read: true },
  ) {}

  programSigma(g: number): number {
    const x = g / this.gMax;
    return 0.26348 + 1.965 * x - 1.1731 * x * x;
  }

  driftMean(g: number): number {
    return clamp(-0.0155 * Math.log(Math.max(g / this.gMax, 1e-12)) + 0.0244, 0.049, 0.1);
  }

  driftSigma(g: number): number {
    return clamp(-0.0125 * Math.log(Math.max(g / this.gMax, 1e-12)) - 0.0059, 0.008, 0.045);
  }

  program(target: Float32Array, rng: Rng): Programmed {
    const g = new Float32Array(target.length);
    const nu = new Float32Array(target.length);
    for (let i = 0; i < target.length; i++) {
      const t = target[i]!;
      g[i] = this.stages.programming ? Math.max(0, t + this.programSigma(t) * rng.normal()) : t;
      nu[i] = Math.max(0, this.driftMean(t) + this.driftSigma(t) * rng.normal());
    }
    return { g, nu };
  }

  drift(p: Programmed, _target: Float32Array, tSeconds: number, _rng?: Rng): Float32Array {
    if (!this.stages.drift || tSeconds <= this.t0 || !p.nu) return p.g.slice();
    const r = tSeconds / this.t0;
    return p.g.map((g, i) => g * r ** -p.nu![i]!);
  }

  read(g: Float32Array, target: Float32Array, tSeconds: number, rng: Rng): Float32Array {
    if (!this.stages.read) return g.slice();
    return g.map((v, i) => Math.max(0, v + this.readSigma(v, target[i]!, tSeconds) * rng.normal()));
  }

  readSigma(g: number, target: number, tSeconds: number): number {
    if (!this.stages.read) return 0;
    const time = Math.sqrt(Math.log((Math.max(tSeconds, 0) + this.tRead) / (2 * this.tRead)));
    const x = Math.max(target / this.gMax, 1e-12);
    return g * Math.min(0.0088 / x ** 0.65, 0.2) * time;
  }
}

/**
 * ReRAM after aihwkit's ReRamWan2022NoiseModel (Wan et al., Nature 2022): the deviation from
 * the target is Gaussian with σ(x) = Σ cᵢ·xⁱ µS (x = g/gMax, fitted for gMax = 40 µS) at
 * 1 s, 1 day and 2 days after programming; memhyper interpolates the coefficients linearly
 * in log t between those times (and holds them outside). No 1/f data exists for it, so
 * reads add a relative Gaussian noise (aihwkit suggests about 1 %).
 */
export const RERAM_WAN2022_COEFFS: readonly { t: number; c: readonly number[] }[] = [
  { t: 1, c: [0.348, 16.03, -43.853, 45.393, -16.815] },
  { t: 86400, c: [0.701, 22.086, -50.773, 47.095, -16.458] },
  { t: 172800, c: [0.782, 20.274, -43.507, 37.062, -11.934] },
];

export class ReramDevice implements DeviceModel {
  readonly name = "reram";
  constructor(
    readonly gMax = 40,
    readonly readNoise = 0.01,
    readonly stages = { programming: true, drift: true, read: true },
  ) {}

  sigmaAt(g: number, tSeconds: number): number {
    const c = coefficientsAt(tSeconds);
    const x = g / this.gMax;
    let s = 0;
    for (let i = c.length - 1; i >= 0; i--) s = s * x + c[i]!;
    return Math.max(0, s * (this.gMax / 40));
  }

  program(target: Float32Array, rng: Rng): Programmed {
    if (!this.stages.programming) return { g: target.slice(), nu: null };
    return { g: target.map((t) => Math.max(0, t + this.sigmaAt(t, 1) * rng.normal())), nu: null };
  }

  /** The published fits give the whole deviation from target at time t, redrawn from the target. */
  drift(p: Programmed, target: Float32Array, tSeconds: number, rng: Rng): Float32Array {
    if (!this.stages.drift || tSeconds <= 1) return p.g.slice();
    return target.map((t) => Math.max(0, t + this.sigmaAt(t, tSeconds) * rng.normal()));
  }

  read(g: Float32Array, _target: Float32Array, _t: number, rng: Rng): Float32Array {
    if (!this.stages.read || this.readNoise === 0) return g.slice();
    return g.map((v) => Math.max(0, v + this.readSigma(v) * rng.normal()));
  }

  readSigma(g: number): number {
    return this.stages.read ? g * this.readNoise : 0;
  }
}

function coefficientsAt(t: number): readonly number[] {
  const k = RERAM_WAN2022_COEFFS;
  if (t <= k[0]!.t) return k[0]!.c;
  for (let i = 1; i < k.length; i++) {
    if (t <= k[i]!.t) {
      const a = (Math.log(t) - Math.log(k[i - 1]!.t)) / (Math.log(k[i]!.t) - Math.log(k[i - 1]!.t));
      return k[i]!.c.map((c, j) => (1 - a) * k[i - 1]!.c[j]! + a * c);
    }
  }
  return k[k.length - 1]!.c;
}

/** Device-to-device variation: each device's conductance scaled by a lognormal factor of σ (in log units). */
export function deviceToDevice(g: Float32Array, sigma: number, rng: Rng): Float32Array {
  if (sigma <= 0) return g.slice();
  return g.map((v) => v * Math.exp(sigma * rng.normal()));
}

/** Stuck-at faults: each device fails with probability `rate`, stuck at gMin (fraction `lowShare`) or gMax. */
export function stuckAt(
  g: Float32Array,
  rate: number,
  gMin: number,
  gMax: number,
  lowShare: number,
  rng: Rng,
): { g: Float32Array; faults: number } {
  const out = g.slice();
  let faults = 0;
  if (rate <= 0) return { g: out, faults };
  for (let i = 0; i < out.length; i++) {
    if (rng.uniform() < rate) {
      out[i] = rng.uniform() < lowShare ? gMin : gMax;
      faults++;
    }
  }
  return { g: out, faults };
}
