/**
 * One hardware description: the cost model prices exactly what the simulator programs, today's
 * figures stay pinned, and the parallel analog platform is priced from its components.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Model } from "../src/engine/model.js";
import { routeStagesInto } from "../src/hw/analog-designs.js";
import * as c from "../src/hw/components.js";
import {
  type Hardware,
  hardwareOf,
  loadPreset,
  mergeConfig,
  PRESETS,
  parseHardwareConfig,
} from "../src/hw/config.js";
import { type CostReport, costNetwork, designContext, designsFor } from "../src/hw/cost.js";
import { costNode } from "../src/hw/designs.js";
import { loadTech, TechError } from "../src/hw/tech.js";
import { compareDeployments } from "../src/hyper/cost.js";
import { IrBuilder } from "../src/ir/builder.js";
import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";
import { CATALOGUE } from "../src/space/catalogue.js";
import { Rng } from "../src/util/rng.js";
import { CrossbarSimulator } from "../src/xbar/simulator.js";
import { builtNetwork, randomTensor, runCli, SLOW_TIER } from "./helpers.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const preset = (name: string) => hardwareOf(loadPreset(name));
const withOver = (h: Hardware, over: unknown) => hardwareOf(parseHardwareConfig(mergeConfig(h.config, over)));
const relClose = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.abs(b);
const LEVERS_OFF = {
  layout: { arrayWidth: "tile", lineBuffers: "per-unit" },
  hypernetwork: { periphery: "per-unit", poolingLanes: null },
};

describe("default hardware: today's figures", () => {
  // Recorded from `memhyper hw report` and `memhyper hyper compare` before the hardware
  // configuration existed; the hypernetwork issue measures against exactly these.
  const pinned = JSON.parse(readFileSync(join(root, "test/fixtures/cost-baseline.json"), "utf8"));
  // Today's default with the hypernetwork issue's design levers switched off.
  const hw = withOver(preset("default"), LEVERS_OFF);
  /** Every number of `want` at its path in `got`, to float64 rounding of a reordered sum. */
  const same = (got: unknown, want: unknown, path: string): void => {
    if (typeof want === "number") {
      assert.equal(typeof got, "number", path);
      assert.ok(relClose(got as number, want, 1e-12), `${path}: ${got} vs pinned ${want}`);
    } else if (want && typeof want === "object")
      for (const [k, v] of Object.entries(want))
        same((got as Record<string, unknown>)?.[k], v, `${path}.${k}`);
    else assert.equal(got, want, path);
  };

  it("hw report reproduces the pinned reports of DARTS_V1, DARTS_V2, PDARTS at C=16 L=8 and C=36 L=20", () => {
    for (const [key, want] of Object.entries(pinned.reports)) {
      const [g, cs, ls] = key.split(" ");
      const net = buildNetwork(resolveArchitecture(g!), { channels: +cs!.slice(2), layers: +ls!.slice(2) });
      same(costNetwork(net, hw), want, key);
    }
  });

  it("with the layout levers on, individual deployment's area and energy only fall, at the same latency", () => {
    const levers = preset("default");
    for (const key of Object.keys(pinned.reports)) {
      const want = pinned.reports[key];
      const [g, cs, ls] = key.split(" ");
      const net = buildNetwork(resolveArchitecture(g!), { channels: +cs!.slice(2), layers: +ls!.slice(2) });
      const got = costNetwork(net, levers);
      assert.ok(got.areaMm2 < want.areaMm2, `${key}: area ${got.areaMm2} vs ${want.areaMm2}`);
      assert.ok(got.energyUj <= want.energyUj, `${key}: energy ${got.energyUj} vs ${want.energyUj}`);
      assert.ok(relClose(got.latencyUs, want.latencyUs, 1e-12), `${key}: latency`);
    }
  });

  it("hyper compare reproduces the pinned ratios of both variants at both sizes", () => {
    const archs = ["DARTS_V1", "DARTS_V2", "PDARTS"].map((g) => resolveArchitecture(g));
    for (const [key, want] of Object.entries(pinned.compare)) {
      const [variant, cs, ls] = key.split(" ");
      const spec = { variant: variant as "edge" | "node", channels: +cs!.slice(2), layers: +ls!.slice(2) };
      same(compareDeployments(spec, archs, hw), want, key);
    }
  });
});

