/**
 * A trainable model built from any IR network: parameters under the reference names,
 * PyTorch default initialisation, and a forward pass that interprets the IR. Inference
 * runs without a tape and recycles activation buffers as soon as their last reader ran.
 */
import type { ConvNode, IrNode, LinearNode, Network } from "../ir/graph.js";
import { fusedRelus, nodeInputs } from "../ir/graph.js";
import { Rng } from "../util/rng.js";
import { alloc, BufferPool, withArena } from "./arena.js";
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
  /**
   * Training only: batch norm normalises with its running statistics, as the deployed network
   * (batch norm folded into the convolution) does, instead of the batch's; γ and β still
   * learn, the statistics stay. Hardware-aware fine-tuning uses it so that per-channel gain
   * and offset errors of the devices are not normalised away in training.
   */
  readonly frozenBatchNorm?: boolean;
  /**
   * Training only: the running statistics' update weight (default 0.1, PyTorch's); 1/(k+1) on
   * the k-th batch makes them the average of the batches' statistics (recalibration).
   */
  readonly bnMomentum?: number;
  /** Runs the weight layers instead of the float kernels (inference only): the crossbar simulator. */
  readonly executor?: MatmulExecutor | null;
}

/**
 * What executes a network's weight layers: given the layer, its input, and its weights as the
 * engine holds them (batch norm folded in for inference), it returns the layer's output.
 */
export interface MatmulExecutor {
  conv(
    node: ConvNode,
    x: Tensor,
    reluIn: boolean,
    weight: Tensor,
    bias: Float32Array | null,
    out: Float32Array | undefined,
  ): Tensor;
  linear(node: LinearNode, x: Tensor, weight: Tensor, bias: Tensor | null): Tensor;
}

export interface ForwardResult {
  readonly logits: Tensor;
  readonly auxLogits: Tensor | null;
}

interface PlanStep {
  readonly node: IrNode;
  /** Node ids whose values this step reads (after fusion). */
  readonly inputs: number[];
  readonly reluIn: boolean;
  /** BN parameter prefix folded into this convolution (inference). */
  readonly foldBn: string | null;
  /** The node id this step's value stands for (the folded BN's, when folding). */
  readonly outputId: number;
  /**
   * A concatenation that only pointwise convolutions read (inference): they can read its
   * parts in place, so it need not be copied together (see `withGatheredConcats`).
   */
  readonly gather?: boolean;
  /** A convolution that adds its second input to its output: a node sum (`withSumsInConvs`). */
  readonly addsInput?: boolean;
}

/** Training; inference on the engine's kernels; inference with an executor for the weight layers. */
type PlanMode = "training" | "inference" | "executor";

/**
 * The inference plan with each repeat of a parameter-free op on the same input dropped, its
 * readers reading the first one's value: DARTS_V2's reduction cell max-pools its second
 * input three times and its first twice. The same op on the same values gives the same bits.
 * Not in training, where each copy's gradient would be added in its own order.
 */
function withoutRepeats(plan: readonly PlanStep[]): PlanStep[] {
  const alias = new Map<number, number>();
  const seen = new Map<string, number>();
  const out: PlanStep[] = [];
  for (const step of plan) {
    const inputs = step.inputs.map((i) => alias.get(i) ?? i);
    const { node } = step;
    const key =
      node.kind === "maxpool" || node.kind === "avgpool"
        ? `${node.kind} ${node.k} ${node.stride} ${node.pad} ${inputs[0]}`
        : node.kind === "relu" || node.kind === "shift"
          ? `${node.kind} ${inputs[0]}`
          : null;
    const first = key === null ? undefined : seen.get(key);
    if (first !== undefined) {
      alias.set(step.outputId, first);
      continue;
    }
    if (key !== null) seen.set(key, step.outputId);
    out.push({ ...step, inputs });
  }
  return out;
}

