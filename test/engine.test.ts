import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Arena, BufferPool, withArena } from "../src/engine/arena.js";
import { kernels, nativeKernels, tsKernels } from "../src/engine/kernels/index.js";
import type { Kernels } from "../src/engine/kernels/types.js";
import { type MatmulExecutor, Model } from "../src/engine/model.js";
import * as ops from "../src/engine/ops.js";
import { Tape } from "../src/engine/tape.js";
import { Tensor } from "../src/engine/tensor.js";
import { buildNetwork } from "../src/ir/network.js";
import { architectureFromConfiguration, resolveArchitecture } from "../src/space/architecture.js";
import { sampleConfiguration } from "../src/space/sample.js";
import { Rng } from "../src/util/rng.js";
import { assertClose, gradCheck, randomTensor, requiredNative, withKernels } from "./helpers.js";

const native = requiredNative(nativeKernels());

function awayFromZero(t: Tensor, margin = 0.05): Tensor {
  for (let i = 0; i < t.size; i++)
    if (Math.abs(t.data[i]!) < margin) t.data[i] = t.data[i]! < 0 ? -margin : margin;
  return t;
}
const backends: Kernels[] = native ? [tsKernels, native] : [tsKernels];

const convCases = [
  {
    name: "dense 3×3 pad 1",
    x: [2, 3, 5, 6],
    w: [4, 3, 3, 3],
    a: { stride: 1, pad: 1, dilation: 1, groups: 1 },
  },
  {
    name: "dense 3×3 stride 2, odd size",
    x: [2, 2, 7, 5],
    w: [3, 2, 3, 3],
    a: { stride: 2, pad: 1, dilation: 1, groups: 1 },
  },
  { name: "1×1", x: [2, 4, 4, 4], w: [3, 4, 1, 1], a: { stride: 1, pad: 0, dilation: 1, groups: 1 } },
  {
    name: "1×1 stride 2",
    x: [2, 4, 5, 5],
    w: [2, 4, 1, 1],
    a: { stride: 2, pad: 0, dilation: 1, groups: 1 },
  },
  {
    name: "depthwise 3×3",
    x: [2, 3, 6, 5],
    w: [3, 1, 3, 3],
    a: { stride: 1, pad: 1, dilation: 1, groups: 3 },
  },
  {
    name: "depthwise 5×5 stride 2",
    x: [2, 3, 7, 7],
    w: [3, 1, 5, 5],
    a: { stride: 2, pad: 2, dilation: 1, groups: 3 },
  },
  {
    name: "depthwise 3×3 dilated 2",
    x: [2, 2, 7, 6],
    w: [2, 1, 3, 3],
    a: { stride: 1, pad: 2, dilation: 2, groups: 2 },
  },
  {
    name: "depthwise 5×5 dilated 2 stride 2",
    x: [1, 2, 9, 9],
    w: [2, 1, 5, 5],
    a: { stride: 2, pad: 4, dilation: 2, groups: 2 },
  },
  {
    name: "grouped (2 groups)",
    x: [2, 4, 5, 5],
    w: [6, 2, 3, 3],
    a: { stride: 1, pad: 1, dilation: 1, groups: 2 },
  },
  {
    name: "2×2 no padding (auxiliary head)",
    x: [2, 3, 2, 2],
    w: [4, 3, 2, 2],
    a: { stride: 1, pad: 0, dilation: 1, groups: 1 },
  },
];

