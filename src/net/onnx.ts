/**
 * ONNX models into a network description and its weights, read with the ONNX schema's
 * protobuf classes (onnx-proto). Operators map one to one onto description layers; anything
 * else is refused with the operator and its node named.
 */
import onnxProto from "onnx-proto";
import { BN_EPS } from "../engine/ops.js";
import type { TensorRecord } from "../engine/safetensors.js";
import type { Layer, NetDescription } from "./description.js";
import { NetFileError } from "./description.js";

const { onnx } = onnxProto;
type Attribute = InstanceType<typeof onnx.AttributeProto>;
type TensorProto = InstanceType<typeof onnx.TensorProto>;

export interface OnnxNet {
  readonly description: NetDescription;
  /** Initialisers by IR parameter name (`<layer>.weight`, `.bias`, batch norm statistics). */
  readonly weights: Map<string, TensorRecord>;
}

const MAPPED = [
  "Conv",
  "BatchNormalization",
  "Relu",
  "MaxPool",
  "AveragePool",
  "GlobalAveragePool",
  "Flatten",
  "Reshape",
  "Gemm",
  "Add",
  "Identity",
  "Dropout",
  "Constant",
];

type F32Record = TensorRecord & { readonly data: Float32Array };

const int = (v: number | { toNumber(): number }): number => (typeof v === "number" ? v : v.toNumber());

