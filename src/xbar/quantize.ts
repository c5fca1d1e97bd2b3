/**
 * Integer quantization for crossbar deployment. Weights: symmetric, per output channel,
 * q ∈ [−(2^(b−1)−1), 2^(b−1)−1]. Activations: per tensor, unsigned after ReLU
 * (q ∈ [0, 2^b−1]) or signed otherwise, with a scale from calibration (max or a
 * percentile of |x| over training images). Rounding rule: half away from zero.
 */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

export interface QuantizedWeights {
  /** Integers, same layout as the float weights ([outC, ...]). */
  readonly q: Int32Array;
  /** One scale per output channel: w ≈ q·scale. */
  readonly scale: Float32Array;
  readonly bits: number;
}

export function quantizeWeights(
  w: Float32Array,
  outC: number,
  bits: number,
  /** Per output channel, the |w| that maps to the top level (default: the channel's own max). */
  range?: Float32Array,
): QuantizedWeights {
  if (!Number.isInteger(bits) || bits < 2 || bits > 16)
    throw new Error(`weight bits must be an integer 2..16, got ${bits}`);
  const per = w.length / outC;
  if (!Number.isInteger(per))
    throw new Error(`weights of length ${w.length} do not split into ${outC} output channels`);
  const qmax = 2 ** (bits - 1) - 1;
  const q = new Int32Array(w.length);
  const scale = new Float32Array(outC);
  for (let o = 0; o < outC; o++) {
    let m = 0;
    for (let i = 0; i < per; i++) m = Math.max(m, Math.abs(w[o * per + i]!));
    if (range) {
      if (!(range[o]! >= m))
        throw new Error(`weight range ${range[o]} of output channel ${o} is below its largest |w| ${m}`);
      m = range[o]!;
    }
    const s = m > 0 ? m / qmax : 1;
    scale[o] = s;
    for (let i = 0; i < per; i++)
      q[o * per + i] = Math.max(-qmax, Math.min(qmax, roundHalfAway(w[o * per + i]! / s)));
  }
  return { q, scale, bits };
}

export interface ActivationQuant {
  readonly scale: number;
  readonly bits: number;
  readonly signed: boolean;
}

export function activationRange(a: ActivationQuant): { lo: number; hi: number } {
  return a.signed
    ? { lo: -(2 ** (a.bits - 1) - 1), hi: 2 ** (a.bits - 1) - 1 }
    : { lo: 0, hi: 2 ** a.bits - 1 };
}

export function quantizeActivations(
  x: Float32Array,
  a: ActivationQuant,
  out = new Int32Array(x.length),
): Int32Array {
  const { lo, hi } = activationRange(a);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(lo, Math.min(hi, roundHalfAway(x[i]! / a.scale)));
  return out;
}

export type CalibrationMethod =
  | { readonly kind: "max" }
  | { readonly kind: "percentile"; readonly percentile: number };

/** Scale that maps the calibration range of |x| to the largest code. */
export function calibrate(
  samples: Float32Array,
  bits: number,
  signed: boolean,
  method: CalibrationMethod,
): ActivationQuant {
  const abs = Float32Array.from(samples, Math.abs);
  let range: number;
  if (method.kind === "max") {
    range = abs.reduce((m, v) => Math.max(m, v), 0);
  } else {
    if (!(method.percentile > 0 && method.percentile <= 100))
      throw new Error(`calibration percentile must be in (0, 100], got ${method.percentile}`);
    abs.sort();
    const at = Math.min(abs.length - 1, Math.ceil((method.percentile / 100) * abs.length) - 1);
    range = abs[Math.max(0, at)] ?? 0;
  }
  const top = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return { scale: range > 0 ? range / top : 1, bits, signed };
}
