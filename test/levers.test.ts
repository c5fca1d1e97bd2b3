/**
 * The hypernetwork's design levers: fitted arrays, line buffers shared per source, and pooled
 * periphery behind banded concentrators that time-multiplex when oversubscribed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as c from "../src/hw/components.js";
import { type Hardware, hardwareOf, loadPreset, mergeConfig, parseHardwareConfig } from "../src/hw/config.js";
import { costNetwork, criticalPath, type PoolSeat, scheduledPath } from "../src/hw/cost.js";
import type { LayerCost } from "../src/hw/designs.js";
import { compileConfiguration } from "../src/hyper/compiler.js";
import { hardwareCost, peripheryPools } from "../src/hyper/cost.js";
import { hyperHardware } from "../src/hyper/hardware.js";
import { configuredNetwork, fullNetwork } from "../src/hyper/network.js";
import { IrBuilder } from "../src/ir/builder.js";
import type { IrNode } from "../src/ir/graph.js";
import { architectureFromConfiguration } from "../src/space/architecture.js";
import { genotypeToConfiguration } from "../src/space/genotype.js";
import { sampleConfiguration, sampleGenotype } from "../src/space/sample.js";
import { Rng } from "../src/util/rng.js";
import { builtNetwork, runCli } from "./helpers.js";

const withOver = (h: Hardware, over: unknown) => hardwareOf(parseHardwareConfig(mergeConfig(h.config, over)));
const digital = hardwareOf(loadPreset("default"));

/** Whether a bipartite graph (each active input's allowed outputs) has a matching covering every input. */
function matches(allowed: readonly number[][]): boolean {
  const owner = new Map<number, number>();
  const tryAssign = (i: number, seen: Set<number>): boolean => {
    for (const o of allowed[i]!) {
      if (seen.has(o)) continue;
      seen.add(o);
      const j = owner.get(o);
      if (j === undefined || tryAssign(j, seen)) {
        owner.set(o, i);
        return true;
      }
    }
    return false;
  };
  return allowed.every((_, i) => tryAssign(i, new Set()));
}

/** Band of fan-in f: pool entry e reaches candidates e … e+f−1. */
const bandRoutes = (p: number, fanIn: number, active: number[]): boolean =>
  matches(active.map((a) => Array.from({ length: p }, (_, e) => e).filter((e) => a >= e && a < e + fanIn)));

describe("banded concentrator", () => {
  it("routes every set of at most P active units of N with fan-in N−P+1, and fan-in N−P does not", () => {
    for (let n = 2; n <= 12; n++)
      for (let p = 1; p < n; p++) {
        let shortFails = false;
        for (let mask = 1; mask < 1 << n; mask++) {
          const active = [...Array(n).keys()].filter((i) => mask & (1 << i));
          if (active.length > p) continue;
          assert.ok(bandRoutes(p, n - p + 1, active), `N=${n} P=${p} active ${active}`);
          if (!bandRoutes(p, n - p, active)) shortFails = true;
        }
        assert.ok(shortFails, `N=${n} P=${p}: a narrower band should fail some set`);
      }
  });
});

describe("shared line buffers", () => {
  it("units reading one activation share the tallest window's buffer; per unit, each has its own", () => {
    const b = new IrBuilder();
    const x = b.input({ c: 4, h: 8, w: 8 });
    const s = (path: string) => ({ path, part: "op" as const });
    const a = b.conv(b.relu(x, s("a")), s("a"), "a", { outC: 4, k: 3, pad: 1, groups: 4 });
    const d = b.conv(b.relu(x, s("d")), s("d"), "d", { outC: 4, k: 5, pad: 2, groups: 4 });
    const m = b.pool("maxpool", x, s("m"), 3, 1, 1);
    const net = builtNetwork(b, x, b.add([a, d, m], [false, false, false], s("sum")));
    const bits = (h: Hardware) =>
      costNetwork(net, h).breakdown.areaMm2ByComponent.buffer / digital.tech.buffer.areaPerBit;
    // 8 columns × 4 channels × 8 bits per buffered row: 5 rows shared; 3 + 5 + 3 rows apart.
    assert.ok(Math.abs(bits(digital) * 1e6 - 5 * 8 * 4 * 8) < 1e-6);
    const apart = withOver(digital, { layout: { lineBuffers: "per-unit" } });
    assert.ok(Math.abs(bits(apart) * 1e6 - 11 * 8 * 4 * 8) < 1e-6);
  });
});

