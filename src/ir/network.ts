/**
 * NetworkCIFAR of the DARTS reference (quark0/darts cnn/model.py) as IR, for a genotype
 * (ops named `cells.k._ops.i` in the genotype's own order) or an edge-complete
 * configuration (ops named `cells.k.edges.e`, e = edge index; DARTS has no naming here).
 */
import type { Architecture } from "../space/architecture.js";
import { CELL_EDGES, type CellType, FIRST_NODE, LAST_NODE } from "../space/cell.js";
import { type OpName, opSpec, PRIMITIVES } from "../space/primitives.js";
import { IrBuilder } from "./builder.js";
import type { Network, Scope } from "./graph.js";

export interface NetworkOptions {
  readonly channels: number;
  readonly layers: number;
  readonly classes?: number;
  readonly auxiliary?: boolean;
  readonly imageSize?: number;
  /**
   * A batch norm (`<op>.pool_bn`, statistics only: its affine stays 1, 0) after every pooling
   * op, as in DARTS's search cell: the weight-sharing supernet's networks, whose pooled
   * features must have one scale whichever configuration runs (realised in the periphery as
   * a per-channel gain and offset).
   */
  readonly poolBatchNorm?: boolean;
}

/** One op of a cell, whichever view it came from. */
export interface CellOp {
  readonly op: OpName;
  readonly from: number;
  readonly to: number;
  readonly path: string;
  readonly edge: number;
}

const STEM_MULTIPLIER = 3;

export function buildNetwork(arch: Architecture, options: NetworkOptions): Network {
  return buildNetworkFrame(options, (b, k, states, C, reduction) => {
    const { ops, concat } = cellOps(arch, reduction ? "reduce" : "normal", k);
    return { nodes: buildCellNodes(b, k, states, C, reduction, ops, !!options.poolBatchNorm), concat };
  });
}

/**
 * Builds a cell's intermediate nodes from its preprocessed inputs `states` = [s0, s1] and
 * returns the states of nodes 2..5 and the nodes to concatenate. The hypernetwork supplies
 * its own body; everything around the cells is the same network.
 */
export type CellBody = (
  b: IrBuilder,
  cell: number,
  states: readonly [number, number],
  C: number,
  reduction: boolean,
) => { nodes: number[]; concat: readonly number[] };

