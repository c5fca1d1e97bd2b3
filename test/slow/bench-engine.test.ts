/** End-to-end: the engine benchmark's JSON contract (about half a minute of timed work). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli } from "../helpers.js";

const run = runCli;

describe("bench engine (slow)", () => {
  it("bench engine --json keeps its contract: the three workloads, their rounds, the memory target", () => {
    const r = run("bench", "engine", "--seconds", "1", "--rounds", "2", "--no-reference", "--json");
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(o.workloads), ["inference", "training", "inferenceLarge"]);
    for (const w of Object.values(o.workloads) as {
      imgPerSec: number;
      rounds: unknown[];
      ratio: unknown;
    }[]) {
      assert.ok(w.imgPerSec > 0);
      assert.equal(w.rounds.length, 2);
      assert.equal(w.ratio, null, "no reference, no ratio");
    }
    assert.match(o.pytorch, /not measured/);
    assert.equal(o.peakRssMet, o.peakRssMb < o.peakRssTargetMb);
    const bad = run("bench", "engine", "--rounds", "0");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--rounds/);
  });
});
