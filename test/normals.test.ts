import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nativeKernels, tsKernels } from "../src/engine/kernels/index.js";
import { fillNormals, NORMAL_LANES } from "../src/util/normals.js";
import { Rng } from "../src/util/rng.js";
import { requiredNative } from "./helpers.js";

const native = requiredNative(nativeKernels());

describe("read-noise normals", () => {
  it("lane 0 is the xoshiro128** stream of new Rng(seed): pairs 0, 8, 16 by hand", () => {
    const z = new Float64Array(2 * 3 * NORMAL_LANES);
    fillNormals(1234, z);
    const rng = new Rng(1234);
    for (let block = 0; block < 3; block++) {
      const u1 = ((rng.nextU32() >>> 8) | 1) / 2 ** 24;
      const u2 = (rng.nextU32() >>> 8) / 2 ** 24;
      const r = Math.sqrt(-2 * Math.log(u1));
      const k = block * NORMAL_LANES;
      assert.equal(z[2 * k], r * Math.cos(2 * Math.PI * u2));
      assert.equal(z[2 * k + 1], r * Math.sin(2 * Math.PI * u2));
    }
  });

  it("are standard normal (mean, variance, tails, no correlation between neighbours)", () => {
    const n = 200_000;
    const z = new Float64Array(n);
    fillNormals(7, z);
    let [m, v, c, tail] = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      m += z[i]!;
      v += z[i]! * z[i]!;
      if (i > 0) c += z[i]! * z[i - 1]!;
      if (Math.abs(z[i]!) > 1.959964) tail++;
    }
    // Bounds at about 5 standard errors.
    assert.ok(Math.abs(m / n) < 5 / Math.sqrt(n), `mean ${m / n}`);
    assert.ok(Math.abs(v / n - 1) < 5 * Math.sqrt(2 / n), `variance ${v / n}`);
    assert.ok(Math.abs(c / n) < 5 / Math.sqrt(n), `lag-1 correlation ${c / n}`);
    assert.ok(Math.abs(tail / n - 0.05) < 5 * Math.sqrt((0.05 * 0.95) / n), `two-sided 5% tail ${tail / n}`);
  });

  it("a prefix of a longer stream is the shorter stream; another seed is another stream", () => {
    const [a, b, c] = [new Float64Array(37), new Float64Array(100), new Float64Array(37)];
    fillNormals(5, a);
    fillNormals(5, b);
    fillNormals(6, c);
    assert.deepEqual(a, b.subarray(0, 37));
    assert.notDeepEqual(a, c);
  });

  it("native kernel draws the same numbers (float32 Box–Muller within 2e-6)", { skip: !native }, () => {
    for (const count of [1, 15, 16, 17, 1000]) {
      const [a, b] = [new Float32Array(count), new Float32Array(count)];
      native!.fillNormals(99 + count, a);
      tsKernels.fillNormals(99 + count, b);
      for (let i = 0; i < count; i++)
        assert.ok(
          Math.abs(a[i]! - b[i]!) <= 2e-6 * (1 + Math.abs(b[i]!)),
          `${count}: ${i}: ${a[i]} vs ${b[i]}`,
        );
    }
  });
});
