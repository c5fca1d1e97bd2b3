/**
 * The weight-sharing supernet: what it shares, how its sampled configurations compute, its
 * recalibrated statistics, and a bit-exact resume.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makeBatch, NO_AUGMENT } from "../src/data/augment.js";
import { loadSplit, take } from "../src/data/cifar10.js";
import { Model } from "../src/engine/model.js";
import { readWeightFile } from "../src/engine/safetensors.js";
import { loadPreset } from "../src/hw/config.js";
import { compileConfiguration } from "../src/hyper/compiler.js";
import { hyperModel } from "../src/hyper/deploy.js";
import { IrBuilder } from "../src/ir/builder.js";
import { architectureFromConfiguration, resolveArchitecture } from "../src/space/architecture.js";
import type { Configuration } from "../src/space/cell.js";
import { PRIMITIVES } from "../src/space/primitives.js";
import {
  MAX_REFERENCE_SHARE,
  recalibrate,
  referenceArchitectures,
  Supernet,
  sampleArchitecture,
  supernetAccuracy,
  trainSupernet,
} from "../src/train/supernet.js";
import { DARTS_RECIPE } from "../src/train/trainer.js";
import { Rng } from "../src/util/rng.js";
import { CrossbarSimulator } from "../src/xbar/simulator.js";
import { builtNetwork, randomTensor, runCli, writeSyntheticCifar } from "./helpers.js";

const op = (name: string) => PRIMITIVES.indexOf(name as (typeof PRIMITIVES)[number]);
/** Every edge of both cells `name`, except edge 0 of the normal cell: `first`. */
function uniform(first: string, rest = "skip_connect"): Configuration {
  const normal = Array.from({ length: 14 }, (_, i) => op(i === 0 ? first : rest));
  return { normal, reduce: Array.from({ length: 14 }, () => op(rest)) } as Configuration;
}

describe("supernet weight sharing", () => {
  const net = new Supernet(4, 3, false, 7);
  const x = randomTensor([2, 3, 32, 32], new Rng(2));
  const logits = (c: Configuration) =>
    Array.from(net.bind(architectureFromConfiguration(c)).model.forward(x, { training: false }).logits.data);

  it("a change to an outer tap of a shared 5×5 kernel changes every configuration using all 25 taps and no other", () => {
    const uses = ["sep_conv_5x5", "dil_conv_5x5"];
    const ignores = ["sep_conv_3x3", "dil_conv_3x3", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "none"];
    const before = new Map([...uses, ...ignores].map((o) => [o, logits(uniform(o))]));
    // Slot 0 of cell 0 realises edge 0 of the normal cell; tap (0, 0) of channel 1 is outside the 3×3 centre.
    const w = net.store.tensor("cells.0.slots.0.universal.dw1.weight");
    w.data[1 * 25 + 0]! += 0.5;
    for (const o of uses) assert.notDeepEqual(logits(uniform(o)), before.get(o), o);
    for (const o of ignores) assert.deepEqual(logits(uniform(o)), before.get(o), o);
    // The centre tap reaches the 3×3 kernels of the same slot too.
    const three = logits(uniform("sep_conv_3x3"));
    w.data[1 * 25 + 12]! += 0.5;
    assert.notDeepEqual(logits(uniform("sep_conv_3x3")), three);
    // Another slot's kernel is not shared.
    const other = logits(uniform("sep_conv_5x5"));
    net.store.tensor("cells.0.slots.1.universal.dw1.weight").data[0]! += 0.5;
    assert.deepEqual(logits(uniform("sep_conv_5x5")), other);
  });

  it("a configuration on shared weights computes what the configured hypernetwork computes with them (3×3 in 5×5, dil in sep)", () => {
    // Configurations without pooling ops: those carry the supernet's statistics-only batch norm.
    const configs = [
      uniform("dil_conv_3x3", "sep_conv_3x3"),
      uniform("sep_conv_5x5", "dil_conv_5x5"),
      uniform("dil_conv_5x5", "skip_connect"),
    ];
    for (const arch of configs.map((c) => architectureFromConfiguration(c))) {
      const bound = net.bind(arch);
      // The configured hypernetwork with the architecture's (bound) weights programmed in.
      const hyper = hyperModel(compileConfiguration(net.hardware.spec, arch), bound.model);
      const a = bound.model.forward(x, { training: false }).logits.data;
      const b = hyper.forward(x, { training: false }).logits.data;
      for (let i = 0; i < a.length; i++)
        assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * (1 + Math.abs(a[i]!)), `${arch.label} logit ${i}`);
    }
  });

  it("gradients of a bound model reach the shared tensors: a 3×3 kernel's to the centre taps only", () => {
    const arch = architectureFromConfiguration(uniform("sep_conv_3x3"));
    const bound = net.bind(arch);
    const plan = compileConfiguration(net.hardware.spec, arch).plan;
    const source = plan.find((st) => st.target === "cells.0.slots.0.universal.dw1")!.source;
    const t = bound.model.tensor(`${source}.weight`);
    assert.deepEqual(t.shape, [4, 1, 3, 3]);
    t.grad = new Float32Array(t.size).fill(1);
    net.collectGradients(bound);
    const g = net.store.tensor("cells.0.slots.0.universal.dw1.weight").grad!;
    for (let c = 0; c < 4; c++)
      for (let i = 0; i < 5; i++)
        for (let j = 0; j < 5; j++) {
          const centre = i >= 1 && i <= 3 && j >= 1 && j <= 3;
          assert.equal(g[(c * 5 + i) * 5 + j], centre ? 1 : 0, `channel ${c} tap ${i},${j}`);
        }
  });
});

