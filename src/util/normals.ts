import { rotl, splitmix32 } from "./rng.js";

/**
 * Bulk standard normals for read noise: NORMAL_LANES xoshiro128** generators stepped
 * together, the layout the native kernel keeps in SIMD registers, so both draw the same
 * numbers. Lane l's four state words are splitmix32 outputs 4l … 4l+3 of the seed (lane 0
 * is `new Rng(seed)`). Block b steps every lane twice: lane l gives the uniforms of pair
 * k = b·NORMAL_LANES + l, u1 = ((x>>8) | 1)/2^24 ∈ (0, 1) and u2 = (y>>8)/2^24, and the
 * Box–Muller transform makes normals 2k = r·cos 2πu2 and 2k+1 = r·sin 2πu2, r = √(−2 ln u1).
 */
export const NORMAL_LANES = 8;

/** Fills `out` with the stream's first out.length normals. */
export function fillNormals(seed: number, out: Float32Array | Float64Array): void {
  const L = NORMAL_LANES;
  const s = laneStates(seed);
  const u1 = new Float64Array(L);
  const u2 = new Float64Array(L);
  for (let k0 = 0; 2 * k0 < out.length; k0 += L) {
    for (let l = 0; l < L; l++) u1[l] = ((step(s, l) >>> 8) | 1) / 16777216; // odd: never 0 or 1
    for (let l = 0; l < L; l++) u2[l] = (step(s, l) >>> 8) / 16777216;
    for (let l = 0; l < L; l++) {
      const k = k0 + l;
      const r = Math.sqrt(-2 * Math.log(u1[l]!));
      const angle = 2 * Math.PI * u2[l]!;
      if (2 * k < out.length) out[2 * k] = r * Math.cos(angle);
      if (2 * k + 1 < out.length) out[2 * k + 1] = r * Math.sin(angle);
    }
  }
}

/** State word w of lane l at s[w·NORMAL_LANES + l]. */
function laneStates(seed: number): Uint32Array {
  const L = NORMAL_LANES;
  const s = new Uint32Array(4 * L);
  const words = splitmix32(seed, 4 * L);
  for (let i = 0; i < 4 * L; i++) s[(i % 4) * L + Math.floor(i / 4)] = words[i]!;
  for (let l = 0; l < L; l++) if ((s[l]! | s[L + l]! | s[2 * L + l]! | s[3 * L + l]!) === 0) s[l] = 1;
  return s;
}

/** One xoshiro128** step of lane l. */
function step(s: Uint32Array, l: number): number {
  const L = NORMAL_LANES;
  const [s0, s1, s2, s3] = [s[l]!, s[L + l]!, s[2 * L + l]!, s[3 * L + l]!];
  const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
  const t = (s1 << 9) >>> 0;
  const n2 = (s2 ^ s0) >>> 0;
  const n3 = (s3 ^ s1) >>> 0;
  s[L + l] = (s1 ^ n2) >>> 0;
  s[l] = (s0 ^ n3) >>> 0;
  s[2 * L + l] = (n2 ^ t) >>> 0;
  s[3 * L + l] = rotl(n3, 11);
  return result;
}
