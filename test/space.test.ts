import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveArchitecture } from "../src/space/architecture.js";
import { CATALOGUE, catalogueGenotype } from "../src/space/catalogue.js";
import { CELL_EDGES, EDGES_PER_CELL, edgeIndex } from "../src/space/cell.js";
import { decodeConfiguration, encodeConfiguration } from "../src/space/code.js";
import { edgeCompleteViewCount, genotypeViewCount } from "../src/space/count.js";
import { formatGenotype } from "../src/space/format.js";
import { configurationToGenotype, genotypeToConfiguration, sameGenotype } from "../src/space/genotype.js";
import { GenotypeError, parseGenotype } from "../src/space/parse.js";
import { numOps, PRIMITIVES } from "../src/space/primitives.js";
import { sampleConfiguration, sampleGenotype } from "../src/space/sample.js";
import { Rng } from "../src/util/rng.js";

describe("search space counts", () => {
  it("genotype view is (180·7^8)^2", () => {
    assert.equal(genotypeViewCount(), 1076746950455072400n);
    assert.equal(genotypeViewCount(), (180n * 7n ** 8n) ** 2n);
  });
  it("edge-complete view is 8^28", () => {
    assert.equal(edgeCompleteViewCount(), 19342813113834066795298816n);
  });
});

describe("cell edges", () => {
  it("are numbered in DARTS supernet order", () => {
    assert.equal(EDGES_PER_CELL, 14);
    assert.deepEqual(
      CELL_EDGES.map((e) => `${e.from}>${e.to}`),
      ["0>2", "1>2", "0>3", "1>3", "2>3", "0>4", "1>4", "2>4", "3>4", "0>5", "1>5", "2>5", "3>5", "4>5"],
    );
    for (const e of CELL_EDGES) assert.equal(edgeIndex(e.from, e.to), e.index);
  });
});

describe("catalogue", () => {
  it("holds every named genotype of the issue, with aliases", () => {
    const names = [
      "DARTS_V1",
      "DARTS_V2",
      "PDARTS",
      "PC_DARTS",
      "PC_DARTS_image",
      "GDAS_V1",
      "SNAS",
      ..."abcdefg".split("").map((c) => `FairDARTS_${c}`),
      "c10_s5_random",
      "c10_s5_pgd",
      ...[0, 1, 2, 3, 4].map((i) => `cifar10_s0_${i}`),
    ];
    assert.deepEqual(CATALOGUE.map((e) => e.name).sort(), [...names].sort());
    for (const e of CATALOGUE)
      assert.match(e.source, /@ [0-9a-f]{40} :/, `${e.name} names its source commit`);
    assert.equal(resolveArchitecture("darts").label, "DARTS_V2");
    assert.equal(resolveArchitecture("pcdarts").label, "PC_DARTS");
    assert.equal(resolveArchitecture("PC_DARTS_cifar").label, "PC_DARTS");
  });

  for (const entry of CATALOGUE) {
    it(`${entry.name}: format ∘ parse is the identity`, () => {
      const g = catalogueGenotype(entry.name);
      const text = formatGenotype(g);
      const again = parseGenotype(text);
      assert.ok(sameGenotype(g, again));
      assert.deepEqual(again.style, g.style, "the form the genotype came in is kept");
      assert.equal(formatGenotype(again), text);
    });
  }

  it("keeps the genotype's own op order (DARTS_V1's node 2 lists input 1 first)", () => {
    const g = catalogueGenotype("DARTS_V1");
    assert.deepEqual(g.normal.ops[0], { op: "sep_conv_3x3", from: 1, to: 2 });
    assert.deepEqual(g.normal.ops[1], { op: "sep_conv_3x3", from: 0, to: 2 });
  });

  it("reads FairDARTS 3-tuples as (op, to_node, from_node) and writes 3-tuples back", () => {
    const g = catalogueGenotype("FairDARTS_a");
    assert.equal(g.style.format, "fair");
    assert.deepEqual(g.normal.ops[2], { op: "max_pool_3x3", from: 0, to: 4 });
    assert.match(formatGenotype(g), /\('sep_conv_3x3', 2, 0\)/);
  });

  it("reads the GDAS nested-pair form", () => {
    const g = catalogueGenotype("GDAS_V1");
    assert.equal(g.style.format, "gdas");
    assert.deepEqual(g.reduce.ops[7], { op: "sep_conv_5x5", from: 1, to: 5 });
  });
});