describe("one mapper", () => {
  const catalogue = CATALOGUE.map((e) => resolveArchitecture(e.name));
  // default, int8 and analog-chain here; rram, rram-robust and pcm in the slow tier (npm test's
  // time budget).
  for (const name of PRESETS.filter((p) => p !== "fp32"))
    it(
      `${name}: every catalogue genotype's cost report has, layer by layer, the simulator's arrays, devices and conversions`,
      name === "pcm" || name === "rram" || name === "rram-robust" ? SLOW_TIER : {},
      () => {
        const hw = preset(name);
        const images = randomTensor([2, 3, 8, 8], new Rng(3));
        let layers = 0;
        for (const arch of catalogue) {
          const net = buildNetwork(arch, { channels: 4, layers: 5, imageSize: 8 });
          const cost = costNetwork(net, hw, { perLayer: true });
          const byNode = new Map(cost.layers!.map((l) => [l.node, l]));
          const sim = new CrossbarSimulator(new Model(net, 1), hw.config).calibrate(images);
          sim.program(1, 0, images, true);
          for (const [id, l] of sim.layers) {
            const p = sim.programmedLayer(id)!;
            const priced = byNode.get(id)!;
            const where = `${arch.label} ${l.name}`;
            assert.equal(priced.arrays, p.arrays, `${where}: arrays`);
            assert.equal(priced.devices, p.devices, `${where}: devices`);
            const positions = l.geom.oh * l.geom.ow;
            // Every column of every array is converted once per DAC phase and position; the
            // parallel analog platform converts only the logits.
            const simulated = hw.config.analogChain.enabled
              ? net.nodes[id]!.kind === "linear"
                ? l.geom.oc
                : 0
              : positions * p.planeWeight.length * p.colOut.length;
            assert.equal(priced.conversions, simulated, `${where}: conversions`);
            layers++;
          }
        }
        assert.ok(layers > 30 * catalogue.length, `${layers} layers`);
      },
    );

  it("a tile width that is not a multiple of the columns per weight (3-bit cells): whole weights per array", () => {
    const hw = withOver(preset("default"), { conductance: { cellBits: 3 } }); // 2·⌈7/3⌉ = 6 columns
    const b = new IrBuilder();
    const x = b.input({ c: 200, h: 4, w: 4 });
    const y = b.conv(x, { path: "pw", part: "op" }, "pw", { outC: 64, k: 1 });
    const net = builtNetwork(b, x, y);
    const l = costNode(net.nodes[1]!, designContext(net, hw));
    // ⌊128/6⌋ = 21 outputs per array: 64 outputs on 4 column groups × 2 row tiles.
    assert.equal(l.arrays, 8);
    assert.equal(l.devices, 200 * 64 * 6);
  });
});

