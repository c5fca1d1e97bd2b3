/** Hardware-aware search: Pareto dominance by hand, NSGA-II determinism, the command end to end. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { saveModel } from "../src/engine/safetensors.js";
import { evolve } from "../src/search/evolution.js";
import { parseObjective } from "../src/search/objectives.js";
import { crowdingDistance, dominates, nondominatedFronts, paretoFront } from "../src/search/pareto.js";
import type { Configuration } from "../src/space/cell.js";
import { Supernet } from "../src/train/supernet.js";
import { kendallTau } from "../src/util/stats.js";
import { runCli, writeSyntheticCifar } from "./helpers.js";

describe("Pareto dominance", () => {
  // Minimised pairs: (1,5), (2,3), (3,1) and the repeated (2,3) form the front; (2,3) dominates
  // (2,4), which dominates (4,4) (so does (2,3)): fronts {0,1,2,5}, {3}, {4}.
  const points = [
    [1, 5],
    [2, 3],
    [3, 1],
    [2, 4],
    [4, 4],
    [2, 3],
  ];

  it("finds the front by hand, duplicates included", () => {
    assert.ok(dominates([2, 3], [2, 4]));
    assert.ok(!dominates([2, 3], [2, 3]));
    assert.ok(!dominates([1, 5], [3, 1]));
    assert.deepEqual(paretoFront(points), [0, 1, 2, 5]);
  });

  it("sorts into fronts and gives the hand-computed crowding distances", () => {
    assert.deepEqual(nondominatedFronts(points), [[0, 1, 2, 5], [3], [4]]);
    const d = crowdingDistance(
      [
        [0, 4],
        [1, 2],
        [3, 1],
        [4, 0],
      ],
      [0, 1, 2, 3],
    );
    // Point 1: (3 − 0)/4 + (4 − 1)/4 = 1.5; point 2: (4 − 1)/4 + (2 − 0)/4 = 1.25.
    assert.equal(d.get(0), Number.POSITIVE_INFINITY);
    assert.equal(d.get(3), Number.POSITIVE_INFINITY);
    assert.equal(d.get(1), 1.5);
    assert.equal(d.get(2), 1.25);
  });
});

describe("NSGA-II search", () => {
  // Two conflicting objectives that need no training: fewer active edges against more separable convs.
  const active = (c: Configuration) => [...c.normal, ...c.reduce].filter((op) => op !== 0).length;
  const seps = (c: Configuration) => [...c.normal, ...c.reduce].filter((op) => op === 3 || op === 4).length;
  const score = async (batch: readonly { configuration: Configuration }[]) =>
    batch.map(({ configuration: c }) => [active(c), -seps(c)]);

  it("evaluates exactly the budget, each architecture once, the same per seed and differently across seeds", async () => {
    const a = await evolve(score, { budget: 60, population: 8, seed: 3 });
    const b = await evolve(score, { budget: 60, population: 8, seed: 3 });
    const c = await evolve(score, { budget: 60, population: 8, seed: 4 });
    assert.equal(a.length, 60);
    assert.equal(new Set(a.map((x) => x.code)).size, 60);
    assert.deepEqual(
      a.map((x) => x.code),
      b.map((x) => x.code),
    );
    assert.notDeepEqual(
      a.map((x) => x.code),
      c.map((x) => x.code),
    );
  });

  it("improves on its initial population (the front after 300 evaluations dominates more than the first 16)", async () => {
    const all = await evolve(score, { budget: 300, population: 16, seed: 1 });
    // The area the front dominates inside the box up to the worst point (28, 0): larger is better.
    const hyper = (set: readonly (readonly number[])[]) => {
      const front = paretoFront(set)
        .map((i) => set[i]!)
        .sort((p, q) => p[0]! - q[0]!);
      let area = 0;
      let below = 0;
      for (const [a, b] of front)
        if (b! < below) {
          area += (28 - a!) * (below - b!);
          below = b!;
        }
      return area;
    };
    const initial = all.slice(0, 16).map((x) => x.objectives);
    const final = all.map((x) => x.objectives);
    assert.ok(hyper(final) > hyper(initial), `${hyper(final)} vs ${hyper(initial)}`);
  });

  it("refuses a budget of 0", async () => {
    await assert.rejects(evolve(score, { budget: 0, population: 8, seed: 1 }), /budget must be at least 1/);
  });
});

describe("Kendall's tau (rank fidelity)", () => {
  it("gives the hand-computed τ and exact p, τ-b with ties, and the normal approximation for long samples", () => {
    // 7 concordant and 3 discordant pairs: τ = 0.4; |S| ≥ 4 for 58 of the 120 orderings of 5.
    const r = kendallTau([1, 2, 3, 4, 5], [3, 1, 2, 5, 4]);
    assert.ok(Math.abs(r.tau - 0.4) < 1e-12);
    assert.ok(Math.abs(r.p - 58 / 120) < 1e-12);
    const perfect = kendallTau([1, 2, 3, 4, 5, 6, 7, 8], [2, 4, 6, 8, 10, 12, 14, 16]);
    assert.equal(perfect.tau, 1);
    assert.ok(Math.abs(perfect.p - 2 / 40320) < 1e-15);
    // Ties: x has one tied pair; S = 5 − 0 over √((6 − 1)(6 − 0)).
    const tied = kendallTau([1, 1, 2, 3], [1, 2, 3, 4]);
    assert.ok(Math.abs(tied.tau - 5 / Math.sqrt(30)) < 1e-12);
    // 12 reversed ranks: S = −66, z = 66/√(12·11·29/18) = 4.526, p = erfc(z/√2) = 6.02·10⁻⁶.
    const long = kendallTau(
      Array.from({ length: 12 }, (_, i) => i),
      Array.from({ length: 12 }, (_, i) => -i),
    );
    assert.equal(long.tau, -1);
    assert.ok(Math.abs(long.p - 6.017e-6) < 1e-8, `${long.p}`);
  });
});

describe("search objectives", () => {
  it("accepts accuracy with one cost in either order, and names the choices otherwise", () => {
    assert.equal(parseObjective("accuracy,latency"), "latency");
    assert.equal(parseObjective("energy,accuracy"), "energy");
    assert.throws(() => parseObjective("accuracy,power"), /one of latency, energy, area.*'accuracy,power'/);
    assert.throws(() => parseObjective("latency"), /accuracy and one of/);
  });
});

describe("memhyper search", () => {
  const dir = mkdtempSync(join(tmpdir(), "mh-search-"));
  writeSyntheticCifar(join(dir, "data"), 16, 2);
  const weights = join(dir, "supernet.safetensors");
  saveModel(new Supernet(4, 3, false, 5).store, weights);
  const args = [
    "search",
    "--channels",
    "4",
    "--layers",
    "3",
    "--weights",
    weights,
    "--data",
    join(dir, "data"),
  ];
  const small = ["--validation", "16", "--recalibrate", "8", "--population", "3", "--seed", "2"];

  it("prints a front with no dominated point, the references, and an SVG", () => {
    const svg = join(dir, "front.svg");
    const r = runCli(
      ...args,
      ...small,
      "--budget",
      "5",
      "--objective",
      "accuracy,energy",
      "--json",
      "--svg",
      svg,
    );
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.evaluations, 5);
    assert.equal(o.validationImages, 16);
    assert.deepEqual(
      o.references.map((x: { name: string }) => x.name),
      ["DARTS_V1", "DARTS_V2", "PDARTS"],
    );
    const pts = o.front.map((f: { accuracy: number; energyUj: number }) => [-f.accuracy, f.energyUj]);
    for (const p of pts) assert.ok(!pts.some((q: number[]) => dominates(q, p)));
    for (const f of o.front) assert.match(f.code, /^[0-9a-f]{21}$/);
    assert.match(readFileSync(svg, "utf8"), /^<svg[^>]*>[\s\S]*PDARTS[\s\S]*<\/svg>$/);
  });

  it("rejects an unknown objective with a clear error (a budget of 0: NSGA-II search above)", () => {
    const bad = runCli(...args, "--objective", "accuracy,power");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--objective must be accuracy and one of latency, energy, area/);
  });
});