describe("narrow pooling units", () => {
  it("one lane: the unit's area over its channel count, its latency times it; individual deployment keeps a lane per channel", () => {
    const b = new IrBuilder();
    const x = b.input({ c: 12, h: 8, w: 8 });
    const s = { path: "p", part: "op" as const };
    const net = builtNetwork(b, x, b.pool("avgpool", x, s, 3, 1, 1));
    const one = (lanes?: number) => {
      const r = costNetwork(net, digital, { perLayer: true, ...(lanes ? { poolingLanes: lanes } : {}) });
      return r.layers!.find((l) => l.kind === "avgpool")!;
    };
    const wide = one();
    // By hand: 12 lanes of an 8-adder tree and a 1/count multiplier, 64 positions, one clock each.
    const b12 = digital.config.inputBits + 4;
    const perLane = (8 * b12 + 8 * b12) * digital.tech.digital.addAreaPerBit;
    assert.ok(Math.abs(wide.areaUm2.digital - 12 * perLane) < 1e-9 * wide.areaUm2.digital);
    assert.ok(Math.abs(wide.latencyNs - 64 * c.cycleNs(digital.tech)) < 1e-9);
    for (const [lanes, turns] of [
      [1, 12],
      [5, 3],
      [12, 1],
      [40, 1],
    ] as const) {
      const l = one(lanes);
      assert.ok(
        Math.abs(l.areaUm2.digital - Math.min(lanes, 12) * perLane) < 1e-9 * perLane,
        `${lanes} lanes`,
      );
      assert.ok(Math.abs(l.latencyNs - turns * 64 * c.cycleNs(digital.tech)) < 1e-9, `${lanes} lanes`);
      assert.deepEqual(l.energyPj, wide.energyPj, "the same operations and reads");
    }
    // The preset sets one lane, yet costing a network without the hypernetwork's options (individual
    // deployment) prices a lane per channel: the field reaches the hypernetwork only.
    assert.equal(digital.config.hypernetwork.poolingLanes, 1);
    assert.equal(wide.areaUm2.digital, 12 * perLane);
  });
});