export function readOnnx(bytes: Uint8Array, origin: string): OnnxNet {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new NetFileError(
      `${origin} is not a readable ONNX model (${(e as Error).message}); is the file complete? Export it again`,
    );
  }
  const graph = model.graph;
  if (!graph?.node?.length) throw new NetFileError(`${origin}: the ONNX model has no graph nodes`);
  const constants = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? "", t as TensorProto);

  const image = (graph.input ?? []).find((i) => !constants.has(i.name ?? ""));
  const dims = image?.type?.tensorType?.shape?.dim?.map((d) => (d.dimValue == null ? 0 : int(d.dimValue)));
  if (!image || dims?.length !== 4 || dims.slice(1).some((d) => !(d > 0)))
    throw new NetFileError(
      `${origin}: the graph input must be an image tensor [N, C, H, W] with fixed C, H and W; got ${image ? `'${image.name}' ${JSON.stringify(dims ?? null)}` : "none"}`,
    );

  // ONNX tensor name → the description layer that produces it ("input": the image).
  const producer = new Map<string, string>([[image.name!, "input"]]);
  const layers: Layer[] = [];
  const weights: OnnxNet["weights"] = new Map();
  const used = new Set<string>(["input"]);

  for (const [index, node] of graph.node.entries()) {
    const op = node.opType ?? "";
    const where = `node ${index} '${node.name || node.output?.[0]}' (${op})`;
    const fail = (msg: string): never => {
      throw new NetFileError(`${origin}: ${where}: ${msg}`);
    };
    if (!MAPPED.includes(op))
      fail(`operator ${op} has no mapping in memhyper (supported: ${MAPPED.join(", ")})`);
    const attrs = new Map<string, Attribute>(
      (node.attribute ?? []).map((a) => [a.name ?? "", a as Attribute]),
    );
    const ints = (key: string, fallback: number[]): number[] => attrs.get(key)?.ints?.map(int) ?? fallback;
    const scalar = (key: string, fallback: number): number => {
      const a = attrs.get(key);
      return a ? (a.type === onnx.AttributeProto.AttributeType.FLOAT ? a.f : int(a.i)) : fallback;
    };
    const activation = (j: number): string => {
      const t = node.input?.[j] ?? "";
      const p = producer.get(t);
      if (p === undefined) fail(`input '${t}' is neither the graph input nor the output of an earlier node`);
      return p!;
    };
    const initialiser = (j: number, what: string): TensorProto => {
      const t = node.input?.[j] ?? "";
      const c = constants.get(t);
      if (!c) fail(`its ${what} '${t}' is not an initialiser (memhyper maps constant weights only)`);
      return c!;
    };
    const output = node.output?.[0] ?? fail("has no output");
    const alias = (): void => void producer.set(output, activation(0));
    if (op === "Constant") {
      const t = attrs.get("value")?.t;
      if (!t) fail("only tensor constants (attribute 'value') are mapped");
      constants.set(output, t as TensorProto);
      continue;
    }
    if (op === "Identity" || op === "Dropout") {
      alias();
      continue;
    }
    let name = (node.name || output).replace(/[^A-Za-z0-9_.:/-]/g, "_");
    while (used.has(name)) name = `${name}_`;
    used.add(name);
    const input = activation(0);
    const add = (layer: Layer): void => {
      layers.push(layer);
      producer.set(output, name);
    };
    const square = (key: string, values: number[]): number => {
      if (values.some((v) => v !== values[0]))
        fail(
          `${key} ${JSON.stringify(values)}: memhyper maps square kernels with equal strides and pads only`,
        );
      return values[0]!;
    };
    const pads = (): number => {
      const autoPad = attrs.get("auto_pad")?.s;
      if (autoPad?.length && new TextDecoder().decode(autoPad) !== "NOTSET")
        fail("auto_pad is set; export with explicit pads");
      return square("pads", ints("pads", [0, 0, 0, 0]));
    };
    switch (op) {
      case "Conv": {
        const w = initialiser(1, "weight");
        const shape = w.dims!.map(int);
        const k = square("kernel_shape", ints("kernel_shape", shape.slice(2)));
        if (shape.length !== 4 || shape[2] !== k || shape[3] !== k)
          fail(`weight '${w.name}' has shape ${JSON.stringify(shape)}, not [out, in/groups, ${k}, ${k}]`);
        const hasBias = (node.input?.length ?? 0) > 2 && node.input![2] !== "";
        add({
          type: "conv",
          name,
          input,
          out: shape[0]!,
          kernel: k,
          stride: square("strides", ints("strides", [1, 1])),
          padding: pads(),
          dilation: square("dilations", ints("dilations", [1, 1])),
          groups: scalar("group", 1),
          bias: hasBias,
        });
        weights.set(`${name}.weight`, floats(w, shape, fail));
        if (hasBias) weights.set(`${name}.bias`, floats(initialiser(2, "bias"), [shape[0]!], fail));
        break;
      }
      case "BatchNormalization": {
        const eps = scalar("epsilon", 1e-5);
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((j) => initialiser(j, "statistic"));
        const c = int(scale!.dims![0]!);
        const stat = (t: TensorProto) => floats(t, [c], fail);
        const v = stat(variance!);
        // sqrt(var + eps) is what normalises: the same with memhyper's epsilon (BN_EPS).
        for (let i = 0; i < c; i++) v.data[i] = v.data[i]! + eps - BN_EPS;
        add({ type: "bn", name, input });
        weights.set(`${name}.num_batches_tracked`, { dtype: "I64", shape: [], data: BigInt64Array.of(0n) });
        weights.set(`${name}.weight`, stat(scale!));
        weights.set(`${name}.bias`, stat(bias!));
        weights.set(`${name}.running_mean`, stat(mean!));
        weights.set(`${name}.running_var`, v);
        break;
      }
      case "Relu":
        add({ type: "relu", name, input });
        break;
      case "MaxPool":
      case "AveragePool": {
        if (scalar("ceil_mode", 0) !== 0) fail("ceil_mode 1 is not mapped; export with ceil_mode=False");
        const padding = pads();
        if (op === "AveragePool" && padding > 0 && scalar("count_include_pad", 0) !== 0)
          fail("count_include_pad=1 with padding is not mapped (memhyper averages in-bounds values)");
        if (ints("dilations", [1, 1]).some((d) => d !== 1)) fail("dilated pooling is not mapped");
        const kernel = square("kernel_shape", ints("kernel_shape", []));
        if (!(kernel > 0)) fail("has no kernel_shape; ONNX requires one for pooling");
        add({
          type: op === "MaxPool" ? "maxpool" : "avgpool",
          name,
          input,
          kernel,
          stride: square("strides", ints("strides", [1, 1])),
          padding,
        });
        break;
      }
      case "GlobalAveragePool":
        add({ type: "globalavgpool", name, input });
        break;
      case "Flatten":
        if (scalar("axis", 1) !== 1) fail("only Flatten with axis 1 (keep the batch) is mapped");
        add({ type: "flatten", name, input });
        break;
      case "Reshape": {
        const target = constants.get(node.input?.[1] ?? "");
        const t = target ? int64s(target) : [];
        if (t.length !== 2 || !(t[1] === -1 || t[1]! > 0))
          fail("only a Reshape to [batch, features] (a flatten) with a constant shape is mapped");
        add({ type: "flatten", name, input });
        break;
      }
      case "Gemm": {
        if (scalar("transA", 0) !== 0 || scalar("alpha", 1) !== 1 || scalar("beta", 1) !== 1)
          fail("only Gemm with transA 0, alpha 1 and beta 1 (a linear layer) is mapped");
        const w = initialiser(1, "weight");
        const [r, c] = w.dims!.map(int) as [number, number];
        const transposed = scalar("transB", 0) === 1;
        const out = transposed ? r : c;
        const data = floats(w, [r, c], fail);
        const hasBias = (node.input?.length ?? 0) > 2 && node.input![2] !== "";
        add({ type: "linear", name, input, out, bias: hasBias });
        weights.set(`${name}.weight`, transposed ? data : transpose(data, r, c));
        if (hasBias) weights.set(`${name}.bias`, floats(initialiser(2, "bias"), [out], fail));
        break;
      }
      case "Add": {
        const inputs = (node.input ?? []).map((_, j) => activation(j));
        add({ type: "add", name, inputs, shortcut: "identity" });
        break;
      }
    }
  }
  const last = graph.output?.[0]?.name ?? "";
  if (producer.get(last) !== layers.at(-1)?.name)
    throw new NetFileError(`${origin}: the graph output '${last}' is not the last node's output`);
  return {
    description: {
      name: graph.name || model.producerName || "onnx",
      source: origin,
      input: [dims[1]!, dims[2]!, dims[3]!],
      layers,
    },
    weights,
  };
}

