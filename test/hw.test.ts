import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hardwareOf, loadPreset, mergeConfig, parseHardwareConfig } from "../src/hw/config.js";
import { costNetwork, designContext } from "../src/hw/cost.js";
import { costNode } from "../src/hw/designs.js";
import { SpaceCostModel } from "../src/hw/space-cost.js";
import { histogramSvg, SWEEP_LABELS, sweep } from "../src/hw/sweep.js";
import { loadTech, SHIPPED_TECH, TechError } from "../src/hw/tech.js";
import { IrBuilder } from "../src/ir/builder.js";
import type { Network } from "../src/ir/graph.js";
import { buildNetwork } from "../src/ir/network.js";
import { architectureFromConfiguration, resolveArchitecture } from "../src/space/architecture.js";
import { genotypeToConfiguration } from "../src/space/genotype.js";
import { sampleConfiguration, sampleGenotype } from "../src/space/sample.js";
import { Rng } from "../src/util/rng.js";
import { summarise } from "../src/util/stats.js";
import { builtNetwork } from "./helpers.js";

// 128×128 tiles, 8-bit inputs bit-serial, 8-bit weights in 4-bit cells, 8-bit ADC shared by 8 columns
const hw = hardwareOf(loadPreset("default"));
const { tech } = hw;
/** The default hardware with some fields overridden. */
const hwWith = (over: unknown) => hardwareOf(parseHardwareConfig(mergeConfig(hw.config, over)));
/** Every array a full 128×128 tile (layout.arrayWidth "tile"). */
const tiles = hwWith({ layout: { arrayWidth: "tile" } });

function oneLayer(build: (b: IrBuilder, x: number) => number, c = 4, size = 8): Network {
  const b = new IrBuilder();
  const x = b.input({ c, h: size, w: size });
  return builtNetwork(b, x, build(b, x), c);
}

