import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { nativeKernels, tsKernels } from "../src/engine/kernels/index.js";
import * as ops from "../src/engine/ops.js";
import { Tensor } from "../src/engine/tensor.js";
import {
  ConfigError,
  columnsPerWeight,
  type HardwareConfig,
  hardwareOf,
  loadPreset,
  mergeConfig,
  PRESETS,
  parseHardwareConfig,
  presetOverrides,
  resolveHardwareConfig,
} from "../src/hw/config.js";
import { costNetwork } from "../src/hw/cost.js";
import { placementOf } from "../src/hw/designs.js";
import { dacPhases } from "../src/hw/mapping.js";
import type { ConvNode, LinearNode } from "../src/ir/graph.js";
import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";
import { codeErrorRms, measureWeightNoise } from "../src/train/hardware-aware.js";
import { Rng } from "../src/util/rng.js";
import { ANALOG_VOLTAGE_BITS, neuronReadout, tiaOutput } from "../src/xbar/analog-chain.js";
import { collapse } from "../src/xbar/collapse.js";
import { holdsWeight, individualLayout, type LogicalLayer } from "../src/xbar/layout.js";
import { exactIntegerLayer, programLayer } from "../src/xbar/program.js";
import { roundHalfAway } from "../src/xbar/quantize.js";
import { CrossbarSimulator } from "../src/xbar/simulator.js";
import { randomTensor, requiredNative, SLOW_TIER } from "./helpers.js";
import { integerReference, runLayer, setup } from "./xbar-fixtures.js";

const native = requiredNative(nativeKernels());

function config(over: Record<string, unknown>): HardwareConfig {
  return parseHardwareConfig(mergeConfig(loadPreset("int8"), over));
}

/** Every output of channel o over the 6 test images lies within `bound` of the exact one. */
function assertChannelWithin(
  l: LogicalLayer,
  y: Float32Array,
  exact: Float32Array,
  o: number,
  bound: number,
): void {
  const P = l.geom.oh * l.geom.ow;
  for (let b = 0; b < 6; b++)
    for (let q = 0; q < P; q++) {
      const i = (b * l.geom.oc + o) * P + q;
      assert.ok(
        Math.abs(y[i]! - exact[i]!) <= bound,
        `${l.name}: |Δ| ${Math.abs(y[i]! - exact[i]!)} > ${bound}`,
      );
    }
}

