import { Rng, splitmix32 } from "./rng.js";

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
  const words = splitmix32(seed, 4 * L);
  const lanes = Array.from({ length: L }, (_, l) => Rng.fromState(words.subarray(4 * l, 4 * l + 4)));
  const u1 = new Float64Array(L);
  const u2 = new Float64Array(L);
  for (let k0 = 0; 2 * k0 < out.length; k0 += L) {
    for (let l = 0; l < L; l++) u1[l] = ((lanes[l]!.nextU32() >>> 8) | 1) / 16777216; // odd: never 0 or 1
    for (let l = 0; l < L; l++) u2[l] = (lanes[l]!.nextU32() >>> 8) / 16777216;
    for (let l = 0; l < L; l++) {
      const k = k0 + l;
      const r = Math.sqrt(-2 * Math.log(u1[l]!));
      const angle = 2 * Math.PI * u2[l]!;
      if (2 * k < out.length) out[2 * k] = r * Math.cos(angle);
      if (2 * k + 1 < out.length) out[2 * k + 1] = r * Math.sin(angle);
    }
  }
}