for (const k of backends) {
  describe(`gradients by finite differences (${k.name} kernels)`, () => {
    const rng = new Rng(42);
    for (const c of convCases) {
      it(`conv2d ${c.name}`, () =>
        withKernels(k, () =>
          gradCheck(
            (t, [x, w]) => ops.conv2d(t, x!, w!, c.a),
            [randomTensor(c.x, rng, true), randomTensor(c.w, rng, true)],
            rng,
          ),
        ));
    }
    for (const c of [convCases[0]!, convCases[2]!, convCases[5]!, convCases[6]!, convCases[9]!]) {
      it(`conv2d ${c.name} with fused input ReLU`, () =>
        withKernels(k, () =>
          gradCheck(
            (t, [x, w]) => ops.conv2d(t, x!, w!, c.a, undefined, true),
            // inputs kept away from ReLU's kink, where finite differences are meaningless
            [awayFromZero(randomTensor(c.x, rng, true)), randomTensor(c.w, rng, true)],
            rng,
            { eps: 1e-3 },
          ),
        ));
    }
    it("one weight used twice (its gradient buffer is reused across steps, so the second use must add)", () =>
      withKernels(k, () => {
        const w = randomTensor([3, 2, 3, 3], rng, true);
        const a = { stride: 1, pad: 1, dilation: 1, groups: 1 };
        const f = (t: Tape | null, [x1, x2, wt]: Tensor[]) =>
          ops.add(t, [ops.conv2d(t, x1!, wt!, a), ops.conv2d(t, x2!, wt!, a, undefined, true)]);
        const inputs = [
          randomTensor([2, 2, 4, 4], rng, true),
          awayFromZero(randomTensor([2, 2, 4, 4], rng, true)),
          w,
        ];
        // Twice: the second check runs on the buffers the first left behind.
        for (let round = 0; round < 2; round++) gradCheck(f, inputs, rng, { eps: 1e-3 });
      }));
    it("drop-path factors inside add", () =>
      withKernels(k, () => {
        const s = new Float32Array([0, 2]);
        gradCheck(
          (t, [a, b]) => ops.add(t, [a!, b!], undefined, [s, null]),
          [randomTensor([2, 3, 2, 2], rng, true), randomTensor([2, 3, 2, 2], rng, true)],
          rng,
        );
      }));
    for (const [kind, kk, s, p, shape] of [
      ["max", 3, 1, 1, [2, 2, 5, 6]],
      ["max", 3, 2, 1, [2, 2, 7, 7]],
      ["avg", 3, 1, 1, [2, 2, 5, 6]],
      ["avg", 3, 2, 1, [2, 2, 7, 5]],
      ["avg", 5, 3, 0, [2, 2, 8, 8]],
    ] as const) {
      it(`${kind} pool ${kk}×${kk} stride ${s} pad ${p} on ${shape.slice(2).join("×")}`, () =>
        withKernels(k, () =>
          gradCheck(
            (t, [x]) => ops.pool2d(t, kind, x!, kk, s, p),
            [randomTensor([...shape], rng, true)],
            rng,
            { eps: 1e-3 },
          ),
        ));
    }
    for (const { what, training, mean, variance } of [
      { what: "training statistics", training: true, mean: [0, 0, 0], variance: [1, 1, 1] },
      {
        what: "running statistics, as frozen in fine-tuning",
        training: false,
        mean: [0.3, -0.2, 0.1],
        variance: [0.5, 2, 1.5],
      },
    ])
      it(`batch norm (${what})`, () =>
        withKernels(k, () => {
          const gamma = randomTensor([3], rng, true);
          const beta = randomTensor([3], rng, true);
          const bn = {
            weight: gamma,
            bias: beta,
            runningMean: Float32Array.from(mean),
            runningVar: Float32Array.from(variance),
          };
          gradCheck(
            (t, [x]) => ops.batchNorm(t, x!, bn, training),
            [randomTensor([4, 3, 3, 2], rng, true), gamma, beta],
            rng,
            { eps: 1e-3 },
          );
          if (!training) assert.deepEqual([...bn.runningMean], mean.map(Math.fround), "statistics stay");
        }));
    it("relu, add, concat, shift, global pool, linear, cross-entropy", () =>
      withKernels(k, () => {
        const shape = [2, 3, 5, 5];
        gradCheck((t, [a]) => ops.relu(t, a!), [randomTensor(shape, rng, true)], rng, { eps: 1e-3 });
        gradCheck(
          (t, [a, b]) => ops.add(t, [a!, b!, a!]),
          [randomTensor(shape, rng, true), randomTensor(shape, rng, true)],
          rng,
        );
        gradCheck(
          (t, [a, b]) => ops.concat(t, [a!, b!]),
          [randomTensor(shape, rng, true), randomTensor([2, 2, 5, 5], rng, true)],
          rng,
        );
        gradCheck((t, [a]) => ops.shift(t, a!), [randomTensor(shape, rng, true)], rng);
        gradCheck((t, [a]) => ops.globalAvgPool(t, a!), [randomTensor(shape, rng, true)], rng);
        gradCheck(
          (t, [a, w, b]) => ops.linear(t, a!, w!, b!),
          [randomTensor([3, 4], rng, true), randomTensor([5, 4], rng, true), randomTensor([5], rng, true)],
          rng,
        );
        gradCheck(
          (t, [a]) => ops.crossEntropy(t, a!, [1, 4, 0], 0.7),
          [randomTensor([3, 5], rng, true)],
          rng,
          { eps: 1e-3 },
        );
      }));
    it("drop-path", () =>
      withKernels(k, () => {
        const x = randomTensor([6, 2, 3, 3], rng, true);
        gradCheck((t, [a]) => ops.dropPath(t, a!, 0.5, new Rng(3)), [x], rng);
        const y = ops.dropPath(null, x, 0.5, new Rng(3));
        const per = 18;
        for (let i = 0; i < 6; i++) {
          const s = y.data[i * per]! / x.data[i * per]!;
          assert.ok(
            Math.abs(s) < 1e-6 || Math.abs(s - 2) < 1e-5,
            "each sample is dropped or scaled by 1/(1-p)",
          );
        }
      }));
  });
}