/**
 * Marks each concatenation whose readers are all pointwise convolutions: those read its parts
 * where they are (`conv2dConcat`), as the ReLU copy of a 1×1 convolution's input is made per
 * image anyway, and the concatenated copy is never written. A cell's output is read by the
 * preprocessing 1×1 convolutions of the next two cells; only the outputs that FactorizedReduce
 * or the classifier read are still copied together.
 */
function withGatheredConcats(plan: readonly PlanStep[]): PlanStep[] {
  const pointwiseReaders = new Map<number, boolean>();
  for (const { node, inputs } of plan)
    inputs.forEach((i, j) => {
      // As the convolution's input, not as a term it adds.
      const pointwise =
        j === 0 &&
        node.kind === "conv" &&
        node.k === 1 &&
        node.stride === 1 &&
        node.pad === 0 &&
        node.groups === 1;
      pointwiseReaders.set(i, (pointwiseReaders.get(i) ?? true) && pointwise);
    });
  return plan.map((step) =>
    step.node.kind === "concat" && pointwiseReaders.get(step.outputId) === true
      ? { ...step, gather: true }
      : step,
  );
}

/**
 * Folds each two-input node sum into the convolution that computes one of its terms, where
 * that convolution's value has no other reader and is computed after the other term: the
 * convolution adds the other term as it stores its output, the one rounding the sum made, so
 * the same bits without a pass over both terms. DARTS_V2's normal cell has four such sums.
 */