describe("pooled periphery", () => {
  const spec = { channels: 4, layers: 4, variant: "edge" as const };
  const h = hyperHardware(spec);
  const unpooled = withOver(digital, { hypernetwork: { periphery: "per-unit" } });

  it("a normal cell holds 8 universal units' ADCs for 14 slots, plus a 7-input MUX per pool lane", () => {
    const pooled = costNetwork(fullNetwork(h), digital, {
      perLayer: true,
      pools: peripheryPools(h, digital),
    });
    const apart = costNetwork(fullNetwork(h), unpooled, { perLayer: true });
    const dw1 = (r: typeof pooled) =>
      r.layers!.filter((l) => /^cells\.0\.slots\.\d+$/.test(l.scope) && l.op !== "none" && l.adcs > 0);
    const sum = (ls: ReturnType<typeof dw1>, f: (l: ReturnType<typeof dw1>[number]) => number) =>
      ls.reduce((t, l) => t + f(l), 0);
    // Every slot of cell 0 is alike: 8 of 14 of its converters remain.
    const adcPooled = sum(dw1(pooled), (l) => l.areaUm2.adc);
    const adcApart = sum(dw1(apart), (l) => l.areaUm2.adc);
    assert.ok(Math.abs(adcPooled / adcApart - 8 / 14) < 1e-12, `${adcPooled / adcApart}`);
    // A 7-input binary-tree MUX: 12 pass gates per lane, on 8 entries' lanes: the converters'
    // inputs, and the rows that a unit's own line buffer (read by it alone) drives.
    const readers = new Map<number, number>();
    for (const l of apart.layers!)
      if (l.lineBuffer) readers.set(l.lineBuffer.key, (readers.get(l.lineBuffer.key) ?? 0) + 1);
    const own = (l: ReturnType<typeof dw1>[number]) =>
      l.lineBuffer && readers.get(l.lineBuffer.key) === 1 ? l.lineBuffer.lanes : 0;
    const muxAdded =
      sum(dw1(pooled), (l) => l.areaUm2.mux) - (8 / 14) * sum(dw1(apart), (l) => l.areaUm2.mux);
    const lanes = (8 / 14) * sum(dw1(apart), (l) => l.peripheryLanes + own(l));
    assert.equal(c.muxShape(7).switches, 12);
    assert.ok(
      Math.abs(muxAdded - lanes * 12 * digital.tech.switches.muxArea) < 1e-9 * muxAdded,
      `${muxAdded}`,
    );
    assert.ok(hardwareCost(h, digital).areaMm2 < hardwareCost(h, unpooled).areaMm2);
  });

  it("scheduled turns: a hand-sized pool of 2 entries over 3 units in a band", () => {
    // Node 0 feeds three pooled layers (10, 20, 30 ns) whose add is the output. Entry 0 serves
    // ranks 0–1, entry 1 ranks 1–2. Rank 0 takes entry 0 at 0; rank 1 finds entry 1 free at 0;
    // rank 2 can only use entry 1, free at 20: the output is ready at 50 ns, and entry 1 works
    // 50 ns per image. Passes would take 2 × 30 = 60 ns.
    const nodes = [
      { id: 0, kind: "input" },
      { id: 1, kind: "conv", input: 0 },
      { id: 2, kind: "conv", input: 0 },
      { id: 3, kind: "conv", input: 0 },
      { id: 4, kind: "add", inputs: [1, 2, 3] },
    ] as unknown as IrNode[];
    const layers = [0, 10, 20, 30, 0].map((latencyNs, node) => ({ node, latencyNs }) as LayerCost);
    const pool = { key: "job", size: 2, candidates: 3 };
    const seats = new Map<number, PoolSeat>([1, 2, 3].map((id) => [id, { ...pool, rank: id - 1 }]));
    assert.deepEqual(
      scheduledPath(nodes, layers, 4, (n) => seats.get(n.id)),
      { latencyNs: 50, busiestEntryNs: 50 },
    );
    // Rank 1 of 3 candidates may use either entry: the same three layers then take 40 ns.
    const open = { ...pool, rank: 1 };
    assert.equal(
      criticalPath(nodes, layers, 4, (l) => l.latencyNs),
      30,
    );
    assert.deepEqual(
      scheduledPath(nodes, layers, 4, () => open),
      { latencyNs: 40, busiestEntryNs: 40 },
    );
  });

  it("scheduled turns cost latency only when a job has more active units than entries, and never more than passes", () => {
    const small = withOver(digital, { hypernetwork: { poolEntries: 3 } });
    const pools = peripheryPools(h, small)!;
    const rng = new Rng(7);
    let waited = 0;
    for (let i = 0; i < 16; i++) {
      const config = i % 2 === 0 ? genotypeToConfiguration(sampleGenotype(rng)) : sampleConfiguration(rng);
      const net = configuredNetwork(compileConfiguration(spec, architectureFromConfiguration(config)));
      const scheduled = costNetwork(net, small, { pools, poolSchedule: "scheduled" });
      const passes = costNetwork(net, small, { pools, poolSchedule: "passes" });
      assert.equal(scheduled.areaMm2, passes.areaMm2);
      assert.equal(scheduled.energyUj, passes.energyUj);
      // The same layers (MUX stages included) with nothing waiting.
      const floor = criticalPath(
        net.nodes.filter((n) => n.scope.part !== "aux"),
        costNetwork(net, small, { perLayer: true, pools, poolSchedule: "scheduled" }).layers!,
        net.logits,
        (l) => l.latencyNs,
      );
      assert.ok(scheduled.latencyUs * 1000 >= floor * (1 - 1e-12), "no faster than without waiting");
      assert.ok(scheduled.latencyUs <= passes.latencyUs * (1 + 1e-12), "no slower than passes");
      const active = new Map<string, number>();
      for (const n of net.nodes) {
        const seat = pools(n);
        if (seat) active.set(seat.key, (active.get(seat.key) ?? 0) + 1);
      }
      const oversubscribed = [...active.values()].some((a) => a > 3);
      if (!oversubscribed)
        assert.equal(scheduled.latencyUs * 1000, floor, "nothing waits when every job fits");
      if (scheduled.latencyUs * 1000 > floor * (1 + 1e-9)) waited++;
    }
    assert.ok(waited > 0, "some configurations wait for their pool");
  });

  it("time-multiplexes exactly the units of a cell's job that outnumber its pool", () => {
    const pools = peripheryPools(h, digital)!;
    const rng = new Rng(5);
    // Expected by hand: every job of every cell has 8 entries (2 inputs × 4 nodes; FR units: 8 of 8).
    let seenOver = 0;
    let seenUnder = 0;
    for (let i = 0; i < 24; i++) {
      const config = i % 3 === 0 ? genotypeToConfiguration(sampleGenotype(rng)) : sampleConfiguration(rng);
      const comp = compileConfiguration(spec, architectureFromConfiguration(config));
      // Active units per cell and job: stage-1 layers serve every universal unit, stage-2
      // layers only the sep_convs (dil_conv bypasses them), pool units their mode.
      const perCell = new Map<string, number>();
      const count = (key: string) => perCell.set(key, (perCell.get(key) ?? 0) + 1);
      for (const s of comp.settings) {
        if (s.unit === "universal") {
          count(`${s.slot.cell}|stage1`);
          if (s.universal!.stage2) count(`${s.slot.cell}|stage2`);
        } else if (s.unit === "pool") count(`${s.slot.cell}|${s.pool}pool`);
        else if (s.unit === "fr") count(`${s.slot.cell}|fr`);
      }
      const net = configuredNetwork(comp);
      const withPools = costNetwork(net, digital, { perLayer: true, pools });
      const without = costNetwork(net, digital, { perLayer: true });
      let over = false;
      withPools.layers!.forEach((l, j) => {
        const p = pools(net.nodes[l.node]!);
        if (!p) return;
        assert.equal(p.size, 8);
        const node = net.nodes[l.node]!;
        const job =
          node.kind !== "conv"
            ? node.kind
            : node.param.includes(".fr.")
              ? "fr"
              : /\.(dw2|pw2)$/.test(node.param)
                ? "stage2"
                : "stage1";
        const active = perCell.get(`${node.scope.cell}|${job}`)!;
        const passes = Math.ceil(active / 8);
        if (passes > 1 && job === "stage1") over = true;
        // MUX stages add at most 3 × 0.02 ns to a ≥ 1 ns step.
        const r = l.latencyNs / without.layers![j]!.latencyNs;
        assert.ok(r >= passes && r <= passes * 1.06 + 1e-12, `${l.scope} ${job}: ×${r}, ${active} active`);
      });
      if (over) {
        seenOver++;
        assert.ok(withPools.latencyUs > 1.06 * without.latencyUs, "an oversubscribed cell takes longer");
      } else {
        seenUnder++;
        assert.ok(withPools.latencyUs <= 1.06 * without.latencyUs);
      }
    }
    assert.ok(seenOver > 0 && seenUnder > 0, `${seenOver} oversubscribed, ${seenUnder} not`);
  });

  it("hyper compare --ablation: all levers, each off, none; 'no lever' is today's per-unit design", () => {
    const r = runCli("hyper", "compare", "--ablation", "--json", "--channels", "8", "--layers", "5");
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.ablation.map((a: { label: string }) => a.label),
      [
        "all levers",
        "without fitted arrays",
        "without shared line buffers",
        "without pooled periphery",
        "without narrow pooling units",
        "without scheduled pools",
        "no lever",
      ],
    );
    const none = out.ablation[6].settings;
    assert.deepEqual(none, {
      "layout.arrayWidth": "tile",
      "layout.lineBuffers": "per-unit",
      "hypernetwork.periphery": "per-unit",
      "hypernetwork.poolingLanes": "per-channel",
      "hypernetwork.poolSchedule": "passes",
    });
    const area = (i: number) => out.ablation[i].rows[0].areaRatio;
    for (const i of [1, 2, 3, 4, 6]) assert.ok(area(0) < area(i), `lever ${i} lowers the area ratio`);
    // Scheduling changes no area, and a catalogue genotype never waits for an 8-entry pool.
    assert.equal(area(5), area(0));
    assert.equal(out.ablation[5].rows[0].latencyRatio, out.ablation[0].rows[0].latencyRatio);
    assert.match(
      out.baseline,
      /individual deployment: layout.arrayWidth fitted, layout.lineBuffers per-source/,
    );
  });
});