describe("supernet deployment: one programming for every configuration", () => {
  const net = new Supernet(4, 3, false, 11);
  const x = randomTensor([4, 3, 32, 32], new Rng(3));
  /** The integers of the layer whose weights are `shared` (a store tensor), as the configuration programs them. */
  function integers(c: Configuration, shared: string, ranges = true): Int32Array {
    const bound = net.bind(architectureFromConfiguration(c), false);
    const sim = new CrossbarSimulator(bound.model, loadPreset("int8")).calibrate(
      x,
      128,
      ranges ? net.weightRanges(bound) : undefined,
    );
    const param = bound.bindings.find((b) => b.shared === net.store.tensor(shared))!.param;
    const node = bound.model.net.nodes.find((n) => n.kind === "conv" && n.param === param)!;
    return sim.layers.get(node.id)!.q;
  }
  const centre = (q: Int32Array, channels: number) =>
    Int32Array.from({ length: channels * 9 }, (_, i) => {
      const [c, t] = [Math.floor(i / 9), i % 9];
      return q[c * 25 + (Math.floor(t / 3) + 1) * 5 + (t % 3) + 1]!;
    });

  it("a 3×3 kernel gets the centre integers of its slot's 5×5, the pointwise stage the same integers, unfolded batch norm", () => {
    const dw = "cells.0.slots.0.universal.dw1.weight";
    const pw = "cells.0.slots.0.universal.pw1.weight";
    const five = integers(uniform("sep_conv_5x5"), dw);
    const channels = five.length / 25;
    assert.deepEqual(integers(uniform("sep_conv_3x3"), dw), centre(five, channels));
    assert.deepEqual(integers(uniform("dil_conv_3x3"), dw), centre(five, channels));
    assert.deepEqual(integers(uniform("sep_conv_3x3"), pw), integers(uniform("sep_conv_5x5"), pw));
    // Without the shared ranges the 3×3 kernel is quantized on its own maximum: other integers.
    assert.notDeepEqual(integers(uniform("sep_conv_3x3"), dw, false), centre(five, channels));
  });

  it("unfolded batch norm computes what the folded network computes (float)", () => {
    const arch = architectureFromConfiguration(uniform("sep_conv_3x3", "max_pool_3x3"));
    const a = net.bind(arch, true).model.forward(x, { training: false }).logits.data;
    const b = net.bind(arch, false).model.forward(x, { training: false }).logits.data;
    // Folding reorders float32 products: a few ulps per layer.
    for (let i = 0; i < a.length; i++)
      assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * (1 + Math.abs(a[i]!)), `logit ${i}`);
  });
});

describe("supernet sampling", () => {
  it("gives the references their share and draws both views, deterministically per seed", () => {
    const refs = referenceArchitectures();
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 4000 }, () => sampleArchitecture(rng, 0.2, refs));
    };
    const a = draw(3);
    assert.deepEqual(
      a.map((x) => x.code),
      draw(3).map((x) => x.code),
    );
    const share = a.filter((x) => refs.includes(x)).length / a.length;
    // Binomial(4000, 0.2): σ = 0.0063; 5σ bounds fail with probability < 1e-6.
    assert.ok(Math.abs(share - 0.2) < 5 * 0.0063, `reference share ${share}`);
    // Genotype-view draws have exactly 8 active edges per cell; edge-view ones rarely do.
    const eight = a.filter(
      (x) => !refs.includes(x) && x.configuration!.normal.filter((o) => o !== 0).length === 8,
    );
    assert.ok(
      eight.length > 0.3 * (a.length - 0.2 * a.length),
      "half the other draws come from the genotype view",
    );
  });
});

