import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { countMacs, countParams } from "../src/ir/count.js";
import { buildNetwork } from "../src/ir/network.js";
import { architectureFromConfiguration, resolveArchitecture } from "../src/space/architecture.js";
import { CATALOGUE } from "../src/space/catalogue.js";
import { decodeConfiguration, encodeConfiguration } from "../src/space/code.js";
import { sampleConfiguration } from "../src/space/sample.js";
import { Rng } from "../src/util/rng.js";

interface CountRow {
  genotype: string;
  channels: number;
  layers: number;
  params: number;
  macs: number;
}
// The exact counts come from the shared reference, beside the repository (as in CI).
const countsUrl = new URL("../../shared/reference/darts_counts.json", import.meta.url);
if (!existsSync(countsUrl)) {
  throw new Error(`reference counts ${countsUrl.pathname} not found: clone memhyper beside ../shared`);
}
const rows = JSON.parse(readFileSync(countsUrl, "utf8")) as CountRow[];

describe("NetworkCIFAR IR", () => {
  it("reads the reference counts file", () => assert.ok(rows.length >= 8));
  for (const r of rows) {
    it(`${r.genotype} C=${r.channels} L=${r.layers}: params ${r.params}, MACs ${r.macs}`, () => {
      const net = buildNetwork(resolveArchitecture(r.genotype), { channels: r.channels, layers: r.layers });
      assert.equal(countParams(net), r.params);
      assert.equal(countMacs(net), r.macs);
    });
  }

  it("names parameters as the reference state_dict", () => {
    const net = buildNetwork(resolveArchitecture("DARTS_V2"), { channels: 16, layers: 8, auxiliary: true });
    const names = new Map(net.params.map((p) => [p.name, p.shape]));
    assert.deepEqual(names.get("stem.0.weight"), [48, 3, 3, 3]);
    assert.deepEqual(names.get("cells.0.preprocess0.op.1.weight"), [16, 48, 1, 1]);
    // cell 3 follows reduction cell 2: FactorizedReduce from cell 1 (4·16 channels) to C/2 = 16 per branch
    assert.deepEqual(names.get("cells.3.preprocess0.conv_1.weight"), [16, 64, 1, 1]);
    // DARTS_V2 normal _ops.0 = sep_conv_3x3: op.1 depthwise, op.2 pointwise, op.3 BN, op.5, op.6, op.7.
    assert.deepEqual(names.get("cells.0._ops.0.op.1.weight"), [16, 1, 3, 3]);
    assert.deepEqual(names.get("cells.0._ops.0.op.6.weight"), [16, 16, 1, 1]);
    assert.deepEqual(names.get("cells.0._ops.0.op.7.running_var"), [16]);
    assert.deepEqual(names.get("cells.0._ops.0.op.7.num_batches_tracked"), []);
    // DARTS_V2 normal _ops.7 = dil_conv_3x3: op.1 depthwise dilated, op.2 pointwise, op.3 BN.
    assert.deepEqual(names.get("cells.1._ops.7.op.1.weight"), [16, 1, 3, 3]);
    assert.deepEqual(names.get("cells.1._ops.7.op.3.bias"), [16]);
    assert.deepEqual(names.get("classifier.weight"), [10, 256]);
    assert.deepEqual(names.get("auxiliary_head.features.5.weight"), [768, 128, 2, 2]);
    assert.deepEqual(names.get("auxiliary_head.classifier.weight"), [10, 768]);
  });

  it("keeps the genotype's op order for _ops.i (DARTS_V1 node 2 lists input 1 first)", () => {
    const net = buildNetwork(resolveArchitecture("DARTS_V1"), { channels: 16, layers: 8 });
    const op0 = net.nodes.find((n) => n.kind === "conv" && n.param === "cells.0._ops.0.op.1")!;
    assert.equal(op0.kind, "conv");
    // Its input chain starts at preprocess1 (input 1): the ReLU before it reads preprocess1's BN.
    const relu = net.nodes[(op0 as { input: number }).input]!;
    const src = net.nodes[(relu as { input: number }).input]!;
    assert.equal(src.scope.path, "cells.0.preprocess1");
  });

  it("builds edge-complete configurations, naming ops by edge, with zeros for empty nodes", () => {
    const code = "000000000000000000000"; // every edge none
    const net = buildNetwork(architectureFromConfiguration(decodeConfiguration(code)), {
      channels: 8,
      layers: 3,
    });
    assert.equal(net.nodes.filter((n) => n.kind === "zeros").length, 4 * 3);
    // only stem, preprocessing and the classifier remain
    assert.ok(net.params.every((p) => !p.name.includes(".edges.")));
    const rng = new Rng(5);
    for (let i = 0; i < 20; i++) {
      const config = sampleConfiguration(rng);
      const n = buildNetwork(architectureFromConfiguration(config), { channels: 8, layers: 5 });
      assert.ok(countMacs(n) > 0);
      for (const p of n.params)
        assert.match(p.name, /^(stem|classifier|cells\.\d+\.(preprocess[01]|edges\.\d+))\./);
      assert.equal(encodeConfiguration(config).length, 21);
    }
  });

  it("counts the same for a genotype and its configuration, whatever the naming", () => {
    for (const e of CATALOGUE.filter((x) => !x.name.startsWith("FairDARTS") && x.name !== "GDAS_V1")) {
      const a = resolveArchitecture(e.name);
      const b = architectureFromConfiguration(a.configuration!);
      const na = buildNetwork(a, { channels: 16, layers: 8 });
      const nb = buildNetwork(b, { channels: 16, layers: 8 });
      assert.equal(countParams(na), countParams(nb), e.name);
      assert.equal(countMacs(na), countMacs(nb), e.name);
    }
  });

  it("rejects bad sizes with a clear message", () => {
    const arch = resolveArchitecture("PDARTS");
    assert.throws(() => buildNetwork(arch, { channels: 15, layers: 8 }), /--channels must be even/);
    assert.throws(() => buildNetwork(arch, { channels: 16, layers: 2 }), /--layers must be at least 3/);
  });
});
