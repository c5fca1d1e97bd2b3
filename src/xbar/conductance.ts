/**
 * Weight → conductance mapping: each signed integer weight is a differential pair
 * (G⁺, G⁻) per slice; magnitudes wider than one device are sliced into base-2^cellBits
 * digits, least significant slice first. A digit d sits at G = Gmin + d·(Gmax − Gmin)/(L − 1),
 * L = 2^cellBits levels; the unused device of each pair stays at Gmin.
 */
export interface ConductanceMap {
  /** µS */
  readonly gMin: number;
  readonly gMax: number;
  readonly cellBits: number;
  /** Weight bits including sign. */
  readonly weightBits: number;
}

export function slices(m: ConductanceMap): number {
  return Math.ceil((m.weightBits - 1) / m.cellBits);
}

export function levels(m: ConductanceMap): number {
  return 2 ** m.cellBits;
}

/** Conductance step between adjacent levels (µS). */
export function levelStep(m: ConductanceMap): number {
  return (m.gMax - m.gMin) / (levels(m) - 1);
}

export interface PairSlices {
  /** gPos[s][i], gNeg[s][i]: slice s of weight i (µS). */
  readonly gPos: Float32Array[];
  readonly gNeg: Float32Array[];
}

export function validateMap(m: ConductanceMap): void {
  if (!(m.gMin >= 0 && m.gMax > m.gMin))
    throw new Error(`conductance range must satisfy 0 ≤ gMin < gMax, got ${m.gMin}..${m.gMax} µS`);
  if (!Number.isInteger(m.cellBits) || m.cellBits < 1 || m.cellBits > 8)
    throw new Error(`cellBits must be an integer 1..8, got ${m.cellBits}`);
}

/**
 * The level (digit) that slice `slice` of integer weight q puts on the device of sign `sign`
 * (+1: G⁺, −1: G⁻) of its pair, with `levels` per device: the base-levels digit of |q| on the
 * device of q's sign, 0 (Gmin) on the other.
 */
export function pairDigit(q: number, slice: number, sign: 1 | -1, levels: number): number {
  return q * sign > 0 ? Math.floor(Math.abs(q) / levels ** slice) % levels : 0;
}

export function weightsToConductances(q: Int32Array, m: ConductanceMap): PairSlices {
  validateMap(m);
  const S = slices(m);
  const L = levels(m);
  const step = levelStep(m);
  const qmax = 2 ** (m.weightBits - 1) - 1;
  const gPos = Array.from({ length: S }, () => new Float32Array(q.length).fill(m.gMin));
  const gNeg = Array.from({ length: S }, () => new Float32Array(q.length).fill(m.gMin));
  for (let i = 0; i < q.length; i++) {
    const v = q[i]!;
    if (v > qmax || v < -qmax)
      throw new Error(`weight code ${v} exceeds ±${qmax} for ${m.weightBits}-bit weights`);
    for (let s = 0; s < S; s++) {
      gPos[s]![i] = m.gMin + pairDigit(v, s, 1, L) * step;
      gNeg[s]![i] = m.gMin + pairDigit(v, s, -1, L) * step;
    }
  }
  return { gPos, gNeg };
}

/** The integer weights that conductances encode (ideal read-back: each pair difference rounded to a level). */
export function conductancesToWeights(p: PairSlices, m: ConductanceMap): Int32Array {
  const L = levels(m);
  const step = levelStep(m);
  const n = p.gPos[0]!.length;
  const q = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let s = p.gPos.length - 1; s >= 0; s--)
      v = v * L + Math.round((p.gPos[s]![i]! - p.gNeg[s]![i]!) / step);
    q[i] = v;
  }
  return q;
}
