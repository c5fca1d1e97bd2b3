/**
 * A trainable model built from any IR network: parameters under the reference names,
 * PyTorch default initialisation, and a forward pass that interprets the IR. Inference
 * runs without a tape and recycles activation buffers as soon as their last reader ran.
 */
import type { IrNode, Network } from "../ir/graph.js";
import { nodeInputs } from "../ir/graph.js";
import { Rng } from "../util/rng.js";
import { alloc } from "./arena.js";
import * as ops from "./ops.js";
import type { Tape } from "./tape.js";
import { Tensor } from "./tensor.js";

export interface ForwardOptions {
  readonly training: boolean;
  readonly tape?: Tape | null;
  /** Drop-path probability (training only). */
  readonly dropPathProb?: number;
  /** Randomness of drop-path. */
  readonly rng?: Rng;
}

export interface ForwardResult {
  readonly logits: Tensor;
  readonly auxLogits: Tensor | null;
}

export class Model {
  /** Every tensor of the reference state_dict except num_batches_tracked, by name. */
  readonly tensors = new Map<string, Tensor>();
  /** num_batches_tracked of each BN layer, by full name. */
  readonly batchesTracked = new Map<string, number>();
  private readonly plans: ({ node: IrNode; inputs: number[]; reluIn: boolean }[] | undefined)[] = [];

  constructor(
    readonly net: Network,
    seed = 0,
  ) {
    const rng = new Rng(seed);
    for (const p of net.params) {
      if (p.role === "num_batches_tracked") {
        this.batchesTracked.set(p.name, 0);
        continue;
      }
      const t = Tensor.zeros(p.shape, p.role !== "running_mean" && p.role !== "running_var");
      initialise(t, p.role, rng, net.params.find((q) => q.node === p.node && q.role === "weight")?.shape);
      this.tensors.set(p.name, t);
    }
  }

  /** Trainable parameters (weights, biases, BN affine) in IR order. */
  parameters(): { name: string; tensor: Tensor }[] {
    return this.net.params
      .filter(
        (p) => p.role === "weight" || p.role === "bias" || p.role === "bn_weight" || p.role === "bn_bias",
      )
      .map((p) => ({ name: p.name, tensor: this.tensors.get(p.name)! }));
  }

