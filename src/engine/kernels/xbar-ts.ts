/**
 * The crossbar forward of one layer in plain TypeScript: the definition the native kernel
 * (native/xbar.cc) is tested against. Per image, per array: gather the array's rows of the
 * im2col input, apply each DAC phase, sum each column's currents (float64), add read noise,
 * convert with the ADC, and add the result, weighted, into the digital accumulator.
 */
import { fillNormals } from "../../util/normals.js";
import { deriveSeed } from "../../util/seed.js";
import type { CollapsedArrays, XbarLayer } from "./types.js";

/** The read-noise stream of image n on the fast path: deriveSeed(seed, imageOffset + n, FAST_PATH_STREAM). */
export const FAST_PATH_STREAM = 0xfa57;

/** The input code of im2col row r at output position p of one image (0 in the padding). */
export function im2colValue(layer: XbarLayer, x: Float32Array, image: number, r: number, p: number): number {
  const g = layer.geom;
  const kk = g.k * g.k;
  const c = Math.floor(r / kk);
  const kh = Math.floor((r % kk) / g.k);
  const kw = r % g.k;
  const oh = Math.floor(p / g.ow);
  const ow = p % g.ow;
  const ih = oh * g.stride - g.pad + kh * g.dil;
  const iw = ow * g.stride - g.pad + kw * g.dil;
  if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) return 0;
  const v = x[((image * g.c + c) * g.h + ih) * g.w + iw]!;
  return inputCode(layer, layer.reluIn && v < 0 ? 0 : v);
}

/** Round half away from zero of v / inScale, clamped to the code range. */
export function inputCode(layer: XbarLayer, v: number): number {
  const t = Math.fround(v / layer.inScale);
  const r = t < 0 ? -Math.floor(-t + 0.5) : Math.floor(t + 0.5);
  return Math.min(layer.codeMax, Math.max(layer.codeMin, r));
}

/** The value DAC phase `plane` applies for input code v. */
export function phaseValue(planes: Int32Array, plane: number, v: number): number {
  const sign = planes[plane * 3]!;
  const shift = planes[plane * 3 + 1]!;
  const mask = planes[plane * 3 + 2]!;
  if (sign === 2) return (v >> shift) & mask; // a bit of the two's complement code
  if ((sign > 0 && v <= 0) || (sign < 0 && v >= 0) || v === 0) return 0;
  const mag = (Math.abs(v) >> shift) & mask;
  return sign === 0 && v < 0 ? -mag : mag;
}

export function xbarForwardTs(
  layer: XbarLayer,
  x: Float32Array,
  y: Float32Array,
  colMax: Float32Array | null,
): void {
  if (layer.collapsed) {
    if (colMax) throw new Error("ADC ranges are calibrated on the exact path");
    collapsedForward(layer, layer.collapsed, x, y);
    return;
  }
  const g = layer.geom;
  const P = g.oh * g.ow;
  const nPlanes = layer.planeWeight.length;
  const lossyOffset = layer.g0;
  for (let n = 0; n < g.n; n++) {
    const acc = new Float64Array(g.oc * P);
    for (let a = 0; a < layer.arrays; a++) {
      const r0 = layer.rowOff[a]!;
      const nr = layer.rowOff[a + 1]! - r0;
      const c0 = layer.colOff[a]!;
      const nc = layer.colOff[a + 1]! - c0;
      const gBase = layer.gOff[a]!;
      const lsb = layer.adcLsb[a]!;
      const invLsb = 1 / lsb;
      const input = new Float64Array(nr * P);
      for (let i = 0; i < nr; i++)
        for (let p = 0; p < P; p++) input[i * P + p] = im2colValue(layer, x, n, layer.rows[r0 + i]!, p);
      for (let pl = 0; pl < nPlanes; pl++) {
        const v = input.map((code) => phaseValue(layer.planes, pl, code));
        const z = layer.readVar ? new Float64Array(nc * P) : null;
        if (z) fillNormals(deriveSeed(layer.seed, layer.imageOffset + n, a, pl), z);
        for (let j = 0; j < nc; j++) {
          const col = gBase + j * nr;
          const out = layer.colOut[c0 + j]! * P;
          const w = layer.colWeight[c0 + j]! * layer.planeWeight[pl]!;
          for (let p = 0; p < P; p++) {
            let s = 0;
            let rowSum = 0;
            let variance = 0;
            for (let i = 0; i < nr; i++) {
              const u = v[i * P + p]!;
              s += u * layer.g[col + i]!;
              rowSum += u;
              if (layer.readVar) variance += u * u * layer.readVar[col + i]!;
            }
            if (z) s += Math.sqrt(variance) * z[j * P + p]!;
            // Every driven device adds its Gmin current; a pair's two columns cancel it
            // exactly unless the ADC rounds them apart.
            const adcIn = s + lossyOffset * rowSum;
            if (colMax && Math.abs(adcIn) > colMax[a]!) colMax[a] = Math.abs(adcIn);
            if (lsb > 0) s = Math.min(layer.adcMax, Math.max(layer.adcMin, Math.floor(adcIn * invLsb + 0.5)));
            acc[out + p]! += (lsb > 0 ? w * lsb : w) * s;
          }
        }
      }
    }
    const bias = layer.outBias;
    for (let o = 0; o < g.oc; o++)
      for (let p = 0; p < P; p++)
        y[(n * g.oc + o) * P + p] = acc[o * P + p]! * layer.outScale[o]! + (bias ? bias[o]! : 0);
  }
}

