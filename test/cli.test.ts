import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runCli } from "./helpers.js";

const run = runCli;

describe("CLI", () => {
  it("space count --json prints exactly one JSON object", () => {
    const r = run("space", "count", "--json");
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), {
      genotypeView: "1076746950455072400",
      edgeCompleteView: "19342813113834066795298816",
    });
  });

  it("net info --json gives params, MACs and layers", () => {
    const r = run("net", "info", "--genotype", "darts_v2", "--channels", "16", "--layers", "8", "--json");
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.equal(o.params, 246106);
    assert.equal(o.macs, 43444736);
    assert.ok(Array.isArray(o.layers) && o.layers.length > 100);
  });

  it("space show round-trips a code", () => {
    const a = JSON.parse(run("space", "show", "PDARTS", "--json").stdout);
    const b = JSON.parse(run("space", "show", a.code, "--json").stdout);
    assert.equal(b.code, a.code);
    assert.deepEqual(b.configuration, a.configuration);
  });

  it("space sample is deterministic per seed", () => {
    const a = run("space", "sample", "--view", "edge", "--seed", "5", "--count", "3", "--json").stdout;
    assert.equal(a, run("space", "sample", "--view", "edge", "--seed", "5", "--count", "3", "--json").stdout);
    assert.equal(JSON.parse(a).samples.length, 3);
  });

  it("an error cuts a long token to a readable length, with its length", () => {
    const r = run("net", "info", "--genotype", "a".repeat(2000));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown genotype name 'a{38}…a{38}' \(2000 characters\)/);
    assert.ok(r.stderr.length < 300, `${r.stderr.length} characters`);
  });

  it("errors exit non-zero and name the offending token on stderr", () => {
    const r = run("net", "info", "--genotype", "PDART");
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown genotype name 'PDART'; did you mean 'PDARTS'/);
    const s = run("space", "sample", "--view", "graph", "--seed", "1");
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /--view must be 'genotype' or 'edge', got 'graph'/);
    const c = run("net", "info", "--genotype", "PDARTS", "--channels", "abc");
    assert.notEqual(c.code, 0);
    assert.match(c.stderr, /--channels must be an integer/);
  });

  it("finetune refuses a float preset and a missing weight file, naming each", () => {
    const f = run(
      "finetune",
      "--genotype",
      "PDARTS",
      "--weights",
      "x.safetensors",
      "--out",
      "/tmp/mh-ft",
      "--preset",
      "fp32",
    );
    assert.notEqual(f.code, 0);
    assert.match(f.stderr, /--preset.*fp32.*(int8|rram)/s);
    const w = run(
      "finetune",
      "--genotype",
      "PDARTS",
      "--weights",
      "/nonexistent/w.safetensors",
      "--out",
      "/tmp/mh-ft",
    );
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /cannot read weights '\/nonexistent\/w.safetensors'.*--weights/);
  });
});