describe("crossbar simulator", () => {
  const tiles = config({ dac: { mode: "bit-serial" }, conductance: { gMin: 2, gMax: 40, cellBits: 3 } });

  it("covers every layer kind of a DARTS network", () => {
    const { sim } = setup(tiles);
    const kinds = new Set<string>();
    for (const l of sim.layers.values()) {
      const g = l.geom;
      if (g.groups > 1)
        kinds.add(g.dil > 1 ? "dilated depthwise" : g.stride > 1 ? "strided depthwise" : "depthwise");
      else if (g.h === 1 && g.w === 1) kinds.add("classifier");
      else if (g.k === 3) kinds.add("stem");
      else kinds.add(g.stride > 1 ? "strided 1x1 (FactorizedReduce)" : "1x1");
    }
    for (const k of [
      "depthwise",
      "dilated depthwise",
      "strided depthwise",
      "classifier",
      "stem",
      "1x1",
      "strided 1x1 (FactorizedReduce)",
    ])
      assert.ok(kinds.has(k), `no ${k} layer among ${[...kinds].join(", ")}`);
  });

  it(
    "with ideal devices and lossless converters equals the int8 reference bit for bit, on tiles and on the exact path",
    SLOW_TIER,
    () => {
      const { sim, inputs } = setup(
        parseHardwareConfig(mergeConfig(tiles, { dac: { signedInputs: "two-phase" } })),
      );
      sim.program(1, 0, null, true);
      let checked = 0;
      for (const [id, l] of sim.layers) {
        const x = inputs.get(id)!;
        const want = integerReference(l, x, 6);
        const p = sim.programmedLayer(id)!;
        assert.ok(p.arrays >= 1 && p.planeWeight.length >= 3, "bit-serial phases on real tiles");
        // The TypeScript twin, many times slower, on the first two images.
        for (const [k, n] of native
          ? ([
              [native, 6],
              [tsKernels, 2],
            ] as const)
          : ([[tsKernels, 6]] as const)) {
          const xs = x.subarray(0, (x.length / 6) * n);
          const ref = want.subarray(0, (want.length / 6) * n);
          assert.deepEqual(runLayer(k, p, xs, n), ref, `${l.name} tiles (${k.name})`);
          assert.deepEqual(runLayer(k, exactIntegerLayer(l), xs, n), ref, `${l.name} exact path (${k.name})`);
        }
        checked++;
      }
      assert.ok(checked > 20);
    },
  );

  it("partial parallel reads: each row group converted on its own, the partial sums add to the int8 reference bit for bit", () => {
    const cfg = config({
      dac: { mode: "bit-serial", signedInputs: "two-phase" },
      conductance: { gMin: 2, gMax: 40, cellBits: 3 },
      adc: { bits: null, rowsPerRead: 24 },
    });
    const { sim, inputs, model } = setup(cfg);
    sim.program(1, 0, null, true);
    let grouped = 0;
    for (const [id, l] of sim.layers) {
      const node = model.net.nodes[id]! as ConvNode | LinearNode;
      const reads = sim.mapping.layout(l);
      assert.ok(
        reads.every((r) => r.rows.length <= 24),
        `${l.name}: a read drives at most 24 rows`,
      );
      // One mapper: the simulator converts the column reads that the cost model prices.
      const cpw = columnsPerWeight(cfg);
      assert.equal(
        reads.reduce((n, r) => n + r.outputs.length * cpw, 0),
        placementOf(node, cfg).columnReads,
        l.name,
      );
      if (reads.length > placementOf(node, cfg).arrays) grouped++;
      const per = inputs.get(id)!.length / 6;
      const x = inputs.get(id)!.subarray(0, 2 * per);
      const p = sim.programmedLayer(id)!;
      const k = native ?? tsKernels;
      assert.deepEqual(runLayer(k, p, x, 2), integerReference(l, x, 2), `${l.name} (${k.name})`);
      // The TypeScript twin (slow here: bit-serial row groups) on the first image.
      if (k !== tsKernels) {
        const x1 = x.subarray(0, per);
        assert.deepEqual(runLayer(tsKernels, p, x1, 1), integerReference(l, x1, 1), `${l.name} (ts)`);
      }
    }
    assert.ok(grouped >= 5, `${grouped} layers read in row groups`);
  });

  it("redundant weight copies: each logical row on 2 or 4 physical rows (depthwise layers on their own count), still the int8 reference bit for bit", () => {
    // The same network and calibration for all: one reference per layer, on one image.
    const reference = new Map<number, Float32Array>();
    const layouts = [
      { dense: 2, depthwise: 2, layout: { weightCopies: 2 } },
      { dense: 4, depthwise: 4, layout: { weightCopies: 4 } },
      { dense: 1, depthwise: 4, layout: { weightCopies: 1, depthwiseWeightCopies: 4 } },
    ];
    for (const { dense, depthwise, layout } of layouts) {
      const cfg = config({
        dac: { mode: "bit-serial", signedInputs: "two-phase" },
        conductance: { gMin: 2, gMax: 40, cellBits: 3 },
        adc: { bits: null },
        layout,
      });
      const { sim, inputs, model } = setup(cfg);
      sim.program(1, 0, null, true);
      for (const [id, l] of sim.layers) {
        const copies = l.depthwise ? depthwise : dense;
        const node = model.net.nodes[id]! as ConvNode | LinearNode;
        const arrays = sim.mapping.layout(l);
        // every logical row of an array appears exactly `copies` times, one after another
        for (const a of arrays)
          for (let i = 0; i < a.rows.length; i++)
            assert.equal(a.rows[i], a.rows[i - (i % copies)], `${l.name} row ${i}`);
        // ... and no more often: the logical rows are the layer's, each `copies` times
        const logical = arrays.reduce((n, a) => n + new Set(a.rows).size, 0);
        assert.equal(
          arrays.reduce((n, a) => n + a.rows.length, 0),
          copies * logical,
          `${l.name}: ${copies} copies`,
        );
        assert.equal(
          arrays.reduce((n, a) => n + a.rows.length, 0),
          placementOf(node, cfg).rowsDriven,
          `${l.name}: the cost model drives the rows the simulator programs`,
        );
        const x = inputs.get(id)!.subarray(0, inputs.get(id)!.length / 6);
        const p = sim.programmedLayer(id)!;
        // One kernel (the twins agree elsewhere), on the exact and the fast path.
        const k = native ?? tsKernels;
        if (!reference.has(id)) reference.set(id, integerReference(l, x, 1));
        const want = reference.get(id)!;
        assert.deepEqual(runLayer(k, p, x, 1), want, `${l.name} ×${copies} (${k.name})`);
        assert.deepEqual(
          runLayer(k, { ...p, collapsed: collapse(p) }, x, 1),
          want,
          `${l.name} ×${copies} fast path`,
        );
      }
    }
  });

  it("redundant weight copies average the rram read-back error: the random part falls by √copies, the mean stays", () => {
    const rram = loadPreset("rram");
    const one = measureWeightNoise(rram, 3);
    const four = measureWeightNoise(
      parseHardwareConfig(mergeConfig(rram, { layout: { weightCopies: 4 } })),
      3,
    );
    // Per code q, with mean m and RMS r of one device's error: r4² = m² + (r² − m²)/4 for four
    // independent copies. Pooled over 255 codes × 256 draws, sampling error of the RMS is
    // below 1 %; 5 % allows the mean's own estimate error.
    let predicted = 0;
    let measured = 0;
    for (let q = -127; q <= 127; q++) {
      const from = (q + 127) * one.samples;
      let m = 0;
      for (let k = 0; k < one.samples; k++) m += one.errors[from + k]! / one.samples;
      const r = codeErrorRms(one, q);
      predicted += m * m + (r * r - m * m) / 4;
      measured += codeErrorRms(four, q) ** 2;
    }
    const ratio = Math.sqrt(measured / predicted);
    assert.ok(Math.abs(ratio - 1) < 0.05, `measured/predicted RMS ${ratio}`);
    assert.ok(four.sigma < 0.6 * one.sigma, `σ ${four.sigma} against ${one.sigma}`);
  });

  it("unformed off-block devices: exactly Gmin where a depthwise array holds no weight, every other device as programmed", () => {
    const rram = loadPreset("rram");
    const unformed = parseHardwareConfig(mergeConfig(rram, { device: { offBlockDevices: "unformed" } }));
    const { sim } = setup(rram);
    let offBlock = 0;
    let depthwise = 0;
    for (const l of sim.layers.values()) {
      const place = individualLayout(l, rram.tile, columnsPerWeight(rram));
      const a = programLayer(l, place, rram, new Rng(l.id));
      const b = programLayer(l, place, unformed, new Rng(l.id));
      if (!l.depthwise) {
        assert.deepEqual(b.g, a.g, `${l.name}: dense layers unchanged`);
        continue;
      }
      depthwise++;
      for (let k = 0; k < a.arrays; k++) {
        const rows = a.rows.subarray(a.rowOff[k]!, a.rowOff[k + 1]!);
        for (let j = a.colOff[k]!; j < a.colOff[k + 1]!; j++) {
          const col = j - a.colOff[k]!;
          for (let i = 0; i < rows.length; i++) {
            const e = a.gOff[k]! + col * rows.length + i;
            if (holdsWeight(l, rows[i]!, a.colOut[j]!)) assert.equal(b.g[e], a.g[e], `${l.name} device ${e}`);
            else {
              assert.equal(b.g[e], 0, `${l.name} off-block device ${e} at Gmin = 0 µS`);
              if (a.g[e]! > 0) offBlock++;
            }
          }
        }
      }
    }
    assert.ok(
      depthwise >= 5 && offBlock > 1000,
      `${depthwise} depthwise layers, ${offBlock} noisy off-block devices`,
    );
  });

  it("signed inputs as two's complement bits equal the int8 reference bit for bit (every signed layer, two images)", () => {
    const { sim, inputs } = setup(tiles);
    assert.equal(tiles.dac.signedInputs, "twos-complement");
    sim.program(1, 0, null, true);
    let checked = 0;
    for (const [id, l] of sim.layers) {
      if (!l.inSigned) continue; // unsigned inputs take the same phases under either encoding
      const per = inputs.get(id)!.length / 6;
      const x = inputs.get(id)!.subarray(0, 2 * per);
      const p = sim.programmedLayer(id)!;
      assert.equal(p.planeWeight.length, 8, `${l.name}: one phase per bit`);
      for (const k of native ? [native, tsKernels] : [tsKernels])
        assert.deepEqual(runLayer(k, p, x, 2), integerReference(l, x, 2), `${l.name} (${k.name})`);
      checked++;
    }
    assert.ok(checked >= 5, `${checked} signed layers`);
  });

  it(
    "analog pair subtraction with ideal devices and a lossless ADC equals the int8 reference bit for bit",
    SLOW_TIER,
    () => {
      const analog = config({
        dac: { mode: "bit-serial" },
        adc: { pairSubtraction: "analog" },
        conductance: { gMin: 2, gMax: 40, cellBits: 3 },
      });
      const { sim, inputs } = setup(analog);
      sim.program(1, 0, null, true);
      for (const [id, l] of sim.layers) {
        const p = sim.programmedLayer(id)!;
        const digital = programLayer(l, individualLayout(l, 128, 6), tiles, new Rng(1));
        assert.equal(p.colOut.length * 2, digital.colOut.length, `${l.name}: one readout per pair`);
        assert.equal(p.g0, 0, "Gmin currents cancel in the subtraction");
        const x = inputs.get(id)!;
        const want = integerReference(l, x, 6);
        // The TypeScript twin, many times slower, on the first two images.
        for (const [k, n] of native
          ? ([
              [native, 6],
              [tsKernels, 2],
            ] as const)
          : ([[tsKernels, 6]] as const))
          assert.deepEqual(
            runLayer(k, p, x.subarray(0, (x.length / 6) * n), n),
            want.subarray(0, (want.length / 6) * n),
            `${l.name} (${k.name})`,
          );
      }
    },
  );

  it("a bipolar ADC (analog pair subtraction) rounds each pair once, within half a step, and clips nothing at full scale", () => {
    const analog = config({
      dac: { mode: "multi-bit" },
      adc: { bits: 6, range: "full-scale", pairSubtraction: "analog" },
      conductance: { gMin: 0, gMax: 40, cellBits: 7 },
    });
    const { sim, inputs } = setup(analog);
    const k = native ?? tsKernels;
    for (const [id, l] of sim.layers) {
      const layout = individualLayout(l, 128, 2);
      const p = programLayer(l, layout, analog, new Rng(1));
      assert.deepEqual([p.adcMin, p.adcMax], [-32, 31]);
      const exact = integerReference(l, inputs.get(id)!, 6);
      const y = runLayer(k, p, inputs.get(id)!, 6);
      // Each output sits in one column per array (no slicing): one rounding of ≤ lsb/2 per array and phase.
      const perPhase = p.planeWeight.map(Math.abs);
      for (let o = 0; o < l.geom.oc; o++) {
        const arrays = layout.filter((a) => a.outputs.includes(o)).length;
        const lsb = Math.max(...layout.map((a, i) => (a.outputs.includes(o) ? p.adcLsb[i]! : 0)));
        const bound =
          (arrays * perPhase.reduce((x, w) => x + w, 0) * lsb * l.wScale[o]! * l.inScale) / 2 + 1e-6;
        assertChannelWithin(l, y, exact, o, bound);
      }
    }
  });

  it("bit-serial and multi-bit inputs agree with a lossless ADC, also on noisy devices", () => {
    const noisy = {
      device: { model: "pcm", programmingNoise: true, drift: true, time: 3600 },
      conductance: { gMin: 0, gMax: 25, cellBits: 4 },
    };
    const serial = config({ ...noisy, dac: { mode: "bit-serial" } });
    const multi = config({ ...noisy, dac: { mode: "multi-bit" } });
    const { sim, inputs } = setup(serial);
    const k = native ?? tsKernels;
    for (const [id, l] of sim.layers) {
      const layout = individualLayout(l, 128, 4);
      const a = programLayer(l, layout, serial, new Rng(5));
      const b = programLayer(l, layout, multi, new Rng(5));
      const ya = runLayer(k, a, inputs.get(id)!, 6);
      const yb = runLayer(k, b, inputs.get(id)!, 6);
      const scale = Math.max(...ya.map(Math.abs));
      for (let i = 0; i < ya.length; i++)
        assert.ok(Math.abs(ya[i]! - yb[i]!) <= 1e-5 * scale, `${l.name} element ${i}`);
      const ideal = integerReference(l, inputs.get(id)!, 6);
      assert.notDeepEqual(ya, ideal, "noise changes the result");
    }
  });

  it("native and TypeScript kernels agree with read noise and a lossy ADC, pairs subtracted digitally or in analog", {
    skip: !native || SLOW_TIER.skip,
  }, () => {
    for (const pairSubtraction of ["digital", "analog"]) {
      const cfg = config({
        dac: { mode: "bit-serial" },
        adc: { bits: 6, range: "full-scale", columnsPerAdc: 8, pairSubtraction },
        device: { model: "reram", programmingNoise: true, readNoise: true, params: { readNoise: 0.02 } },
        conductance: { gMin: 1, gMax: 40, cellBits: 4 },
      });
      agreeUnderNoise(cfg);
    }
  });

  function agreeUnderNoise(cfg: HardwareConfig): void {
    const { sim, inputs } = setup(cfg);
    for (const [id, l] of [...sim.layers].slice(0, 12)) {
      const p = programLayer(l, individualLayout(l, 64, 4), cfg, new Rng(9));
      const ma = new Float32Array(p.arrays);
      const mb = new Float32Array(p.arrays);
      const a = runLayer(native!, p, inputs.get(id)!, 6, ma);
      const b = runLayer(tsKernels, p, inputs.get(id)!, 6, mb);
      // The same read-noise streams; float32 vs float64 column sums may round a conversion one
      // ADC code apart. Error model: an output differs only by such flips, each worth one code
      // times its phase's and column's weight; two flips in one output are already rare.
      const g = l.geom;
      const P = g.oh * g.ow;
      const step =
        Math.max(...p.adcLsb) *
        Math.max(...Array.from(p.planeWeight, Math.abs)) *
        Math.max(...Array.from(p.colWeight, Math.abs));
      let differ = 0;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i]! - b[i]!);
        if (d <= 1e-5 * (1 + Math.abs(b[i]!))) continue;
        differ++;
        const flip = step * p.outScale[Math.floor(i / P) % g.oc]!;
        assert.ok(
          d <= 2 * flip * (1 + 1e-5),
          `${l.name}: output ${i} differs by ${d}, more than two ADC codes (${flip})`,
        );
      }
      assert.ok(differ <= a.length * 0.01, `${l.name}: ${differ} of ${a.length} outputs differ`);
      for (let i = 0; i < ma.length; i++)
        assert.ok(Math.abs(ma[i]! - mb[i]!) <= 1e-3 * mb[i]! + 1e-3, `${l.name} ADC maximum`);
    }
  }

  it("a lossy ADC changes outputs by at most its step, and a calibrated range is tighter than full scale", () => {
    const base = { dac: { mode: "multi-bit" }, conductance: { gMin: 0, gMax: 40, cellBits: 7 } };
    const full = config({ ...base, adc: { bits: 8, range: "full-scale", columnsPerAdc: 8 } });
    const { sim, inputs } = setup(full);
    const k = native ?? tsKernels;
    for (const [id, l] of sim.layers) {
      const layout = individualLayout(l, 128, 2);
      const p = programLayer(l, layout, full, new Rng(1));
      const exact = integerReference(l, inputs.get(id)!, 6);
      const y = runLayer(k, p, inputs.get(id)!, 6);
      // Per array and DAC phase, the two columns of an output each round by ≤ lsb/2 (level units).
      const maxLsb = Math.max(...p.adcLsb);
      for (let o = 0; o < l.geom.oc; o++) {
        const bound = layout.length * p.planeWeight.length * maxLsb * l.wScale[o]! * l.inScale + 1e-6;
        assertChannelWithin(l, y, exact, o, bound);
      }
    }
    const cal = config({ ...base, adc: { bits: 8, range: "calibrated", columnsPerAdc: 8 } });
    const s2 = new CrossbarSimulator(sim.model, cal);
    s2.calibrate(randomTensor([6, 3, 32, 32], new Rng(5)));
    s2.program(1, 0, randomTensor([6, 3, 32, 32], new Rng(5)));
    for (const id of s2.layers.keys()) {
      const p = s2.programmedLayer(id)!;
      const fs = programLayer(p.layer, individualLayout(p.layer, 128, 2), full, new Rng(1));
      for (let a = 0; a < p.arrays; a++)
        assert.ok(p.adcLsb[a]! > 0 && p.adcLsb[a]! <= fs.adcLsb[a]!, "calibrated ≤ full scale");
    }
  });

  it("the quantized convolution kernel: native equals TypeScript bit for bit on dense, depthwise, strided and dilated shapes", {
    skip: !native,
  }, () => {
    const rng = new Rng(11);
    const shapes = [
      { c: 5, h: 9, w: 7, oc: 6, k: 3, stride: 1, pad: 1, dil: 1, groups: 1 },
      { c: 6, h: 8, w: 8, oc: 6, k: 5, stride: 2, pad: 2, dil: 1, groups: 6 },
      { c: 4, h: 11, w: 9, oc: 4, k: 3, stride: 1, pad: 2, dil: 2, groups: 4 },
      { c: 7, h: 6, w: 6, oc: 3, k: 1, stride: 1, pad: 0, dil: 1, groups: 1 },
      { c: 7, h: 6, w: 6, oc: 3, k: 1, stride: 2, pad: 0, dil: 1, groups: 1 },
    ];
    for (const s of shapes) {
      const span = s.dil * (s.k - 1) + 1;
      const g = {
        n: 3,
        ...s,
        oh: Math.floor((s.h + 2 * s.pad - span) / s.stride) + 1,
        ow: Math.floor((s.w + 2 * s.pad - span) / s.stride) + 1,
      };
      const x = randomTensor([3, s.c, s.h, s.w], rng).data;
      const w = Float32Array.from({ length: s.oc * (s.c / s.groups) * s.k * s.k }, () => rng.int(255) - 127);
      const bias = Float32Array.from({ length: s.oc }, () => rng.normal());
      const outScale = Float64Array.from({ length: s.oc }, () => 1e-3 * (1 + rng.uniform()));
      for (const reluIn of [false, true]) {
        const input = {
          scale: Math.fround(0.01 + 0.01 * rng.uniform()),
          reluIn,
          lo: reluIn ? 0 : -127,
          hi: reluIn ? 255 : 127,
        };
        const a = new Float32Array(3 * s.oc * g.oh * g.ow);
        const b = new Float32Array(a.length);
        native!.convForwardQuantized(g, x, w, a, input, bias, outScale);
        tsKernels.convForwardQuantized(g, x, w, b, input, bias, outScale);
        assert.deepEqual(a, b, JSON.stringify(s));
      }
    }
  });

  it("DAC phases: unsigned bit-serial is one phase per bit, signed inputs take two passes or their two's complement bits", () => {
    const u = dacPhases("bit-serial", 8, false);
    assert.deepEqual([...u.planeWeight], [1, 2, 4, 8, 16, 32, 64, 128]);
    const s = dacPhases("bit-serial", 8, true);
    assert.deepEqual([...s.planeWeight], [1, 2, 4, 8, 16, 32, 64, -1, -2, -4, -8, -16, -32, -64]);
    assert.deepEqual([...dacPhases("multi-bit", 8, true).planes], [1, 0, 127, -1, 0, 127]);
    const t = dacPhases("bit-serial", 8, true, "twos-complement");
    assert.deepEqual([...t.planeWeight], [1, 2, 4, 8, 16, 32, 64, -128]);
    // Every code of −127…127 is recovered from its phases (hand check of the encoding).
    for (let v = -127; v <= 127; v++) {
      let sum = 0;
      for (let p = 0; p < 8; p++)
        sum += t.planeWeight[p]! * ((v >> t.planes[3 * p + 1]!) & t.planes[3 * p + 2]!);
      assert.equal(sum, v);
    }
    // Unsigned inputs are one pass whatever the signed encoding.
    assert.deepEqual(dacPhases("bit-serial", 8, false, "twos-complement"), u);
  });

  it("gMinDevicesExact leaves every digit-0 device exactly at Gmin and every other device as drawn", () => {
    const pcm = (exact: boolean) =>
      config({
        conductance: { gMin: 0, gMax: 25, cellBits: 4 },
        device: { model: "pcm", programmingNoise: true, drift: true, time: 3600, gMinDevicesExact: exact },
      });
    const { sim } = setup(tiles);
    const l = [...sim.layers.values()].find((x) => x.geom.k === 3 && x.geom.groups === 1)!;
    const layout = individualLayout(l, 64, 4);
    // The ideal devices' levels are the digits themselves.
    const digits = programLayer(
      l,
      layout,
      config({ conductance: { gMin: 0, gMax: 25, cellBits: 4 } }),
      new Rng(1),
    ).g;
    const drawn = programLayer(l, layout, pcm(false), new Rng(7)).g;
    const exact = programLayer(l, layout, pcm(true), new Rng(7)).g;
    let zeros = 0;
    let noisyZeros = 0;
    for (let e = 0; e < digits.length; e++) {
      if (digits[e] === 0) {
        zeros++;
        assert.equal(exact[e], 0);
        if (drawn[e]! > 0) noisyZeros++;
      } else assert.equal(exact[e], drawn[e]);
    }
    // Half the devices are the unused one of a pair; without the switch, about half of those
    // draw a positive conductance (noise clipped at 0 µS).
    assert.ok(zeros >= digits.length / 2, `${zeros} of ${digits.length} devices at digit 0`);
    assert.ok(noisyZeros > 0.4 * zeros && noisyZeros < 0.6 * zeros, `${noisyZeros} of ${zeros}`);
  });

  it("whole network: tiles and the exact path give identical logits; trials are reproducible and differ under noise", () => {
    const { sim, images } = setup(tiles);
    sim.program(1, 0, null, true);
    const a = sim.model.forward(images, { training: false, executor: sim.executor() }).logits.data;
    sim.program(1, 0, null, false);
    const b = sim.model.forward(images, { training: false, executor: sim.executor() }).logits.data;
    assert.deepEqual(a, b);
    const rram = loadPreset("rram");
    const noisy = new CrossbarSimulator(sim.model, rram);
    noisy.calibrate(images);
    const logits = (trial: number) => {
      noisy.program(4, trial, images);
      return noisy.model.forward(images, { training: false, executor: noisy.executor() }).logits.data;
    };
    assert.deepEqual(logits(0), logits(0));
    assert.notDeepEqual(logits(0), logits(1));
  });
});