describe("cost model: hand-computed cases", () => {
  it("one 3×3 conv (4 → 8 channels, 8×8) on one array", () => {
    const net = oneLayer((b, x) =>
      b.conv(x, { path: "conv", part: "op" }, "conv", { outC: 8, k: 3, pad: 1 }),
    );
    const l = costNode(net.nodes[1]!, designContext(net, tiles));
    // rows 4·3·3 = 36, columns 8 weights × 2 slices × 2 (differential) = 32: one 128×128 array.
    assert.equal(l.arrays, 1);
    assert.equal(l.usedCells, 36 * 32);
    assert.equal(l.adcs, 16); // 128 columns / 8 per ADC
    // Fitted, the array is 128 rows × 32 columns: 4 ADCs, a quarter of the tile's cells, same work.
    const fitted = costNode(net.nodes[1]!, designContext(net, hw));
    assert.equal(fitted.adcs, 4);
    assert.ok(Math.abs(fitted.areaUm2.array - l.areaUm2.array / 4) < 1e-9);
    assert.ok(Math.abs(fitted.areaUm2.adc - l.areaUm2.adc / 4) < 1e-9);
    assert.equal(fitted.latencyNs, l.latencyNs);
    assert.deepEqual(fitted.energyPj, l.energyPj);
    // 64 positions × 8 input bits × 32 columns converted
    assert.equal(l.conversions, 64 * 8 * 32);
    // SAR ADC at 8 bits: power 0.538·8 + 4.375 = 8.679 µW for (8+1)·1 ns → 0.078111 pJ per conversion
    assert.ok(Math.abs(l.energyPj.adc - 16384 * 0.078111) < 1e-6);
    // per input bit: read 10 ns × 1.4 + 8 columns × 9 ns of conversion = 86 ns; per position 8 bits + one 1-ns cycle
    assert.equal(l.latencyNs, 64 * (8 * 86 + 1));
    // cell read: 0.55² V² × ((1/100k + 1/1.7M)/2) S × 10 ns × 1.22, half the input bits active
    const cellPj = 0.3025 * ((1e-5 + 1 / 1.7e6) / 2) * 10e-9 * 1e12 * 1.22;
    assert.ok(Math.abs(l.energyPj.array - 512 * 0.5 * 1152 * cellPj) < 1e-9);
    // one 1-bit DAC per row and input bit: 3.9 µW for 1 ns
    assert.ok(Math.abs(l.energyPj.dac - 512 * 36 * 0.0039) < 1e-9);
  });

  it("partial parallel read (adc.rowsPerRead): row groups converted one after another, same arrays", () => {
    // 16 → 8 channels, 3×3: 144 rows on two row tiles (128 + 16 rows), 32 columns each.
    const net = oneLayer(
      (b, x) => b.conv(x, { path: "conv", part: "op" }, "conv", { outC: 8, k: 3, pad: 1 }),
      16,
    );
    const all = costNode(net.nodes[1]!, designContext(net, tiles));
    const groups = costNode(
      net.nodes[1]!,
      designContext(net, hwWith({ layout: { arrayWidth: "tile" }, adc: { rowsPerRead: 32 } })),
    );
    assert.equal(all.arrays, 2);
    assert.equal(all.conversions, 64 * 8 * 2 * 32);
    // 128 rows in 4 reads of 32, 16 rows in 1: 5 reads of 32 columns per input bit.
    assert.equal(groups.conversions, 64 * 8 * 5 * 32);
    // The 128-row array reads 4 times per input bit: 4 × (14 + 8 × 9) ns.
    assert.equal(all.latencyNs, 64 * (8 * 86 + 1));
    assert.equal(groups.latencyNs, 64 * (8 * 4 * 86 + 1));
    for (const k of ["adc", "shiftAdd", "sampleHold"] as const)
      assert.ok(Math.abs(groups.energyPj[k] - (all.energyPj[k] * 5) / 2) < 1e-9 * all.energyPj[k], k);
    for (const k of ["array", "dac"] as const) assert.equal(groups.energyPj[k], all.energyPj[k], k);
    assert.deepEqual([groups.arrays, groups.adcs, groups.usedCells], [all.arrays, all.adcs, all.usedCells]);
    assert.deepEqual(groups.areaUm2, all.areaUm2);
    assert.throws(
      () => hwWith({ adc: { rowsPerRead: 256 } }),
      /adc.rowsPerRead: reads at most the tile's 128 rows/,
    );
    assert.throws(
      () => hwWith({ analogChain: { enabled: true }, adc: { rowsPerRead: 64 } }),
      /adc.rowsPerRead: the parallel analog platform reads every row at once/,
    );
  });

  it("analog pair subtraction: one bipolar conversion per pair halves conversions, ADCs, ADC energy and their area", () => {
    const net = oneLayer((b, x) =>
      b.conv(x, { path: "conv", part: "op" }, "conv", { outC: 8, k: 3, pad: 1 }),
    );
    const digital = costNode(net.nodes[1]!, designContext(net, tiles));
    const analog = costNode(
      net.nodes[1]!,
      designContext(net, hwWith({ layout: { arrayWidth: "tile" }, adc: { pairSubtraction: "analog" } })),
    );
    // 8 weights × 2 slices = 16 pair currents per input bit; 128 columns = 64 pairs / 8 per ADC.
    assert.equal(analog.conversions, 64 * 8 * 16);
    assert.equal(analog.adcs, 8);
    assert.equal(analog.arrays, digital.arrays);
    assert.equal(analog.usedCells, digital.usedCells);
    assert.ok(Math.abs(analog.energyPj.adc - digital.energyPj.adc / 2) < 1e-9);
    assert.ok(Math.abs(analog.areaUm2.adc - digital.areaUm2.adc / 2) < 1e-9);
    // Each ADC still converts 8 inputs per input bit: the same latency.
    assert.equal(analog.latencyNs, digital.latencyNs);
  });

  it("a 1×1 conv whose 200 output columns need two column tiles and rows over two row tiles", () => {
    const net = oneLayer((b, x) => b.conv(x, { path: "pw", part: "op" }, "pw", { outC: 50, k: 1 }), 200, 4);
    const l = costNode(net.nodes[1]!, designContext(net, hw));
    // rows 200 → 2 row tiles; columns 50 × 4 = 200 → 2 column tiles
    assert.equal(l.arrays, 4);
    assert.equal(l.conversions, 16 * 8 * 2 * 200);
  });

  it("packs depthwise kernels block-diagonally: ⌊128/k²⌋ channels per array", () => {
    for (const [k, dil, arrays] of [
      [3, 1, 2], // 14 channels per array → 16 channels on 2 arrays
      [5, 1, 4], // 5 per array → 4 arrays
      [3, 2, 2], // dilation: the same array as the undilated kernel
      [5, 2, 4],
    ] as const) {
      const net = oneLayer(
        (b, x) =>
          b.conv(x, { path: "dw", part: "op" }, "dw", {
            outC: 16,
            k,
            pad: dil * ((k - 1) / 2),
            dilation: dil,
            groups: 16,
          }),
        16,
        8,
      );
      const l = costNode(net.nodes[1]!, designContext(net, hw));
      assert.equal(l.arrays, arrays, `k=${k} dilation=${dil}`);
      assert.equal(l.usedCells, 16 * k * k * 4);
      assert.equal(l.conversions, 64 * 8 * 16 * 4);
    }
  });

  it("max pool: 8 comparisons per output on 8-bit values", () => {
    const net = oneLayer((b, x) => b.pool("maxpool", x, { path: "p", part: "op" }, 3, 1, 1), 4, 8);
    const l = costNode(net.nodes[1]!, designContext(net, hw));
    assert.ok(Math.abs(l.energyPj.digital - 4 * 64 * 8 * 8 * tech.digital.comparatorEnergyPerBit) < 1e-12);
    assert.equal(l.latencyNs, 64); // one position per 1-ns cycle, one lane per channel
  });
});