/**
 * The fast noisy path (src/xbar/collapse.ts): per array one product of the input codes with
 * the collapsed weights, the read-noise variance from the codes' phase variances, the ADC's
 * rounding variance for every phase that drives a row of the array at that position, and one
 * Gaussian per output and position, from the image's own stream.
 */
function collapsedForward(layer: XbarLayer, c: CollapsedArrays, x: Float32Array, y: Float32Array): void {
  const g = layer.geom;
  const P = g.oh * g.ow;
  for (let n = 0; n < g.n; n++) {
    const acc = new Float64Array(g.oc * P);
    const variance = new Float64Array(g.oc * P);
    for (let a = 0; a < layer.arrays; a++) {
      const r0 = layer.rowOff[a]!;
      const nr = layer.rowOff[a + 1]! - r0;
      const codes = new Int32Array(nr * P);
      for (let i = 0; i < nr; i++)
        for (let p = 0; p < P; p++) codes[i * P + p] = im2colValue(layer, x, n, layer.rows[r0 + i]!, p);
      const phasesDriven = new Float64Array(P);
      for (let p = 0; p < P; p++) {
        let mask = 0;
        for (let i = 0; i < nr; i++) mask |= c.codePhases[codes[i * P + p]! - layer.codeMin]!;
        for (let pl = 0; mask; pl++, mask >>>= 1) if (mask & 1) phasesDriven[p]! += c.phaseVariance[pl]!;
      }
      for (let t = c.outOff[a]!; t < c.outOff[a + 1]!; t++) {
        const row = c.wOff[a]! + (t - c.outOff[a]!) * nr;
        const o = c.outputs[t]! * P;
        for (let p = 0; p < P; p++) {
          let s = 0;
          let v = 0;
          for (let i = 0; i < nr; i++) {
            const code = codes[i * P + p]!;
            s += code * c.weight[row + i]!;
            if (c.variance) v += c.codeVariance[code - layer.codeMin]! * c.variance[row + i]!;
          }
          acc[o + p]! += s;
          variance[o + p]! += v + c.rounding[t]! * phasesDriven[p]!;
        }
      }
    }
    const z = new Float64Array(g.oc * P);
    fillNormals(deriveSeed(layer.seed, layer.imageOffset + n, FAST_PATH_STREAM), z);
    const bias = layer.outBias;
    for (let o = 0; o < g.oc; o++)
      for (let p = 0; p < P; p++) {
        const e = o * P + p;
        const sum = acc[e]! + Math.sqrt(variance[e]!) * z[e]!;
        y[(n * g.oc + o) * P + p] = sum * layer.outScale[o]! + (bias ? bias[o]! : 0);
      }
  }
}
