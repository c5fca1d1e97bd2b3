/** Plain network files: the JSON layer list and ONNX models, into the IR, the cost model and the simulator. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import onnxProto from "onnx-proto";
import { resolveNetSource } from "../src/cli/common.js";
import { Tensor } from "../src/engine/tensor.js";
import {
  hardwareOf,
  loadPreset,
  mergeConfig,
  parseHardwareConfig,
  resolveHardwareConfig,
} from "../src/hw/config.js";
import { costNetwork } from "../src/hw/cost.js";
import { deployNetworkFile } from "../src/hyper/deployment.js";
import { countMacs, countParams } from "../src/ir/count.js";
import { loadNetFile } from "../src/net/load.js";
import { Rng } from "../src/util/rng.js";
import { randomTensor, runCli } from "./helpers.js";
import { integerReference } from "./xbar-fixtures.js";

const { onnx } = onnxProto;
const dir = mkdtempSync(join(tmpdir(), "memhyper-net-"));

interface JsonLayer {
  type: string;
  name?: string;
  input?: string;
  inputs?: string[];
  out?: number;
  kernel?: number;
  stride?: number;
  padding?: number;
  bias?: boolean;
  shortcut?: string;
}

/**
 * Parameters and MACs of a layer list, walked independently of the IR builder: shapes by the
 * textbook formulas, zero-pad shortcuts adding neither parameters nor MACs.
 */
function countByHand(file: string): { params: number; macs: number } {
  const d = JSON.parse(readFileSync(file, "utf8")) as { input: number[]; layers: JsonLayer[] };
  const shapes = new Map<string, number[]>([["input", d.input]]);
  let prev = "input";
  let params = 0;
  let macs = 0;
  d.layers.forEach((l, i) => {
    const name = l.name ?? `layer${i}`;
    const [c, h, w] = shapes.get(l.input ?? (l.type === "add" ? l.inputs![0]! : prev))!;
    let out = [c!, h!, w!];
    if (l.type === "conv") {
      const k = l.kernel!;
      const s = l.stride ?? 1;
      const p = l.padding ?? 0;
      out = [l.out!, Math.floor((h! + 2 * p - k) / s) + 1, Math.floor((w! + 2 * p - k) / s) + 1];
      params += l.out! * c! * k * k + (l.bias ? l.out! : 0);
      macs += out[0]! * out[1]! * out[2]! * c! * k * k;
    } else if (l.type === "maxpool" || l.type === "avgpool") {
      const s = l.stride ?? l.kernel!;
      out = [c!, Math.floor((h! - l.kernel!) / s) + 1, Math.floor((w! - l.kernel!) / s) + 1];
    } else if (l.type === "bn") params += 2 * c!;
    else if (l.type === "globalavgpool") out = [c!, 1, 1];
    else if (l.type === "flatten") out = [c! * h! * w!, 1, 1];
    else if (l.type === "linear") {
      params += c! * l.out! + (l.bias === false ? 0 : l.out!);
      macs += c! * l.out!;
      out = [l.out!, 1, 1];
    }
    shapes.set(name, out);
    prev = name;
  });
  return { params, macs };
}

