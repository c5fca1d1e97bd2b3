/**
 * Periphery components added by registration (src/hw/periphery.ts), the way an extension adds
 * one. This file runs in its own process, so the fixtures do not reach other suites.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hardwareOf, loadPreset, mergeConfig, parseHardwareConfig } from "../src/hw/config.js";
import { type CostReport, costNetwork } from "../src/hw/cost.js";
import { COMPONENT_KINDS } from "../src/hw/designs.js";
import { registerPeripheryComponent } from "../src/hw/periphery.js";
import { loadTech, TechError } from "../src/hw/tech.js";
import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";

const net = buildNetwork(resolveArchitecture("PDARTS"), { channels: 16, layers: 8 });
const digital = hardwareOf(loadPreset("default"));
const analog = hardwareOf(loadPreset("analog-chain"));
const before = { digital: costNetwork(net, digital), analog: costNetwork(net, analog) };

/** µm² and pJ of a report's breakdown (its figures are in mm² and µJ). */
const areaUm2 = (r: CostReport) => r.breakdown.areaMm2ByComponent;
const close = (got: number, want: number, what: string) =>
  // Sums of a few thousand float64 terms: relative rounding far below 1e-12.
  assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

describe("periphery registry: components added by registration", () => {
  registerPeripheryComponent({
    name: "adcReferenceBufferFixture",
    description: "a reference-voltage buffer beside every ADC (test fixture)",
    kind: "adc",
    platforms: ["digital-periphery"],
    site: "adc",
    params: {
      area: { value: 12, unit: "um^2", source: "test fixture" },
      energy: { value: 0.05, unit: "pJ", source: "test fixture" },
    },
    cost: (p) => ({ areaUm2: p.area!, energyPj: p.energy! }),
  });
  registerPeripheryComponent({
    name: "arrayDecoderFixture",
    description: "a word-line decoder per array (test fixture)",
    kind: "digital",
    platforms: ["digital-periphery", "parallel-analog"],
    site: "array",
    params: { area: { value: 30, unit: "um^2", source: "test fixture" } },
    cost: (p) => ({ areaUm2: p.area!, energyPj: 0 }),
  });

  it("adds area per instance at its site and energy per conversion, to its kind only, on its platforms", () => {
    const r = costNetwork(net, digital);
    const b = before.digital;
    close((areaUm2(r).adc - areaUm2(b).adc) * 1e6, b.adcs * 12, "ADC area: 12 µm² per ADC");
    close(
      (r.breakdown.energyUjByComponent.adc - b.breakdown.energyUjByComponent.adc) * 1e6,
      b.conversionsPerImage * 0.05,
      "ADC energy: 0.05 pJ per conversion",
    );
    close((areaUm2(r).digital - areaUm2(b).digital) * 1e6, b.arrays * 30, "decoder area: 30 µm² per array");
    for (const k of COMPONENT_KINDS)
      if (k !== "adc" && k !== "digital" && k !== "routing")
        assert.equal(areaUm2(r)[k], areaUm2(b)[k], `${k} unchanged`);
    // The analog platform takes the component registered for it, not the digital-only one.
    const a = costNetwork(net, analog);
    close(
      (areaUm2(a).digital - areaUm2(before.analog).digital) * 1e6,
      before.analog.arrays * 30,
      "analog: decoder per array",
    );
    assert.equal(areaUm2(a).adc, areaUm2(before.analog).adc, "analog: no reference buffer");
  });

  it("a technology file overrides its parameters by name, with unit and source checked", () => {
    const dir = mkdtempSync(join(tmpdir(), "mh-periphery-"));
    const file = (name: string, components: unknown) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify({ base: "neurosim-22nm", components }));
      return p;
    };
    const doubled = file("doubled.json", {
      adcReferenceBufferFixture: { area: { value: 24, unit: "um^2", source: "a fixture datasheet" } },
    });
    const hw = hardwareOf(parseHardwareConfig(mergeConfig(loadPreset("default"), { tech: doubled })));
    const r = costNetwork(net, hw);
    close((areaUm2(r).adc - areaUm2(before.digital).adc) * 1e6, before.digital.adcs * 24, "24 µm² per ADC");
    const bad: [unknown, RegExp][] = [
      [
        { nope: {} },
        /components\.nope: unknown periphery component; registered: .*adcReferenceBufferFixture/,
      ],
      [
        { adcReferenceBufferFixture: { area: { value: 1, unit: "mm^2", source: "x datasheet" } } },
        /components\.adcReferenceBufferFixture\.area\.unit: unit must be 'um\^2'/,
      ],
      [
        { adcReferenceBufferFixture: { gain: { value: 1, unit: "x", source: "x datasheet" } } },
        /components\.adcReferenceBufferFixture\.gain: not a parameter of adcReferenceBufferFixture \(area, energy\)/,
      ],
      [
        { adcReferenceBufferFixture: { area: { value: 1, unit: "um^2" } } },
        /components\.adcReferenceBufferFixture\.area\.source: every number names its source/,
      ],
    ];
    for (const [i, [components, re]] of bad.entries())
      assert.throws(
        () => loadTech(file(`bad${i}.json`, components)),
        (e: Error) => e instanceof TechError && re.test(e.message),
      );
  });

  it("refuses a second component of the same name, or one whose parameter names no source", () => {
    const entry = {
      name: "arrayDecoderFixture",
      description: "",
      kind: "digital",
      platforms: ["digital-periphery"],
      site: "array",
      params: { area: { value: 1, unit: "um^2", source: "x" } },
      cost: () => ({ areaUm2: 0, energyPj: 0 }),
    } as const;
    assert.throws(() => registerPeripheryComponent(entry), /already registered/);
    assert.throws(() => registerPeripheryComponent({ ...entry, name: "other" }), /area names no source/);
  });
});
