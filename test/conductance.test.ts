import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { conductancesToWeights, levelStep, slices, weightsToConductances } from "../src/xbar/conductance.js";

describe("weight → conductance mapping", () => {
  for (const cellBits of [1, 2, 3, 4, 7]) {
    it(`round-trips every 8-bit weight with ${cellBits}-bit cells, within [Gmin, Gmax]`, () => {
      const m = { gMin: 0.5, gMax: 25, cellBits, weightBits: 8 };
      const q = Int32Array.from({ length: 255 }, (_, i) => i - 127);
      const p = weightsToConductances(q, m);
      assert.equal(p.gPos.length, slices(m));
      assert.equal(slices(m), Math.ceil(7 / cellBits));
      assert.deepEqual(conductancesToWeights(p, m), q);
      for (const arr of [...p.gPos, ...p.gNeg])
        for (const g of arr) assert.ok(g >= 0.5 - 1e-6 && g <= 25 + 1e-5);
    });
  }

  it("puts a digit on one device of the pair and Gmin on the other", () => {
    const m = { gMin: 1, gMax: 16, cellBits: 4, weightBits: 8 }; // step 1 µS, slices of 4 bits
    const p = weightsToConductances(Int32Array.of(37, -37), m); // 37 = 2·16 + 5
    assert.equal(levelStep(m), 1);
    assert.deepEqual([p.gPos[0]![0], p.gPos[1]![0], p.gNeg[0]![0], p.gNeg[1]![0]], [6, 3, 1, 1]);
    assert.deepEqual([p.gNeg[0]![1], p.gNeg[1]![1], p.gPos[0]![1], p.gPos[1]![1]], [6, 3, 1, 1]);
  });

  it("rejects out-of-range codes and bad ranges", () => {
    assert.throws(
      () => weightsToConductances(Int32Array.of(128), { gMin: 0, gMax: 1, cellBits: 4, weightBits: 8 }),
      /exceeds ±127/,
    );
    assert.throws(
      () => weightsToConductances(Int32Array.of(1), { gMin: 2, gMax: 1, cellBits: 4, weightBits: 8 }),
      /0 ≤ gMin < gMax/,
    );
  });
});
