import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Tensor } from "../src/engine/tensor.js";
import {
  type HardwareConfig,
  hardwareOf,
  loadPreset,
  mergeConfig,
  parseHardwareConfig,
} from "../src/hw/config.js";
import { costNetwork } from "../src/hw/cost.js";
import type { ConvNode, LinearNode } from "../src/ir/graph.js";
import { Rng } from "../src/util/rng.js";
import { fitChannelCorrection } from "../src/xbar/channel-calibration.js";
import type { ProgrammedLayer } from "../src/xbar/program.js";
import { CrossbarSimulator } from "../src/xbar/simulator.js";
import { randomTensor } from "./helpers.js";
import { integerReference, smallModel } from "./xbar-fixtures.js";

function config(base: string, over: Record<string, unknown>): HardwareConfig {
  return parseHardwareConfig(mergeConfig(loadPreset(base), over));
}

describe("per-channel gain and offset calibration", () => {
  it("fits a hand-computed case per channel, in the [n, channels, positions] layout", () => {
    // Channel 0: actual 1..4 against ideal 2·a + 1; channel 1: actual constant 5 against ideal 6..9.
    const actual = Float32Array.of(1, 2, 5, 5, 3, 4, 5, 5);
    const ideal = Float32Array.of(3, 5, 6, 7, 7, 9, 8, 9);
    const both = fitChannelCorrection(actual, ideal, 2, 2, 2, "gain-offset");
    assert.deepEqual([...both.gain], [2, 1]);
    assert.deepEqual([...both.offset], [1, 7.5 - 5]);
    const offset = fitChannelCorrection(actual, ideal, 2, 2, 2, "offset");
    assert.deepEqual([...offset.gain], [1, 1]);
    assert.deepEqual([...offset.offset], [6 - 2.5, 7.5 - 5]);
  });

  it("changes nothing, bit for bit, on ideal devices with a lossless ADC", () => {
    const images = randomTensor([8, 3, 32, 32], new Rng(4));
    const logits = (mode: string) => {
      const sim = new CrossbarSimulator(smallModel(3), config("int8", { channelCalibration: { mode } }));
      sim.calibrate(images);
      sim.program(0, 0, images);
      return sim.model.forward(images, { training: false, executor: sim.executor() }).logits.data;
    };
    assert.deepEqual(logits("gain-offset"), logits("none"));
  });

  it("leaves every layer's outputs on the programmed chip with zero mean error and no error along the output, against the int8 reference", () => {
    // Programming noise, no read noise, the exact path (its ADC rounds deterministically): a rerun
    // on the calibration images reads exactly what the fit saw.
    const cfg = (mode: string) =>
      config("rram", {
        device: { readNoise: false },
        simulator: { path: "exact" },
        channelCalibration: { mode, images: 8 },
      });
    const images = randomTensor([8, 3, 32, 32], new Rng(5));
    const residuals = (mode: string) => {
      const sim = new CrossbarSimulator(smallModel(3), cfg(mode));
      sim.calibrate(images);
      sim.program(1, 0, images);
      const worst: { mean: number; along: number; tolerance: number; layer: string }[] = [];
      const exec = sim.executor(undefined, (node: ConvNode | LinearNode, p: ProgrammedLayer, input, y, n) => {
        const ref = integerReference(p.layer, input, n);
        const g = p.layer.geom;
        const P = g.oh * g.ow;
        let mean = 0;
        let along = 0;
        let tolerance = 0;
        for (let c = 0; c < g.oc; c++) {
          let sy = 0;
          let sr = 0;
          let big = 0;
          for (let b = 0; b < n; b++)
            for (let q = 0; q < P; q++) {
              const i = (b * g.oc + c) * P + q;
              sy += y[i]!;
              sr += ref[i]! - y[i]!;
              big = Math.max(big, Math.abs(y[i]!), Math.abs(ref[i]!));
            }
          const m = n * P;
          let cov = 0;
          let vy = 0;
          for (let b = 0; b < n; b++)
            for (let q = 0; q < P; q++) {
              const i = (b * g.oc + c) * P + q;
              cov += (y[i]! - sy / m) * (ref[i]! - y[i]! - sr / m);
              vy += (y[i]! - sy / m) ** 2;
            }
          // Error model: each output is rounded to float32 once after the fit (half an ulp of the
          // largest value), and the reference's own float32 rounding adds as much.
          const ulp = big * 2 ** -23;
          mean = Math.max(mean, Math.abs(sr / m));
          along = Math.max(along, Math.abs(cov) / Math.sqrt(vy * m + 1e-30));
          tolerance = Math.max(tolerance, ulp);
        }
        worst.push({ mean, along, tolerance, layer: node.scope.path });
      });
      sim.model.forward(new Tensor(images.shape, images.data), { training: false, executor: exec });
      return worst;
    };
    const calibrated = residuals("gain-offset");
    assert.ok(calibrated.length > 20);
    for (const w of calibrated) {
      assert.ok(w.mean <= w.tolerance, `${w.layer}: mean error ${w.mean} > ${w.tolerance}`);
      assert.ok(w.along <= w.tolerance, `${w.layer}: error along the output ${w.along} > ${w.tolerance}`);
    }
    // Negative control: without calibration the programmed chip's channels carry a mean error.
    const raw = residuals("none");
    assert.ok(raw.some((w) => w.mean > 100 * w.tolerance));
  });

  it("adds no circuit: hw report prices the same chip with and without it", () => {
    const net = smallModel(3).net;
    const price = (mode: string) =>
      costNetwork(net, hardwareOf(config("rram", { channelCalibration: { mode } })));
    const a = price("none");
    const b = price("gain-offset");
    assert.equal(b.areaMm2, a.areaMm2);
    assert.equal(b.energyUj, a.energyUj);
    assert.equal(b.latencyUs, a.latencyUs);
  });

  it("is refused on the parallel analog platform, which has no digital registers per channel", () => {
    assert.throws(
      () => config("analog-chain", { channelCalibration: { mode: "offset" } }),
      /channelCalibration\.mode.*no digital scale and offset/s,
    );
  });
});
