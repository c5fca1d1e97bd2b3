import assert from "node:assert/strict";
import { describe, it } from "node:test";
import jstat from "jstat";
import { nativeKernels, tsKernels } from "../src/engine/kernels/index.js";
import type { CollapsedArrays } from "../src/engine/kernels/types.js";
import { im2colValue } from "../src/engine/kernels/xbar-ts.js";
import { Tensor } from "../src/engine/tensor.js";
import { type HardwareConfig, loadPreset, mergeConfig, parseHardwareConfig } from "../src/hw/config.js";
import { Rng } from "../src/util/rng.js";
import { collapse, fastPathBlocker } from "../src/xbar/collapse.js";
import { individualLayout } from "../src/xbar/layout.js";
import { type ProgrammedLayer, programLayer } from "../src/xbar/program.js";
import { CrossbarSimulator } from "../src/xbar/simulator.js";
import { randomTensor, requiredNative, SLOW_TIER } from "./helpers.js";
import { integerReference, runLayer, setup, smallModel } from "./xbar-fixtures.js";

const native = requiredNative(nativeKernels());

function config(base: string, over: Record<string, unknown>): HardwareConfig {
  return parseHardwareConfig(mergeConfig(loadPreset(base), over));
}

const collapsed = (p: ProgrammedLayer, c: CollapsedArrays = collapse(p)): ProgrammedLayer => ({
  ...p,
  collapsed: c,
});

/**
 * Per output of image n: S1 = Σ |code·W| (the float32 products' magnitude) and S2, the
 * variance the path adds (read noise and rounding), computed directly from the collapsed matrices.
 */
function magnitudes(p: ProgrammedLayer, x: Float32Array, n: number) {
  const c = p.collapsed!;
  const g = { n, ...p.layer.geom };
  const P = g.oh * g.ow;
  const layer = { ...p, geom: g, seed: 0, imageOffset: 0 };
  const s1 = new Float64Array(n * g.oc * P);
  const s2 = new Float64Array(n * g.oc * P);
  for (let b = 0; b < n; b++)
    for (let a = 0; a < p.arrays; a++) {
      const nr = p.rowOff[a + 1]! - p.rowOff[a]!;
      for (let q = 0; q < P; q++) {
        const codes = Array.from({ length: nr }, (_, i) =>
          im2colValue(layer, x, b, p.rows[p.rowOff[a]! + i]!, q),
        );
        let mask = 0;
        for (const code of codes) mask |= c.codePhases[code - p.codeMin]!;
        let driven = 0;
        for (let pl = 0; pl < c.phaseVariance.length; pl++)
          if (mask & (1 << pl)) driven += c.phaseVariance[pl]!;
        for (let t = c.outOff[a]!; t < c.outOff[a + 1]!; t++) {
          const row = c.wOff[a]! + (t - c.outOff[a]!) * nr;
          const e = (b * g.oc + c.outputs[t]!) * P + q;
          codes.forEach((code, i) => {
            s1[e]! += Math.abs(code * c.weight[row + i]!);
            if (c.variance) s2[e]! += c.codeVariance[code - p.codeMin]! * c.variance[row + i]!;
          });
          s2[e]! += c.rounding[t]! * driven;
        }
      }
    }
  return { s1, s2 };
}

/** Two-sided p-value of Welch's t-test that two samples have the same mean. */
function welch(a: readonly number[], b: readonly number[]): number {
  const m = (x: readonly number[]) => x.reduce((s, v) => s + v, 0) / x.length;
  const v = (x: readonly number[]) => x.reduce((s, y) => s + (y - m(x)) ** 2, 0) / (x.length - 1);
  const sa = v(a) / a.length;
  const sb = v(b) / b.length;
  if (sa + sb === 0) return m(a) === m(b) ? 1 : 0;
  const t = (m(a) - m(b)) / Math.sqrt(sa + sb);
  const df = (sa + sb) ** 2 / (sa ** 2 / (a.length - 1) + sb ** 2 / (b.length - 1));
  return 2 * (1 - jstat.jStat.studentt.cdf(Math.abs(t), df));
}

