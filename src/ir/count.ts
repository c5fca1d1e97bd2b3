/** Parameter and multiply-accumulate counts of an IR network (one image). */
import type { Network } from "./graph.js";

const TRAINABLE = new Set(["weight", "bias", "bn_weight", "bn_bias"]);

/** Trainable parameters (conv/linear weights and biases, BN affine), auxiliary head excluded. */
export function countParams(net: Network): number {
  let n = 0;
  for (const p of net.params) {
    if (TRAINABLE.has(p.role) && !p.name.startsWith("auxiliary_head."))
      n += p.shape.reduce((a, b) => a * b, 1);
  }
  return n;
}

/** Conv and linear MACs of one image; auxiliary head excluded. */
export function countMacs(net: Network): number {
  let macs = 0;
  for (const node of net.nodes) {
    if (node.scope.part === "aux") continue;
    if (node.kind === "conv") {
      macs += node.shape.c * node.shape.h * node.shape.w * (node.inC / node.groups) * node.k * node.k;
    } else if (node.kind === "linear") {
      macs += node.inF * node.outF;
    }
  }
  return macs;
}
