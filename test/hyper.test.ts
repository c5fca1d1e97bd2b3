import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hardwareOf, loadPreset, mergeConfig, parseHardwareConfig } from "../src/hw/config.js";
import { costNetwork, designContext } from "../src/hw/cost.js";
import { costNode } from "../src/hw/designs.js";
import { CompileError, compileConfiguration } from "../src/hyper/compiler.js";
import { compareDeployments, hyperCost } from "../src/hyper/cost.js";
import { hyperMapping, hyperSimulator } from "../src/hyper/deploy.js";
import { hyperHardware } from "../src/hyper/hardware.js";
import { CENTRE_TAPS, configuredNetwork } from "../src/hyper/network.js";
import { configurationRegisters, reconfigure } from "../src/hyper/reconfigure.js";
import { hyperSweep, RATIO_METRICS } from "../src/hyper/sweep.js";
import {
  checkEquivalence,
  compareUnderNoise,
  LOSSLESS,
  randomImages,
  randomModel,
  welchTest,
} from "../src/hyper/verify.js";
import { IrBuilder } from "../src/ir/builder.js";
import { buildNetwork } from "../src/ir/network.js";
import {
  type Architecture,
  architectureFromConfiguration,
  architectureFromGenotype,
  resolveArchitecture,
} from "../src/space/architecture.js";
import { CATALOGUE } from "../src/space/catalogue.js";
import { CELL_EDGES } from "../src/space/cell.js";
import { decodeConfiguration, encodeConfiguration } from "../src/space/code.js";
import { PRIMITIVES } from "../src/space/primitives.js";
import { sampleConfiguration, sampleGenotype } from "../src/space/sample.js";
import { Rng } from "../src/util/rng.js";
import { CrossbarSimulator } from "../src/xbar/simulator.js";
import { builtNetwork, runCli, SLOW_TIER } from "./helpers.js";

const SMALL = { channels: 4, layers: 3 } as const;
const EQ = { seed: 7, images: 2, imageSize: 8, lossy: false } as const;
const hw = hardwareOf(loadPreset("default"));
const { tech } = hw;

/** Catalogue architectures the variant can hold, and the reasons for the others. */
function catalogueFor(variant: "edge" | "node"): { ok: Architecture[]; rejected: string[] } {
  const ok: Architecture[] = [];
  const rejected: string[] = [];
  for (const e of CATALOGUE) {
    const a = resolveArchitecture(e.name);
    try {
      compileConfiguration({ ...SMALL, variant }, a);
      ok.push(a);
    } catch (err) {
      assert.ok(err instanceof CompileError, `${e.name}: ${(err as Error).message}`);
      rejected.push(e.name);
    }
  }
  return { ok, rejected };
}

