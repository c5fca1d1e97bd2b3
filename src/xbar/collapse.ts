/**
 * The fast noisy path: a programmed layer's arrays collapsed so that each array costs one
 * matrix product per image instead of one per DAC phase and device column.
 *
 * Exact parts. The phases of an input code add back to the code (Σ_pl planeWeight·phase(c) = c)
 * and the columns of a weight (slices, the two devices of a pair) add back with their
 * digital weights, so the noise-free output is Σ_i code_i·W_i with W_i = Σ_j colWeight_j·g_ij
 * on the programmed (noisy, drifted, faulty) conductances. Read noise is one independent
 * Gaussian per conversion; weighted and summed they are one Gaussian per output with
 * variance Σ_i c(code_i)·V_i, where c(code) = Σ_pl planeWeight²·phase(code)² and
 * V_i = Σ_j colWeight_j²·readVar_ij.
 *
 * Statistical part. An ADC with step lsb rounds each conversion; the path models every
 * conversion that sees a driven row as adding an independent uniform error of variance
 * lsb²/12 (a conversion with no driven row reads exactly 0), and it ignores clipping, which
 * the calibrated range makes rare. `test/fast-path.test.ts` checks that the logit
 * distributions of the two paths agree on the shipped noisy presets.
 */
import type { CollapsedArrays } from "../engine/kernels/types.js";
import { phaseValue } from "../engine/kernels/xbar-ts.js";
import type { HardwareConfig } from "../hw/config.js";
import { devicesAreIdeal, type ProgrammedLayer } from "./program.js";

/** Why the fast path cannot run a configuration, or null when it can. */
export function fastPathBlocker(cfg: HardwareConfig): string | null {
  if (cfg.simulator.path === "exact") return "simulator.path is 'exact'";
  // Ideal devices read deterministically: the exact path (or the integer path) is the answer.
  if (devicesAreIdeal(cfg)) return "ideal devices are simulated exactly";
  return null;
}

/** The path that simulates a configuration; null for the float network. */
export function simulationPath(cfg: HardwareConfig): "fast" | "exact" | null {
  if (!cfg.quantize) return null;
  return fastPathBlocker(cfg) === null ? "fast" : "exact";
}

/** Collapses a programmed layer's arrays (after its ADC ranges are set). */
export function collapse(p: ProgrammedLayer): CollapsedArrays {
  const outOff = [0];
  const outputs: number[] = [];
  const wOff = [0];
  const rounding: number[] = [];
  for (let a = 0; a < p.arrays; a++) {
    const seen = new Set<number>();
    for (let j = p.colOff[a]!; j < p.colOff[a + 1]!; j++) seen.add(p.colOut[j]!);
    const nr = p.rowOff[a + 1]! - p.rowOff[a]!;
    outputs.push(...seen);
    outOff.push(outputs.length);
    wOff.push(wOff.at(-1)! + seen.size * nr);
  }
  const weight = new Float32Array(wOff.at(-1)!);
  const variance = p.readVar ? new Float32Array(weight.length) : null;
  for (let a = 0; a < p.arrays; a++) {
    const nr = p.rowOff[a + 1]! - p.rowOff[a]!;
    const slot = new Map<number, number>();
    for (let t = outOff[a]!; t < outOff[a + 1]!; t++) slot.set(outputs[t]!, t - outOff[a]!);
    const squares = new Float64Array(slot.size);
    const w = new Float64Array(slot.size * nr);
    const v = new Float64Array(slot.size * nr);
    for (let j = p.colOff[a]!; j < p.colOff[a + 1]!; j++) {
      const t = slot.get(p.colOut[j]!)!;
      const cw = p.colWeight[j]!;
      squares[t]! += cw * cw;
      const col = p.gOff[a]! + (j - p.colOff[a]!) * nr;
      for (let i = 0; i < nr; i++) {
        w[t * nr + i]! += cw * p.g[col + i]!;
        if (p.readVar) v[t * nr + i]! += cw * cw * p.readVar[col + i]!;
      }
    }
    weight.set(w, wOff[a]!);
    variance?.set(v, wOff[a]!);
    const lsb = p.adcLsb[a]!;
    for (const s of squares) rounding.push((lsb * lsb * s) / 12);
  }
  const codes = p.codeMax - p.codeMin + 1;
  const phases = p.planeWeight.length;
  const codeVariance = new Float32Array(codes);
  const codePhases = new Int32Array(codes);
  for (let c = 0; c < codes; c++) {
    let sum = 0;
    for (let pl = 0; pl < phases; pl++) {
      const v = phaseValue(p.planes, pl, c + p.codeMin);
      if (v === 0) continue;
      sum += p.planeWeight[pl]! ** 2 * v * v;
      codePhases[c]! |= 1 << pl;
    }
    codeVariance[c] = sum;
  }
  return {
    outOff: Int32Array.from(outOff),
    outputs: Int32Array.from(outputs),
    wOff: Int32Array.from(wOff),
    weight,
    variance,
    rounding: Float32Array.from(rounding),
    codeVariance,
    codePhases,
    phaseVariance: p.planeWeight.map((w) => w * w),
  };
}
