import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CIFAR_MEAN, CIFAR_STD, DARTS_AUGMENT, makeBatch, NO_AUGMENT } from "../src/data/augment.js";
import { DatasetError, loadSplit, RECORD_BYTES, TEST_FILE } from "../src/data/cifar10.js";
import { Model } from "../src/engine/model.js";
import { loadModelWeights } from "../src/engine/safetensors.js";
import { loadPreset, mergeConfig, parseHardwareConfig } from "../src/hw/config.js";
import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";
import {
  codeErrorRms,
  crossbarWeights,
  measureWeightNoise,
  perturbWeights,
  type WeightNoise,
} from "../src/train/hardware-aware.js";
import { DARTS_RECIPE, trainModel } from "../src/train/trainer.js";
import { Rng } from "../src/util/rng.js";
import { quantizeWeights } from "../src/xbar/quantize.js";
import { writeSyntheticCifar } from "./helpers.js";

describe("CIFAR-10 loader", () => {
  it("puts labels and the R, G, B planes where the official layout says", () => {
    const dir = mkdtempSync(join(tmpdir(), "mh-cifar-"));
    const rec = Buffer.alloc(2 * RECORD_BYTES);
    rec[0] = 7;
    rec.fill(11, 1, 1025); // red plane
    rec.fill(22, 1025, 2049); // green
    rec.fill(33, 2049, 3073); // blue
    rec[RECORD_BYTES] = 2;
    rec[RECORD_BYTES + 1 + 5 * 32 + 6] = 200; // red pixel at row 5, column 6
    writeFileSync(join(dir, TEST_FILE), rec);
    const s = loadSplit(dir, "test");
    assert.equal(s.count, 2);
    assert.deepEqual([...s.labels], [7, 2]);
    assert.equal(s.images[0], 11);
    assert.equal(s.images[1024], 22);
    assert.equal(s.images[2048], 33);
    assert.equal(s.images[3072 + 5 * 32 + 6], 200);
    // normalisation: byte 11 in red → (11/255 − mean)/std
    const x = new Float32Array(3072);
    makeBatch(s, [0], NO_AUGMENT, null, x, new Int32Array(1));
    assert.ok(Math.abs(x[0]! - (11 / 255 - CIFAR_MEAN[0]!) / CIFAR_STD[0]!) < 1e-6);
  });

  it("reports a missing directory, a missing file, a truncated file and a bad label, each clearly", () => {
    assert.throws(
      () => loadSplit("/nonexistent/cifar", "test"),
      (e: Error) => e instanceof DatasetError && /does not exist: point --data/.test(e.message),
    );
    const dir = mkdtempSync(join(tmpdir(), "mh-cifar-"));
    assert.throws(() => loadSplit(dir, "test"), /missing CIFAR-10 file .*test_batch\.bin/);
    writeFileSync(join(dir, TEST_FILE), Buffer.alloc(RECORD_BYTES + 100));
    assert.throws(
      () => loadSplit(dir, "test"),
      /not a whole number of 3073-byte records; the file is truncated/,
    );
    const bad = Buffer.alloc(RECORD_BYTES);
    bad[0] = 42;
    writeFileSync(join(dir, TEST_FILE), bad);
    assert.throws(() => loadSplit(dir, "test"), /record 0 has label 42/);
  });

  it("augments deterministically per seed (crop, flip, cutout)", () => {
    const dir = mkdtempSync(join(tmpdir(), "mh-cifar-"));
    writeSyntheticCifar(dir, 8, 1);
    const s = loadSplit(dir, "test");
    const run = (seed: number) => {
      const x = new Float32Array(8 * 3072);
      makeBatch(s, [0, 1, 2, 3, 4, 5, 6, 7], DARTS_AUGMENT, new Rng(seed), x, new Int32Array(8));
      return x;
    };
    assert.deepEqual(run(5), run(5));
    assert.notDeepEqual(run(5), run(6));
    const plain = new Float32Array(8 * 3072);
    makeBatch(s, [0, 1, 2, 3, 4, 5, 6, 7], NO_AUGMENT, null, plain, new Int32Array(8));
    assert.notDeepEqual(run(5), plain);
    // cutout writes exact zeros (after normalisation), which plain images never contain here
    assert.ok(run(5).some((v) => v === 0));
  });
});