describe("hypernetwork configuration compiler", () => {
  it("holds every catalogue genotype in the node variant and every one with a configuration in the edge variant", () => {
    assert.equal(catalogueFor("node").rejected.length, 0);
    const edge = catalogueFor("edge");
    for (const name of edge.rejected) assert.equal(resolveArchitecture(name).configuration, null, name);
    assert.ok(edge.ok.length >= 18);
  });

  it("sets each edge slot to the configuration's op and round-trips the code", () => {
    const rng = new Rng(11);
    for (let i = 0; i < 100; i++) {
      const config = sampleConfiguration(rng);
      const c = compileConfiguration({ ...SMALL, variant: "edge" }, architectureFromConfiguration(config));
      assert.deepEqual(decodeConfiguration(c.code!), config);
      assert.equal(encodeConfiguration(decodeConfiguration(c.code!)), c.code);
      const hw = hyperHardware({ ...SMALL, variant: "edge" });
      for (const s of c.settings) {
        const type = hw.cells[s.slot.cell]!.reduction ? "reduce" : "normal";
        assert.equal(s.op, PRIMITIVES[config[type][s.slot.edge!]!]);
        assert.equal(s.unit === null, s.op === "none");
        // Exactly one unit powered on an active slot, none on an open one.
        const on = c.switches.filter((w) => w.name.startsWith(`${s.slot.path}.power.`) && w.value === "on");
        assert.equal(on.length, s.unit ? 1 : 0);
      }
    }
  });

  it("rejects a node with three inputs on the node variant, naming the node and the fix", () => {
    const normal = new Array(14).fill(0);
    for (const e of CELL_EDGES) if (e.to === 3) normal[e.index] = 4; // node 3 ← 0, 1, 2
    for (const e of CELL_EDGES) if (e.to !== 3 && e.from < 2) normal[e.index] = 3;
    const arch = architectureFromConfiguration({ normal, reduce: normal });
    assert.throws(
      () => compileConfiguration({ ...SMALL, variant: "node" }, arch),
      (e: Error) =>
        e instanceof CompileError &&
        /node 3 has 3 inputs/.test(e.message) &&
        /--variant edge/.test(e.message),
    );
    assert.doesNotThrow(() => compileConfiguration({ ...SMALL, variant: "edge" }, arch));
  });

  it("programs 3×3 depthwise kernels into the centre taps of 25-tap arrays", () => {
    const c = compileConfiguration({ ...SMALL, variant: "edge" }, resolveArchitecture("DARTS_V2"));
    const net = configuredNetwork(c);
    const dws = net.nodes.filter((n) => n.kind === "conv" && n.groups > 1);
    assert.ok(dws.length > 0);
    for (const n of dws) {
      if (n.kind !== "conv") continue;
      assert.equal(n.k, 5);
      const embedded = c.plan.find((s) => s.target === n.param)!.embed;
      assert.deepEqual(n.taps, embedded ? CENTRE_TAPS : undefined);
      if (embedded) assert.equal(n.pad, 2 * n.dilation);
    }
  });
});

describe("hypernetwork ≡ individual deployment", () => {
  it("computes bit-identical logits for every catalogue genotype (both variants), ideal devices, lossless ADC", () => {
    for (const variant of ["edge", "node"] as const)
      for (const a of catalogueFor(variant).ok) {
        const r = checkEquivalence({ ...SMALL, variant }, a, EQ);
        assert.ok(r.identical, `${variant} ${a.label}`);
        assert.ok(r.floatMaxAbsDiff <= 1e-5, `${variant} ${a.label} float ${r.floatMaxAbsDiff}`);
      }
  });

  it(
    "computes bit-identical logits for 50 random edge-complete configurations and 10 random genotypes",
    SLOW_TIER,
    () => {
      const rng = new Rng(2024);
      for (let i = 0; i < 50; i++) {
        const a = architectureFromConfiguration(sampleConfiguration(rng));
        assert.ok(checkEquivalence({ ...SMALL, variant: "edge" }, a, { ...EQ, seed: i }).identical, a.label);
      }
      for (let i = 0; i < 10; i++) {
        const a = architectureFromGenotype(`g${i}`, sampleGenotype(rng));
        assert.ok(checkEquivalence({ ...SMALL, variant: "node" }, a, { ...EQ, seed: i }).identical, a.label);
      }
    },
  );

  it("reports, not hides, the difference a lossy ADC makes between the two layouts", () => {
    const r = checkEquivalence({ channels: 16, layers: 3, variant: "edge" }, resolveArchitecture("PDARTS"), {
      ...EQ,
      lossy: true,
    });
    assert.ok(r.identical);
    // 16 channels: 14 per individual 3×3 array, 5 per 25-tap array, so ranges differ.
    assert.ok(r.lossyAdc.maxAbsDiff > 0);
    assert.ok(r.lossyAdc.top1Agreement >= 0.5);
  });

  it("drives no gated row: a 3×3 kernel's arrays drive only centre taps", () => {
    const spec = { ...SMALL, variant: "edge" } as const;
    const arch = resolveArchitecture("PDARTS");
    const model = randomModel(spec, arch, 3, 8);
    const ind = new CrossbarSimulator(model, LOSSLESS);
    ind.calibrate(randomImages(2, 8, 4));
    const hyp = hyperSimulator(compileConfiguration(spec, arch), ind);
    const layout = hyperMapping(LOSSLESS).layout;
    let checked = 0;
    for (const l of hyp.layers.values()) {
      if (!l.taps) continue;
      const arrays = layout(l);
      const rows = arrays.flatMap((a) => [...a.rows]);
      assert.equal(rows.length, 9 * l.geom.oc);
      for (const r of rows) assert.ok(CENTRE_TAPS.includes(r % 25));
      assert.ok(arrays.every((a) => a.outputs.length <= 5));
      checked++;
    }
    assert.ok(checked > 0);
  });

  it("gives statistically indistinguishable errors under PCM noise (fresh devices per trial)", () => {
    const cfg = parseHardwareConfig(mergeConfig(loadPreset("pcm"), { adc: { bits: null } }));
    const r = compareUnderNoise({ ...SMALL, variant: "edge" }, resolveArchitecture("PDARTS"), cfg, 8, {
      seed: 5,
      images: 2,
      imageSize: 8,
    });
    assert.ok(r.individual.every((e) => e > 0) && r.hyper.every((e) => e > 0));
    assert.ok(Math.abs(r.t) < 3.5, `Welch t = ${r.t}`);
  });
});