/** NetworkCIFAR around any cell body: stem, preprocessing, cells, auxiliary head, classifier. */
export function buildNetworkFrame(options: NetworkOptions, body: CellBody): Network {
  const { channels: C, layers } = options;
  const classes = options.classes ?? 10;
  for (const [key, v] of [
    ["channels", C],
    ["layers", layers],
    ["classes", classes],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${key} must be a positive integer, got ${v}`);
  }
  if (layers < 3)
    throw new Error(
      `--layers must be at least 3 (two reduction cells at layers/3 and 2·layers/3), got ${layers}`,
    );
  if (C % 2 !== 0)
    throw new Error(`--channels must be even (FactorizedReduce splits channels in two), got ${C}`);
  const size = options.imageSize ?? 32;
  const b = new IrBuilder();
  const input = b.input({ c: 3, h: size, w: size });

  const stemScope: Scope = { path: "stem", part: "stem" };
  let cCurr = STEM_MULTIPLIER * C;
  const stem = b.bn(b.conv(input, stemScope, "stem.0", { outC: cCurr, k: 3, pad: 1 }), stemScope, "stem.1");

  let s0 = stem;
  let s1 = stem;
  cCurr = C;
  let reductionPrev = false;
  const reductions = [Math.floor(layers / 3), Math.floor((2 * layers) / 3)];
  const cellOutputs: number[] = [];
  let auxInput = -1;
  for (let k = 0; k < layers; k++) {
    const reduction = reductions.includes(k);
    if (reduction) cCurr *= 2;
    const pre: Scope = { path: `cells.${k}`, part: "preprocess", cell: k };
    const p0 = reductionPrev
      ? factorizedReduce(b, s0, cCurr, `cells.${k}.preprocess0`, { ...pre, path: `cells.${k}.preprocess0` })
      : reluConvBn(b, s0, cCurr, `cells.${k}.preprocess0`, { ...pre, path: `cells.${k}.preprocess0` });
    const p1 = reluConvBn(b, s1, cCurr, `cells.${k}.preprocess1`, { ...pre, path: `cells.${k}.preprocess1` });
    const { nodes, concat } = body(b, k, [p0, p1], cCurr, reduction);
    const states = [p0, p1, ...nodes];
    const out = b.concat(
      concat.map((n) => states[n]!),
      { path: `cells.${k}`, part: "cell", cell: k },
    );
    cellOutputs.push(out);
    reductionPrev = reduction;
    s0 = s1;
    s1 = out;
    if (k === reductions[1]) auxInput = out;
  }

  let auxLogits: number | null = null;
  if (options.auxiliary) auxLogits = buildAuxiliaryHead(b, auxInput, classes);
  const headScope: Scope = { path: "classifier", part: "head" };
  const pooled = b.globalPool(s1, { path: "global_pooling", part: "head" });
  const logits = b.linear(pooled, headScope, "classifier", classes);
  return {
    channels: C,
    layers,
    classes,
    nodes: b.nodes,
    params: b.params,
    input,
    logits,
    auxLogits,
    reductions,
    cellOutputs,
  };
}

/** A cell's ops with their reference parameter prefixes, in the order the IR builds them. */
export function cellOps(
  arch: Architecture,
  type: CellType,
  k: number,
): { ops: CellOp[]; concat: readonly number[] } {
  if (arch.genotype) {
    const cell = arch.genotype[type];
    return {
      ops: cell.ops.map((o, i) => ({
        op: o.op,
        from: o.from,
        to: o.to,
        path: `cells.${k}._ops.${i}`,
        edge: CELL_EDGES.findIndex((e) => e.from === o.from && e.to === o.to),
      })),
      concat: cell.concat,
    };
  }
  const config = arch.configuration!;
  const ops: CellOp[] = [];
  for (const e of CELL_EDGES) {
    const op = PRIMITIVES[config[type][e.index]!]!;
    if (op !== "none")
      ops.push({ op, from: e.from, to: e.to, path: `cells.${k}.edges.${e.index}`, edge: e.index });
  }
  return { ops, concat: [2, 3, 4, 5] };
}

/** The intermediate nodes 2..5 of a cell: each the sum of its ops (zeros when it has none). */
function buildCellNodes(
  b: IrBuilder,
  k: number,
  pre: readonly [number, number],
  C: number,
  reduction: boolean,
  ops: readonly CellOp[],
  poolBatchNorm: boolean,
): number[] {
  const states: number[] = [...pre];
  for (let to = FIRST_NODE; to <= LAST_NODE; to++) {
    const inputs: number[] = [];
    const dropPath: boolean[] = [];
    for (const o of ops.filter((x) => x.to === to)) {
      const opStride = reduction && o.from < 2 ? 2 : 1;
      const scope: Scope = { path: o.path, part: "op", cell: k, edge: o.edge, op: o.op };
      inputs.push(buildOp(b, states[o.from]!, C, o.op, opStride, o.path, scope, poolBatchNorm));
      // DARTS applies drop-path to every op output except the identity.
      dropPath.push(!(opSpec(o.op).family === "skip" && opStride === 1));
    }
    states.push(cellNode(b, k, to, inputs, dropPath, pre, C, reduction));
  }
  return states.slice(2);
}

/** Intermediate node `to` of cell k: the sum of its op outputs, or zeros when it has none. */
export function cellNode(
  b: IrBuilder,
  k: number,
  to: number,
  inputs: number[],
  dropPath: boolean[],
  pre: readonly [number, number],
  C: number,
  reduction: boolean,
): number {
  const scope: Scope = { path: `cells.${k}.node${to}`, part: "node", cell: k };
  if (inputs.length > 0) return b.add(inputs, dropPath, scope);
  const stride = reduction ? 2 : 1;
  const s = b.shape(pre[1]);
  return b.zeros({ c: C, h: Math.ceil(s.h / stride), w: Math.ceil(s.w / stride) }, scope);
}

function buildOp(
  b: IrBuilder,
  x: number,
  C: number,
  op: OpName,
  stride: number,
  path: string,
  scope: Scope,
  poolBatchNorm = false,
): number {
  const spec = opSpec(op);
  switch (spec.family) {
    case "pool": {
      const y = b.pool(
        spec.pool === "max" ? "maxpool" : "avgpool",
        x,
        scope,
        spec.kernel,
        stride,
        spec.padding,
      );
      return poolBatchNorm ? b.bn(y, scope, `${path}.pool_bn`) : y;
    }
    case "skip":
      return stride === 1 ? x : factorizedReduce(b, x, C, path, scope);
    case "dil_conv": {
      // ReLU, depthwise k×k dilated, pointwise 1×1, BN: op.0 .. op.3
      const r = b.relu(x, scope);
      const dw = b.conv(r, scope, `${path}.op.1`, {
        outC: C,
        k: spec.kernel,
        stride,
        pad: spec.padding,
        dilation: spec.dilation,
        groups: C,
      });
      const pw = b.conv(dw, scope, `${path}.op.2`, { outC: C, k: 1 });
      return b.bn(pw, scope, `${path}.op.3`);
    }
    case "sep_conv": {
      // Two stacked (ReLU, depthwise, pointwise, BN): op.0 .. op.7; only the first is strided.
      let y = x;
      for (const [base, s] of [
        [0, stride],
        [4, 1],
      ] as const) {
        const r = b.relu(y, scope);
        const dw = b.conv(r, scope, `${path}.op.${base + 1}`, {
          outC: C,
          k: spec.kernel,
          stride: s,
          pad: spec.padding,
          groups: C,
        });
        const pw = b.conv(dw, scope, `${path}.op.${base + 2}`, { outC: C, k: 1 });
        y = b.bn(pw, scope, `${path}.op.${base + 3}`);
      }
      return y;
    }
    case "none":
      throw new Error("internal: 'none' ops are not built");
  }
}

/** ReLU, 1×1 conv, BN (`op.1`, `op.2`). */
export function reluConvBn(b: IrBuilder, x: number, C: number, path: string, scope: Scope): number {
  const r = b.relu(x, scope);
  const c = b.conv(r, scope, `${path}.op.1`, { outC: C, k: 1 });
  return b.bn(c, scope, `${path}.op.2`);
}

/** ReLU, two strided 1×1 convs (the second on x[:, :, 1:, 1:]), concat, BN. */
export function factorizedReduce(b: IrBuilder, x: number, C: number, path: string, scope: Scope): number {
  const r = b.relu(x, scope);
  const c1 = b.conv(r, scope, `${path}.conv_1`, { outC: C / 2, k: 1, stride: 2 });
  const c2 = b.conv(b.shift(r, scope), scope, `${path}.conv_2`, { outC: C / 2, k: 1, stride: 2 });
  return b.bn(b.concat([c1, c2], scope), scope, `${path}.bn`);
}

/** AuxiliaryHeadCIFAR: ReLU, avgpool 5/3, 1×1 conv 128, BN, ReLU, 2×2 conv 768, BN, ReLU, linear. */
function buildAuxiliaryHead(b: IrBuilder, x: number, classes: number): number {
  const scope: Scope = { path: "auxiliary_head", part: "aux" };
  let y = b.relu(x, scope);
  y = b.pool("avgpool", y, scope, 5, 3, 0);
  y = b.relu(
    b.bn(
      b.conv(y, scope, "auxiliary_head.features.2", { outC: 128, k: 1 }),
      scope,
      "auxiliary_head.features.3",
    ),
    scope,
  );
  y = b.relu(
    b.bn(
      b.conv(y, scope, "auxiliary_head.features.5", { outC: 768, k: 2 }),
      scope,
      "auxiliary_head.features.6",
    ),
    scope,
  );
  return b.linear(y, scope, "auxiliary_head.classifier", classes);
}