function withSumsInConvs(plan: readonly PlanStep[]): PlanStep[] {
  const readers = new Map<number, number>();
  for (const { inputs } of plan) for (const i of inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const position = new Map(plan.map((step, k) => [step.outputId, k]));
  // conv value id → [the other term, the sum's id]
  const folded = new Map<number, [number, number]>();
  const sums = new Set<PlanStep>();
  for (const step of plan) {
    if (step.node.kind !== "add" || step.inputs.length !== 2) continue;
    const [a, b] = step.inputs as [number, number];
    if (a === b) continue;
    const [late, early] = position.get(a)! > position.get(b)! ? [a, b] : [b, a];
    if (plan[position.get(late)!]!.node.kind !== "conv" || readers.get(late) !== 1) continue;
    folded.set(late, [early, step.outputId]);
    sums.add(step);
  }
  return plan
    .filter((step) => !sums.has(step))
    .map((step) => {
      const f = folded.get(step.outputId);
      return f ? { ...step, inputs: [...step.inputs, f[0]], outputId: f[1], addsInput: true } : step;
    });
}

export class Model {
  /** Every tensor of the reference state_dict except num_batches_tracked, by name. */
  readonly tensors = new Map<string, Tensor>();
  /** num_batches_tracked of each BN layer, by full name. */
  readonly batchesTracked = new Map<string, number>();
  /** Activation buffers reused by every inference forward. */
  private readonly pool = new BufferPool();
  private readonly plans = new Map<PlanMode, PlanStep[]>();

  /**
   * `foldBatchNorm: false` keeps every batch norm a per-channel scale and offset after its
   * convolution in inference too (the weights an executor sees are the raw ones): weights
   * shared by many configurations, each with its own statistics, program the same devices.
   */
  constructor(
    readonly net: Network,
    seed = 0,
    readonly options: { readonly foldBatchNorm?: boolean } = {},
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
   * How the IR runs on this engine. A ReLU whose only reader is a convolution is fused into
   * it (the conv reads relu(x) on the fly, so relu(x) is never materialised); in inference,
   * a batch norm that is a convolution's only reader is folded into its weights and bias.
   * Executors read and write whole tensors, so their plan keeps concatenations and sums.
   */
  private plan(mode: PlanMode): PlanStep[] {
    const cached = this.plans.get(mode);
    if (cached) return cached;
    const training = mode === "training";
    const net = this.net;
    const skip = (id: number): boolean => !training && net.nodes[id]!.scope.part === "aux";
    const readers = net.nodes.map(() => [] as number[]);
    for (const node of net.nodes)
      if (!skip(node.id)) for (const i of nodeInputs(node)) readers[i]!.push(node.id);
    const only = (id: number, kind: IrNode["kind"]): boolean =>
      readers[id]!.length === 1 && net.nodes[readers[id]![0]!]!.kind === kind;
    const fusedRelu = fusedRelus(net, (n) => !skip(n.id));
    // bn id → the conv it folds into
    const foldedBn = new Map<number, number>();
    if (!training && this.options.foldBatchNorm !== false)
      for (const n of net.nodes)
        if (n.kind === "conv" && only(n.id, "bn")) foldedBn.set(readers[n.id]![0]!, n.id);
    const foldOf = new Map([...foldedBn].map(([bn, conv]) => [conv, bn]));
    const source = (i: number): number => (fusedRelu.has(i) ? nodeInputs(net.nodes[i]!)[0]! : i);
    const plan = net.nodes
      .filter((node) => !skip(node.id) && !fusedRelu.has(node.id) && !foldedBn.has(node.id))
      .map((node) => {
        const raw = nodeInputs(node);
        const bn = foldOf.get(node.id);
        return {
          node,
          inputs: raw.map(source),
          reluIn: node.kind === "conv" && fusedRelu.has(raw[0]!),
          foldBn: bn === undefined ? null : (net.nodes[bn] as { param: string }).param,
          outputId: bn ?? node.id,
        };
      });
    const result =
      mode === "training"
        ? plan
        : mode === "executor"
          ? withoutRepeats(plan)
          : withGatheredConcats(withSumsInConvs(withoutRepeats(plan)));
    this.plans.set(mode, result);
    return result;
  }

  forward(x: Tensor, opts: ForwardOptions): ForwardResult {
    const net = this.net;
    const { training } = opts;
    const tape = opts.tape ?? null;
    const n = x.shape[0]!;
    const inShape = net.nodes[net.input]!.shape;
    if (
      x.shape.length !== 4 ||
      x.shape[1] !== inShape.c ||
      x.shape[2] !== inShape.h ||
      x.shape[3] !== inShape.w
    ) {
      throw new Error(
        `model input must be [N, ${inShape.c}, ${inShape.h}, ${inShape.w}], got [${x.shape.join(", ")}]`,
      );
    }
    const executor = training ? null : (opts.executor ?? null);
    const plan = this.plan(training ? "training" : executor ? "executor" : "inference");
    const wanted = new Set([net.logits, ...(training && net.auxLogits !== null ? [net.auxLogits] : [])]);
    // Reference counts let inference hand buffers back as soon as the last reader ran.
    const readers = new Array<number>(net.nodes.length).fill(0);
    for (const step of plan) for (const i of step.inputs) readers[i]!++;
    const pool = training ? null : this.pool;
    const values: (Tensor | null)[] = new Array(net.nodes.length).fill(null);
    const drop = training ? (opts.dropPathProb ?? 0) : 0;
    const rng = opts.rng ?? new Rng(0);
    // A gathered concatenation's parts (node ids), held until its last reader ran.
    const gathered: (readonly number[] | null)[] = new Array(net.nodes.length).fill(null);
    const release = (ids: readonly number[], keep: Float32Array): void => {
      for (const i of new Set(ids)) {
        readers[i]! -= ids.filter((k) => k === i).length;
        if (readers[i] !== 0 || wanted.has(i) || i === net.input) continue;
        const parts = gathered[i];
        if (parts) {
          gathered[i] = null;
          release(parts, keep);
          continue;
        }
        const t = values[i]!;
        if (t.data !== keep) pool!.give(t.data);
        values[i] = null;
      }
    };

    const run = () => {
      for (const { node, inputs, reluIn, foldBn, outputId, gather, addsInput } of plan) {
        const v = (j: number): Tensor => values[inputs[j]!]!;
        if (gather) {
          gathered[outputId] = inputs;
          continue;
        }
        const size = n * node.shape.c * node.shape.h * node.shape.w;
        // Only for the nodes that write into it: a buffer taken and left untouched would
        // cost its page faults in the first forward that does write it.
        const writesOut = node.kind !== "input" && node.kind !== "gap" && node.kind !== "linear";
        const out = writesOut ? pool?.take(size) : undefined;
        let y: Tensor;
        switch (node.kind) {
          case "input":
            y = x;
            break;
          case "conv": {
            const weight = this.tensor(`${node.param}.weight`);
            const convBias = node.bias ? this.tensor(`${node.param}.bias`).data : null;
            const f = foldBn
              ? ops.foldBatchNorm(weight, this.bnState(foldBn, convBias))
              : { weight, bias: convBias };
            const parts = gathered[inputs[0]!];
            const add = addsInput ? v(1).data : null;
            y = parts
              ? ops.conv2dConcat(
                  parts.map((i) => values[i]!),
                  f.weight,
                  node,
                  { out, reluIn, bias: f.bias, add },
                )
              : executor
                ? executor.conv(node, v(0), reluIn, f.weight, f.bias, out)
                : ops.conv2d(tape, v(0), f.weight, node, out, reluIn, f.bias, add);
            // Executors copy what they keep, so the folded weights go back at once.
            if (foldBn && pool) pool.give(f.weight.data);
            break;
          }
          case "bn": {
            const batchStatistics = training && !opts.frozenBatchNorm;
            y = ops.batchNorm(tape, v(0), this.bnState(node.param), batchStatistics, out, opts.bnMomentum);
            if (batchStatistics) {
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
            y = ops.pool2d(
              tape,
              node.kind === "maxpool" ? "max" : "avg",
              v(0),
              node.k,
              node.stride,
              node.pad,
              out,
            );
            break;
          case "shift":
            y = ops.shift(tape, v(0), out);
            break;
          case "route":
            // Switches pass the value on unchanged (a one-input sum: a copy with its gradient).
            y = ops.add(tape, [v(0)], out);
            break;
          case "concat":
            y = ops.concat(
              tape,
              inputs.map((_, j) => v(j)),
              out,
            );
            break;
          case "add": {
            const xs = inputs.map((_, j) => v(j));
            // Drop-path factors are drawn in input order, as DARTS does per op.
            const scales =
              drop > 0 ? node.dropPath.map((d) => (d ? ops.dropPathScales(n, drop, rng) : null)) : undefined;
            y = ops.add(tape, xs, out, scales);
            break;
          }
          case "zeros":
            y = new Tensor([n, node.shape.c, node.shape.h, node.shape.w], (out ?? alloc(size)).fill(0));
            break;
          case "gap":
            y = ops.globalAvgPool(tape, v(0));
            break;
          case "linear": {
            const w = this.tensor(`${node.param}.weight`);
            const b = node.bias ? this.tensor(`${node.param}.bias`) : null;
            y = executor ? executor.linear(node, v(0), w, b) : ops.linear(tape, v(0), w, b);
            break;
          }
        }
        if (out && y.data !== out) pool!.give(out);
        values[outputId] = y;
        if (pool) release(inputs, y.data);
      }
    };
    if (!pool) {
      run();
      return {
        logits: values[net.logits]!,
        auxLogits: net.auxLogits !== null ? values[net.auxLogits]! : null,
      };
    }
    // Inference: every buffer comes from the model's pool and goes back to it; the caller
    // gets a copy of the (small) logits, so no buffer outlives the call.
    withArena(pool, run);
    const logits = values[net.logits]!;
    const result = new Tensor(logits.shape, logits.data.slice());
    for (const t of new Set(values)) if (t && t !== x) pool.give(t.data);
    return { logits: result, auxLogits: null };
  }

  /** A batch norm's state; `before`: a bias added ahead of it (BN(x + b) has mean μ − b). */
  private bnState(param: string, before: Float32Array | null = null): ops.BatchNormState {
    const mean = this.tensor(`${param}.running_mean`).data;
    return {
      weight: this.tensor(`${param}.weight`),
      bias: this.tensor(`${param}.bias`),
      runningMean: before ? mean.map((m, i) => m - before[i]!) : mean,
      runningVar: this.tensor(`${param}.running_var`).data,
    };
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
