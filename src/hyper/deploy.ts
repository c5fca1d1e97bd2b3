/**
 * Putting one architecture's weights on a configured hypernetwork: the programming plan
 * applied to float weights (the hypernetwork's own network, for fp32) and to the deployed
 * integer weights (the crossbar simulator), and the hypernetwork's array layout.
 *
 * The hypernetwork is given the architecture's deployment as it is: the integer weights and
 * input scales fixed once by calibrating the architecture, not recalibrated on the
 * hypernetwork, so both hardware receive the same numbers.
 */
import { Model } from "../engine/model.js";
import type { HardwareConfig } from "../hw/config.js";
import type { ConvNode, Network } from "../ir/graph.js";
import { hashString } from "../util/seed.js";
import type { LogicalLayer } from "../xbar/layout.js";
import { CrossbarSimulator, individualMapping, type Mapping } from "../xbar/simulator.js";
import {
  type CompiledConfiguration,
  type ProgramStep,
  UNIVERSAL_KERNEL,
  UNIVERSAL_TAPS,
} from "./compiler.js";
import { configuredNetwork } from "./network.js";

const BN_TENSORS = ["weight", "bias", "running_mean", "running_var"] as const;

function stepsByTarget(c: CompiledConfiguration): Map<string, ProgramStep> {
  return new Map(c.plan.map((s) => [s.target, s]));
}

/** The configured hypernetwork's float network, holding `individual`'s weights where the plan puts them. */
export function hyperModel(c: CompiledConfiguration, individual: Model): Model {
  const size = individual.net.nodes[individual.net.input]!.shape.h;
  const net = configuredNetwork(c, { imageSize: size, classes: individual.net.classes });
  const model = new Model(net);
  const steps = stepsByTarget(c);
  for (const node of net.nodes) {
    if (node.kind !== "conv" && node.kind !== "linear" && node.kind !== "bn") continue;
    const step = steps.get(node.param);
    if (!step) throw new Error(`internal: the programming plan has no step for ${node.param}`);
    const names = node.kind === "bn" ? BN_TENSORS : node.kind === "linear" ? ["weight", "bias"] : ["weight"];
    for (const t of names) {
      const src = individual.tensor(`${step.source}.${t}`);
      const dst = model.tensor(`${node.param}.${t}`);
      if (step.embed && node.kind === "conv") embedCentre(src.data, dst.data, node.outC, src.shape[2]!);
      else dst.data.set(src.data);
    }
    if (node.kind === "bn") {
      const key = `${step.source}.num_batches_tracked`;
      model.batchesTracked.set(`${node.param}.num_batches_tracked`, individual.batchesTracked.get(key) ?? 0);
    }
  }
  return model;
}

/** Writes per-channel k×k kernels into the centre of 5×5 ones (zeros elsewhere). */
function embedCentre<T extends Float32Array | Int32Array>(src: T, dst: T, channels: number, k: number): void {
  const off = (UNIVERSAL_KERNEL - k) / 2;
  dst.fill(0);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        dst[c * UNIVERSAL_TAPS + (i + off) * UNIVERSAL_KERNEL + j + off] = src[(c * k + i) * k + j]!;
}

/**
 * The deployed integer layers of the individual network, re-addressed to the hypernetwork's
 * layers: same integers and scales; 3×3 depthwise kernels embedded in 5×5 windows, padded
 * so the output is unchanged, with only the centre taps driven.
 */
export function hyperLayers(
  c: CompiledConfiguration,
  hyperNet: Network,
  individualNet: Network,
  individualLayers: ReadonlyMap<number, LogicalLayer>,
): Map<number, LogicalLayer> {
  const steps = stepsByTarget(c);
  const byParam = new Map<string, LogicalLayer>();
  for (const n of individualNet.nodes)
    if ((n.kind === "conv" || n.kind === "linear") && individualLayers.has(n.id))
      byParam.set(n.param, individualLayers.get(n.id)!);
  const out = new Map<number, LogicalLayer>();
  for (const n of hyperNet.nodes) {
    if (n.kind !== "conv" && n.kind !== "linear") continue;
    const step = steps.get(n.param);
    const src = step && byParam.get(step.source);
    if (!src) throw new Error(`internal: no deployed layer for ${n.param} (plan source ${step?.source})`);
    out.set(n.id, step.embed ? embedLayer(src, n as ConvNode) : { ...src, id: n.id, name: n.param });
  }
  return out;
}

function embedLayer(src: LogicalLayer, node: ConvNode): LogicalLayer {
  const g = src.geom;
  const q = new Int32Array(g.oc * UNIVERSAL_TAPS);
  embedCentre(src.q, q, g.oc, g.k);
  const grow = ((UNIVERSAL_KERNEL - g.k) / 2) * g.dil;
  return {
    ...src,
    id: node.id,
    name: node.param,
    geom: { ...g, k: UNIVERSAL_KERNEL, pad: g.pad + grow },
    q,
    taps: node.taps,
  };
}

/**
 * The hypernetwork's arrays: its layers are laid out by the same tiling rules, but a universal
 * unit's depthwise layers are 25-tap, so an array holds ⌊T/25⌋ channels whatever the kernel and
 * a 3×3 kernel drives only its 9 centre rows (the others are gated: not driven, no current).
 * Its devices are its own (seeded by the hypernetwork's layer names).
 */
export function hyperMapping(cfg: HardwareConfig): Mapping {
  return { ...individualMapping(cfg), deviceKey: (l) => hashString(`hyper:${l.name}`) };
}

/** A simulator of the configured hypernetwork holding the architecture's deployed layers. */
export function hyperSimulator(
  c: CompiledConfiguration,
  individual: CrossbarSimulator,
  cfg: HardwareConfig = individual.cfg,
): CrossbarSimulator {
  const model = hyperModel(c, individual.model);
  const sim = new CrossbarSimulator(model, cfg, hyperMapping(cfg));
  sim.load(hyperLayers(c, model.net, individual.model.net, individual.layers));
  return sim;
}