describe("network files", () => {
  it("VGG-8 and ResNet-20: parameters and MACs equal a count by hand", () => {
    for (const file of ["nets/vgg8-cifar10.json", "nets/resnet20-cifar10.json"]) {
      const { network } = loadNetFile(file);
      const want = countByHand(file);
      assert.equal(countParams(network), want.params, `${file} parameters`);
      assert.equal(countMacs(network), want.macs, `${file} MACs`);
    }
    // NeuroSim's VGG-8 in closed form: six 3×3 convolutions at 32², 16², 8², two linear layers.
    const convs = [3 * 128, 128 * 128, 128 * 256, 256 * 256, 256 * 512, 512 * 512].map((x) => 9 * x);
    const fc = 8192 * 1024 + 1024 * 10;
    const vgg = loadNetFile("nets/vgg8-cifar10.json").network;
    assert.equal(countParams(vgg), convs.reduce((a, b) => a + b) + fc);
    const positions = [1024, 1024, 256, 256, 64, 64];
    assert.equal(countMacs(vgg), convs.reduce((a, x, i) => a + x * positions[i]!, 0) + fc);
    // ResNet-20 with option-A shortcuts has 0.27 M parameters (He et al., table 6).
    assert.equal(Math.round(countParams(loadNetFile("nets/resnet20-cifar10.json").network) / 1e4), 27);
  });

  it("ResNet-20's zero-pad shortcuts subsample and pad half the new channels on each side", () => {
    const net = loadNetFile("nets/resnet20-cifar10.json").network;
    const add = net.nodes.find((n) => n.scope.path === "layer2.0.add")!;
    assert.equal(add.kind, "add");
    const pad = net.nodes[add.kind === "add" ? add.inputs[1]! : -1]!;
    assert.equal(pad.kind, "concat");
    const parts = (pad.kind === "concat" ? pad.inputs : []).map((i) => net.nodes[i]!);
    assert.deepEqual(
      parts.map((p) => [p.kind, p.shape.c, p.shape.h]),
      [
        ["zeros", 8, 16],
        ["avgpool", 16, 16],
        ["zeros", 8, 16],
      ],
    );
    const sub = parts[1] as { k: number; stride: number };
    assert.deepEqual([sub.k, sub.stride], [1, 2]);
  });

  it("hw report prices a network file and prints TOPS and TOPS/W from its MACs", () => {
    const r = runCli("hw", "report", "--net", "nets/vgg8-cifar10.json", "--json");
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const direct = costNetwork(
      loadNetFile("nets/vgg8-cifar10.json").network,
      hardwareOf(loadPreset("default")),
    );
    assert.equal(j.areaMm2, direct.areaMm2);
    assert.equal(j.opsPerImage, 2 * 615_917_568);
    assert.equal(j.tops, (j.opsPerImage * j.throughputImgPerSec) / 1e12);
    // the same quotient, rounded in another order: within a few float64 ulps
    assert.ok(
      Math.abs(j.topsPerWatt - j.opsPerImage / (j.energyUj * 1e-6) / 1e12) <=
        4 * Number.EPSILON * j.topsPerWatt,
    );
    assert.equal(j.net, "vgg8-cifar10");
  });
});

/** 3×3 convolution, padding 1, on an 8×8 map of `c` channels (4 outputs), in float64. */
function conv3x3(x: ArrayLike<number>, c: number, weight: Float32Array, bias: Float32Array | null): number[] {
  const y: number[] = [];
  for (let o = 0; o < 4; o++)
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++) {
        let acc = bias ? bias[o]! : 0;
        for (let ci = 0; ci < c; ci++)
          for (let di = -1; di <= 1; di++)
            for (let dj = -1; dj <= 1; dj++) {
              const [ii, jj] = [i + di, j + dj];
              if (ii < 0 || ii >= 8 || jj < 0 || jj >= 8) continue;
              acc += weight[((o * c + ci) * 3 + di + 1) * 3 + dj + 1]! * x[(ci * 8 + ii) * 8 + jj]!;
            }
        y.push(acc);
      }
  return y;
}

function batchNorm(x: number[], name: string, w: (n: string) => Float32Array): number[] {
  return x.map((v, i) => {
    const c = Math.floor(i / 64);
    const scale = w(`${name}.weight`)[c]! / Math.sqrt(w(`${name}.running_var`)[c]! + 1e-5);
    return (v - w(`${name}.running_mean`)[c]!) * scale + w(`${name}.bias`)[c]!;
  });
}

const relu = (x: number[]): number[] => x.map((v) => Math.max(0, v));

function maxPool2(x: number[], c: number): number[] {
  const y: number[] = [];
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        const at = (a: number, b: number) => x[(ch * 8 + 2 * i + a) * 8 + 2 * j + b]!;
        y.push(Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1)));
      }
  return y;
}