describe("training", () => {
  const dir = mkdtempSync(join(tmpdir(), "mh-train-"));
  writeSyntheticCifar(join(dir, "data"), 24, 3);
  const data = { train: loadSplit(join(dir, "data"), "train"), test: loadSplit(join(dir, "data"), "test") };
  const arch = resolveArchitecture("DARTS_V2");
  const recipe = {
    ...DARTS_RECIPE,
    channels: 4,
    layers: 3,
    epochs: 3,
    batch: 16,
    seed: 4,
    lr: 0.05,
    dropPath: 0.2,
  };

  it("lowers the loss on a small subset", () => {
    const { logs } = trainModel(arch, { ...recipe, epochs: 4 }, data, join(dir, "a"), false);
    assert.equal(logs.length, 4);
    assert.ok(logs[3]!.loss < logs[0]!.loss, `loss ${logs.map((l) => l.loss.toFixed(3)).join(" → ")}`);
  });

  it("resumes bit-exactly as if never interrupted", () => {
    trainModel(arch, recipe, data, join(dir, "full"), false);
    class Stop extends Error {}
    assert.throws(
      () =>
        trainModel(arch, recipe, data, join(dir, "cut"), false, {
          onEpoch(log) {
            if (log.epoch === 0) throw new Stop();
          },
        }),
      Stop,
    );
    trainModel(arch, recipe, data, join(dir, "cut"), true);
    assert.ok(
      readFileSync(join(dir, "full", "model.safetensors")).equals(
        readFileSync(join(dir, "cut", "model.safetensors")),
      ),
    );
    const logA = readFileSync(join(dir, "full", "log.jsonl"), "utf8")
      .split("\n")
      .map((l) => l && JSON.parse(l).loss);
    const logB = readFileSync(join(dir, "cut", "log.jsonl"), "utf8")
      .split("\n")
      .map((l) => l && JSON.parse(l).loss);
    assert.deepEqual(logB, logA);
  });

  it("refuses to overwrite a run without --resume, and a resume with another recipe", () => {
    assert.throws(() => trainModel(arch, recipe, data, join(dir, "full"), false), /exists: add --resume/);
    assert.throws(
      () => trainModel(arch, { ...recipe, lr: 0.1 }, data, join(dir, "full"), true),
      /different run/,
    );
  });
});