describe("hypernetwork cost", () => {
  it("is larger in area than individual deployment for every catalogue genotype, and its area does not depend on the architecture", () => {
    for (const variant of ["edge", "node"] as const) {
      const archs = catalogueFor(variant).ok;
      const rows = compareDeployments({ channels: 16, layers: 8, variant }, archs, hw);
      for (const r of rows) {
        assert.ok(r.areaRatio >= 1, `${variant} ${r.genotype} area ×${r.areaRatio}`);
        assert.equal(r.hyper.areaMm2, rows[0]!.hyper.areaMm2);
        assert.ok(r.latencyRatio >= 1 && r.energyRatio >= 1, r.genotype);
        // Each side's area by component adds up to its area (float sums: 1e-9 relative).
        for (const side of ["individual", "hyper"] as const) {
          const sum = Object.values(r.areaMm2ByComponent[side]).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - r[side].areaMm2) <= 1e-9 * r[side].areaMm2, `${r.genotype} ${side}`);
        }
      }
    }
  });

  it("adds each MUX's energy and delay on the path: hand-computed for one route", () => {
    const c = compileConfiguration(
      { channels: 16, layers: 8, variant: "node" },
      resolveArchitecture("PDARTS"),
    );
    const net = configuredNetwork(c);
    const route = net.nodes.find((n) => n.kind === "route" && n.stages > 1)!;
    assert.equal(route.kind, "route");
    if (route.kind !== "route") return;
    const cost = costNode(route, designContext(net, hw));
    const elems = route.shape.c * route.shape.h * route.shape.w;
    assert.equal(cost.energyPj.mux, elems * 8 * route.stages * tech.switches.muxEnergy);
    assert.equal(cost.latencyNs, route.shape.h * route.shape.w * route.stages * tech.switches.muxDelay);
  });

  it("spends on the configured path what the architecture's own network spends, plus routing and switches", () => {
    const arch = resolveArchitecture("DARTS_V1");
    const c = compileConfiguration({ channels: 16, layers: 8, variant: "edge" }, arch);
    const h = hyperCost(c, hw);
    const own = costNetwork(buildNetwork(arch, { channels: 16, layers: 8 }), hw);
    const ownNoRouting = own.energyUj - own.breakdown.energyUjByComponent.routing;
    const active = costNetwork(configuredNetwork(c), hw);
    // Same crossbar conversions on both (row gating changes driven rows, not columns read).
    assert.equal(active.conversionsPerImage, own.conversionsPerImage);
    assert.ok(h.energyUj > ownNoRouting);
    assert.ok(h.activeArrays >= own.arrays);
  });
});