describe("native and TypeScript kernels agree", { skip: native ? false : "native kernels not built" }, () => {
  const rng = new Rng(9);
  /**
   * Forward and backward of one convolution on both backends; dW starts from `dw0` (it
   * accumulates). `withoutDx` also checks dW alone, as for a network's first layer.
   */
  /**
   * A kernel asked to add its input gradient into the one dx holds must give, bit for bit,
   * that gradient plus the one it writes alone (`alone`, per backend): the tape's separate
   * addition, which it replaces.
   */
  const agreeOnAddedGrad = (
    aloneN: Float32Array,
    aloneT: Float32Array,
    run: (dx: Float32Array, k: Kernels) => void,
  ) => {
    const start = randomTensor([aloneN.length], rng).data;
    for (const [k, alone] of [
      [native!, aloneN],
      [tsKernels, aloneT],
    ] as const) {
      const dx = start.slice();
      run(dx, k);
      const want = start.map((v, i) => v + alone[i]!);
      const bad = dx.findIndex((v, i) => !Object.is(v, want[i]));
      assert.equal(
        bad,
        -1,
        `added gradient at ${bad}: ${dx[bad]} vs ${want[bad]} (${k === native ? "native" : "ts"})`,
      );
    }
  };
  const agreeOnConv = (
    x: Tensor,
    w: Tensor,
    a: ops.ConvAttrs,
    reluIn: boolean,
    dw0 = new Float32Array(w.size),
    withoutDx = false,
  ) => {
    const g = ops.convGeom(x, w, a);
    const [yT, yN] = [new Float32Array(g.n * g.oc * g.oh * g.ow), new Float32Array(g.n * g.oc * g.oh * g.ow)];
    tsKernels.convForward(g, x.data, w.data, yT, reluIn);
    native!.convForward(g, x.data, w.data, yN, reluIn);
    assertClose(yN, yT, 1e-4, 1e-5, `forward ${JSON.stringify(g)}`);
    const dy = randomTensor([yT.length], rng).data;
    const [dxT, dxN] = [new Float32Array(x.size), new Float32Array(x.size)];
    const [dwT, dwN] = [dw0.slice(), dw0.slice()];
    tsKernels.convBackward(g, x.data, w.data, dy, dxT, dwT, reluIn);
    native!.convBackward(g, x.data, w.data, dy, dxN, dwN, reluIn);
    assertClose(dxN, dxT, 1e-4, 1e-4, `dx ${JSON.stringify(g)}`);
    assertClose(dwN, dwT, 1e-4, 1e-4, `dw ${JSON.stringify(g)}`);
    agreeOnAddedGrad(dxN, dxT, (dx, k) =>
      k.convBackward(g, x.data, w.data, dy, dx, dw0.slice(), reluIn, true),
    );
    if (!withoutDx) return;
    const [dwOnlyT, dwOnlyN] = [dw0.slice(), dw0.slice()];
    tsKernels.convBackward(g, x.data, w.data, dy, null, dwOnlyT, reluIn);
    native!.convBackward(g, x.data, w.data, dy, null, dwOnlyN, reluIn);
    assertClose(dwOnlyN, dwOnlyT, 1e-4, 1e-4, `dw only ${JSON.stringify(g)}`);
  };
  it("on random conv shapes, forward and backward", () => {
    for (let trial = 0; trial < 30; trial++) {
      const depthwise = trial % 3 === 0;
      const c = 1 + rng.int(6);
      const k = [1, 2, 3, 5][rng.int(4)]!;
      const dilation = depthwise ? 1 + rng.int(2) : 1;
      const groups = depthwise ? c : 1;
      const oc = depthwise ? c : 1 + rng.int(6);
      const a = { stride: 1 + rng.int(2), pad: rng.int(3), dilation, groups };
      const h = dilation * (k - 1) + 1 + rng.int(8);
      const x = randomTensor([1 + rng.int(3), c, h, h + rng.int(3)], rng, true);
      const w = randomTensor([oc, c / groups, k, k], rng, true);
      agreeOnConv(x, w, a, trial % 2 === 1);
    }
  });
  it("forward with a per-channel bias (batch norm folded in) on the GEMM paths: 1×1 on 32×32 and 8×8 maps, column tails, 3×3", () => {
    // 32×32: the small-k GEMM packs its input; 9×9: 81 columns, not a whole number of tiles.
    for (const [n, c, oc, h, k, pad, reluIn] of [
      [3, 16, 16, 32, 1, 0, true],
      [2, 8, 13, 8, 1, 0, false],
      [2, 5, 7, 9, 1, 0, true],
      [2, 3, 6, 10, 3, 1, false],
    ] as const) {
      const x = randomTensor([n, c, h, h], rng);
      const w = randomTensor([oc, c, k, k], rng);
      const bias = randomTensor([oc], rng).data;
      const g = ops.convGeom(x, w, { stride: 1, pad, dilation: 1, groups: 1 });
      const size = n * oc * g.oh * g.ow;
      const [yT, yN] = [new Float32Array(size), new Float32Array(size)];
      tsKernels.convForward(g, x.data, w.data, yT, reluIn, bias);
      native!.convForward(g, x.data, w.data, yN, reluIn, bias);
      assertClose(yN, yT, 1e-4, 1e-5, `forward with bias ${JSON.stringify(g)}`);
      // Zero weights leave exactly the bias in every output of its channel.
      const y0 = new Float32Array(size).fill(Number.NaN);
      native!.convForward(g, x.data, new Float32Array(w.size), y0, reluIn, bias);
      const plane = g.oh * g.ow;
      const bad = y0.findIndex((v, i) => v !== bias[Math.floor(i / plane) % oc]);
      assert.equal(bad, -1, `zero weights: output ${bad} is ${y0[bad]}`);
    }
  });
  it("on whole-input convolutions (one output per image: the batched-GEMM path), with and without ReLU", () => {
    // More images and channels than the kernel's fixed parts, so every part boundary is crossed.
    for (const [n, c, k, oc, reluIn] of [
      [19, 5, 2, 11, true],
      [3, 2, 3, 20, false],
      [1, 1, 1, 1, true],
    ] as [number, number, number, number, boolean][]) {
      const x = randomTensor([n, c, k, k], rng, true);
      const w = randomTensor([oc, c, k, k], rng, true);
      agreeOnConv(x, w, { stride: 1, pad: 0, dilation: 1, groups: 1 }, reluIn, Float32Array.from(w.data));
    }
  });
  it("on depthwise convolutions whose images span several stacks (the last one partial)", () => {
    // 4,096 floats per stack: 14 padded 17×17 planes, 40 of 10×10, 2 of 39×39.
    for (const [n, h, k, stride, pad, dilation] of [
      [40, 15, 3, 1, 1, 1],
      [90, 8, 3, 2, 1, 1],
      [7, 35, 5, 1, 2, 1],
      [30, 13, 3, 1, 2, 2],
    ] as [number, number, number, number, number, number][]) {
      const c = 3;
      const a = { stride, pad, dilation, groups: c };
      const x = randomTensor([n, c, h, h], rng, true);
      const w = randomTensor([c, 1, k, k], rng, true);
      agreeOnConv(x, w, a, true);
    }
  });
  it("on depthwise planes half a register to four wide with same padding (the row kernels), stride 1 and 2, rows not a multiple of 4", () => {
    // Widths 8, 16, 32 and 64 cover half, one, two and four registers of 8 (AVX2) or 16
    // (AVX-512) lanes; 34 and 12 stay on the grid kernels. Heights 18, 7 and 9 leave partial
    // bands of rows (of 4, or 2 at four registers; odd ones keep stride 2 on the grid).
    for (const [w, h] of [
      [8, 7],
      [8, 10],
      [16, 18],
      [32, 32],
      [32, 9],
      [64, 6],
      [34, 7],
      [12, 12],
    ] as const) {
      for (const [k, dilation] of [
        [3, 1],
        [3, 2],
        [5, 1],
        [5, 2],
      ] as const) {
        const c = 2;
        const x = randomTensor([3, c, h, w], rng, true);
        const wt = randomTensor([c, 1, k, k], rng, true);
        for (const stride of [1, 2]) {
          const a = { stride, pad: (dilation * (k - 1)) / 2, dilation, groups: c };
          for (const reluIn of [true, false]) agreeOnConv(x, wt, a, reluIn);
        }
      }
    }
  });
  it("on 1×1 convolutions of whole batches (every fixed batch part, some unequal), with and without dX", () => {
    for (const [n, h, c, oc, reluIn] of [
      [56, 20, 3, 5, true],
      [21, 32, 2, 3, false],
      [96, 8, 7, 4, true],
    ] as [number, number, number, number, boolean][]) {
      const x = randomTensor([n, c, h, h], rng, true);
      const w = randomTensor([oc, c, 1, 1], rng, true);
      agreeOnConv(
        x,
        w,
        { stride: 1, pad: 0, dilation: 1, groups: 1 },
        reluIn,
        Float32Array.from(w.data),
        true,
      );
    }
  });
  it("on SGD steps, bit for bit (first step, momentum, Nesterov, weight decay)", () => {
    const n = 50_000;
    const [w0, g, buf0] = [0, 1, 2].map(() => randomTensor([n], rng).data) as [
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    for (const [nesterov, first] of [
      [false, true],
      [false, false],
      [true, false],
      [true, true],
    ] as const) {
      const [wT, wN, bT, bN] = [w0.slice(), w0.slice(), buf0.slice(), buf0.slice()];
      tsKernels.sgdStep(wT, g, bT, 0.025, 0.9, 3e-4, nesterov, first);
      native!.sgdStep(wN, g, bN, 0.025, 0.9, 3e-4, nesterov, first);
      assert.deepEqual(bN, bT, `momentum buffer, nesterov ${nesterov}, first ${first}`);
      assert.deepEqual(wN, wT, `weights, nesterov ${nesterov}, first ${first}`);
      assert.notDeepEqual(wN, w0, "the step moves the weights");
    }
  });
  it("on per-row scales in double (batch norm folding), bit for bit", () => {
    const x = randomTensor([3, 1000], rng).data;
    // Scales that are not float32 values: rounding the scale first would change the bits.
    const scales = Float64Array.from([1 / 3, Math.SQRT2, -0.7]);
    const [yT, yN] = [new Float32Array(3000), new Float32Array(3000)];
    tsKernels.scaleRows(scales, x, yT);
    native!.scaleRows(scales, x, yN);
    assert.deepEqual(yN, yT);
    assert.equal(yN[1500], Math.fround(Math.SQRT2 * x[1500]!), "row 1 by hand");
  });
  it("on a convolution that adds a term as it stores its output, bit for bit with the separate sum", () => {
    // Every forward path: small-k 1×1, 1×1 on long rows (packed, with a column tail), beyond
    // the small-k limits (BLAS), without a bias, depthwise, dense 3×3.
    const cases: [number[], number[], ops.ConvAttrs, boolean][] = [
      [[2, 16, 8, 8], [24, 16, 1, 1], { stride: 1, pad: 0, dilation: 1, groups: 1 }, true],
      [[2, 8, 23, 23], [12, 8, 1, 1], { stride: 1, pad: 0, dilation: 1, groups: 1 }, true],
      [[2, 16, 6, 6], [300, 16, 1, 1], { stride: 1, pad: 0, dilation: 1, groups: 1 }, true],
      [[2, 16, 8, 8], [24, 16, 1, 1], { stride: 1, pad: 0, dilation: 1, groups: 1 }, false],
      [[2, 8, 9, 9], [8, 1, 3, 3], { stride: 1, pad: 1, dilation: 1, groups: 8 }, true],
      [[2, 3, 7, 7], [5, 3, 3, 3], { stride: 1, pad: 1, dilation: 1, groups: 1 }, true],
    ];
    for (const [xs, ws, a, withBias] of cases) {
      const x = randomTensor(xs, rng);
      const w = randomTensor(ws, rng);
      const g = ops.convGeom(x, w, a);
      const size = g.n * g.oc * g.oh * g.ow;
      const add = randomTensor([size], rng).data;
      const bias = withBias ? randomTensor([g.oc], rng).data : null;
      const outputs = [tsKernels, native!].map((k) => {
        const [fused, separate] = [new Float32Array(size), new Float32Array(size)];
        k.convForward(g, x.data, w.data, fused, true, bias, add);
        k.convForward(g, x.data, w.data, separate, true, bias);
        const summed = new Float32Array(size);
        k.sum2(1, separate, null, add, null, summed);
        assert.deepEqual(fused, summed, `${k.name} ${xs} → ${ws}`);
        return fused;
      });
      assertClose(outputs[1]!, outputs[0]!, 1e-5, 1e-5, `native against ts, ${xs} → ${ws}`);
    }
  });
  it("on a 1×1 convolution of a concatenation read in place, bit for bit with the copy", () => {
    // Three parts of 5, 3 and 8 channels, 6×7 maps, 3 images; 20 output channels.
    const parts = [5, 3, 8].map((c) => randomTensor([3, c, 6, 7], rng));
    const w = randomTensor([20, 16, 1, 1], rng);
    const bias = randomTensor([20], rng).data;
    const whole = ops.concat(null, parts);
    const g = ops.convGeom(whole, w, { stride: 1, pad: 0, dilation: 1, groups: 1 });
    const data = parts.map((p) => p.data);
    for (const reluIn of [false, true])
      for (const add of [null, randomTensor([3 * 20 * 42], rng).data])
        for (const k of [tsKernels, native!]) {
          const [inPlace, copied] = [new Float32Array(3 * 20 * 42), new Float32Array(3 * 20 * 42)];
          k.convForwardConcat(g, data, w.data, inPlace, reluIn, bias, add);
          k.convForward(g, whole.data, w.data, copied, reluIn, bias, add);
          assert.deepEqual(inPlace, copied, `${k.name}, reluIn ${reluIn}, term added ${add !== null}`);
        }
  });
  it("on global average pooling, bit for bit", () => {
    // 700 planes of 49 (odd, and enough planes to run on several threads).
    const x = randomTensor([10, 70, 7, 7], rng).data;
    const [yT, yN] = [new Float32Array(700), new Float32Array(700)];
    tsKernels.globalAvgPool(x, yT);
    native!.globalAvgPool(x, yN);
    assert.deepEqual(yN, yT);
    let s = 0;
    for (let j = 49 * 321; j < 49 * 322; j++) s += x[j]!;
    assert.equal(yN[321], Math.fround(s / 49), "plane 321 by hand");
  });
  it("on two-input sums, each input with or without per-row (drop-path) scales", () => {
    const [x0, x1] = [randomTensor([3, 50], rng).data, randomTensor([3, 50], rng).data];
    const scales = Float32Array.from([0, 1.25, 2]);
    for (const [s0, s1] of [
      [null, null],
      [scales, null],
      [null, scales],
      [scales, scales.slice().reverse()],
    ] as const) {
      const [yT, yN] = [new Float32Array(150), new Float32Array(150)];
      tsKernels.sum2(3, x0, s0, x1, s1, yT);
      native!.sum2(3, x0, s0, x1, s1, yN);
      assertClose(yN, yT, 1e-6, 1e-6, `sum2 scales ${s0 !== null} ${s1 !== null}`);
      // By hand, element 60 (row 1, column 10).
      const want = (s0 ? s0[1]! : 1) * x0[60]! + (s1 ? s1[1]! : 1) * x1[60]!;
      assert.ok(Math.abs(yN[60]! - want) <= 1e-6 * (1 + Math.abs(want)), `${yN[60]} vs ${want}`);
    }
  });

  it("on pools, batch norm, relu and GEMM", () => {
    const x = randomTensor([3, 4, 9, 7], rng);
    // Half-integer copies make ties, which must go to the first maximum in scan order.
    const ties = x.data.map((v) => Math.round(v * 2) / 2);
    const windows = [
      { k: 3, stride: 2, pad: 1 },
      { k: 3, stride: 1, pad: 1 },
      // Unpadded 3×3 windows take the native row kernel too; 5×5 and stride 3 the scalar search.
      { k: 3, stride: 2, pad: 0 },
      { k: 3, stride: 1, pad: 0 },
      { k: 5, stride: 3, pad: 0 },
    ];
    for (const [input, { k, stride, pad }, max] of windows.flatMap((win) =>
      [x.data, ties].flatMap((input) => [true, false].map((max) => [input, win, max] as const)),
    )) {
      const [oh, ow] = [9, 7].map((s) => Math.floor((s + 2 * pad - k) / stride) + 1) as [number, number];
      const g = { n: 3, c: 4, h: 9, w: 7, k, stride, pad, oh, ow };
      const [yT, yN] = [new Float32Array(12 * oh * ow), new Float32Array(12 * oh * ow)];
      tsKernels.poolForward(max, g, input, yT);
      native!.poolForward(max, g, input, yN);
      assertClose(yN, yT, 1e-6, 1e-6, `pool forward ${JSON.stringify(g)}`);
      const dy = randomTensor([yT.length], rng).data;
      const [dT, dN] = [new Float32Array(x.size), new Float32Array(x.size)];
      tsKernels.poolBackward(max, g, input, dy, dT);
      native!.poolBackward(max, g, input, dy, dN);
      assertClose(dN, dT, 1e-5, 1e-6, `pool backward ${JSON.stringify(g)}`);
      agreeOnAddedGrad(dN, dT, (d, k) => k.poolBackward(max, g, input, dy, d, true));
    }
    const gamma = randomTensor([4], rng).data;
    const beta = randomTensor([4], rng).data;
    // Backward with the batch's statistics and with fixed (running) ones.
    const run = (k: Kernels, fixedStats: boolean) => {
      const y = new Float32Array(x.size);
      const mean = new Float32Array(4);
      const inv = new Float32Array(4);
      k.bnForwardTrain(3, 4, 63, x.data, gamma, beta, 1e-5, y, mean, inv);
      const dx = new Float32Array(x.size);
      const dg = new Float32Array(4);
      const db = new Float32Array(4);
      k.bnBackward(3, 4, 63, x.data, gamma, mean, inv, y, dx, dg, db, fixedStats);
      return [y, mean, inv, dx, dg, db];
    };
    for (const fixedStats of [false, true]) {
      const t = run(tsKernels, fixedStats);
      run(native!, fixedStats).forEach((v, i) => {
        assertClose(v, t[i]!, 1e-4, 1e-5, `batch norm output ${i}, fixed statistics ${fixedStats}`);
      });
    }
    // Activations far from zero against their spread (mean 300, deviation 1): the native
    // one-pass statistics, taken about a shift, must not cancel as a raw second moment would
    // (in float32 that would lose the variance to rounding entirely).
    const offset = x.data.map((v) => 300 + v);
    const stats = (k: Kernels) => {
      const [y, mean, inv] = [new Float32Array(x.size), new Float32Array(4), new Float32Array(4)];
      k.bnForwardTrain(3, 4, 63, offset, gamma, beta, 1e-5, y, mean, inv);
      return [y, mean, inv];
    };
    const reference = stats(tsKernels);
    stats(native!).forEach((v, i) => {
      assertClose(v, reference[i]!, 1e-4, 1e-4, `batch norm of offset input, output ${i}`);
    });
    // Seven channels of 3×3 planes: the native kernel takes them in groups of 4 and 3 (one
    // group on one thread), whose sums must still land on their own channels.
    const [n7, c7, hw7] = [5, 7, 9];
    const x7 = randomTensor([n7 * c7 * hw7], rng).data;
    const [g7, b7, dy7] = [
      randomTensor([c7], rng).data,
      randomTensor([c7], rng).data,
      randomTensor([x7.length], rng).data,
    ];
    const ragged = (k: Kernels) => {
      const [y, mean, inv, dx] = [
        new Float32Array(x7.length),
        new Float32Array(c7),
        new Float32Array(c7),
        new Float32Array(x7.length),
      ];
      const [dg, db] = [new Float32Array(c7), new Float32Array(c7)];
      k.bnForwardTrain(n7, c7, hw7, x7, g7, b7, 1e-5, y, mean, inv);
      k.bnBackward(n7, c7, hw7, x7, g7, mean, inv, dy7, dx, dg, db, false);
      return [y, mean, inv, dx, dg, db];
    };
    const raggedRef = ragged(tsKernels);
    ragged(native!).forEach((v, i) => {
      assertClose(v, raggedRef[i]!, 1e-4, 1e-5, `batch norm over ragged channel groups, output ${i}`);
    });
    // Shapes for the native register-tiled path (row and column tails, 1…12-row tiles; on
    // AVX-512 also the larger rows and inner dimensions up to its limits) and for OpenBLAS
    // (rows, inner dimension or B size past the tiled path's limits on either machine).
    const shapes = [
      [7, 6, 5],
      [13, 37, 9],
      [23, 80, 40],
      [64, 48, 128],
      [70, 33, 20],
      [16, 40, 200],
      [150, 70, 300],
      [300, 40, 20],
      [16, 40, 1100],
      [40, 600, 500],
      // Rows of B 512 floats and longer, packed block by block: several blocks, the last
      // partial, and tail columns past the last strip.
      [13, 1000, 24],
      [30, 777, 9],
    ];
    for (const [m, n, k] of shapes as [number, number, number][])
      for (const [ta, tb, beta] of [
        [false, false, 0],
        [true, false, 1],
        [false, true, 1],
        [true, true, 0],
      ] as const) {
        const a = randomTensor([m * k], rng).data;
        const b = randomTensor([k * n], rng).data;
        const c0 = randomTensor([m * n], rng).data;
        const [cT, cN] = [c0.slice(), c0.slice()];
        tsKernels.gemm(ta, tb, m, n, k, 1, a, b, beta, cT);
        native!.gemm(ta, tb, m, n, k, 1, a, b, beta, cN);
        // float32 rounding grows with the inner dimension (TypeScript sums in float64): k
        // roundings of partial sums about √k in size, a random walk of √k steps, so about
        // k·2⁻²⁴ in all; four times that bounds it.
        const atol = Math.max(1e-5, 4 * k * 2 ** -24);
        assertClose(cN, cT, 1e-4, atol, `gemm ${m}×${n}×${k} ta=${ta} tb=${tb} beta=${beta}`);
      }
    const v = randomTensor([1001], rng).data;
    for (const abs of [true, false])
      for (const start of [0, 100])
        assert.equal(native!.maxValue(v, abs, start), tsKernels.maxValue(v, abs, start));
    const hand = Float32Array.of(-3, 1, 2);
    assert.deepEqual(
      [native!.maxValue(hand, true, 0), native!.maxValue(hand, false, 0), native!.maxValue(hand, false, -5)],
      [3, 2, 2],
    );
  });
});

describe("batch norm semantics", () => {
  it("normalises with batch statistics in training and updates running stats (momentum 0.1, unbiased variance)", () => {
    // One channel, values 1, 2, 3, 6: mean 3, biased var 3.5, unbiased var 14/3.
    const x = new Tensor([4, 1, 1, 1], new Float32Array([1, 2, 3, 6]));
    const bn = {
      weight: new Tensor([1], new Float32Array([2])),
      bias: new Tensor([1], new Float32Array([0.5])),
      runningMean: new Float32Array([0]),
      runningVar: new Float32Array([1]),
    };
    const y = ops.batchNorm(null, x, bn, true);
    const expected = [1, 2, 3, 6].map((v) => (2 * (v - 3)) / Math.sqrt(3.5 + 1e-5) + 0.5);
    assertClose(y.data, expected, 1e-5, 1e-6, "train output");
    assertClose(bn.runningMean, [0.3], 1e-6, 1e-7, "running mean");
    assertClose(bn.runningVar, [0.9 + 0.1 * (14 / 3)], 1e-6, 1e-7, "running var");
    const e = ops.batchNorm(null, x, bn, false);
    const rv = 0.9 + 0.1 * (14 / 3);
    assertClose(
      e.data,
      [1, 2, 3, 6].map((v) => (2 * (v - 0.3)) / Math.sqrt(rv + 1e-5) + 0.5),
      1e-5,
      1e-6,
      "eval output",
    );
  });
});

describe("models from the IR", () => {
  const tiny = { channels: 4, layers: 3, imageSize: 8 };
  it("forward is deterministic and identical in inference and no-grad training paths for every catalogue genotype kind", () => {
    for (const arch of [
      resolveArchitecture("DARTS_V2"),
      resolveArchitecture("FairDARTS_a"),
      architectureFromConfiguration(sampleConfiguration(new Rng(1))),
    ]) {
      const net = buildNetwork(arch, tiny);
      const x = randomTensor([2, 3, 8, 8], new Rng(2));
      const a = new Model(net, 5).forward(x, { training: false }).logits.data;
      const b = new Model(net, 5).forward(x, { training: false }).logits.data;
      assert.deepEqual(a, b);
      assert.ok(a.every(Number.isFinite));
    }
  });

  it("inference writes every buffer it takes from its pool in full and holds the same buffers forward after forward", () => {
    // Buffers are poisoned with NaN when first lent: one left NaN was taken and never (or
    // not wholly) written. A pool that grows per forward leaks.
    const lent = new Set<Float32Array>();
    const take = BufferPool.prototype.take;
    BufferPool.prototype.take = function (this: BufferPool, size: number) {
      const buf = take.call(this, size);
      if (!lent.has(buf)) buf.fill(Number.NaN);
      lent.add(buf);
      return buf;
    };
    try {
      // Layers 3 put FactorizedReduce (the shifted slice) after each reduction cell.
      const m = new Model(buildNetwork(resolveArchitecture("DARTS_V2"), tiny), 5);
      const x = randomTensor([2, 3, 8, 8], new Rng(2));
      const unwritten = () => [...lent].filter((b) => b.some(Number.isNaN)).map((b) => b.length);
      const first = m.forward(x, { training: false }).logits.data;
      assert.deepEqual(unwritten(), [], "sizes of buffers taken and not wholly written");
      const count = lent.size;
      for (let i = 0; i < 3; i++) assert.deepEqual(m.forward(x, { training: false }).logits.data, first);
      assert.equal(lent.size, count, "later forwards take no new buffers");
    } finally {
      BufferPool.prototype.take = take;
    }
  });

  it("inference pools each input once where the genotype repeats a pool on it, with the training path's result", () => {
    // DARTS_V2's reduction cell: max_pool_3x3 on input 1 three times and on input 0 twice,
    // so its two cells (layers 3) run 2 × 2 distinct pools of 2 × 5.
    const net = buildNetwork(resolveArchitecture("DARTS_V2"), tiny);
    assert.equal(net.nodes.filter((n) => n.kind === "maxpool").length, 10);
    const m = new Model(net, 5);
    const x = randomTensor([2, 3, 8, 8], new Rng(2));
    const pools = (training: boolean) => {
      let calls = 0;
      const base = kernels();
      const counting: Kernels = {
        ...base,
        poolForward: (...a: Parameters<Kernels["poolForward"]>) => {
          calls++;
          base.poolForward(...a);
        },
      };
      const logits = withKernels(counting, () =>
        training
          ? m.forward(x, { training: true, frozenBatchNorm: true }).logits.data.slice()
          : m.forward(x, { training: false }).logits.data.slice(),
      );
      return { calls, logits };
    };
    const inference = pools(false);
    const training = pools(true);
    assert.equal(inference.calls, 4);
    assert.equal(training.calls, 10);
    assertClose(inference.logits, training.logits, 1e-4, 1e-5, "logits");
  });

  it("inference reads concatenations in place and adds node sums in convolutions, with the bits of the plain plan", () => {
    // Layers 6: reduction cells 2 and 4. The outputs of cells 0, 2 and 4 are read only by
    // the next cells' preprocessing 1×1 convolutions (2 + 2 + 1 of them); those of cells 1
    // and 3 also by FactorizedReduce, and that of cell 5 by the classifier. Each of the four
    // normal cells' four node sums has a convolution as a term; the reduction cells' sums
    // are of pools and identities.
    const net = buildNetwork(resolveArchitecture("DARTS_V2"), { ...tiny, layers: 6 });
    const m = new Model(net, 5);
    m.forward(randomTensor([4, 3, 8, 8], new Rng(4)), { training: true }); // statistics ≠ 0/1
    const x = randomTensor([2, 3, 8, 8], new Rng(2));
    const run = (executor: MatmulExecutor | null) => {
      const calls = { gathered: 0, copiedParts: 0, sums: 0 };
      const base = kernels();
      const counting: Kernels = {
        ...base,
        convForwardConcat: (...a: Parameters<Kernels["convForwardConcat"]>) => {
          calls.gathered++;
          base.convForwardConcat(...a);
        },
        stridedCopy: (...a: Parameters<Kernels["stridedCopy"]>) => {
          calls.copiedParts++;
          base.stridedCopy(...a);
        },
        sum2: (...a: Parameters<Kernels["sum2"]>) => {
          calls.sums++;
          base.sum2(...a);
        },
      };
      const logits = withKernels(counting, () =>
        m.forward(x, { training: false, executor }).logits.data.slice(),
      );
      return { calls, logits };
    };
    // An executor reads and writes whole tensors: with one, nothing is fused.
    const float: MatmulExecutor = {
      conv: (node, input, reluIn, weight, bias, out) =>
        ops.conv2d(null, input, weight, node, out, reluIn, bias),
      linear: (_node, input, weight, bias) => ops.linear(null, input, weight, bias),
    };
    // Copied parts: the cells' four nodes, and FactorizedReduce's two halves in cells 3 and 5
    // (batch norm reads their concatenation).
    const fused = run(null);
    const plain = run(float);
    assert.deepEqual(fused.calls, { gathered: 5, copiedParts: 3 * 4 + 2 * 2, sums: 2 * 4 });
    assert.deepEqual(plain.calls, { gathered: 0, copiedParts: 6 * 4 + 2 * 2, sums: 6 * 4 });
    assert.deepEqual(fused.logits, plain.logits);
  });

  it("counts a batch for every batch norm in a network's training forward, and none with frozen statistics", () => {
    const net = buildNetwork(resolveArchitecture("DARTS_V2"), tiny);
    const m = new Model(net, 1);
    const x = randomTensor([2, 3, 8, 8], new Rng(2));
    m.forward(x, { training: true, tape: new Tape() });
    m.forward(x, { training: true, tape: new Tape(), frozenBatchNorm: true });
    assert.equal(m.batchesTracked.size, net.nodes.filter((n) => n.kind === "bn").length);
    for (const [name, count] of m.batchesTracked) assert.equal(count, 1, name);
  });

  it("training with frozen batch norm computes the deployed (inference) network and leaves the statistics alone", () => {
    const net = buildNetwork(resolveArchitecture("PDARTS"), tiny);
    const m = new Model(net, 5);
    // Statistics other than the initial 0/1, so that folding them in is not trivial.
    m.forward(randomTensor([4, 3, 8, 8], new Rng(4)), { training: true });
    const x = randomTensor([2, 3, 8, 8], new Rng(2));
    const stats = () => [
      ...[...m.tensors].filter(([k]) => k.includes("running_")).map(([k, t]) => [k, [...t.data]]),
      ...m.batchesTracked,
    ];
    const before = JSON.stringify(stats());
    const tape = new Tape();
    const frozen = m.forward(x, { training: true, tape, frozenBatchNorm: true }).logits;
    assert.equal(JSON.stringify(stats()), before);
    assertClose(frozen.data, m.forward(x, { training: false }).logits.data, 1e-4, 1e-5, "logits");
    tape.backward(ops.crossEntropy(tape, frozen, [1, 2]));
    assert.ok(
      m.tensor("stem.1.weight").grad!.some((g) => g !== 0),
      "γ learns",
    );
  });

  it("native and TypeScript kernels give the same network output", {
    skip: native ? false : "native kernels not built",
  }, () => {
    const net = buildNetwork(resolveArchitecture("PDARTS"), tiny);
    const x = randomTensor([2, 3, 8, 8], new Rng(2));
    const m = new Model(net, 5);
    const t = withKernels(tsKernels, () => m.forward(x, { training: false }).logits.data.slice());
    const n = withKernels(native!, () => m.forward(x, { training: false }).logits.data.slice());
    assertClose(n, t, 1e-3, 1e-4, "logits");
  });

  it("a second step's weight gradients equal the first's (reused gradient buffers start from zero)", () => {
    const net = buildNetwork(resolveArchitecture("PDARTS"), {
      channels: 4,
      layers: 3,
      auxiliary: true,
    });
    const m = new Model(net, 5);
    const x = randomTensor([4, 3, 32, 32], new Rng(2));
    const step = () => {
      const tape = new Tape();
      const out = m.forward(x, { training: true, tape });
      tape.backward(
        ops.add(tape, [
          ops.crossEntropy(tape, out.logits, [0, 1, 2, 3]),
          ops.crossEntropy(tape, out.auxLogits!, [0, 1, 2, 3], 0.4),
        ]),
      );
      const grads = m.parameters().map((p) => p.tensor.grad!.slice());
      for (const p of m.parameters()) p.tensor.grad = null;
      return grads;
    };
    const first = step();
    assert.deepEqual(step(), first);
  });

  it("training gradients do not depend on the number of native threads (fixed work partition)", {
    skip: native ? false : "native kernels not built",
  }, () => {
    const net = buildNetwork(resolveArchitecture("DARTS_V2"), { channels: 4, layers: 3, imageSize: 16 });
    const x = randomTensor([7, 3, 16, 16], new Rng(2));
    const gradients = (threads: number) => {
      native!.setThreads(threads);
      try {
        return withKernels(native!, () => {
          const m = new Model(net, 5);
          const tape = new Tape();
          const out = m.forward(x, { training: true, tape, dropPathProb: 0.2, rng: new Rng(4) });
          tape.backward(ops.crossEntropy(tape, out.logits, [0, 1, 2, 3, 4, 5, 6]));
          return m.parameters().map((p) => p.tensor.grad!.slice());
        });
      } finally {
        native!.setThreads(0); // back to one per core
      }
    };
    const one = gradients(1);
    for (const threads of [2, 3]) assert.deepEqual(gradients(threads), one, `${threads} threads against 1`);
  });

  it("gradients taken back early by the arena equal gradients in fresh buffers, in less memory", () => {
    for (const arch of [
      resolveArchitecture("PDARTS"),
      resolveArchitecture("DARTS_V1"),
      architectureFromConfiguration(sampleConfiguration(new Rng(8))),
    ]) {
      const net = buildNetwork(arch, { channels: 4, layers: 3, auxiliary: true });
      const x = randomTensor([4, 3, 32, 32], new Rng(3));
      const labels = [1, 2, 3, 4];
      // Never hands a buffer back: every allocation of the step stays distinct.
      let freshBytes = 0;
      const fresh = {
        take: (n: number) => {
          freshBytes += 4 * n;
          return new Float32Array(n);
        },
      };
      const gradients = (allocator: { take(n: number): Float32Array }, dropPathProb: number) => {
        const m = new Model(net, 7);
        const rng = new Rng(9);
        let grads: Float32Array[] = [];
        // Two steps: the second reuses the first's buffers, stale values and all.
        for (let step = 0; step < 2; step++) {
          withArena(allocator, () => {
            const tape = new Tape();
            const out = m.forward(x, { training: true, tape, dropPathProb, rng });
            tape.backward(
              ops.add(tape, [
                ops.crossEntropy(tape, out.logits, labels),
                ops.crossEntropy(tape, out.auxLogits!, labels, 0.4),
              ]),
            );
          });
          if (allocator instanceof Arena) allocator.reset();
          grads = m.parameters().map((p) => p.tensor.grad!.slice());
          for (const p of m.parameters()) p.tensor.grad = null;
        }
        return grads;
      };
      // Without drop-path a sum hands its incoming gradient on to an input, which must keep it.
      for (const drop of [0, 0.3]) {
        const reused = gradients(new Arena(), drop);
        const reference = gradients(fresh, drop);
        assert.equal(reused.length, reference.length);
        for (const [i, g] of reused.entries())
          assert.deepEqual(g, reference[i], `drop-path ${drop}, parameter ${i}`);
      }
      freshBytes = 0;
      const arena = new Arena();
      gradients(arena, 0.3);
      gradients(fresh, 0.3);
      // Without early release the arena would hold all of a step's allocations (ratio 1);
      // gradients added straight into existing ones are no allocations at all any more.
      assert.ok(
        arena.bytes() < 0.75 * (freshBytes / 2),
        `arena ${arena.bytes()} bytes against ${freshBytes / 2} allocated per step`,
      );
    }
  });

  it("whole-network gradients match finite differences (stem weight, a depthwise weight)", () => {
    // 32×32 images: the auxiliary head's 5×5/3 pooling needs the 8×8 maps of the last third.
    const net = buildNetwork(resolveArchitecture("DARTS_V2"), { channels: 4, layers: 3, auxiliary: true });
    const m = new Model(net, 7);
    const x = randomTensor([8, 3, 32, 32], new Rng(3));
    const labels = [1, 2, 3, 4, 5, 6, 7, 8];
    const lossOf = (tape: Tape | null) => {
      const out = m.forward(x, { training: true, tape });
      return ops.add(tape, [
        ops.crossEntropy(tape, out.logits, labels),
        ops.crossEntropy(tape, out.auxLogits!, labels, 0.4),
      ]);
    };
    const tape = new Tape();
    tape.backward(lossOf(tape));
    for (const name of ["stem.0.weight", "cells.0._ops.0.op.1.weight", "classifier.bias"]) {
      const p = m.tensor(name);
      const analytic = p.grad!.slice();
      for (const i of [0, Math.floor(p.size / 2)]) {
        const orig = p.data[i]!;
        // A small step: batch statistics and ReLU kinks make larger steps inaccurate.
        const eps = 5e-4;
        p.data[i] = orig + eps;
        const lp = lossOf(null).data[0]!;
        p.data[i] = orig - eps;
        const lm = lossOf(null).data[0]!;
        p.data[i] = orig;
        const numeric = (lp - lm) / (2 * eps);
        assert.ok(
          Math.abs(numeric - analytic[i]!) <= 3e-3 + 5e-2 * Math.abs(numeric),
          `${name}[${i}]: ${analytic[i]} vs ${numeric}`,
        );
      }
    }
  });
});

describe("native builds per instruction-set level", {
  skip: native ? false : "native addon not built",
}, () => {
  it("the loaded build is the best one the CPU runs, and each build computes the same convolution", async () => {
    const { existsSync } = await import("node:fs");
    const { loadNativeKernels } = await import("../src/engine/kernels/native.js");
    const dir = new URL("../build/Release/", import.meta.url);
    const builds = [
      ["portable", "memhyper_native.node"],
      ["x86-64-v3", "memhyper_native_v3.node"],
      ["x86-64-v4", "memhyper_native_v4.node"],
    ] as const;
    // The CPU's levels read independently of the addon's own detection.
    const cpuFlags = (await import("node:fs")).readFileSync("/proc/cpuinfo", "utf8");
    const runs = (level: string): boolean =>
      level === "portable" ||
      (level === "x86-64-v3" && /\bavx2\b/.test(cpuFlags) && /\bfma\b/.test(cpuFlags)) ||
      (level === "x86-64-v4" &&
        ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"].every((f) =>
          new RegExp(`\\b${f}\\b`).test(cpuFlags),
        ));
    const usable = builds.filter(([level, file]) => runs(level) && existsSync(new URL(file, dir)));
    assert.equal(native!.info().isa, usable.at(-1)![0]);
    // Every usable build agrees with the TypeScript kernels on a small depthwise + 1×1 pair.
    const g = { n: 2, c: 8, h: 6, w: 6, oc: 8, k: 3, stride: 1, pad: 1, dil: 1, groups: 8, oh: 6, ow: 6 };
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 2 * 8 * 36 }, () => rng.normal());
    const w = Float32Array.from({ length: 8 * 9 }, () => rng.normal());
    const want = new Float32Array(2 * 8 * 36);
    tsKernels.convForward(g, x, w, want, false, null, null);
    for (const [level, file] of usable) {
      const k = loadNativeKernels(new URL(file, dir).pathname)!;
      assert.equal(k.info().isa, level);
      const got = new Float32Array(want.length);
      k.convForward(g, x, w, got, false, null, null);
      // 9-term float sums in another order: a few ulps of the largest term.
      for (let i = 0; i < want.length; i++)
        assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `${level} ${i}`);
    }
  });
});