describe("validation against NeuroSim", () => {
  it("the VGG-8 configuration resolves, sources every field it sets, and counts NeuroSim's operations", () => {
    const file = "validation/neurosim-v14-vgg8.json";
    const { base: _base, sources, ...set } = JSON.parse(readFileSync(file, "utf8"));
    const leaves = (o: Record<string, unknown>, p = ""): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        v && typeof v === "object" ? leaves(v as Record<string, unknown>, `${p}${k}.`) : [`${p}${k}`],
      );
    for (const field of leaves(set).filter((f) => f !== "name" && f !== "description"))
      assert.ok(sources[field], `${field} has no source`);
    const cfg = resolveHardwareConfig("default", file);
    assert.equal(cfg.adc.bits, 4);
    assert.equal(cfg.conductance.cellBits, 1);
    const ref = JSON.parse(readFileSync("validation/neurosim-v14-vgg8.reference.json", "utf8")).figures;
    const r = costNetwork(loadNetFile("nets/vgg8-cifar10.json").network, hardwareOf(cfg));
    // The CSV prints six significant digits: the same count within half a unit of the sixth.
    assert.ok(Math.abs(r.opsPerImage - ref.operationsPerImage) <= 0.5e4, `${r.opsPerImage}`);
    for (const key of ["areaMm2", "energyUj", "latencyUs", "tops", "topsPerWatt"] as const)
      assert.ok(Number.isFinite(r[key]) && r[key] > 0, key);
  });
});

/** A small residual network as a JSON layer list and as an ONNX graph with the same names. */
const TWIN: { input: number[]; layers: JsonLayer[] } = {
  input: [3, 8, 8],
  layers: [
    { type: "conv", name: "c1", out: 4, kernel: 3, padding: 1, bias: true },
    { type: "bn", name: "b1" },
    { type: "relu", name: "r1" },
    { type: "conv", name: "c2", out: 4, kernel: 3, padding: 1 },
    { type: "bn", name: "b2" },
    { type: "add", name: "sum", inputs: ["b2", "r1"] },
    { type: "relu", name: "r2" },
    { type: "maxpool", name: "p", kernel: 2, stride: 2 },
    { type: "flatten", name: "f" },
    { type: "linear", name: "fc", out: 5 },
  ],
};

function tensor(name: string, dims: number[], rng: Rng, positive = false) {
  const n = dims.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => (positive ? 0.5 + rng.uniform() : 0.5 * rng.normal()));
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    floatData: values,
  });
}

const ints = (name: string, v: number[]) =>
  onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });

/** The twin as ONNX: Conv (with bias), BatchNormalization, Relu, Add, MaxPool, Flatten, Gemm. */
type NodeProto = InstanceType<typeof onnx.NodeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