/** A float32 initialiser's values, checked against the shape the layer needs. */
function floats(t: TensorProto, shape: number[], fail: (msg: string) => never): F32Record {
  const dims = (t.dims ?? []).map(int);
  if (dims.length !== shape.length || dims.some((d, i) => d !== shape[i]))
    fail(`initialiser '${t.name}' has shape ${JSON.stringify(dims)}, expected ${JSON.stringify(shape)}`);
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT)
    fail(`initialiser '${t.name}' is not float32 (data type ${t.dataType})`);
  const n = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.rawData?.length) {
    if (t.rawData.length !== 4 * n)
      fail(`initialiser '${t.name}' holds ${t.rawData.length} bytes, ${4 * n} expected`);
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
  } else {
    if ((t.floatData?.length ?? 0) !== n)
      fail(`initialiser '${t.name}' holds ${t.floatData?.length ?? 0} values, ${n} expected`);
    data = Float32Array.from(t.floatData!);
  }
  return { dtype: "F32", shape, data };
}

function int64s(t: TensorProto): number[] {
  if (t.int64Data?.length) return t.int64Data.map(int);
  const raw = t.rawData;
  if (!raw?.length) return [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.length / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
}

function transpose(m: F32Record, r: number, c: number): F32Record {
  const data = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) data[j * r + i] = m.data[i * c + j]!;
  return { dtype: "F32", shape: [c, r], data };
}