describe("analog chain", () => {
  const chain = (over: Record<string, unknown>) =>
    parseHardwareConfig(mergeConfig(loadPreset("analog-chain"), over));
  /** A technology whose amplifiers and hold cells add no noise and hold without droop. */
  const quietTech = join(mkdtempSync(join(tmpdir(), "memhyper-quiet-")), "quiet.json");
  writeFileSync(
    quietTech,
    JSON.stringify({
      base: "neurosim-22nm",
      analog: {
        amplifier: { inputNoise: { value: 0, unit: "nV/rtHz", source: "test: a noiseless amplifier" } },
        hold: {
          capacitance: { value: 1e18, unit: "fF", source: "test: kT/C noise far below float32 resolution" },
          leakage: { value: 0, unit: "fA", source: "test: no droop" },
        },
      },
    }),
  );
  const ideal = {
    tech: quietTech,
    device: { model: "ideal", programmingNoise: false, readNoise: false, drift: false },
    analogChain: { calibratedSwing: 0.5, finalAdcBits: null },
  };

  /** The float network with 8-bit weights, the image on 8-bit DAC codes, every other activation exact. */
  function fakeQuantLogits(sim: CrossbarSimulator, images: Tensor): Float32Array {
    const weightOf = (id: number, shape: readonly number[]) => {
      const l = sim.layers.get(id)!;
      const per = l.q.length / l.geom.oc;
      return new Tensor(
        shape,
        Float32Array.from(l.q, (q, i) => q * l.wScale[Math.floor(i / per)]!),
      );
    };
    return sim.model.forward(images, {
      training: false,
      executor: {
        conv: (node, x, reluIn, w, b, out) => {
          const l = sim.layers.get(node.id)!;
          const dac = (v: number) =>
            l.inScale * Math.max(-127, Math.min(127, roundHalfAway(Math.fround(v / l.inScale))));
          const input = l.inputBits === ANALOG_VOLTAGE_BITS ? x : new Tensor(x.shape, x.data.map(dac));
          return ops.conv2d(null, input, weightOf(node.id, w.shape), node, out, reluIn, b);
        },
        linear: (node, x, w, b) => ops.linear(null, x, weightOf(node.id, w.shape), b),
      },
    }).logits.data;
  }

  it("with ideal devices and a quiet, unsaturated TIA equals the float network with 8-bit weights, on tiles and on the exact path", () => {
    const cfg = chain(ideal);
    const { sim, images } = setup(cfg);
    const want = fakeQuantLogits(sim, images);
    const scale = Math.max(...want.map(Math.abs));
    for (const tiles of [false, true]) {
      sim.program(1, 0, null, tiles);
      const got = sim.model.forward(images, { training: false, executor: sim.executor() }).logits.data;
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      // Only the 16-bit stand-in for continuous voltages separates the two.
      assert.ok(worst < 2e-3 * scale, `tiles=${tiles}: max |Δ| ${worst} vs logits up to ${scale}`);
    }
  });

  it("the TIA adds noise of the configured σ, saturates at full scale, and the final ADC has 2^bits levels", () => {
    const n = 4;
    const y = new Float32Array(n * 50000);
    const cfg = { noise: 0.1, saturation: 1.5, finalAdcBits: 6 };
    tiaOutput(y, n, 2, { ...cfg, finalAdcBits: null }, 9, 0, false);
    const mean = y.reduce((a, v) => a + v, 0) / y.length;
    const sd = Math.sqrt(y.reduce((a, v) => a + (v - mean) ** 2, 0) / y.length);
    assert.ok(Math.abs(sd - 0.3) < 0.006, `σ ${sd} (want 0.1 × 1.5 × 2 = 0.3)`);
    assert.ok(Math.abs(mean) < 0.003, `mean ${mean}`);
    // Per-image streams: one image at its offset draws what it drew inside the batch.
    const one = new Float32Array(50000);
    tiaOutput(one, 1, 2, { ...cfg, finalAdcBits: null }, 9, 2, false);
    assert.deepEqual(one, y.subarray(100000, 150000));
    const big = Float32Array.from({ length: 1000 }, (_, i) => (i - 500) * 0.01);
    tiaOutput(big, 1, 2, { ...cfg, noise: 0 }, 9, 0, false);
    assert.ok(
      big.every((v) => Math.abs(v) <= 3) && big[0] === -3 && big[999] === 3,
      "saturation at ±1.5 × 2",
    );
    const adc = Float32Array.from({ length: 1000 }, (_, i) => (i - 500) * 0.01);
    tiaOutput(adc, 1, 2, { ...cfg, noise: 0 }, 9, 0, true);
    const levels = new Set(adc);
    assert.ok(levels.size <= 64 && levels.size > 50, `${levels.size} ADC levels`);
    for (const v of levels)
      assert.ok(Math.abs(v / (3 / 31) - Math.round(v / (3 / 31))) < 1e-4, `${v} on the ADC grid`);
  });

  it("the amplifier's bandwidth moves both the priced latency and the simulated noise", () => {
    const at = (amplifierBandwidth: number) =>
      chain({ ...ideal, tech: "neurosim-22nm", analogChain: { amplifierBandwidth } });
    const [slow, fast] = [at(100), at(1600)];
    // Noise density integrated over π/2·BW: 16× the bandwidth, 4× the σ.
    const ratio = neuronReadout(fast).noise / neuronReadout(slow).noise;
    assert.ok(Math.abs(ratio - 4) < 1e-12, `noise ratio ${ratio}`);
    const net = buildNetwork(resolveArchitecture("PDARTS"), { channels: 4, layers: 3 });
    const latency = (cfg: HardwareConfig) => costNetwork(net, hardwareOf(cfg)).latencyUs;
    assert.ok(latency(fast) < latency(slow), `latency ${latency(fast)} vs ${latency(slow)} µs`);
    // In the simulator: the logits spread about the noiseless chain's grows with the bandwidth.
    const quiet = setup(chain(ideal), 5);
    quiet.sim.program(1, 0, null, true);
    const clean = quiet.model.forward(quiet.images, { training: false, executor: quiet.sim.executor() })
      .logits.data;
    const spread = (cfg: HardwareConfig) => {
      const { sim, model, images } = setup(cfg, 5);
      let s2 = 0;
      for (let trial = 0; trial < 4; trial++) {
        sim.program(1, trial, null, true);
        const y = model.forward(images, { training: false, executor: sim.executor() }).logits.data;
        for (let i = 0; i < y.length; i++) s2 += (y[i]! - clean[i]!) ** 2;
      }
      return Math.sqrt(s2);
    };
    const [a, b] = [spread(slow), spread(fast)];
    assert.ok(a > 0 && b > 2 * a, `logit spread ${a} at 100 MHz, ${b} at 1600 MHz`);
  });

  it("the analog-chain preset: trials are reproducible and differ; its device and amplifier noise add as independent errors", () => {
    // Lossless at the logits, so that the ADC's rounding does not mix the sources' errors.
    const lossless = { analogChain: { finalAdcBits: null } };
    const quietDevices = { device: ideal.device };
    const quiet = setup(chain({ ...lossless, ...quietDevices, tech: quietTech }));
    const { images } = quiet;
    const sims = {
      quiet: quiet.sim,
      devices: setup(chain({ ...lossless, tech: quietTech })).sim,
      amplifiers: setup(chain({ ...lossless, ...quietDevices })).sim,
      all: setup(chain(lossless)).sim,
    };
    const logits = (sim: CrossbarSimulator, trial: number) => {
      sim.program(2, trial, images);
      return sim.model.forward(images, { training: false, executor: sim.executor() }).logits.data;
    };
    const all0 = logits(sims.all, 0);
    assert.deepEqual(logits(sims.all, 0), all0);
    assert.notDeepEqual(logits(sims.all, 1), all0);
    const clean = logits(sims.quiet, 0);
    const rms = (f: (i: number) => number) => {
      let s = 0;
      for (let i = 0; i < clean.length; i++) s += f(i) ** 2;
      return Math.sqrt(s / clean.length);
    };
    // Each source's error against the noiseless chain, on the same draws (the same trial).
    const [d, a, all] = [logits(sims.devices, 0), logits(sims.amplifiers, 0), all0];
    const eDevices = rms((i) => d[i]! - clean[i]!);
    const eAmplifiers = rms((i) => a[i]! - clean[i]!);
    const eAll = rms((i) => all[i]! - clean[i]!);
    // Independent errors add. The ReLUs' kinks mix them: where one source's error moves a
    // pre-activation across zero, the unit passes or blocks the other's. That happens to a
    // share of units about the relative error level r, so the mixed part is about √r times
    // the smaller source's error (smooth second-order terms, r times it, are smaller); twice
    // that allows its spread over draws. A source missing from, or doubled in, the full
    // chain leaves its whole error here instead.
    const interaction = rms((i) => all[i]! - clean[i]! - (d[i]! - clean[i]!) - (a[i]! - clean[i]!));
    const relative = eAll / rms((i) => clean[i]!);
    const bound = 2 * Math.sqrt(relative) * Math.min(eDevices, eAmplifiers);
    assert.ok(eDevices > 0 && eAmplifiers > 0, "both sources are on");
    assert.ok(
      interaction <= bound,
      `interaction ${interaction} > ${bound} (errors: devices ${eDevices}, amplifiers ${eAmplifiers}, all ${eAll})`,
    );
  });
});

