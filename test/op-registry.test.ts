/**
 * The op registry, extended the way an extension would: a ninth primitive of an existing family
 * registered with one call (this file runs in its own process, so the registration does not
 * reach other suites). Everything downstream must take it without another change: codes widen
 * to 4 bits an edge, genotypes name it, the IR, the cost model and the hypernetwork build it,
 * and the configured hypernetwork still computes what individual deployment computes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hardwareOf, loadPreset } from "../src/hw/config.js";
import { costNetwork } from "../src/hw/cost.js";
import { compileConfiguration } from "../src/hyper/compiler.js";
import { checkEquivalence } from "../src/hyper/verify.js";
import { countMacs, countParams } from "../src/ir/count.js";
import { buildNetwork } from "../src/ir/network.js";
import { architectureFromConfiguration, resolveArchitecture } from "../src/space/architecture.js";
import { EDGES_PER_CELL } from "../src/space/cell.js";
import { codeHexDigits, decodeConfiguration, encodeConfiguration } from "../src/space/code.js";
import { edgeCompleteViewCount } from "../src/space/count.js";
import { numOps, opSpec, PRIMITIVES, registerOp } from "../src/space/primitives.js";

/** One separable stage (ReLU, depthwise 3×3, pointwise, BN): a dil_conv without dilation. */
const NINTH = {
  name: "single_sep_conv_3x3",
  family: "dil_conv",
  kernel: 3,
  dilation: 1,
  padding: 1,
} as const;

describe("op registry: a ninth primitive in one registration", () => {
  const before = { ops: numOps(), digits: codeHexDigits() };
  const spec = registerOp(NINTH);

  it("takes the next index and widens the code from 3 to 4 bits an edge (21 → 28 hex digits)", () => {
    assert.deepEqual(before, { ops: 8, digits: 21 });
    assert.equal(spec.index, 8);
    assert.equal(numOps(), 9);
    assert.equal(PRIMITIVES[8], NINTH.name);
    assert.equal(opSpec(NINTH.name), spec);
    assert.equal(codeHexDigits(), 28);
    assert.equal(edgeCompleteViewCount(), 9n ** 28n);
    // Every op on every edge round-trips through the wider code.
    const config = {
      normal: Array.from({ length: EDGES_PER_CELL }, (_, e) => e % 9),
      reduce: Array.from({ length: EDGES_PER_CELL }, (_, e) => 8 - (e % 9)),
    };
    const code = encodeConfiguration(config);
    assert.equal(code.length, 28);
    assert.deepEqual(decodeConfiguration(code), config);
    // Hand-encoded: the first normal edge (op 0) and the second (op 1) are the top two nibbles.
    assert.equal(code.slice(0, 2), "01");
    assert.throws(() => decodeConfiguration("0".repeat(21)), /expected 28 hex digits \(112 bits\)/);
  });

  it("genotypes name it; the IR builds it with a depthwise 3×3 and a pointwise layer, counted by hand", () => {
    const text =
      "Genotype(normal=[('single_sep_conv_3x3', 0), ('skip_connect', 1), ('single_sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('max_pool_3x3', 2), ('skip_connect', 1), ('avg_pool_3x3', 0)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('single_sep_conv_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 1)], reduce_concat=range(2, 6))";
    const arch = resolveArchitecture(text);
    const swapped = resolveArchitecture(text.replaceAll("single_sep_conv_3x3", "dil_conv_3x3"));
    const opts = { channels: 8, layers: 3 };
    const net = buildNetwork(arch, opts);
    const ops = net.nodes.filter((n) => n.scope.op === NINTH.name && n.kind === "conv");
    assert.ok(ops.length > 0);
    for (const n of ops)
      if (n.kind === "conv" && n.groups > 1) assert.deepEqual([n.k, n.dilation, n.pad], [3, 1, 1]);
    // Same layers and parameters as dil_conv_3x3 (only the dilation differs); the same MACs,
    // since padding keeps every map's size.
    assert.equal(countParams(net), countParams(buildNetwork(swapped, opts)));
    assert.equal(countMacs(net), countMacs(buildNetwork(swapped, opts)));
  });

  it("the cost model prices it, and the configured hypernetwork computes what individual deployment computes, bit for bit", () => {
    const config = {
      normal: Array.from({ length: EDGES_PER_CELL }, (_, e) => (e % 3 === 0 ? 8 : e % 9)),
      reduce: Array.from({ length: EDGES_PER_CELL }, (_, e) => (e % 2 === 0 ? 8 : 0)),
    };
    const arch = architectureFromConfiguration(config);
    const report = costNetwork(
      buildNetwork(arch, { channels: 16, layers: 8 }),
      hardwareOf(loadPreset("default")),
    );
    assert.ok((report.breakdown.areaMm2ByOp[NINTH.name] ?? 0) > 0);
    const compiled = compileConfiguration({ channels: 4, layers: 3, variant: "edge" }, arch);
    const slots = compiled.settings.filter((s) => s.op === NINTH.name);
    assert.ok(slots.length > 0);
    for (const s of slots)
      assert.deepEqual(s.universal, { kernel: 3, dilation: 1, stride: s.stride, stage2: false });
    const r = checkEquivalence({ channels: 4, layers: 3, variant: "edge" }, arch, {
      seed: 3,
      images: 2,
      imageSize: 8,
      lossy: false,
    });
    assert.ok(r.identical, "bit-identical logits");
  });

  it("refuses a primitive that its family's unit cannot run, or a name taken", () => {
    const bad: [Parameters<typeof registerOp>[0], RegExp][] = [
      [{ ...NINTH, name: "dil_conv_7x7", kernel: 7, padding: 3 }, /3×3 or 5×5/],
      [{ ...NINTH, name: "dil_conv_3x3_d3", dilation: 3, padding: 3 }, /dilates by 1 or 2/],
      [
        { ...NINTH, name: "sep_conv_3x3_d2", family: "sep_conv", dilation: 2, padding: 2 },
        /sep_conv is undilated/,
      ],
      [{ ...NINTH, name: "valid_pad", padding: 0 }, /padding must keep the map's size/],
      [
        { name: "max_pool_5x5", family: "pool", kernel: 5, dilation: 1, padding: 2, pool: "max" },
        /3×3 window/,
      ],
      [{ ...NINTH }, /already registered/],
      [{ ...NINTH, name: "Bad Name" }, /lower-case letters/],
    ];
    for (const [s, re] of bad) assert.throws(() => registerOp(s), re, s.name);
    assert.equal(numOps(), 9, "nothing was added");
  });
});