describe("hardware-aware fine-tuning", () => {
  /** 8-bit weight noise whose samples for code c are `errorsOf(c)`. */
  const bank = (errorsOf: (code: number) => number[]): WeightNoise => {
    const samples = errorsOf(0).length;
    const errors = new Float32Array(255 * samples);
    for (let c = -127; c <= 127; c++) errors.set(errorsOf(c), (c + 127) * samples);
    return { weightBits: 8, errors, samples, sigma: Number.NaN };
  };
  const arch = resolveArchitecture("DARTS_V2");
  const small = () => new Model(buildNetwork(arch, { channels: 4, layers: 3 }), 5);

  it("puts quantized, noisy weights in place and restores the float ones bit for bit", () => {
    const model = small();
    const names = crossbarWeights(model);
    assert.ok(names.includes("stem.0.weight") && names.includes("classifier.weight"));
    assert.ok(!names.some((n) => n.includes(".bn") || n.endsWith("running_mean")));
    const before = names.map((n) => model.tensor(n).data.slice());
    const quiet = perturbWeights(
      model,
      names,
      bank(() => [0]),
      1,
      new Rng(1),
    );
    const quantized = names.map((n, k) => {
      const t = model.tensor(n);
      return quantizeWeights(before[k]!, t.shape[0]!, 8);
    });
    const perChannel = names.map((n) => model.tensor(n).size / model.tensor(n).shape[0]!);
    names.forEach((n, k) => {
      const { q, scale } = quantized[k]!;
      model.tensor(n).data.forEach((v, i) => {
        assert.equal(v, Math.fround(q[i]! * scale[Math.floor(i / perChannel[k]!)]!));
      });
    });
    quiet();
    for (const [k, n] of names.entries()) assert.deepEqual(model.tensor(n).data, before[k]);
    // Each code's error comes from its own samples: here a tenth of the code, times the scale 2.
    const tenth = perturbWeights(
      model,
      names,
      bank((c) => [c / 10, c / 10]),
      2,
      new Rng(2),
    );
    names.forEach((n, k) => {
      const { q, scale } = quantized[k]!;
      model.tensor(n).data.forEach((v, i) => {
        const want = (q[i]! + (2 * q[i]!) / 10) * scale[Math.floor(i / perChannel[k]!)]!;
        assert.ok(Math.abs(v - want) <= 1e-6 * Math.abs(want), `${n}[${i}] ${v} want ${want}`);
      });
    });
    tenth();
    for (const [k, n] of names.entries()) assert.deepEqual(model.tensor(n).data, before[k]);
    // Samples are drawn uniformly: errors ±1 appear about equally often.
    const signs = perturbWeights(
      model,
      names,
      bank(() => [1, -1]),
      1,
      new Rng(3),
    );
    let up = 0;
    let all = 0;
    names.forEach((n, k) => {
      const { q, scale } = quantized[k]!;
      model.tensor(n).data.forEach((v, i) => {
        const d = v / scale[Math.floor(i / perChannel[k]!)]! - q[i]!;
        assert.ok(Math.abs(Math.abs(d) - 1) < 1e-3, `${n}[${i}] error ${d}`);
        if (d > 0) up++;
        all++;
      });
    });
    assert.ok(Math.abs(up / all - 0.5) < 0.02, `${up} of ${all} errors positive`);
    signs();
    for (const [k, n] of names.entries()) assert.deepEqual(model.tensor(n).data, before[k]);
  });

  it("measures the weight noise of a preset's devices per code: none when ideal, more with more read noise", () => {
    const ideal = measureWeightNoise(loadPreset("int8"));
    assert.equal(ideal.sigma, 0);
    assert.ok(ideal.errors.every((e) => e === 0) && ideal.errors.length === 255 * ideal.samples);
    const rram = loadPreset("rram");
    const quiet = parseHardwareConfig(
      mergeConfig(rram, { device: { programmingNoise: false, readNoise: false } }),
    );
    assert.equal(measureWeightNoise(quiet).sigma, 0);
    const read = (r: number) =>
      measureWeightNoise(
        parseHardwareConfig(
          mergeConfig(rram, { device: { programmingNoise: false, params: { readNoise: r } } }),
        ),
      ).sigma;
    assert.ok(read(0.01) > 0 && read(0.04) > 3 * read(0.01), `${read(0.01)} ${read(0.04)}`);
    assert.ok(measureWeightNoise(rram).sigma > read(0.01), "programming noise adds to read noise");
    // PCM slices 7 magnitude bits over 4-bit devices: codes below 16 leave the upper slice's
    // devices at Gmin, larger codes program them and carry their noise 16-fold.
    const pcm = measureWeightNoise(loadPreset("pcm"));
    for (const [small, large] of [
      [5, 127],
      [-5, -127],
      [15, 16],
    ] as const)
      assert.ok(codeErrorRms(pcm, large) > 1.8 * codeErrorRms(pcm, small), `code ${small} against ${large}`);
    // With the digit-0 devices exact and no read noise, code 0 is read back exactly.
    const exact = measureWeightNoise(
      parseHardwareConfig(
        mergeConfig(loadPreset("pcm"), { device: { gMinDevicesExact: true, readNoise: false } }),
      ),
    );
    assert.equal(codeErrorRms(exact, 0), 0);
    assert.ok(codeErrorRms(exact, 1) > 0);
  });

  it("fine-tunes from given weights; with a zero learning rate the float weights come back unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), "mh-finetune-"));
    writeSyntheticCifar(join(dir, "data"), 24, 5);
    const data = { train: loadSplit(join(dir, "data"), "train"), test: loadSplit(join(dir, "data"), "test") };
    const recipe = {
      ...DARTS_RECIPE,
      channels: 4,
      layers: 3,
      epochs: 1,
      batch: 16,
      seed: 2,
      auxWeight: 0,
      dropPath: 0,
    };
    trainModel(arch, recipe, data, join(dir, "base"), false);
    const start = join(dir, "base", "model.safetensors");
    let steps = 0;
    const tuning = (lr: number, out: string) =>
      trainModel(
        arch,
        { ...recipe, lr, weightDecay: 0 },
        data,
        join(dir, out),
        false,
        {},
        {
          init: (m) => loadModelWeights(m, start),
          perturb: (m, rng) => {
            steps++;
            return perturbWeights(
              m,
              crossbarWeights(m),
              bank(() => [6, -6]),
              1,
              rng,
            );
          },
          identity: "test",
          frozenBatchNorm: false,
        },
      ).model;
    const base = small();
    loadModelWeights(base, start);
    const frozen = tuning(0, "lr0");
    assert.ok(steps >= 7, `${steps} perturbed steps`);
    for (const n of crossbarWeights(base)) assert.deepEqual(frozen.tensor(n).data, base.tensor(n).data, n);
    const tuned = tuning(0.05, "lr");
    assert.ok(
      crossbarWeights(base).some((n) => tuned.tensor(n).data.some((v, i) => v !== base.tensor(n).data[i])),
      "a nonzero learning rate moves the weights",
    );
  });
});
