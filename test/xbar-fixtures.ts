/** Shared fixtures of the crossbar tests: a small network, its layers' inputs, the int8 reference. */
import type { tsKernels } from "../src/engine/kernels/index.js";
import type { XbarLayer } from "../src/engine/kernels/types.js";
import { Model } from "../src/engine/model.js";
import * as ops from "../src/engine/ops.js";
import type { HardwareConfig } from "../src/hw/config.js";
import { buildNetwork } from "../src/ir/network.js";
import { resolveArchitecture } from "../src/space/architecture.js";
import { Rng } from "../src/util/rng.js";
import { inputCodes, type LogicalLayer, logicalWeight } from "../src/xbar/layout.js";
import type { ProgrammedLayer } from "../src/xbar/program.js";
import { CrossbarSimulator } from "../src/xbar/simulator.js";
import { randomTensor } from "./helpers.js";

/** A small PDARTS network (stem, 1×1, depthwise, dilated, strided, FactorizedReduce, classifier) with random BN statistics. */
export function smallModel(seed: number): Model {
  const model = new Model(buildNetwork(resolveArchitecture("PDARTS"), { channels: 4, layers: 3 }), seed);
  const rng = new Rng(seed + 1);
  for (const [name, t] of model.tensors) {
    if (name.endsWith("running_mean")) for (let i = 0; i < t.size; i++) t.data[i] = 0.1 * rng.normal();
    if (name.endsWith("running_var")) for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + rng.uniform();
    if (name.endsWith(".weight") && t.shape.length === 1)
      for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + rng.uniform();
  }
  return model;
}

/**
 * The int8 reference, written independently of the kernels: direct convolution over integer
 * codes with exact (float64, integer-valued) accumulation, then y = fround(acc·wScale·inScale + bias).
 */
export function integerReference(l: LogicalLayer, x: Float32Array, n: number): Float32Array {
  const g = l.geom;
  const codes = inputCodes(l, x);
  const kk = g.k * g.k;
  const y = new Float32Array(n * g.oc * g.oh * g.ow);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < g.oc; o++)
      for (let oh = 0; oh < g.oh; oh++)
        for (let ow = 0; ow < g.ow; ow++) {
          let acc = 0;
          for (let r = 0; r < g.c * kk; r++) {
            const w = logicalWeight(l, r, o);
            if (w === 0) continue;
            const c = Math.floor(r / kk);
            const ih = oh * g.stride - g.pad + Math.floor((r % kk) / g.k) * g.dil;
            const iw = ow * g.stride - g.pad + (r % g.k) * g.dil;
            if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
            acc += w * codes[((b * g.c + c) * g.h + ih) * g.w + iw]!;
          }
          y[((b * g.oc + o) * g.oh + oh) * g.ow + ow] =
            acc * (l.wScale[o]! * l.inScale) + (l.bias ? l.bias[o]! : 0);
        }
  return y;
}

export function runLayer(
  k: typeof tsKernels,
  p: ProgrammedLayer,
  x: Float32Array,
  n: number,
  colMax?: Float32Array,
) {
  const g = p.layer.geom;
  const layer: XbarLayer = { ...p, geom: { n, ...g }, seed: 7, imageOffset: 0 };
  const y = new Float32Array(n * g.oc * g.oh * g.ow);
  k.xbarForward(layer, x, y, colMax ?? null);
  return y;
}

/** Calibrated simulator over a small network, and a captured input of every weight layer. */
export function setup(cfg: HardwareConfig, seed = 3) {
  const model = smallModel(seed);
  const rng = new Rng(seed + 2);
  const images = randomTensor([6, 3, 32, 32], rng);
  const sim = new CrossbarSimulator(model, cfg);
  sim.calibrate(images);
  const inputs = new Map<number, Float32Array>();
  model.forward(images, {
    training: false,
    executor: {
      conv: (node, x, reluIn, w, b, out) => {
        inputs.set(node.id, x.data.slice());
        return ops.conv2d(null, x, w, node, out, reluIn, b);
      },
      linear: (node, x, w, b) => {
        inputs.set(node.id, x.data.slice());
        return ops.linear(null, x, w, b);
      },
    },
  });
  return { model, sim, images, inputs };
}
