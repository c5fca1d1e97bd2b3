import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import {
  type DeviceModel,
  deviceToDevice,
  IdealDevice,
  PcmDevice,
  ReramDevice,
  stuckAt,
} from "../src/device/models.js";
import { deviceModelNames, registerDeviceModel } from "../src/device/registry.js";
import { ConfigError, loadPreset, mergeConfig, parseHardwareConfig } from "../src/hw/config.js";
import { Rng } from "../src/util/rng.js";
import { deviceModel } from "../src/xbar/program.js";

const N = 100_000;
const stats = (xs: Float32Array) => {
  let m = 0;
  for (const x of xs) m += x;
  m /= xs.length;
  let v = 0;
  for (const x of xs) v += (x - m) ** 2;
  return { mean: m, sd: Math.sqrt(v / (xs.length - 1)) };
};
// The standard error of a mean of N draws is σ/√N; of an SD about σ/√(2N). 5 of them is a safe band.
const near = (got: number, want: number, se: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 5 * se, `${what}: ${got} vs ${want} (±${5 * se})`);

describe("device models", () => {
  it("PCM programming matches the model's mean and σ on a large array", () => {
    const pcm = new PcmDevice();
    for (const g of [2, 12.5, 25]) {
      const p = pcm.program(new Float32Array(N).fill(g), new Rng(1));
      const s = stats(p.g);
      const x = g / 25;
      const sigma = 0.26348 + 1.965 * x - 1.1731 * x * x;
      near(s.mean, g, sigma / Math.sqrt(N), `mean at ${g} µS`);
      near(s.sd, sigma, sigma / Math.sqrt(2 * N), `σ at ${g} µS`);
    }
  });

  it("PCM drift is monotone in time and follows (t/t0)^-ν", () => {
    const pcm = new PcmDevice();
    const target = new Float32Array(10_000).fill(10);
    const p = pcm.program(target, new Rng(2));
    let prev = Number.POSITIVE_INFINITY;
    for (const t of [1, 20, 60, 3600, 86400, 3.15e7]) {
      const g = pcm.drift(p, target, t, new Rng(3));
      const m = stats(g).mean;
      assert.ok(m <= prev + 1e-9, `mean conductance does not grow: t=${t}`);
      prev = m;
      for (let i = 0; i < 100; i++) {
        const expected = t <= 20 ? p.g[i]! : p.g[i]! * (t / 20) ** -p.nu![i]!;
        assert.ok(Math.abs(g[i]! - expected) <= 1e-5 * expected + 1e-7);
      }
    }
    // mean ν at x = 0.4: −0.0155·ln 0.4 + 0.0244 = 0.0386 → clamped to 0.049
    near(stats(p.nu!).mean, 0.049, 0.008 / Math.sqrt(10_000), "mean ν");
  });

  it("PCM read noise has the model's relative σ", () => {
    const pcm = new PcmDevice();
    const g = new Float32Array(N).fill(12.5);
    const r = pcm.read(g, g, 3600, new Rng(4));
    const q = Math.min(0.0088 / 0.5 ** 0.65, 0.2) * Math.sqrt(Math.log((3600 + 250e-9) / (2 * 250e-9)));
    near(stats(r).sd, 12.5 * q, (12.5 * q) / Math.sqrt(2 * N), "read σ");
  });

  it("ReRAM programming σ is Wan et al.'s polynomial; later times use their fits", () => {
    const reram = new ReramDevice();
    const g = 20; // x = 0.5
    const s1 = 0.348 + 16.03 * 0.5 - 43.853 * 0.25 + 45.393 * 0.125 - 16.815 * 0.0625;
    const p = reram.program(new Float32Array(N).fill(g), new Rng(5));
    near(stats(p.g).sd, s1, s1 / Math.sqrt(2 * N), "σ after 1 s");
    const day = 0.701 + 22.086 * 0.5 - 50.773 * 0.25 + 47.095 * 0.125 - 16.458 * 0.0625;
    assert.ok(Math.abs(reram.sigmaAt(g, 86400) - day) < 1e-9);
    const d = reram.drift(p, new Float32Array(N).fill(g), 86400, new Rng(6));
    near(stats(d).sd, day, day / Math.sqrt(2 * N), "σ after a day");
  });

  it("stuck-at faults occur at their rate, split between Gmin and Gmax", () => {
    const g = new Float32Array(N).fill(10);
    const { g: out, faults } = stuckAt(g, 0.01, 0.1, 25, 0.5, new Rng(7));
    near(faults, 0.01 * N, Math.sqrt(0.01 * 0.99 * N), "fault count");
    const low = out.filter((v) => v === Math.fround(0.1)).length;
    const high = out.filter((v) => v === 25).length;
    assert.equal(low + high, faults);
    near(low, faults / 2, Math.sqrt(faults / 4), "stuck at Gmin");
  });

  it("device-to-device variation is lognormal with the given σ; ideal devices change nothing", () => {
    const g = new Float32Array(N).fill(10);
    const out = deviceToDevice(g, 0.05, new Rng(8));
    const logs = out.map((v) => Math.log(v / 10));
    near(stats(logs).sd, 0.05, 0.05 / Math.sqrt(2 * N), "log σ");
    const ideal = new IdealDevice(25);
    const p = ideal.program(g);
    assert.deepEqual(ideal.read(ideal.drift(p), g), g);
  });

  it("is reproducible per seed", () => {
    const pcm = new PcmDevice();
    const t = new Float32Array(1000).fill(5);
    assert.deepEqual(pcm.program(t, new Rng(9)).g, pcm.program(t, new Rng(9)).g);
    assert.notDeepEqual(pcm.program(t, new Rng(9)).g, pcm.program(t, new Rng(10)).g);
  });

  it("a device model registered at run time (a fixture, the way an extension adds one): configured by name with its own parameters, built by the simulator's programming", () => {
    // Gaussian programming noise of a fixed σ in µS: the smallest model with a parameter.
    class FixedSigmaDevice implements DeviceModel {
      readonly name = "fixed-sigma-fixture";
      constructor(
        readonly gMax: number,
        readonly sigma: number,
      ) {}
      program(target: Float32Array, rng: Rng) {
        return { g: target.map((t) => t + this.sigma * rng.normal()), nu: null };
      }
      drift(p: { g: Float32Array }) {
        return p.g.slice();
      }
      read(g: Float32Array) {
        return g.slice();
      }
      readSigma() {
        return 0;
      }
    }
    registerDeviceModel({
      name: "fixed-sigma-fixture",
      description: "Gaussian programming noise of a fixed σ (test fixture)",
      params: z.object({ sigma: z.number().min(0).default(0.1) }).strict(),
      create: (gMax, _stages, p) => new FixedSigmaDevice(gMax, p.sigma),
    });
    assert.ok(deviceModelNames().includes("fixed-sigma-fixture"));
    const cfg = parseHardwareConfig(
      mergeConfig(loadPreset("default"), {
        device: { model: "fixed-sigma-fixture", params: { sigma: 0.5 } },
      }),
    );
    const device = deviceModel(cfg);
    assert.ok(device instanceof FixedSigmaDevice);
    assert.equal(device.gMax, cfg.conductance.gMax);
    near(
      stats(device.program(new Float32Array(N).fill(10), new Rng(11)).g).sd,
      0.5,
      0.5 / Math.sqrt(2 * N),
      "σ",
    );
    // Absent parameters take the model's defaults.
    const defaults = parseHardwareConfig(
      mergeConfig(loadPreset("default"), { device: { model: "fixed-sigma-fixture" } }),
    );
    assert.equal((deviceModel(defaults) as FixedSigmaDevice).sigma, 0.1);
    // A parameter of another model is refused by path, naming the model.
    assert.throws(
      () =>
        parseHardwareConfig(mergeConfig(loadPreset("rram"), { device: { model: "fixed-sigma-fixture" } })),
      (e: Error) =>
        e instanceof ConfigError &&
        /device\.params: .*readNoise \(model fixed-sigma-fixture\)/.test(e.message),
    );
    assert.throws(
      () =>
        registerDeviceModel({
          name: "pcm",
          description: "",
          params: z.object({}),
          create: () => new IdealDevice(1),
        }),
      /already registered/,
    );
  });

  it("an unknown device model or parameter: one message naming the field and the registered models", () => {
    assert.throws(
      () => parseHardwareConfig(mergeConfig(loadPreset("default"), { device: { model: "memristor9000" } })),
      (e: Error) =>
        e instanceof ConfigError &&
        /device\.model: unknown device model 'memristor9000'; registered: ideal, pcm, reram/.test(e.message),
    );
    assert.throws(
      () => parseHardwareConfig(mergeConfig(loadPreset("rram"), { device: { params: { readNoise: 2 } } })),
      (e: Error) =>
        e instanceof ConfigError && /device\.params\.readNoise: .*\(model reram\)/.test(e.message),
    );
  });
});