describe("batch-norm recalibration", () => {
  it("sets a statistic to the average of its batches' means and unbiased variances (by hand: a 1×1 conv)", () => {
    const dir = mkdtempSync(join(tmpdir(), "mh-recal-"));
    writeSyntheticCifar(join(dir, "data"), 10, 2);
    const images = take(loadSplit(join(dir, "data"), "train"), 10);
    const b = new IrBuilder();
    const x = b.input({ c: 3, h: 32, w: 32 });
    const conv = b.conv(x, { path: "c", part: "op" }, "c", { outC: 2, k: 1 });
    const bn = b.bn(conv, { path: "c", part: "op" }, "bn");
    const model = new Model(builtNetwork(b, x, bn), 5);
    recalibrate(model, images, 4); // batches of 4, 4 and 2 images
    const w = model.tensor("c.weight").data;
    const px = new Float32Array(10 * 3072);
    makeBatch(images, [...Array(10).keys()], NO_AUGMENT, null, px, new Int32Array(10));
    for (let o = 0; o < 2; o++) {
      const means: number[] = [];
      const vars: number[] = [];
      for (const [from, to] of [
        [0, 4],
        [4, 8],
        [8, 10],
      ] as const) {
        const ys: number[] = [];
        for (let n = from; n < to; n++)
          for (let p = 0; p < 1024; p++) {
            let y = 0;
            for (let c = 0; c < 3; c++) y += w[o * 3 + c]! * px[n * 3072 + c * 1024 + p]!;
            ys.push(y);
          }
        const m = ys.reduce((a, v) => a + v, 0) / ys.length;
        means.push(m);
        vars.push(ys.reduce((a, v) => a + (v - m) ** 2, 0) / (ys.length - 1));
      }
      const avg = (v: number[]) => v.reduce((a, u) => a + u, 0) / v.length;
      // Float32 sums over 4,096 values against float64: a few ulps of the statistic.
      const close = (got: number, want: number) => Math.abs(got - want) <= 1e-5 * (1 + Math.abs(want));
      assert.ok(close(model.tensor("bn.running_mean").data[o]!, avg(means)), `mean ${o}`);
      assert.ok(close(model.tensor("bn.running_var").data[o]!, avg(vars)), `var ${o}`);
    }
  });
});

describe("supernet training", () => {
  const dir = mkdtempSync(join(tmpdir(), "mh-supernet-"));
  writeSyntheticCifar(join(dir, "data"), 24, 3);
  const data = { train: loadSplit(join(dir, "data"), "train"), test: loadSplit(join(dir, "data"), "test") };
  const recipe = { ...DARTS_RECIPE, channels: 4, layers: 3, epochs: 2, batch: 16, seed: 4, validation: 16 };
  const options = { referenceShare: 0.2, recalibrationImages: 16 };

  it("resumes bit-exactly as if never interrupted", () => {
    trainSupernet(recipe, options, data, join(dir, "full"), false);
    class Stop extends Error {}
    assert.throws(
      () =>
        trainSupernet(recipe, options, data, join(dir, "cut"), false, {
          onEpoch(log) {
            if (log.epoch === 0) throw new Stop();
          },
        }),
      Stop,
    );
    trainSupernet(recipe, options, data, join(dir, "cut"), true);
    assert.ok(
      readFileSync(join(dir, "full", "model.safetensors")).equals(
        readFileSync(join(dir, "cut", "model.safetensors")),
      ),
    );
  });

  it("supernet eval: the trained weights' accuracy in float (as computed in process) and at int8, by name or configuration code", () => {
    const weights = join(dir, "full", "model.safetensors");
    const common = ["--channels", "4", "--layers", "3", "--weights", weights, "--data", join(dir, "data")];
    const float = runCli(
      "supernet",
      "eval",
      "--genotype",
      "DARTS_V2",
      ...common,
      "--recalibrate",
      "16",
      "--json",
    );
    assert.equal(float.code, 0, float.stderr);
    const net = new Supernet(4, 3, false, 0);
    net.restore(readWeightFile(weights), weights);
    const arch = resolveArchitecture("DARTS_V2");
    // In process: the folded network; the command runs batch norm unfolded (a few ulps apart).
    const expected = supernetAccuracy(net, arch, take(data.train, 16), data.test);
    const f = JSON.parse(float.stdout);
    assert.equal(f.accuracy, expected);
    assert.deepEqual(f.supernet, { code: arch.code, recalibrationImages: 16 });
    assert.equal(f.images, data.test.count);
    const int8 = runCli(
      "supernet",
      "eval",
      "--genotype",
      arch.code!,
      ...common,
      "--preset",
      "int8",
      "--json",
    );
    assert.equal(int8.code, 0, int8.stderr);
    const q = JSON.parse(int8.stdout);
    assert.equal(q.preset, "int8");
    assert.equal(q.supernet.recalibrationImages, data.train.count); // the default 2,000, capped by the data
    assert.ok(q.accuracy >= 0 && q.accuracy <= 1);
    // A code one digit short is named as a code, not read as a genotype.
    assert.throws(() => resolveArchitecture(arch.code!.slice(0, 20)), /expected 21 hex digits/);
  });

  it("refuses a reference share above a quarter, naming the limit", () => {
    assert.throws(
      () => trainSupernet(recipe, { ...options, referenceShare: 0.3 }, data, join(dir, "x"), false),
      /at most a quarter.*got 0.3/,
    );
    assert.equal(MAX_REFERENCE_SHARE, 0.25);
  });
});