  tensor(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`model has no tensor '${name}'`);
    return t;
  }

  /**
   * How the IR runs on this engine: a ReLU whose only reader is a convolution is fused into
   * it (the conv reads relu(x) on the fly), so the ReLU's output is never materialised.
   */
  private plan(training: boolean): { node: IrNode; inputs: number[]; reluIn: boolean }[] {
    const key = training ? 1 : 0;
    const cached = this.plans[key];
    if (cached) return cached;
    const net = this.net;
    const skip = (id: number): boolean => !training && net.nodes[id]!.scope.part === "aux";
    const readers = new Array<number[]>(net.nodes.length).fill([]).map(() => [] as number[]);
    for (const node of net.nodes) if (!skip(node.id)) for (const i of nodeInputs(node)) readers[i]!.push(node.id);
    const fused = new Set<number>();
    for (const node of net.nodes) {
      const r = readers[node.id]!;
      if (node.kind === "relu" && r.length === 1 && net.nodes[r[0]!]!.kind === "conv") fused.add(node.id);
    }
    const plan = net.nodes
      .filter((node) => !skip(node.id) && !fused.has(node.id))
      .map((node) => {
        const raw = nodeInputs(node);
        const reluIn = node.kind === "conv" && fused.has(raw[0]!);
        const inputs = raw.map((i) => (fused.has(i) ? nodeInputs(net.nodes[i]!)[0]! : i));
        return { node, inputs, reluIn };
      });
    this.plans[key] = plan;
    return plan;
  }

  forward(x: Tensor, opts: ForwardOptions): ForwardResult {
    const net = this.net;
    const { training } = opts;
    const tape = opts.tape ?? null;
    const n = x.shape[0]!;
    const inShape = net.nodes[net.input]!.shape;
    if (x.shape.length !== 4 || x.shape[1] !== inShape.c || x.shape[2] !== inShape.h || x.shape[3] !== inShape.w) {
      throw new Error(`model input must be [N, ${inShape.c}, ${inShape.h}, ${inShape.w}], got [${x.shape.join(", ")}]`);
    }
    const plan = this.plan(training);
    const wanted = new Set([net.logits, ...(training && net.auxLogits !== null ? [net.auxLogits] : [])]);
    // Reference counts let inference hand buffers back as soon as the last reader ran.
    const readers = new Array<number>(net.nodes.length).fill(0);
    for (const step of plan) for (const i of step.inputs) readers[i]!++;
    const pool = training ? null : new BufferPool();
    const values: (Tensor | null)[] = new Array(net.nodes.length).fill(null);
    const drop = training ? (opts.dropPathProb ?? 0) : 0;
    const rng = opts.rng ?? new Rng(0);

    for (const { node, inputs, reluIn } of plan) {
      const v = (j: number): Tensor => values[inputs[j]!]!;
      const size = n * node.shape.c * node.shape.h * node.shape.w;
      const out = pool?.take(size);
      let y: Tensor;
      switch (node.kind) {
        case "input":
          y = x;
          break;
        case "conv":
          y = ops.conv2d(tape, v(0), this.tensor(`${node.param}.weight`), node, out, reluIn);
          break;
        case "bn": {
          y = ops.batchNorm(tape, v(0), this.bnState(node.param), training, out);
          if (training) {
            const key = `${node.param}.num_batches_tracked`;
            this.batchesTracked.set(key, this.batchesTracked.get(key)! + 1);
          }
          break;
        }
        case "relu":
          y = ops.relu(tape, v(0), out);
          break;
        case "maxpool":
        case "avgpool":
          y = ops.pool2d(tape, node.kind === "maxpool" ? "max" : "avg", v(0), node.k, node.stride, node.pad, out);
          break;
        case "shift":
          y = ops.shift(tape, v(0));
          break;
        case "concat":
          y = ops.concat(tape, inputs.map((_, j) => v(j)), out);
          break;
        case "add": {
          const xs = inputs.map((_, j) => v(j));
          // Drop-path factors are drawn in input order, as DARTS does per op.
          const scales = drop > 0 ? node.dropPath.map((d) => (d ? ops.dropPathScales(n, drop, rng) : null)) : undefined;
          y = ops.add(tape, xs, out, scales);
          break;
        }
        case "zeros":
          y = new Tensor([n, node.shape.c, node.shape.h, node.shape.w], (out ?? alloc(size)).fill(0));
          break;
        case "gap":
          y = ops.globalAvgPool(tape, v(0));
          break;
        case "linear":
          y = ops.linear(tape, v(0), this.tensor(`${node.param}.weight`), this.tensor(`${node.param}.bias`));
          break;
      }
      if (out && y.data !== out) pool!.give(out);
      values[node.id] = y;
      if (pool) {
        for (const i of new Set(inputs)) {
          readers[i]! -= inputs.filter((k) => k === i).length;
          if (readers[i] === 0 && !wanted.has(i) && i !== net.input) {
            const t = values[i]!;
            if (t.data !== y.data) pool.give(t.data);
            values[i] = null;
          }
        }
      }
    }
    return { logits: values[net.logits]!, auxLogits: training && net.auxLogits !== null ? values[net.auxLogits]! : null };
  }

  private bnState(param: string): ops.BatchNormState {
    return {
      weight: this.tensor(`${param}.weight`),
      bias: this.tensor(`${param}.bias`),
      runningMean: this.tensor(`${param}.running_mean`).data,
      runningVar: this.tensor(`${param}.running_var`).data,
    };
  }
}

/** Float32Array recycling by length, for tape-free inference. */
class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  take(size: number): Float32Array {
    return this.free.get(size)?.pop() ?? new Float32Array(size);
  }
  give(buf: Float32Array): void {
    const list = this.free.get(buf.length);
    if (list) list.push(buf);
    else this.free.set(buf.length, [buf]);
  }
}

/**
 * PyTorch's default initialisation: conv and linear weights kaiming_uniform(a=√5), i.e.
 * U(−1/√fan_in, 1/√fan_in); linear bias the same bound; BN weight 1, bias 0; running
 * mean 0, variance 1.
 */
function initialise(t: Tensor, role: string, rng: Rng, weightShape: readonly number[] | undefined): void {
  switch (role) {
    case "weight":
    case "bias": {
      const ws = role === "weight" ? t.shape : weightShape!;
      const fanIn = ws.slice(1).reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < t.size; i++) t.data[i] = (2 * rng.uniform() - 1) * bound;
      break;
    }
    case "bn_weight":
    case "running_var":
      t.data.fill(1);
      break;
    default:
      t.data.fill(0);
  }
}