/** Two-sided p-value of the Brown–Forsythe test that two samples have the same spread. */
function brownForsythe(a: readonly number[], b: readonly number[]): number {
  const dev = (x: readonly number[]) => {
    const s = [...x].sort((p, q) => p - q);
    const med = (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
    return x.map((v) => Math.abs(v - med));
  };
  return welch(dev(a), dev(b));
}

describe("fast noisy path", () => {
  it("applies to noisy devices on both platforms, unless the exact path is asked for", () => {
    assert.equal(fastPathBlocker(loadPreset("rram")), null);
    assert.equal(fastPathBlocker(loadPreset("pcm")), null);
    assert.equal(fastPathBlocker(loadPreset("analog-chain")), null);
    assert.match(fastPathBlocker(loadPreset("int8"))!, /ideal devices/);
    assert.match(fastPathBlocker(config("rram", { simulator: { path: "exact" } }))!, /'exact'/);
  });

  it("with ideal devices and a lossless ADC equals the int8 reference bit for bit (native and TypeScript)", () => {
    const cfg = config("int8", {
      dac: { mode: "bit-serial", signedInputs: "two-phase" },
      conductance: { gMin: 2, gMax: 40, cellBits: 3 },
      adc: { bits: null },
    });
    const { sim, inputs } = setup(cfg);
    sim.program(1, 0, null, true);
    let checked = 0;
    for (const [id, l] of sim.layers) {
      const x = inputs.get(id)!;
      const want = integerReference(l, x, 6);
      const p = collapsed(sim.programmedLayer(id)!);
      for (const k of native ? [native, tsKernels] : [tsKernels]) {
        const got = runLayer(k, p, x, 6);
        for (let i = 0; i < want.length; i++)
          assert.equal(got[i], want[i], `${l.name} (${k.name}) output ${i}`);
      }
      checked++;
    }
    assert.ok(checked >= 20, `${checked} layers`);
  });

  it("native equals TypeScript under programming and read noise and a lossy ADC, within float32 rounding", {
    skip: !native,
  }, () => {
    for (const base of ["rram", "pcm"]) {
      const cfg = config(base, { adc: { range: "full-scale" } });
      const { sim, inputs } = setup(cfg);
      for (const [id, l] of sim.layers) {
        const p = collapsed(programLayer(l, individualLayout(l, 64, 4), cfg, new Rng(id)));
        const x = inputs.get(id)!;
        const n = 2;
        const a = runLayer(native!, p, x, n);
        const b = runLayer(tsKernels, p, x, n);
        // Error model: native sums in float32 (relative error ≤ γ = m·u over m terms, on the
        // magnitudes S1 and S2), its normals differ from TypeScript's by < 1e-5 relative, and
        // |z| ≤ 5.8 (Box–Muller on 24-bit uniforms); the output rounds once to float32.
        const { s1, s2 } = magnitudes(p, x, n);
        const m = p.rows.length + p.arrays;
        const gamma = (m * 2 ** -24) / (1 - m * 2 ** -24);
        const P = l.geom.oh * l.geom.ow;
        for (let i = 0; i < a.length; i++) {
          const scale = Math.abs(p.outScale[Math.floor(i / P) % l.geom.oc]!);
          const sigma = Math.sqrt(s2[i]!);
          const bound =
            scale * (gamma * s1[i]! + 5.8 * sigma * (gamma + 1e-5)) + 2 ** -23 * Math.abs(b[i]!) + 1e-30;
          assert.ok(
            Math.abs(a[i]! - b[i]!) <= bound,
            `${base} ${l.name} output ${i}: ${a[i]} vs ${b[i]} (bound ${bound})`,
          );
        }
      }
    }
  });

  /**
   * What reads add to the logits of 2 images over `trials` programmings (seed `seed`): the
   * logits minus those of the same programmed devices read without noise through a lossless
   * ADC, one sample per output. Programming noise, which both paths treat exactly, cancels,
   * so the samples show the part that the fast path models statistically.
   */
  function readResiduals(cfg: HardwareConfig, seed: number, trials: number, rounding = true): number[][] {
    const model = smallModel(3);
    const calib = randomTensor([6, 3, 32, 32], new Rng(5));
    const images = new Tensor([2, 3, 32, 32], calib.data.subarray(0, 2 * 3072));
    const quiet = parseHardwareConfig(
      mergeConfig(cfg, { device: { readNoise: false }, adc: { bits: null }, simulator: { path: "auto" } }),
    );
    const sim = new CrossbarSimulator(model, cfg).calibrate(calib);
    const ref = new CrossbarSimulator(model, quiet);
    ref.load(sim.layers);
    const samples: number[][] = [];
    for (let t = 0; t < trials; t++) {
      sim.program(seed, t, calib);
      ref.program(seed, t, calib);
      if (!rounding)
        for (const id of sim.layers.keys()) {
          const p = sim.programmedLayer(id)!;
          const unrounded = { ...p.collapsed!, rounding: new Float32Array(p.collapsed!.rounding.length) };
          (sim as unknown as { programmed: Map<number, ProgrammedLayer> }).programmed.set(
            id,
            collapsed(p, unrounded),
          );
        }
      const noisy = model.forward(images, { training: false, executor: sim.executor() }).logits.data.slice();
      const clean = model.forward(images, { training: false, executor: ref.executor() }).logits.data;
      if (t === 0) for (let k = 0; k < noisy.length; k++) samples.push([]);
      for (let k = 0; k < noisy.length; k++) samples[k]!.push(noisy[k]! - clean[k]!);
    }
    return samples;
  }

  // 150 programmings per path, independent seeds; per output (2 images × 10 logits) a test of
  // the means (Welch) and of the spreads (Brown–Forsythe) of what reads add. Family-wise
  // false-alarm rate 0.1 % per preset (Bonferroni over its 40 tests).
  const TRIALS = 150;
  const ALPHA = 1e-3 / 40;
  const worst = (a: number[][], b: number[][], test: typeof welch) =>
    Math.min(...a.map((x, k) => test(x, b[k]!)));

  for (const preset of ["rram", "pcm", "analog-chain"])
    it(
      `${preset}: fast and exact paths give every logit the same distribution of read noise and ADC error`,
      SLOW_TIER,
      () => {
        const cfg = loadPreset(preset);
        const exact = readResiduals(config(preset, { simulator: { path: "exact" } }), 2, TRIALS);
        const fast = readResiduals(cfg, 1, TRIALS);
        assert.ok(worst(fast, exact, welch) > ALPHA, `${preset}: means differ`);
        assert.ok(worst(fast, exact, brownForsythe) > ALPHA, `${preset}: spreads differ`);
        if (preset !== "rram") return;
        // The same test sees a fast path that leaves out the ADC's rounding.
        const unrounded = readResiduals(cfg, 1, TRIALS, false);
        assert.ok(worst(unrounded, exact, brownForsythe) < ALPHA, "rounding left out, undetected");
      },
    );
});