describe("configurations", () => {
  it("encode DARTS_V2 with the documented bit layout", () => {
    const config = genotypeToConfiguration(catalogueGenotype("DARTS_V2"));
    // Normal edge 0 (0→2) is sep_conv_3x3 = 4: the top 3 bits of the 84-bit code.
    const code = encodeConfiguration(config);
    assert.equal(code.length, 21);
    assert.equal(BigInt(`0x${code}`) >> 81n, 4n);
    // Reduction edge 13 (4→5) is none: the lowest 3 bits.
    assert.equal(BigInt(`0x${code}`) & 7n, 0n);
  });

  it("round-trip through the code for 10^3 random configurations", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 1000; i++) {
      const c = sampleConfiguration(rng);
      const code = encodeConfiguration(c);
      assert.match(code, /^[0-9a-f]{21}$/);
      assert.deepEqual(decodeConfiguration(code), c);
    }
  });

  it("convert genotype → configuration → genotype for every catalogue genotype that fits", () => {
    for (const e of CATALOGUE) {
      const g = catalogueGenotype(e.name);
      if (e.name.startsWith("FairDARTS")) continue; // variable inputs per node
      const back = configurationToGenotype(genotypeToConfiguration(g));
      assert.deepEqual(genotypeToConfiguration(back), genotypeToConfiguration(g));
    }
  });

  it("refuse a genotype conversion when a node does not have exactly two inputs", () => {
    const c = genotypeToConfiguration(catalogueGenotype("FairDARTS_a"));
    assert.throws(() => configurationToGenotype(c), /node 3 has 0 active inputs/);
  });
});

describe("sampling", () => {
  it("is deterministic per seed", () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          encodeConfiguration(sampleConfiguration(r))
      )(new Rng(3)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          encodeConfiguration(sampleConfiguration(r))
      )(new Rng(3)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          encodeConfiguration(sampleConfiguration(r))
      )(new Rng(4)),
    );
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.equal(formatGenotype(sampleGenotype(new Rng(9))), formatGenotype(sampleGenotype(new Rng(9))));
  });

  // χ² critical values at p = 0.001: 7 degrees of freedom 24.32, 6 → 22.46, 9 → 27.88.
  const chiSquare = (counts: number[]): number => {
    const total = counts.reduce((a, b) => a + b, 0);
    const expected = total / counts.length;
    return counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
  };

  it("is uniform over the 8 ops in the edge view (χ², 10^4 samples)", () => {
    const rng = new Rng(11);
    const counts = new Array(numOps()).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const c = sampleConfiguration(rng);
      for (const op of [...c.normal, ...c.reduce]) counts[op]++;
    }
    assert.ok(chiSquare(counts) < 24.32, `χ² = ${chiSquare(counts)}`);
  });

  it("is uniform over the 7 ops and over input pairs in the genotype view (χ², 10^4 samples)", () => {
    const rng = new Rng(12);
    const ops = new Array(numOps() - 1).fill(0);
    const pairsOfNode5 = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const g = sampleGenotype(rng);
      for (const o of [...g.normal.ops, ...g.reduce.ops]) ops[PRIMITIVES.indexOf(o.op) - 1]++;
      const n5 = g.normal.ops.filter((o) => o.to === 5).map((o) => o.from);
      assert.notEqual(n5[0], n5[1], "two distinct inputs");
      const key = n5.join(",");
      pairsOfNode5.set(key, (pairsOfNode5.get(key) ?? 0) + 1);
    }
    assert.ok(chiSquare(ops) < 22.46, `ops χ² = ${chiSquare(ops)}`);
    assert.equal(pairsOfNode5.size, 10, "node 5 has C(5,2) = 10 input pairs");
    assert.ok(chiSquare([...pairsOfNode5.values()]) < 27.88);
  });
});