describe("cost model: whole networks", () => {
  it("never costs less area with more channels or more cells", () => {
    for (const g of ["DARTS_V1", "DARTS_V2", "PDARTS", "FairDARTS_a"]) {
      const arch = resolveArchitecture(g);
      let prev = 0;
      for (const c of [8, 16, 24, 36]) {
        const a = costNetwork(buildNetwork(arch, { channels: c, layers: 8 }), hw).areaMm2;
        assert.ok(a >= prev, `${g} C=${c}`);
        prev = a;
      }
      prev = 0;
      for (const l of [5, 8, 11, 14, 20]) {
        const a = costNetwork(buildNetwork(arch, { channels: 16, layers: l }), hw).areaMm2;
        assert.ok(a >= prev, `${g} L=${l}`);
        prev = a;
      }
    }
  });

  it("adds up: totals equal the sums of the breakdowns, power = energy/latency + leakage", () => {
    const r = costNetwork(buildNetwork(resolveArchitecture("PDARTS"), { channels: 16, layers: 8 }), hw, {
      perLayer: true,
    });
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum(r.breakdown.energyUjByComponent) - r.energyUj) < 1e-9 * r.energyUj);
    assert.ok(Math.abs(sum(r.breakdown.energyUjByOp) - r.energyUj) < 1e-9 * r.energyUj);
    assert.ok(Math.abs(sum(r.breakdown.areaMm2ByOp) - r.areaMm2) < 1e-9 * r.areaMm2);
    assert.equal(sum(r.breakdown.arraysByOp), r.arrays);
    assert.ok(Math.abs(r.powerMw - ((r.energyUj * 1e6) / (r.latencyUs * 1e3) + r.leakageMw)) < 1e-9);
    assert.ok(r.utilisation > 0 && r.utilisation < 1);
    assert.ok(r.layers!.length > 100);
  });

  it("rram-robust stays within its area budget: at most 1.5× rram on the three reference networks", () => {
    const rram = hardwareOf(loadPreset("rram"));
    const robust = hardwareOf(loadPreset("rram-robust"));
    for (const g of ["DARTS_V1", "DARTS_V2", "PDARTS"]) {
      const net = buildNetwork(resolveArchitecture(g), { channels: 16, layers: 8 });
      const ratio = costNetwork(net, robust).areaMm2 / costNetwork(net, rram).areaMm2;
      assert.ok(ratio > 1 && ratio <= 1.5, `${g}: ${ratio}`);
    }
  });
});