function twinOnnx(
  seed: number,
  edit: { nodes?: (nodes: NodeProto[]) => void; initialisers?: (ts: TensorProto[]) => void } = {},
) {
  const rng = new Rng(seed);
  const conv = { attribute: [ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1])] };
  const nodes = [
    onnx.NodeProto.create({
      name: "c1",
      opType: "Conv",
      input: ["x", "c1.w", "c1.b"],
      output: ["t1"],
      ...conv,
    }),
    onnx.NodeProto.create({
      name: "b1",
      opType: "BatchNormalization",
      input: ["t1", "b1.s", "b1.b", "b1.m", "b1.v"],
      output: ["t2"],
    }),
    onnx.NodeProto.create({ name: "r1", opType: "Relu", input: ["t2"], output: ["t3"] }),
    onnx.NodeProto.create({ name: "c2", opType: "Conv", input: ["t3", "c2.w"], output: ["t4"], ...conv }),
    onnx.NodeProto.create({
      name: "b2",
      opType: "BatchNormalization",
      input: ["t4", "b2.s", "b2.b", "b2.m", "b2.v"],
      output: ["t5"],
    }),
    onnx.NodeProto.create({ name: "sum", opType: "Add", input: ["t5", "t3"], output: ["t6"] }),
    onnx.NodeProto.create({ name: "r2", opType: "Relu", input: ["t6"], output: ["t7"] }),
    onnx.NodeProto.create({
      name: "p",
      opType: "MaxPool",
      input: ["t7"],
      output: ["t8"],
      attribute: [ints("kernel_shape", [2, 2]), ints("strides", [2, 2])],
    }),
    onnx.NodeProto.create({ name: "f", opType: "Flatten", input: ["t8"], output: ["t9"] }),
    onnx.NodeProto.create({
      name: "fc",
      opType: "Gemm",
      input: ["t9", "fc.w", "fc.b"],
      output: ["y"],
      attribute: [
        onnx.AttributeProto.create({ name: "transB", type: onnx.AttributeProto.AttributeType.INT, i: 1 }),
      ],
    }),
  ];
  edit.nodes?.(nodes);
  const initializer = [
    tensor("c1.w", [4, 3, 3, 3], rng),
    tensor("c1.b", [4], rng),
    ...["b1", "b2"].flatMap((b) => [
      tensor(`${b}.s`, [4], rng, true),
      tensor(`${b}.b`, [4], rng),
      tensor(`${b}.m`, [4], rng),
      tensor(`${b}.v`, [4], rng, true),
    ]),
    tensor("c2.w", [4, 4, 3, 3], rng),
    tensor("fc.w", [5, 64], rng),
    tensor("fc.b", [5], rng),
  ];
  edit.initialisers?.(initializer);
  const dims = [1, 3, 8, 8].map((d) => ({ dimValue: d }));
  const graph = onnx.GraphProto.create({
    name: "twin",
    node: nodes,
    initializer,
    input: [{ name: "x", type: { tensorType: { elemType: 1, shape: { dim: dims } } } }],
    output: [{ name: "y" }],
  });
  const model = onnx.ModelProto.create({ irVersion: 7, graph, opsetImport: [{ version: 13 }] });
  return onnx.ModelProto.encode(model).finish();
}