describe("malformed genotypes get their specific message", () => {
  const pair = (ops: string): string =>
    `Genotype(normal=[${ops}], normal_concat=[2, 3, 4, 5], reduce=[${ops}], reduce_concat=range(2, 6))`;
  const eight =
    "('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1)";
  const cases: [string, string, RegExp][] = [
    [
      "unknown op with suggestion",
      pair(eight.replace("sep_conv_3x3', 1", "sep_conv_3x33', 1")),
      /normal\[1\]: unknown op 'sep_conv_3x33'; did you mean 'sep_conv_3x3'\?/,
    ],
    [
      "input out of range",
      pair(
        eight.replace("('sep_conv_3x3', 0), ('sep_conv_3x3', 1)", "('sep_conv_3x3', 0), ('sep_conv_3x3', 2)"),
      ),
      /normal\[1\]: input 2 is out of range for node 2 \(valid inputs are 0\.\.1\)/,
    ],
    [
      "4-tuple",
      pair(eight.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', 0, 1, 2)")),
      /wrong tuple count: expected \('op', input\), got a 4-tuple/,
    ],
    ["1-tuple", pair(eight.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3',)")), /wrong tuple count/],
    [
      "bad concat node",
      pair(eight).replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 3, 4, 6]"),
      /normal_concat: bad concat list: node 6/,
    ],
    [
      "duplicate concat",
      pair(eight).replace("normal_concat=[2, 3, 4, 5]", "normal_concat=[2, 2, 4, 5]"),
      /node 2 appears twice/,
    ],
    [
      "bad range",
      pair(eight).replace("range(2, 6)", "range(2)"),
      /reduce_concat: bad concat list: range\(start, stop\)/,
    ],
    ["missing reduce", `Genotype(normal=[${eight}], normal_concat=[2, 3, 4, 5])`, /missing 'reduce'/],
    [
      "unknown field",
      pair(eight).replace("Genotype(", "Genotype(extra=None, "),
      /unknown Genotype field 'extra'/,
    ],
    ["too few tuples", pair("('sep_conv_3x3', 0), ('sep_conv_3x3', 1)"), /expected 8 \('op', input\) tuples/],
    [
      "syntax error",
      "Genotype(normal=[('sep_conv_3x3', 0)",
      /expected ',' or '\]' but found the end of the input/,
    ],
    ["unterminated string", "Genotype(normal=[('sep_conv_3x3, 0)])", /unterminated string/],
    [
      "none op",
      pair(eight.replace("'sep_conv_3x3', 0", "'none', 0")),
      /op 'none' does not appear in genotypes/,
    ],
    ["fair target out of range", pair("('sep_conv_3x3', 6, 0)"), /target node 6 does not exist/],
    ["fair input out of range", pair("('sep_conv_3x3', 3, 3)"), /input 3 is out of range for node 3/],
    [
      "mixed forms",
      `Genotype(normal=[('sep_conv_3x3', 2, 0)], normal_concat=[2], reduce=[${eight}], reduce_concat=[2])`,
      /normal cell is written in fair form but reduce cell in darts form/,
    ],
    ["JSON syntax", '{"normal": [', /cannot read JSON genotype/],
    ["JSON unknown op", '{"normal": [["conv", 0]], "reduce": []}', /normal\[0\]: unknown op 'conv'/],
    ["not a genotype", "[1, 2, 3]", /expected Genotype\(normal=/],
    ["empty", "   ", /empty genotype/],
  ];
  for (const [what, text, message] of cases) {
    it(what, () => {
      assert.throws(
        () => parseGenotype(text),
        (err: Error) => err instanceof GenotypeError && message.test(err.message),
      );
    });
  }

  it("bad configuration code", () => {
    assert.throws(() => decodeConfiguration("12345"), /expected 21 hex digits/);
  });
  it("unknown catalogue name suggests the closest", () => {
    assert.throws(
      () => resolveArchitecture("PDART"),
      /unknown genotype name 'PDART'; did you mean 'PDARTS'\?/,
    );
  });
  it("accepts any whitespace and line breaks", () => {
    const g = parseGenotype(
      `DARTS_V2 = Genotype(\n  normal = [ ( 'sep_conv_3x3' , 0 ) ,\n('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)],\n normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5],\n)`,
    );
    assert.ok(sameGenotype(g, catalogueGenotype("DARTS_V2")));
  });
  it("accepts the JSON form", () => {
    const g = catalogueGenotype("PDARTS");
    const json = JSON.stringify({
      normal: g.normal.ops.map((o) => [o.op, o.from]),
      normal_concat: [2, 3, 4, 5],
      reduce: g.reduce.ops.map((o) => [o.op, o.from]),
      reduce_concat: [2, 3, 4, 5],
    });
    const parsed = parseGenotype(json);
    assert.ok(sameGenotype(parsed, g));
    assert.equal(formatGenotype(parsed), json);
  });
});