describe("parallel analog platform", () => {
  const analog = preset("analog-chain");
  const t = analog.tech;
  const net = buildNetwork(resolveArchitecture("PDARTS"), { channels: 8, layers: 5 });
  const report = (h: Hardware): CostReport => costNetwork(net, h, { perLayer: true });

  it("has no ADC but the bank at the logits and no DAC but at the image", () => {
    const r = report(analog);
    for (const l of r.layers!) {
      if (l.adcs) assert.equal(l.op, "classifier", `${l.scope} has ADCs`);
      if (l.dacs) assert.equal(l.op, "stem", `${l.scope} has DACs`);
    }
    assert.equal(r.adcs, 10);
    assert.equal(r.conversionsPerImage, 10);
    // One DAC per driven row of the stem's one array (3C = 24 outputs fit): 3 channels × 3 × 3 taps.
    assert.equal(r.dacs, 27);
    for (const k of ["sampleHold", "shiftAdd", "digital"] as const)
      assert.equal(r.breakdown.areaMm2ByComponent[k], 0, k);
    for (const k of ["amplifier", "analogUnit", "analogStorage", "wire", "mux"] as const)
      assert.ok(r.breakdown.energyUjByComponent[k] > 0, k);
  });

  it("its latency grows with switch resistance and wire length and falls with spatial parallelism", () => {
    const base = report(analog).latencyUs;
    const techFile = join(mkdtempSync(join(tmpdir(), "mh-switch-")), "slow-switch.json");
    writeFileSync(
      techFile,
      JSON.stringify({
        base: "neurosim-22nm",
        analog: { switch: { rOn: { value: 200000, unit: "ohm", source: "test: a weak switch" } } },
      }),
    );
    assert.ok(report(withOver(analog, { tech: techFile })).latencyUs > base, "switch resistance");
    assert.ok(
      report(withOver(analog, { analogChain: { stageWireLength: 2000 } })).latencyUs > base,
      "wire length",
    );
    const parallel = report(withOver(analog, { analogChain: { spatialParallelism: 4 } }));
    assert.ok(parallel.latencyUs < base, "spatial parallelism");
    assert.equal(parallel.arrays, 4 * report(analog).arrays);
  });

  it("hand-computed components at the shipped 22 nm values", () => {
    // gm = 2π·50 fF·8·100 MHz = 2.513e-4 S; Id = gm/16 per branch, 2 branches; P = 1.1 V·Id.
    const gm = 2 * Math.PI * 50e-15 * 8 * 100e6;
    assert.ok(relClose(c.amplifierPowerMw(t, 100), 1.1 * ((gm / 16) * 2) * 1e3, 1e-12));
    assert.ok(relClose(c.amplifierPowerMw(t, 100), 0.0345575, 1e-5));
    // 20 nV/√Hz over π/2·100 MHz, noise gain 8, against a 0.4 V swing: 5.013e-3.
    assert.ok(
      relClose(c.amplifierNoiseRelative(t, 100), (20e-9 * Math.sqrt((Math.PI / 2) * 1e8) * 8) / 0.4, 1e-12),
    );
    assert.ok(relClose(c.amplifierNoiseRelative(t, 100), 5.0133e-3, 1e-4));
    // 100 µm of wire (1160 Ω, 20 fF) behind one switch (2 kΩ, 1 fF) into 50 fF:
    // 2000·(1 + 20 + 50) + 1160·(10 + 50) = 211,600 fs.
    assert.ok(relClose(c.stageRcNs(t, 100, 1), 0.2116, 1e-12));
    assert.ok(relClose(c.stageSettleNs(t, 100, 100, 1), 5 * (1e3 / (2 * Math.PI * 100) + 0.2116), 1e-12));
    // kT/C of 20 fF: 0.455 mV rms against 0.4 V; 1 fA into 20 fF droops 0.05 V/s.
    assert.ok(relClose(c.holdNoiseRelative(t), Math.sqrt((1.380649e-23 * 300) / 20e-15) / 0.4, 1e-12));
    assert.ok(relClose(c.holdDroopPerNs(t), 1e-15 / 20e-15 / 0.4 / 1e9, 1e-12));
    // MNSIM's 8-bit DAC: 0.4992 mW at 1 GS/s = 0.4992 pJ per conversion.
    assert.ok(relClose(c.multiBitDacEnergyPj(t, 8), 0.4992, 1e-12));
  });

  it("hand-computed layers: a 3×3 conv, a max pool, a node sum, an analog MUX", () => {
    const b = new IrBuilder();
    const x = b.input({ c: 4, h: 8, w: 8 });
    const pw = b.conv(x, { path: "pw", part: "op" }, "pw", { outC: 4, k: 1 });
    const conv = b.conv(pw, { path: "conv", part: "op" }, "conv", { outC: 8, k: 3, pad: 1 });
    const pool = b.pool("maxpool", conv, { path: "p", part: "op" }, 3, 1, 1);
    const sum = b.add([conv, pool], [false, false], { path: "s", part: "op" });
    const net = builtNetwork(b, x, sum);
    const ctx = designContext(net, analog);
    const amp = c.amplifierPowerMw(t, 100);
    const side = c.arraySideUm(t, 128);
    const settle = c.stageSettleNs(t, 100, 50 + side, 1);

    const l = costNode(net.nodes[conv]!, ctx, designsFor(analog.config));
    // 8 outputs × 2 slices of TIAs (row tiles summed on their inputs) + 8 slice-summing amplifiers.
    assert.equal(l.amplifiers, 24);
    assert.ok(relClose(l.staticMw.amplifier, 24 * amp, 1e-12));
    assert.ok(relClose(l.areaUm2.amplifier, 24 * 40, 1e-12));
    // Line buffer: 3 rows × 8 columns × 4 channels of 20 fF hold cells (10 µm² each).
    assert.ok(relClose(l.lineBuffer!.areaUm2.analogStorage, 96 * 10, 1e-12));
    assert.ok(relClose(l.lineBuffer!.energyPj.analogStorage, 256 * 20e-3 * 1.1 ** 2, 1e-12));
    // First output after rows 0–1 and column 1 of row 1: 8 + 1 + 1 = 10 positions, then its own cycle.
    assert.equal(l.fillCycles, 11);
    assert.ok(relClose(l.settleNs, settle, 1e-12));
    assert.equal(l.adcs + l.dacs, 0);
    // The 1×1 conv reads the image: one 8-bit DAC per driven row (4), one conversion per row and position.
    const first = costNode(net.nodes[pw]!, ctx, designsFor(analog.config));
    assert.equal(first.dacs, 4);
    assert.ok(relClose(first.energyPj.dac, 256 * 0.4992, 1e-12));

    const p = costNode(net.nodes[pool]!, ctx, designsFor(analog.config));
    // A 9-input winner-take-all per channel, 1 µA per input branch at 1.1 V.
    assert.ok(relClose(p.areaUm2.analogUnit, 8 * 9 * 4, 1e-12));
    assert.ok(relClose(p.staticMw.analogUnit, 8 * 9 * 1e-3 * 1.1, 1e-12));
    assert.ok(relClose(p.settleNs, c.stageSettleNs(t, 100, 50, 1), 1e-12));

    const s = costNode(net.nodes[sum]!, ctx, designsFor(analog.config));
    assert.equal(s.amplifiers, 8);
    assert.equal(s.fillCycles, 1);
  });

  it("hand-computed layers: ReLU clamps, an average pool, global pooling and the ADC bank at the logits", () => {
    const b = new IrBuilder();
    const x = b.input({ c: 4, h: 8, w: 8 });
    const pw = b.conv(x, { path: "pw", part: "op" }, "pw", { outC: 6, k: 1 });
    const relu = b.relu(pw, { path: "r", part: "op" });
    const avg = b.pool("avgpool", relu, { path: "a", part: "op" }, 3, 1, 1);
    const gap = b.globalPool(avg, { path: "global_pooling", part: "head" });
    const fc = b.linear(gap, { path: "classifier", part: "head" }, "classifier", 10);
    const net = builtNetwork(b, x, fc);
    const ctx = designContext(net, analog);
    const designs = designsFor(analog.config);
    const amp = c.amplifierPowerMw(t, 100);
    // A 2-transistor clamp per channel, nothing on the path.
    const r = costNode(net.nodes[relu]!, ctx, designs);
    assert.equal(r.areaUm2.analogUnit, 6 * 2);
    assert.equal(r.settleNs + r.fillCycles, 0);
    // A summing amplifier per channel, 3 switched divisor taps, a 3-row line buffer.
    const a = costNode(net.nodes[avg]!, ctx, designs);
    assert.equal(a.amplifiers, 6);
    assert.ok(relClose(a.staticMw.amplifier, 6 * amp, 1e-12));
    assert.ok(relClose(a.areaUm2.mux, 6 * 3 * 0.1 + 6 * 1 * 0.1, 1e-12)); // divisor taps + stage switch
    assert.ok(relClose(a.lineBuffer!.areaUm2.analogStorage, 3 * 8 * 6 * 10, 1e-12));
    // An integrator per channel: its first (only) output after the whole 8×8 map.
    const g = costNode(net.nodes[gap]!, ctx, designs);
    assert.equal(g.amplifiers, 6);
    assert.equal(g.fillCycles, 64 + 1);
    // The classifier: 10 outputs × 2 slices of TIAs + 10 slice sums; the bank of 10 8-bit ADCs.
    const f = costNode(net.nodes[fc]!, ctx, designs);
    assert.equal(f.amplifiers, 30);
    assert.equal(f.adcs, 10);
    assert.equal(f.conversions, 10);
    assert.ok(relClose(f.energyPj.adc, 10 * c.adcEnergyPj(t, 8), 1e-12));
  });

  it("an analog MUX adds its pass gates to the next stage's settling (hypernetwork, node variant)", async () => {
    const { compileConfiguration } = await import("../src/hyper/compiler.js");
    const { configuredNetwork } = await import("../src/hyper/network.js");
    const hyper = configuredNetwork(
      compileConfiguration({ channels: 8, layers: 5, variant: "node" }, resolveArchitecture("PDARTS")),
    );
    const ctx = designContext(hyper, analog);
    const route = hyper.nodes.find((n) => n.kind === "route" && n.stages > 1)!;
    if (route.kind !== "route") throw new Error("no route");
    const r = costNode(route, ctx, designsFor(analog.config));
    assert.ok(relClose(r.areaUm2.mux, route.shape.c * route.switches * 0.1, 1e-12));
    // The first stage behind a MUX settles through the MUX's pass gates and its own switch.
    const reader = hyper.nodes.find((n) => n.kind === "conv" && routeStagesInto(n, hyper) > 1);
    assert.ok(reader, "a convolution behind a multi-stage MUX");
    const stages = routeStagesInto(reader, hyper);
    const after = costNode(reader, ctx, designsFor(analog.config));
    assert.ok(
      relClose(after.settleNs, c.stageSettleNs(t, 100, 50 + c.arraySideUm(t, 128), 1 + stages), 1e-12),
    );
    assert.ok(after.settleNs > c.stageSettleNs(t, 100, 50 + c.arraySideUm(t, 128), 1));
  });
});