describe("hypernetwork reconfiguration", () => {
  const spec = { channels: 16, layers: 8, variant: "edge" } as const;
  it("changes nothing to stay on the same architecture", () => {
    const a = compileConfiguration(spec, resolveArchitecture("PDARTS"));
    const r = reconfigure(a, a, resolveArchitecture("PDARTS"), hw, (x, y) => x === y);
    assert.equal(r.switchChanges.length, 0);
    assert.equal(r.arraysRewritten, 0);
    assert.equal(r.writeEnergyUj, 0);
  });

  it("rewrites every array the target uses when the weights differ, and counts switch changes", () => {
    const to = resolveArchitecture("PDARTS");
    const a = compileConfiguration(spec, resolveArchitecture("DARTS_V2"));
    const b = compileConfiguration(spec, to);
    const r = reconfigure(a, b, to, hw);
    const before = new Map(a.switches.map((s) => [s.name, s.value]));
    const changed = b.switches.filter((s) => before.get(s.name) !== s.value).length;
    const dropped = a.switches.filter((s) => !b.switches.some((t) => t.name === s.name)).length;
    assert.equal(r.switchChanges.length, changed + dropped);
    assert.equal(r.arraysRewritten, r.arraysTotal);
    const own = costNetwork(buildNetwork(to, spec), hw);
    // The same weights are written on either hardware.
    assert.equal(r.deviceWrites, own.programming.cells);
  });

  it("with the supernet's shared weights writes no device, only switches and registers over the configuration bus", () => {
    const to = resolveArchitecture("PDARTS");
    const a = compileConfiguration(spec, resolveArchitecture("DARTS_V2"));
    const b = compileConfiguration(spec, to);
    const r = reconfigure(a, b, to, hw, "shared");
    assert.equal(r.deviceWrites, 0);
    assert.equal(r.arraysRewritten, 0);
    assert.equal(r.writeEnergyUj, 0);
    assert.equal(r.switchChanges.length, reconfigure(a, b, to, hw).switchChanges.length);
    // Every switch holds at least one bit; a MUX over n inputs and "open" ⌈log2(n+1)⌉.
    assert.ok(r.switchBits >= r.switchChanges.filter((c) => c.to !== null).length);
    // An edge slot's output MUX chooses among 3 units (universal, pool, identity or FR) or none: 2 bits.
    const outs = b.switches.filter((w) => w.name.endsWith(".mux.out"));
    assert.equal(outs.length, 8 * 14);
    for (const sw of outs) assert.equal(sw.bits, 2, sw.name);
    // 16-bit registers and switch bits at 0.02 pJ per bit; 64 bits per 1 ns cycle.
    const bits = r.switchBits + 16 * r.registers.total;
    assert.ok(Math.abs(r.configurationWriteEnergyUj - bits * 0.02e-6) <= 1e-12 * bits);
    assert.ok(Math.abs(r.configurationWriteTimeUs - Math.ceil(bits / 64) / 1000) < 1e-12);
    // On the parallel analog platform the per-channel registers are the neurons' 8-bit trims.
    const analog = reconfigure(a, b, to, hardwareOf(loadPreset("analog-chain")), "shared");
    const { perChannel, perLayer, perArray } = analog.registers;
    const analogBits = analog.switchBits + 8 * perChannel + 16 * (perLayer + perArray);
    assert.ok(Math.abs(analog.configurationWriteEnergyUj - analogBits * 0.02e-6) <= 1e-12 * analogBits);
  });

  it("counts a network's periphery registers by hand: merged conv batch norm, standalone batch norm, input scales, ADC ranges", () => {
    const b = new IrBuilder();
    const scope = { path: "n", part: "op" } as const;
    const x = b.input({ c: 3, h: 8, w: 8 });
    const conv = b.bn(b.conv(x, scope, "c", { outC: 8, k: 3, pad: 1 }), scope, "c_bn");
    const pooled = b.bn(b.pool("maxpool", conv, scope, 3, 1, 1), scope, "p_bn");
    const logits = b.linear(b.globalPool(pooled, scope), scope, "fc", 10);
    const r = configurationRegisters(builtNetwork(b, x, logits), 5);
    // conv: 8 scales + 8 offsets (its batch norm merged in); pool's batch norm 8 + 8; linear 10 + 10.
    assert.deepEqual(r, { perChannel: 52, perLayer: 2, perArray: 5, total: 59 });
  });
});