describe("simulator configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "memhyper-cfg-"));
  const file = (name: string, body: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, typeof body === "string" ? body : JSON.stringify(body));
    return p;
  };

  it("every preset validates and names the source of each of its numbers", () => {
    for (const name of PRESETS) {
      const cfg = loadPreset(name);
      const missing: string[] = [];
      const walk = (v: unknown, path: string[]) => {
        if (typeof v === "number" && !(path.join(".") in cfg.sources)) missing.push(path.join("."));
        else if (v && typeof v === "object" && path[0] !== "sources")
          for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      };
      walk(cfg, []);
      assert.deepEqual(missing, [], `${name}: numbers without a source`);
    }
  });

  it("every preset changes exactly the fields its file names, each of them differing from the default", () => {
    const base = loadPreset("default");
    const leaves = (o: unknown, path: string[] = []): [string, unknown][] =>
      o && typeof o === "object" && !Array.isArray(o)
        ? Object.entries(o).flatMap(([k, v]) => leaves(v, [...path, k]))
        : [[path.join("."), o]];
    const meta = (k: string) => k === "name" || k === "description" || k.startsWith("sources.");
    const before = new Map(leaves(base));
    for (const name of PRESETS) {
      const named = new Map(leaves(presetOverrides(name)).filter(([k]) => !meta(k)));
      const changed = leaves(loadPreset(name))
        .filter(([k, v]) => !meta(k) && before.get(k) !== v)
        .map(([k]) => k);
      assert.deepEqual(changed.sort(), [...named.keys()].sort(), name);
      for (const [k, v] of named) assert.notEqual(before.get(k), v, `${name}: ${k} repeats the default`);
    }
  });

  it("a config file overrides fields of its base preset", () => {
    const cfg = resolveHardwareConfig("int8", file("over.json", { base: "rram", adc: { bits: 6 } }));
    assert.equal(cfg.adc.bits, 6);
    assert.equal(cfg.adc.range, "calibrated");
    assert.equal(cfg.device.model, "reram");
  });

  it("bad fields are rejected with their path and the fix", () => {
    const cases: [unknown, RegExp][] = [
      [{ adc: { bits: 40 } }, /adc\.bits/],
      [{ device: { model: "flash" } }, /device\.model/],
      [{ conductance: { gMin: 50, gMax: 40 } }, /conductance\.gMax: gMax must exceed gMin/],
      [{ tile: 100.5 }, /tile/],
      [{ dac: { mode: "bit-serial", speed: 3 } }, /dac/],
      [{ base: "nope" }, /unknown preset 'nope'/],
      ["{ not json", /not valid JSON/],
      [{ conductance: { gMax: -1 } }, /conductance\.gMax/],
      ['{ "analogChain": { "amplifierBandwidth": 1e999 } }', /analogChain\.amplifierBandwidth/],
      [{ analogChain: { spatialParallelism: 0 } }, /analogChain\.spatialParallelism/],
      [
        { analogChain: { tiaNoise: 0.01 } },
        /analogChain\.tiaNoise: no longer a setting; it is computed from the amplifier/,
      ],
      [{ tech: "tsmc-3nm" }, /technology file 'tsmc-3nm' not found/],
      [
        { device: { reramReadNoise: 0.01 } },
        /device\.reramReadNoise: no longer a setting; .*device\.params\.readNoise/,
      ],
    ];
    for (const [body, re] of cases) {
      assert.throws(
        () => resolveHardwareConfig("int8", file("bad.json", body)),
        (e: Error) => (e instanceof ConfigError || e.name === "TechError") && re.test(e.message),
        JSON.stringify(body),
      );
    }
    assert.throws(() => resolveHardwareConfig("int8", join(dir, "missing.json")), /not found/);
    assert.throws(
      () => loadPreset("analog"),
      /unknown preset 'analog'; choose one of default, fp32, int8, rram, rram-robust, pcm, analog-chain$/,
    );
  });
});