describe("parallel analog platform: per-column gain and offset trims", () => {
  const analog = preset("analog-chain");
  // Per column: the 20 µm² resistor bank, 8 bypass switches of 0.1 µm², MNSIM's 8-bit DAC of
  // 21.248 µm², two 8-bit registers of 0.2 µm² per bit.
  const columnUm2 = 20 + 8 * 0.1 + 21.248 + 2 * 8 * 0.2;
  // The DAC's 4 µA reference at 1.1 V, 8 switches leaking 10 pA, 16 register bits leaking 10 pW.
  const columnMw = 4 * 1.1 * 1e-3 + 8 * 10e-12 * 1.1 * 1e3 + 16 * 1e-5 * 1e-3;

  it("hand-computed: a 3×3 conv of 8 outputs has 8 trims, off the signal path", () => {
    const b = new IrBuilder();
    const x = b.input({ c: 4, h: 8, w: 8 });
    const pw = b.conv(x, { path: "pw", part: "op" }, "pw", { outC: 4, k: 1 });
    const conv = b.conv(pw, { path: "conv", part: "op" }, "conv", { outC: 8, k: 3, pad: 1 });
    const net = builtNetwork(b, x, conv);
    const l = costNode(net.nodes[conv]!, designContext(net, analog), designsFor(analog.config));
    assert.ok(relClose(l.areaUm2.trim, 8 * columnUm2, 1e-12));
    assert.ok(relClose(l.staticMw.trim, 8 * columnMw, 1e-12));
    assert.ok(
      relClose(l.settleNs, c.stageSettleNs(analog.tech, 100, 50 + c.arraySideUm(analog.tech, 128), 1), 1e-12),
    );
  });

  it("individual deployment: one trim per output channel of every weight layer, none on the digital platform", () => {
    const net = buildNetwork(resolveArchitecture("PDARTS"), { channels: 16, layers: 8 });
    let channels = 0;
    for (const n of net.nodes)
      if (n.scope.part !== "aux" && (n.kind === "conv" || n.kind === "linear"))
        channels += n.kind === "conv" ? n.outC : n.outF;
    const r = costNetwork(net, analog);
    assert.ok(relClose(r.breakdown.areaMm2ByComponent.trim, (channels * columnUm2) / 1e6, 1e-9));
    assert.equal(costNetwork(net, preset("default")).breakdown.areaMm2ByComponent.trim, 0);
  });
});

