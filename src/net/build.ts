/** A plain network description as IR: the one the engine, the simulator and the cost model run. */
import { IrBuilder } from "../ir/builder.js";
import type { Network, Scope, Shape } from "../ir/graph.js";
import { type Layer, layerName, type NetDescription, NetFileError } from "./description.js";

const IMAGE = "input";

interface Value {
  readonly id: number;
  /** After a flatten: only linear layers may read it. */
  readonly flat: boolean;
}

export function buildPlainNetwork(d: NetDescription): Network {
  const b = new IrBuilder();
  const [c, h, w] = d.input;
  const values = new Map<string, Value>([[IMAGE, { id: b.input({ c, h, w }), flat: false }]]);
  let previous = IMAGE;
  d.layers.forEach((layer, index) => {
    const name = layerName(layer, index);
    const where = `layer ${index} '${name}' (${layer.type})`;
    if (values.has(name))
      throw new NetFileError(`${where}: the name '${name}' is taken; give each layer its own`);
    const read = (ref: string): Value => {
      const v = values.get(ref);
      if (!v)
        throw new NetFileError(
          `${where}: reads '${ref}', which is not an earlier layer; name a layer above it or 'input'`,
        );
      return v;
    };
    try {
      const value =
        layer.type === "add"
          ? { id: addLayer(b, layer, layer.inputs.map(read), name), flat: false }
          : oneInput(b, layer, read(layer.input ?? previous), name);
      values.set(name, value);
    } catch (e) {
      if (e instanceof NetFileError) throw e;
      throw new NetFileError(`${where}: ${(e as Error).message}`);
    }
    previous = name;
  });
  const logits = values.get(previous)!.id;
  const out = b.shape(logits);
  if (out.h !== 1 || out.w !== 1)
    throw new NetFileError(
      `the last layer '${previous}' gives a ${out.c}×${out.h}×${out.w} map, not class scores; end with a linear layer or a global average pool`,
    );
  return {
    channels: 0,
    layers: 0,
    classes: out.c,
    nodes: b.nodes,
    params: b.params,
    input: 0,
    logits,
    auxLogits: null,
    reductions: [],
    cellOutputs: [],
  };
}

function oneInput(b: IrBuilder, layer: Exclude<Layer, { type: "add" }>, x: Value, name: string): Value {
  const scope: Scope = { path: name, part: "layer" };
  const s = b.shape(x.id);
  const spatial = (): void => {
    if (x.flat) throw new Error(`reads a flattened vector; a ${layer.type} layer needs a feature map`);
  };
  switch (layer.type) {
    case "conv": {
      spatial();
      if (layer.groups !== 1 && !(layer.groups === s.c && layer.out === s.c))
        throw new Error(
          `groups ${layer.groups}: crossbars hold dense (groups 1) or depthwise (groups = input channels = out) convolutions`,
        );
      const id = b.conv(x.id, scope, name, {
        outC: layer.out,
        k: layer.kernel,
        stride: layer.stride,
        pad: layer.padding,
        dilation: layer.dilation,
        groups: layer.groups,
        bias: layer.bias,
      });
      return { id, flat: false };
    }
    case "maxpool":
    case "avgpool":
      spatial();
      if (layer.padding * 2 > layer.kernel)
        throw new Error(`padding ${layer.padding} is more than half the kernel ${layer.kernel}`);
      return {
        id: b.pool(layer.type, x.id, scope, layer.kernel, layer.stride ?? layer.kernel, layer.padding),
        flat: false,
      };
    case "bn":
      return { id: b.bn(x.id, scope, name), flat: x.flat };
    case "relu":
      return { id: b.relu(x.id, scope), flat: x.flat };
    case "globalavgpool":
      spatial();
      return { id: b.globalPool(x.id, scope), flat: false };
    case "flatten":
      return { id: x.id, flat: true };
    case "linear":
      if (!x.flat && (s.h !== 1 || s.w !== 1))
        throw new Error(
          `reads a ${s.c}×${s.h}×${s.w} feature map; put a flatten (or a global average pool) before it`,
        );
      return { id: b.linear(x.id, scope, name, layer.out, layer.bias), flat: true };
  }
}

/**
 * A residual sum. A zero-pad shortcut (ResNet option A) subsamples an input to the first
 * input's map (a 1×1 average pool with the stride: every stride-th position) and pads its
 * channels with zeros, half on each side.
 */
function addLayer(
  b: IrBuilder,
  layer: Extract<Layer, { type: "add" }>,
  inputs: Value[],
  name: string,
): number {
  const target = b.shape(inputs[0]!.id);
  const same = (s: Shape) => s.c === target.c && s.h === target.h && s.w === target.w;
  const ids = inputs.map((v, j) => {
    const s = b.shape(v.id);
    if (same(s)) return v.id;
    const shapes = `input ${j} is ${s.c}×${s.h}×${s.w}, input 0 is ${target.c}×${target.h}×${target.w}`;
    if (layer.shortcut !== "zero-pad")
      throw new Error(`${shapes}; match them, or set "shortcut": "zero-pad" for a ResNet option-A shortcut`);
    const stride = s.h / target.h;
    if (!Number.isInteger(stride) || s.w / target.w !== stride || s.c > target.c)
      throw new Error(`${shapes}; a zero-pad shortcut needs an integer stride and no more channels`);
    const scope = (part: string): Scope => ({ path: `${name}.shortcut${j}.${part}`, part: "layer" });
    const sub = stride > 1 ? b.pool("avgpool", v.id, scope("subsample"), 1, stride, 0) : v.id;
    const extra = target.c - s.c;
    if (extra === 0) return sub;
    const lo = Math.floor(extra / 2);
    const parts = [
      ...(lo ? [b.zeros({ c: lo, h: target.h, w: target.w }, scope("pad_low"))] : []),
      sub,
      b.zeros({ c: extra - lo, h: target.h, w: target.w }, scope("pad_high")),
    ];
    return b.concat(parts, scope("pad"));
  });
  return b.add(
    ids,
    ids.map(() => false),
    { path: name, part: "layer" },
  );
}