function write(name: string, content: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe("ONNX models", () => {
  it("an ONNX graph imports to the same IR as its JSON twin", () => {
    const fromOnnx = loadNetFile(write("twin.onnx", twinOnnx(1)));
    const fromJson = loadNetFile(write("twin.json", JSON.stringify({ name: "twin", ...TWIN })));
    assert.deepEqual(fromOnnx.network, fromJson.network);
    // Every parameter the IR names comes from an initialiser of the right shape.
    for (const p of fromJson.network.params) {
      const t = fromOnnx.weights!.get(p.name);
      assert.ok(t, `no initialiser for ${p.name}`);
      assert.deepEqual(t.shape, p.shape, p.name);
    }
  });

  it("with ideal devices and a lossless ADC the simulator equals the int8 reference on the ONNX model", () => {
    const file = write("twin-eval.onnx", twinOnnx(2));
    const net = loadNetFile(file);
    const { float } = deployNetworkFile(net, file);
    const cfg = parseHardwareConfig(
      mergeConfig(loadPreset("int8"), {
        dac: { mode: "bit-serial", signedInputs: "two-phase" },
        conductance: { gMin: 2, gMax: 40, cellBits: 3 },
        adc: { bits: null },
      }),
    );
    const rng = new Rng(5);
    const images = randomTensor([6, 3, 8, 8], rng);
    const sim = deployNetworkFile(net, file).simulator(cfg, images);
    sim.program(1, 0, null, true);
    const got = float.forward(images, { training: false, executor: sim.executor() }).logits;
    const reference = float.forward(images, {
      training: false,
      executor: {
        conv: (node, x) => {
          const l = sim.layers.get(node.id)!;
          return new Tensor([6, l.geom.oc, l.geom.oh, l.geom.ow], integerReference(l, x.data, 6));
        },
        linear: (node, x) => {
          const l = sim.layers.get(node.id)!;
          return new Tensor([6, l.geom.oc], integerReference(l, x.data, 6));
        },
      },
    }).logits;
    assert.equal(sim.layers.size, 3);
    assert.deepEqual(got.data, reference.data);
  });

  it("the float network computes what the ONNX operators define (a direct implementation)", () => {
    const file = write("twin-float.onnx", twinOnnx(4));
    const net = loadNetFile(file);
    const w = (name: string) => net.weights!.get(name)!.data as Float32Array;
    const images = randomTensor([2, 3, 8, 8], new Rng(6));
    const got = deployNetworkFile(net, file).float.forward(images, { training: false }).logits.data;
    for (let b = 0; b < 2; b++) {
      const x = images.data.subarray(b * 192, (b + 1) * 192);
      const r1 = relu(batchNorm(conv3x3(x, 3, w("c1.weight"), w("c1.bias")), "b1", w));
      const sum = batchNorm(conv3x3(r1, 4, w("c2.weight"), null), "b2", w).map((v, i) => v + r1[i]!);
      const pooled = maxPool2(relu(sum), 4);
      for (let o = 0; o < 5; o++) {
        let y = w("fc.bias")[o]!;
        for (let i = 0; i < 64; i++) y += w("fc.weight")[o * 64 + i]! * pooled[i]!;
        // float32 accumulation in a different order: a few ulps of the largest partial sums
        assert.ok(Math.abs(got[b * 5 + o]! - y) <= 1e-4 * (1 + Math.abs(y)), `image ${b} logit ${o}`);
      }
    }
  });

  it("refuses malformed models with one clear message and a non-zero exit", () => {
    const cases: [string, Uint8Array | string, RegExp][] = [
      ["truncated.onnx", twinOnnx(3).subarray(0, 200), /not a readable ONNX model.*Export it again/],
      [
        "unknown-op.onnx",
        twinOnnx(3, {
          nodes: (n) => {
            n[6]!.opType = "Sigmoid";
          },
        }),
        /node 6 'r2' \(Sigmoid\): operator Sigmoid has no mapping/,
      ],
      [
        "no-initialiser.onnx",
        twinOnnx(3, {
          initialisers: (ts) =>
            ts.splice(
              ts.findIndex((t) => t.name === "c2.w"),
              1,
            ),
        }),
        /'c2' \(Conv\): its weight 'c2.w' is not an initialiser/,
      ],
      [
        "bad-weight.onnx",
        twinOnnx(3, {
          initialisers: (ts) =>
            ts.splice(
              ts.findIndex((t) => t.name === "c2.w"),
              1,
              tensor("c2.w", [4, 3, 3, 3], new Rng(9)),
            ),
        }),
        /'c2.weight' is \[4, 3, 3, 3\] in the file, the network needs \[4, 4, 3, 3\]/,
      ],
      [
        "bad-sum.onnx",
        twinOnnx(3, {
          nodes: (n) => {
            n[5]!.input = ["t5", "x"];
          },
        }),
        /'sum' \(add\): input 1 is 3×8×8, input 0 is 4×8×8/,
      ],
      ["bad.json", "{ not json", /not valid JSON/],
      [
        "unknown-field.json",
        JSON.stringify({
          name: "x",
          input: [3, 8, 8],
          layers: [{ type: "conv", out: 4, kernel: 3, colour: 1 }],
        }),
        /layer 0, \(layer\): Unrecognized key.*colour/,
      ],
      [
        "unknown-type.json",
        JSON.stringify({ name: "x", input: [3, 8, 8], layers: [{ type: "softmax", name: "s" }] }),
        /layer 0 's', type: /,
      ],
      [
        "dangling.json",
        JSON.stringify({ name: "x", input: [3, 8, 8], layers: [{ type: "relu", name: "r", input: "nope" }] }),
        /layer 0 'r' \(relu\): reads 'nope', which is not an earlier layer/,
      ],
    ];
    for (const [name, content, message] of cases)
      assert.throws(() => loadNetFile(write(name, content)), { name: "NetFileError", message }, name);
    assert.throws(() => loadNetFile(join(dir, "absent.json")), /network file not found/);
    assert.throws(
      () => resolveNetSource({ net: "nets/vgg8-cifar10.json", genotype: "PDARTS", channels: 16, layers: 8 }),
      /exactly one of --genotype .* and --net/,
    );
    // On the command line: the one message, and a non-zero exit.
    const r = runCli("net", "info", "--net", join(dir, "truncated.onnx"));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^memhyper: error: .*truncated\.onnx is not a readable ONNX model/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });
});