describe("bad hardware input", () => {
  const dir = mkdtempSync(join(tmpdir(), "mh-hw-"));
  it("a component missing from a technology file names its path", () => {
    const p = join(dir, "no-wire.json");
    writeFileSync(p, JSON.stringify({ base: "neurosim-22nm", analog: { wire: null } }));
    assert.throws(
      () => loadTech(p),
      (e: Error) => e instanceof TechError && /analog\.wire: .*expected object/.test(e.message),
    );
  });

  const cli = runCli;

  it("cost commands reject fp32, which describes no hardware, with one clear message", () => {
    const r = cli("hw", "report", "--genotype", "PDARTS", "--preset", "fp32");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /preset fp32 is the float network and describes no hardware/);
  });

  it("hw report --preset analog-chain --json: today's keys, the analog components, the resolved configuration", () => {
    const r = cli("hw", "report", "--genotype", "DARTS_V1", "--preset", "analog-chain", "--json");
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    for (const k of [
      "areaMm2",
      "energyUj",
      "latencyUs",
      "throughputImgPerSec",
      "powerMw",
      "arrays",
      "breakdown",
    ])
      assert.ok(k in o, k);
    assert.equal(o.platform, "parallel-analog");
    assert.ok(o.breakdown.energyUjByComponent.amplifier > 0);
    assert.ok(o.breakdown.energyUjByOp.sep_conv_3x3 > 0);
    assert.equal(o.hardware.name, "analog-chain");
    assert.equal(o.hardware.conductance.gMax, 25);
  });
});
