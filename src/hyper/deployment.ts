/**
 * How trained weights reach the hardware that an accuracy run scores: an architecture's own
 * weights on individual deployment or through the configured hypernetwork, or the shared
 * weights of the supernet bound to the architecture. A plain description (it travels in
 * queue jobs), turned here into the float model and the calibrated simulator, so that the
 * local run and a queue worker build the same devices.
 */
import { type Split, take } from "../data/cifar10.js";
import { Model } from "../engine/model.js";
import { applyRecords, loadModelWeights, readWeightFile } from "../engine/safetensors.js";
import type { Tensor } from "../engine/tensor.js";
import type { HardwareConfig } from "../hw/config.js";
import { buildNetwork } from "../ir/network.js";
import { type LoadedNet, loadNetFile } from "../net/load.js";
import type { Architecture } from "../space/architecture.js";
import { recalibrate, Supernet } from "../train/supernet.js";
import { CrossbarSimulator } from "../xbar/simulator.js";
import { compileConfiguration } from "./compiler.js";
import { hyperModel, hyperSimulator } from "./deploy.js";
import type { HyperSpec } from "./hardware.js";

export type Deployment =
  | { readonly kind: "individual" }
  | { readonly kind: "hypernetwork"; readonly spec: HyperSpec }
  /** Shared weights bound to the architecture, batch norm recalibrated on the first `recalibrate` training images. */
  | { readonly kind: "supernet"; readonly recalibrate: number };

export const INDIVIDUAL: Deployment = { kind: "individual" };

export interface Deployed {
  /** The float network (fp32 preset). */
  readonly float: Model;
  /** The simulator calibrated on `calibration` (quantized presets). */
  simulator(cfg: HardwareConfig, calibration: Tensor): CrossbarSimulator;
}

export interface DeploymentInput {
  readonly arch: Architecture;
  readonly channels: number;
  readonly layers: number;
  readonly weights: string;
  /** Training images: the supernet's recalibration set starts at their first. */
  readonly train: () => Split;
}

export function deploy(d: Deployment, o: DeploymentInput): Deployed {
  if (d.kind === "supernet") {
    const net = new Supernet(o.channels, o.layers, false, 0);
    net.restore(readWeightFile(o.weights), o.weights);
    // Unfolded batch norm: the arrays hold the shared weights, statistics live in the periphery.
    const bound = net.bind(o.arch, false);
    recalibrate(bound.model, take(o.train(), d.recalibrate));
    const ranges = net.weightRanges(bound);
    return {
      float: bound.model,
      simulator: (cfg, calib) => new CrossbarSimulator(bound.model, cfg).calibrate(calib, 128, ranges),
    };
  }
  const model = new Model(buildNetwork(o.arch, { channels: o.channels, layers: o.layers }));
  loadModelWeights(model, o.weights);
  if (d.kind === "individual") return individually(model);
  const compiled = compileConfiguration(d.spec, o.arch);
  return {
    float: hyperModel(compiled, model),
    simulator: (cfg, calib) =>
      hyperSimulator(compiled, new CrossbarSimulator(model, cfg).calibrate(calib), cfg),
  };
}

/** A model on hardware built for it alone. */
function individually(model: Model): Deployed {
  return { float: model, simulator: (cfg, calib) => new CrossbarSimulator(model, cfg).calibrate(calib) };
}

/**
 * A plain network file on individual deployment, its weights from a safetensors file named
 * by layer (`<layer>.weight`, …) or from an ONNX model's initialisers (the same file or another).
 */
export function deployNetworkFile(net: LoadedNet, weights: string): Deployed {
  const model = new Model(net.network);
  if (weights.toLowerCase().endsWith(".onnx")) {
    const source = weights === net.file ? net : loadNetFile(weights);
    applyRecords(model, { tensors: source.weights!, metadata: {} }, weights);
  } else loadModelWeights(model, weights);
  return individually(model);
}