describe("Welch's t-test", () => {
  it("gives the hand-computed statistic and degrees of freedom, p = 1 for equal means, small p for far means", () => {
    // Means 3 and 6, variances 2.5 and 10 over 5 samples: se² = 0.5 + 2 = 2.5.
    const r = welchTest([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]);
    assert.ok(Math.abs(r.t - -3 / Math.sqrt(2.5)) < 1e-12);
    assert.ok(Math.abs(r.df - 6.25 / (0.25 / 4 + 4 / 4)) < 1e-12);
    assert.ok(r.p > 0.05 && r.p < 0.2, `p ${r.p}`);
    assert.equal(welchTest([1, 2, 3], [3, 2, 1]).p, 1);
    assert.ok(welchTest([1, 1.1, 0.9, 1.05], [5, 5.1, 4.9, 5.05]).p < 1e-6);
  });
});

describe("hyper CLI", () => {
  const run = (...args: string[]) => runCli("hyper", ...args);

  it("config --json gives the 21-hex-digit code and the switches", () => {
    const r = run("config", "DARTS_V2", "--json");
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.code, resolveArchitecture("DARTS_V2").code);
    assert.match(o.code, /^[0-9a-f]{21}$/);
    assert.ok(o.switches.length > 100);
  });

  it("verify --json checks the catalogue and random samples with no mismatch", SLOW_TIER, () => {
    const r = run(
      "verify",
      "--samples",
      "3",
      "--channels",
      "4",
      "--layers",
      "3",
      "--image-size",
      "8",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.checked, catalogueFor("edge").ok.length + 3);
    assert.equal(o.mismatches, 0);
  });

  it("compare --json gives the ratio fields for each genotype", () => {
    const r = run("compare", "--genotypes", "DARTS_V1,PDARTS", "--json");
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.deepEqual(
      o.rows.map((x: { genotype: string }) => x.genotype),
      ["DARTS_V1", "PDARTS"],
    );
    for (const row of o.rows)
      for (const k of ["powerRatio", "latencyRatio", "areaRatio", "energyRatio"]) assert.ok(row[k] > 0, k);
  });

  it("stats refuses a preset without device noise and fewer than 3 trials, naming the fix", () => {
    const stats = (preset: string, trials: string) =>
      run(
        "stats",
        "--genotype",
        "PDARTS",
        "--weights",
        "w.safetensors",
        "--preset",
        preset,
        "--trials",
        trials,
      );
    const q = stats("int8", "5");
    assert.notEqual(q.code, 0);
    assert.match(q.stderr, /no device noise.*rram, pcm, analog-chain.*hyper verify/);
    const t = stats("rram", "2");
    assert.notEqual(t.code, 0);
    assert.match(t.stderr, /--trials must be at least 3/);
  });

  it("config on the node variant names the node with too many inputs and exits non-zero", () => {
    const normal = new Array(14).fill(3);
    const code = encodeConfiguration({ normal, reduce: normal });
    const r = run("config", code, "--variant", "node");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /node 3 has 3 inputs/);
  });
});

describe("hypernetwork sweep", () => {
  const spec = { channels: 8, layers: 5, variant: "edge" } as const;
  it("is deterministic per seed, and each sample's ratios are those of hyper compare on its configuration", () => {
    const a = hyperSweep(spec, 6, 3, "edge", hw);
    assert.deepEqual(a, hyperSweep(spec, 6, 3, "edge", hw));
    const first = architectureFromConfiguration(sampleConfiguration(new Rng(3)));
    const [row] = compareDeployments(spec, [first], hw);
    // The sweep costs individual deployment with the whole-space evaluator (equal to 1e-9).
    for (const m of RATIO_METRICS)
      assert.ok(
        Math.abs(a.values[m][0]! - row![m]) <= 1e-9 * row![m],
        `${m}: ${a.values[m][0]} vs ${row![m]}`,
      );
    assert.ok(a.metrics.latencyRatio.p99 <= a.metrics.latencyRatio.max);
    assert.ok(a.metrics.latencyRatio.median <= a.metrics.latencyRatio.p99);
  });

  it("refuses the edge-complete view on the node variant, naming the fix", () => {
    assert.throws(
      () => hyperSweep({ ...spec, variant: "node" }, 1, 1, "edge", hw),
      /--view genotype, or --variant edge/,
    );
  });
});
