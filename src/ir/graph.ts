/**
 * The network IR: a flat list of nodes in topological order, each producing one tensor
 * of a known per-image shape [C, H, W] (or [F] after pooling). The engine executes it,
 * the crossbar mapper and the cost model read it: one description of the network for
 * both accuracy and cost.
 */
import type { OpName } from "../space/primitives.js";

export interface Shape {
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

/** Where a node sits in the network: for reports, hardware designs and weight naming. */
export interface Scope {
  /** Prefix of this node's parameters in the reference state_dict, e.g. `cells.3._ops.5.op.2`. */
  readonly path: string;
  /** What part of the network: stem, cell preprocessing, a cell op, the classifier, the auxiliary head. */
  readonly part: "stem" | "preprocess" | "op" | "node" | "cell" | "head" | "aux" | "layer";
  readonly cell?: number;
  readonly edge?: number;
  readonly op?: OpName;
}

interface Base {
  readonly id: number;
  readonly shape: Shape;
  readonly scope: Scope;
}

export interface ConvNode extends Base {
  readonly kind: "conv";
  readonly input: number;
  readonly param: string; // `${param}.weight`
  readonly inC: number;
  readonly outC: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly dilation: number;
  readonly groups: number;
  /**
   * Taps of the k×k window that are driven (row gating): a 3×3 kernel held in the centre of a
   * 5×5 array in the hypernetwork. Absent: all k² taps.
   */
  readonly taps?: readonly number[];
  /** A bias `${param}.bias` added after the convolution (plain networks; DARTS convs have none). */
  readonly bias?: true;
}

export interface BatchNormNode extends Base {
  readonly kind: "bn";
  readonly input: number;
  readonly param: string; // weight, bias, running_mean, running_var, num_batches_tracked
}

export interface ReluNode extends Base {
  readonly kind: "relu";
  readonly input: number;
}

export interface PoolNode extends Base {
  readonly kind: "maxpool" | "avgpool";
  readonly input: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
}

/** x[:, :, 1:, 1:] of FactorizedReduce's second branch. */
export interface ShiftNode extends Base {
  readonly kind: "shift";
  readonly input: number;
}

export interface ConcatNode extends Base {
  readonly kind: "concat";
  readonly inputs: readonly number[];
}

/** A cell node: the sum of its active edges; `dropPath[i]` marks inputs that drop-path applies to. */
export interface AddNode extends Base {
  readonly kind: "add";
  readonly inputs: readonly number[];
  readonly dropPath: readonly boolean[];
}

/**
 * An activation passing the hypernetwork's routing: `stages` switches in series on its path,
 * `switches` pass gates per lane in the MUX or switch box it goes through.
 */
export interface RouteNode extends Base {
  readonly kind: "route";
  readonly input: number;
  readonly stages: number;
  readonly switches: number;
}

/** A cell node with no active input. */
export interface ZerosNode extends Base {
  readonly kind: "zeros";
}

export interface GlobalPoolNode extends Base {
  readonly kind: "gap";
  readonly input: number;
}

export interface LinearNode extends Base {
  readonly kind: "linear";
  readonly input: number;
  readonly param: string; // weight, bias
  readonly inF: number;
  readonly outF: number;
  /** Whether `${param}.bias` exists (NetworkCIFAR's classifier has one). */
  readonly bias: boolean;
}

export interface InputNode extends Base {
  readonly kind: "input";
}

export type IrNode =
  | InputNode
  | ConvNode
  | BatchNormNode
  | ReluNode
  | PoolNode
  | ShiftNode
  | RouteNode
  | ConcatNode
  | AddNode
  | ZerosNode
  | GlobalPoolNode
  | LinearNode;

export type ParamRole =
  | "weight"
  | "bias"
  | "bn_weight"
  | "bn_bias"
  | "running_mean"
  | "running_var"
  | "num_batches_tracked";

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: ParamRole;
  /** The IR node that owns it. */
  readonly node: number;
}

export interface Network {
  readonly channels: number;
  readonly layers: number;
  readonly classes: number;
  readonly nodes: readonly IrNode[];
  readonly params: readonly ParamSpec[];
  readonly input: number;
  readonly logits: number;
  /** Logits of the auxiliary head, when built with one (training only). */
  readonly auxLogits: number | null;
  /** Index of the reduction cells. */
  readonly reductions: readonly number[];
  /** Output node of each cell. */
  readonly cellOutputs: readonly number[];
}

export function numel(shape: Shape): number {
  return shape.c * shape.h * shape.w;
}

/** Inputs of a node, whatever its kind. */
export function nodeInputs(node: IrNode): readonly number[] {
  switch (node.kind) {
    case "input":
    case "zeros":
      return [];
    case "concat":
    case "add":
      return node.inputs;
    default:
      return [node.input];
  }
}

/**
 * ReLUs whose only reader (among the nodes kept) is a convolution: the engine fuses each into
 * that convolution's input, which the crossbar then sees as unsigned.
 */
export function fusedRelus(net: Network, keep: (n: IrNode) => boolean = () => true): Set<number> {
  const readers = new Int32Array(net.nodes.length);
  const reader = new Int32Array(net.nodes.length).fill(-1);
  for (const n of net.nodes) {
    if (!keep(n)) continue;
    for (const i of nodeInputs(n)) {
      readers[i]!++;
      reader[i] = n.id;
    }
  }
  const fused = new Set<number>();
  for (const n of net.nodes)
    if (keep(n) && n.kind === "relu" && readers[n.id] === 1 && net.nodes[reader[n.id]!]!.kind === "conv")
      fused.add(n.id);
  return fused;
}
