import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Rng } from "../src/util/rng.js";
import { calibrate, quantizeActivations, quantizeWeights, roundHalfAway } from "../src/xbar/quantize.js";

describe("quantization", () => {
  it("rounds half away from zero", () => {
    assert.deepEqual(
      [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.49].map(roundHalfAway),
      [-3, -2, -1, 1, 2, 3, 0, -0],
    );
  });

  it("quantizes weights per output channel, symmetric, with the channel max on the top code", () => {
    const w = new Float32Array([0.5, -1, 0.25, 0.11, 0.2, -0.05]);
    const { q, scale } = quantizeWeights(w, 2, 8);
    assert.ok(Math.abs(scale[0]! - 1 / 127) < 1e-9);
    assert.ok(Math.abs(scale[1]! - 0.2 / 127) < 1e-9);
    assert.deepEqual([...q], [64, -127, 32, 70, 127, -32]); // 0.5·127 = 63.5 → 64; 0.25·127 = 31.75 → 32; 0.11/0.2·127 = 69.85 → 70
    const rng = new Rng(1);
    const big = Float32Array.from({ length: 64 * 72 }, () => rng.normal());
    const r = quantizeWeights(big, 64, 8);
    for (let i = 0; i < big.length; i++) {
      const s = r.scale[Math.floor(i / 72)]!;
      assert.ok(Math.abs(r.q[i]! * s - big[i]!) <= s / 2 + 1e-7, "error at most half a step");
    }
  });

  it("quantizes unsigned and signed activations with clipping", () => {
    const x = new Float32Array([-1, 0, 0.3, 1, 5]);
    assert.deepEqual(
      [...quantizeActivations(x, { scale: 0.01, bits: 8, signed: false })],
      [0, 0, 30, 100, 255],
    );
    assert.deepEqual(
      [...quantizeActivations(x, { scale: 0.01, bits: 8, signed: true })],
      [-100, 0, 30, 100, 127],
    );
  });

  it("calibrates by max and by percentile", () => {
    const xs = Float32Array.from({ length: 1000 }, (_, i) => i + 1); // 1..1000
    assert.equal(calibrate(xs, 8, false, { kind: "max" }).scale, 1000 / 255);
    assert.equal(calibrate(xs, 8, false, { kind: "percentile", percentile: 99 }).scale, 990 / 255);
    assert.equal(calibrate(xs, 8, true, { kind: "max" }).scale, 1000 / 127);
    assert.throws(
      () => calibrate(xs, 8, false, { kind: "percentile", percentile: 0 }),
      /percentile must be in \(0, 100\]/,
    );
  });
});
