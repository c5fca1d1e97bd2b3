import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Model } from "../src/engine/model.js";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadModelWeights,
  modelRecords,
  saveModel,
  WeightFileError,
} from "../src/engine/safetensors.js";
import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";

const net = (g = "PDARTS", channels = 4) => buildNetwork(resolveArchitecture(g), { channels, layers: 3 });

describe("safetensors", () => {
  const dir = mkdtempSync(join(tmpdir(), "mh-st-"));
  const path = join(dir, "w.safetensors");
  const a = new Model(net(), 1);
  a.batchesTracked.set("stem.1.num_batches_tracked", 17);
  saveModel(a, path);

  it("round-trips every tensor, BN running stats and num_batches_tracked", () => {
    const b = new Model(net(), 2);
    loadModelWeights(b, path);
    for (const [name, t] of a.tensors) assert.deepEqual(b.tensor(name).data, t.data, name);
    assert.equal(b.batchesTracked.get("stem.1.num_batches_tracked"), 17);
    const file = decodeSafetensors(readFileSync(path));
    assert.equal(file.tensors.get("stem.1.num_batches_tracked")!.dtype, "I64");
    assert.deepEqual(file.tensors.get("stem.0.weight")!.shape, [12, 3, 3, 3]);
  });

  it("lays out the header as the format specifies (u64 length, JSON, 8-byte aligned data)", () => {
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0));
    assert.equal(n % 8, 0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    assert.deepEqual(
      header["stem.0.weight"].data_offsets[1] - header["stem.0.weight"].data_offsets[0],
      12 * 27 * 4,
    );
  });

  const bad = (name: string, bytes: Buffer, message: RegExp) =>
    it(name, () => {
      const p = join(dir, `${name.replace(/\W+/g, "_")}.safetensors`);
      writeFileSync(p, bytes);
      assert.throws(
        () => loadModelWeights(new Model(net()), p),
        (e: Error) => e instanceof WeightFileError && message.test(e.message),
      );
    });
  const good = readFileSync(path);
  bad("truncated file", good.subarray(0, good.length - 100), /truncated: tensor '.*' ends at byte/);
  bad("tiny file", good.subarray(0, 5), /truncated: 5 bytes/);
  bad(
    "header longer than file",
    Buffer.concat([Buffer.from([255, 255, 0, 0, 0, 0, 0, 0]), Buffer.alloc(16)]),
    /header says \d+ bytes/,
  );
  const corruptJson = Buffer.from(good);
  corruptJson[8] = 0x58; // 'X' where the header's '{' was
  bad("corrupt header", corruptJson, /header is not valid JSON/);
  it("missing file", () =>
    assert.throws(
      () => loadModelWeights(new Model(net()), join(dir, "nope.safetensors")),
      /cannot read weights .*ENOENT/,
    ));
  it("missing tensor, by name", () => {
    const recs = modelRecords(a);
    recs.delete("classifier.bias");
    const p = join(dir, "missing.safetensors");
    writeFileSync(p, encodeSafetensors(recs));
    assert.throws(() => loadModelWeights(new Model(net()), p), /missing tensor 'classifier\.bias'/);
  });
  it("shape mismatch, by name", () => {
    assert.throws(
      () => loadModelWeights(new Model(net("PDARTS", 6)), path),
      /tensor 'stem\.0\.weight' has shape \[12, 3, 3, 3\], the model needs \[18, 3, 3, 3\]/,
    );
  });
  it("a training checkpoint: optimizer state ignored, weights loaded", () => {
    const recs = modelRecords(a);
    const w = recs.get("stem.0.weight")!;
    recs.set("optimizer.momentum.stem.0.weight", { ...w, data: new Float32Array(w.data.length).fill(3) });
    const p = join(dir, "checkpoint.safetensors");
    writeFileSync(p, encodeSafetensors(recs));
    const b = new Model(net(), 2);
    loadModelWeights(b, p);
    assert.deepEqual(b.tensor("stem.0.weight").data, a.tensor("stem.0.weight").data);
  });
  it("another architecture's file", () => {
    assert.throws(() => loadModelWeights(new Model(net("DARTS_V1")), path), /(unexpected|missing) tensor/);
  });
});