describe("technology files", () => {
  it("every number of the shipped files names its source and unit", () => {
    for (const name of SHIPPED_TECH) {
      const { file } = loadTech(name);
      const walk = (o: unknown, path: string): void => {
        if (o && typeof o === "object") {
          if ("value" in o) {
            const p = o as { value: unknown; unit: unknown; source: unknown };
            assert.equal(typeof p.value, "number", path);
            assert.ok(typeof p.source === "string" && p.source.length > 10, `${name} ${path} has a source`);
            assert.ok(typeof p.unit === "string" && p.unit.length > 0, `${name} ${path} has a unit`);
            return;
          }
          for (const [k, v] of Object.entries(o)) walk(v, path ? `${path}.${k}` : k);
        }
      };
      walk(file, "");
    }
  });

  const dir = mkdtempSync(join(tmpdir(), "mh-tech-"));
  const bad = (what: string, content: unknown, message: RegExp) =>
    it(what, () => {
      const p = join(dir, `${what.replace(/\W+/g, "_")}.json`);
      writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
      assert.throws(
        () => loadTech(p),
        (e: Error) => e instanceof TechError && message.test(e.message),
      );
    });
  bad(
    "missing source",
    { cell: { rOn: { value: 1e5, unit: "ohm", source: "" } } },
    /cell\.rOn\.source: every number names its source/,
  );
  bad(
    "wrong unit",
    { adc: { latencyPerBit: { value: 1, unit: "s", source: "my ADC" } } },
    /adc\.latencyPerBit\.unit: unit must be 'ns'/,
  );
  bad(
    "unknown key",
    { adc: { speed: { value: 1, unit: "ns", source: "x" } } },
    /adc: Unrecognized key.*speed/,
  );
  bad(
    "negative value",
    { dac: { power: { value: -1, unit: "uW", source: "my DAC" } } },
    /dac\.power\.value: must be ≥ 0/,
  );
  bad("unknown base", { base: "tsmc-3nm" }, /base: unknown technology 'tsmc-3nm'/);
  bad("not JSON", "{ cell: ", /not valid JSON/);
  it("a user's file overrides one field and keeps the rest", () => {
    const p = join(dir, "override.json");
    writeFileSync(
      p,
      JSON.stringify({
        base: "neurosim-22nm",
        cell: { readVoltage: { value: 0.3, unit: "V", source: "my measurements" } },
      }),
    );
    const { tech: t, file } = loadTech(p);
    assert.equal(t.cell.readVoltage, 0.3);
    assert.equal(t.cell.rOn, tech.cell.rOn);
    assert.equal(file.cell.readVoltage.source, "my measurements");
  });
  it("a missing file", () =>
    assert.throws(
      () => loadTech(join(dir, "nope.json")),
      /not found; use one of neurosim-22nm, mnsim-130nm/,
    ));
});

describe("whole-space sweep", () => {
  for (const preset of ["default", "analog-chain"])
    for (const lineBuffers of ["per-source", "per-unit"])
      it(`the union-network evaluator equals costNetwork on random architectures of both views (${preset}, ${lineBuffers} line buffers)`, () => {
        const h = hardwareOf(
          parseHardwareConfig(mergeConfig(loadPreset(preset), { layout: { lineBuffers } })),
        );
        const model = new SpaceCostModel(8, 5, h);
        const rng = new Rng(21);
        for (let i = 0; i < 30; i++) {
          const config = i % 2 ? sampleConfiguration(rng) : genotypeToConfiguration(sampleGenotype(rng));
          const a = costNetwork(
            buildNetwork(architectureFromConfiguration(config), { channels: 8, layers: 5 }),
            h,
          );
          const b = model.evaluate(config);
          // Both sum the same terms in another order: float64 rounding, far below 1e-9.
          for (const m of ["areaMm2", "energyUj", "latencyUs", "powerMw"] as const)
            assert.ok(Math.abs(a[m] - b[m]) <= 1e-9 * Math.abs(a[m]), `${m}: ${a[m]} vs ${b[m]}`);
        }
      });

  it("is deterministic per seed and writes an SVG histogram", () => {
    const a = sweep(200, 4, "edge", 8, 5, hw);
    const b = sweep(200, 4, "edge", 8, 5, hw);
    assert.deepEqual(a.metrics, b.metrics);
    assert.ok(
      a.metrics.areaMm2.min <= a.metrics.areaMm2.median && a.metrics.areaMm2.median <= a.metrics.areaMm2.max,
    );
    const svg = histogramSvg(a.values, SWEEP_LABELS, "test", [
      { label: "X", values: { areaMm2: 1, energyUj: 1, latencyUs: 1, powerMw: 1 } },
    ]);
    assert.match(svg, /^<svg [^>]*>.*<\/svg>\n$/s);
    assert.equal((svg.match(/<rect /g) ?? []).length, 4 * 40);
  });

  it("summarises with interpolated quantiles", () => {
    assert.deepEqual(summarise([4, 1, 3, 2, 5]), { min: 1, p10: 1.4, median: 3, p90: 4.6, max: 5, mean: 3 });
  });
});
